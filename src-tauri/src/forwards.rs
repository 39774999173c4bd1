//! The saved forwards the app runs, by id, with the saved profile and forward index each came
//! from (so the UI can show a forward's status on that profile's row and on its tabs).

use keyless_core::forward::{ForwardStatus, ManagedForward};
use keyless_core::{Error, ErrorKind};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use ts_rs::TS;

#[derive(Default)]
pub struct Forwards {
    by_id: Mutex<HashMap<u32, Running>>,
    next_id: AtomicU32,
}

struct Running {
    profile: String,
    index: u32,
    forward: Arc<ManagedForward>,
}

/// One running forward, as `forward_list` reports it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ForwardEntry {
    pub id: u32,
    /// The saved profile and the index of the forward in its list.
    pub profile: String,
    pub index: u32,
    pub status: ForwardStatus,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Forwards {
    /// Refused when this profile's forward already runs: one listener per saved forward.
    pub fn check_not_running(&self, profile: &str, index: u32) -> Result<(), Error> {
        let running = lock(&self.by_id)
            .values()
            .any(|r| r.profile == profile && r.index == index);
        if running {
            return Err(Error::invalid(format!(
                "forward {} of '{profile}' is already running",
                index + 1
            ))
            .with_hint("Stop it first, or reconnect it."));
        }
        Ok(())
    }

    pub fn add(&self, profile: String, index: u32, forward: Arc<ManagedForward>) -> u32 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.by_id).insert(
            id,
            Running {
                profile,
                index,
                forward,
            },
        );
        id
    }

    pub fn get(&self, id: u32) -> Result<Arc<ManagedForward>, Error> {
        (lock(&self.by_id).get(&id))
            .map(|r| r.forward.clone())
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("no forward {id}")))
    }

    /// Stops and forgets the forward (its port is released).
    pub fn stop(&self, id: u32) {
        if let Some(running) = lock(&self.by_id).remove(&id) {
            running.forward.stop();
        }
    }

    pub fn list(&self) -> Vec<ForwardEntry> {
        let mut all: Vec<ForwardEntry> = lock(&self.by_id)
            .iter()
            .map(|(id, r)| ForwardEntry {
                id: *id,
                profile: r.profile.clone(),
                index: r.index,
                status: r.forward.status(),
            })
            .collect();
        all.sort_by_key(|e| e.id);
        all
    }
}
