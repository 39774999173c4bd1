//! The Files panels' SFTP sessions: one per terminal session, on that session's pooled connection
//! (a lease of its own, so the connection outlives a shell that exits while the panel is open),
//! with the transfers it runs and the files last dropped onto the window.
//!
//! Local paths never come from the webview: they are what the user picked in a native dialog or
//! dropped onto the window, and they stay here; the webview only learns their names.

use keyless_core::files::{RemoteFs, TransferEvent};
use keyless_core::{Error, ErrorKind, Lease};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tauri::ipc::Channel;

/// Progress goes to the webview at most this often (file starts, ends and errors at once).
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TransferDirection {
    Upload,
    Download,
}

/// A transfer the backend started (after the user picked what and where).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TransferStarted {
    pub id: u32,
    pub direction: TransferDirection,
    /// What goes, by name (file or folder names, no local paths).
    pub names: Vec<String>,
    /// Where it goes: the remote folder, or the local folder the user picked.
    pub dest: String,
}

/// What a transfer's channel carries, in order; exactly one of `finished`, `failed` and
/// `cancelled` comes last.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TransferUpdate {
    /// A file started, moved on, arrived, or failed (with its own error).
    File {
        event: TransferEvent,
    },
    /// Every file was tried: how many, the bytes moved, and how many failed.
    Finished {
        files: u32,
        #[ts(type = "number")]
        bytes: u64,
        failed: u32,
    },
    /// The transfer could not go on (the connection dropped, the destination is not a folder).
    Failed {
        error: Error,
    },
    Cancelled,
}

/// Files were dropped onto the window at (`x`, `y`), CSS pixels of the webview: the panel there
/// may upload them by `drop`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DroppedFiles {
    pub drop: u32,
    pub names: Vec<String>,
    pub x: f64,
    pub y: f64,
}

/// One Files panel's SFTP session.
pub struct FilesSession {
    pub fs: RemoteFs,
    /// Holds the connection for as long as the panel is open.
    _lease: Lease,
    notices: Channel<DroppedFiles>,
    transfers: Mutex<HashMap<u32, Running>>,
}

/// A running transfer: how to stop it, and its channel for the last word.
struct Running {
    task: tauri::async_runtime::JoinHandle<()>,
    updates: Channel<TransferUpdate>,
}

impl Drop for FilesSession {
    fn drop(&mut self) {
        // A closed tab stops its transfers (what was written stays beside its target, resumable).
        for (_, running) in lock(&self.transfers).drain() {
            running.task.abort();
            let _ = running.updates.send(TransferUpdate::Cancelled);
        }
    }
}

/// Every open Files session, by the terminal session it belongs to.
#[derive(Default)]
pub struct FilesSessions {
    by_session: Mutex<HashMap<u32, Arc<FilesSession>>>,
    next_transfer: AtomicU32,
    /// The files of the last drop onto the window, until a panel uploads them or the next drop.
    dropped: Mutex<Option<(u32, Vec<PathBuf>)>>,
    next_drop: AtomicU32,
}

impl FilesSessions {
    /// Opens (or replaces) session `id`'s Files session.
    pub fn insert(&self, id: u32, fs: RemoteFs, lease: Lease, notices: Channel<DroppedFiles>) {
        let files = Arc::new(FilesSession {
            fs,
            _lease: lease,
            notices,
            transfers: Mutex::default(),
        });
        let old = lock(&self.by_session).insert(id, files);
        drop(old);
    }

    pub fn get(&self, id: u32) -> Result<Arc<FilesSession>, Error> {
        lock(&self.by_session).get(&id).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("no Files session for session {id}"),
            )
            .with_hint("Open the Files panel of a connected tab.")
        })
    }

    /// Ends session `id`'s Files session (its tab closed): its transfers stop, its lease goes.
    pub fn close(&self, id: u32) {
        let gone = lock(&self.by_session).remove(&id);
        drop(gone);
    }

    /// How many Files sessions are open.
    pub fn count(&self) -> usize {
        lock(&self.by_session).len()
    }

    /// Runs a transfer in the background: its file events go through a [`Throttle`], its outcome
    /// last. `run` gets the sink to report file events to.
    pub fn start<F>(
        &self,
        files: Arc<FilesSession>,
        direction: TransferDirection,
        names: Vec<String>,
        dest: String,
        updates: Channel<TransferUpdate>,
        run: impl FnOnce(Arc<dyn Fn(TransferEvent) + Send + Sync>) -> F,
    ) -> TransferStarted
    where
        F: std::future::Future<Output = keyless_core::Result<keyless_core::files::TransferReport>>
            + Send
            + 'static,
    {
        let id = self.next_transfer.fetch_add(1, Ordering::Relaxed) + 1;
        let channel = updates.clone();
        // The window may be gone: nothing to do about a failed send.
        let throttle = Arc::new(Throttle::new(move |u| {
            let _ = channel.send(u);
        }));
        let sink: Arc<dyn Fn(TransferEvent) + Send + Sync> = {
            let throttle = throttle.clone();
            Arc::new(move |e: TransferEvent| throttle.event(e))
        };
        let work = run(sink);
        let mut transfers = lock(&files.transfers);
        let owner = Arc::downgrade(&files);
        // Tauri's runtime: commands that start transfers may run outside any Tokio context.
        let task = tauri::async_runtime::spawn(async move {
            let outcome = work.await;
            throttle.flush();
            // The last word is said by whoever takes the transfer out: this task or a cancel.
            let Some(files) = owner.upgrade() else { return };
            let Some(running) = lock(&files.transfers).remove(&id) else {
                return;
            };
            let last = match outcome {
                Ok(report) => TransferUpdate::Finished {
                    files: report.files,
                    bytes: report.bytes,
                    failed: report.failed,
                },
                Err(error) => TransferUpdate::Failed { error },
            };
            let _ = running.updates.send(last);
        });
        transfers.insert(id, Running { task, updates });
        TransferStarted {
            id,
            direction,
            names,
            dest,
        }
    }

    /// Keeps what was dropped (the previous drop is forgotten) and tells every open panel.
    pub fn dropped(&self, paths: Vec<PathBuf>, x: f64, y: f64) {
        if paths.is_empty() {
            return;
        }
        let drop = self.next_drop.fetch_add(1, Ordering::Relaxed) + 1;
        let names = paths.iter().map(|p| display_name(p)).collect();
        *lock(&self.dropped) = Some((drop, paths));
        let notice = DroppedFiles { drop, names, x, y };
        for files in lock(&self.by_session).values() {
            let _ = files.notices.send(notice.clone());
        }
    }

    /// The files of drop `drop`, once: a second upload of the same drop needs a new drop.
    pub fn take_dropped(&self, drop: u32) -> Result<Vec<PathBuf>, Error> {
        let mut dropped = lock(&self.dropped);
        match dropped.take() {
            Some((id, paths)) if id == drop => Ok(paths),
            other => {
                *dropped = other;
                Err(Error::new(
                    ErrorKind::InvalidInput,
                    "those dropped files are no longer waiting to be uploaded",
                )
                .with_hint("Drop the files onto the Files panel again."))
            }
        }
    }
}

impl FilesSession {
    /// Stops transfer `id`; true when it was running (its channel then ends with `cancelled`).
    pub fn cancel(&self, id: u32) -> bool {
        let Some(running) = lock(&self.transfers).remove(&id) else {
            return false;
        };
        running.task.abort();
        let _ = running.updates.send(TransferUpdate::Cancelled);
        true
    }
}

/// A local path's last component as the UI shows it (lossy only for names that are not UTF-8).
pub fn display_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// Thins a transfer's progress to at most one update per [`PROGRESS_EVERY`] (the latest bytes of
/// each file); every other event goes at once, after the progress it would overtake.
pub struct Throttle {
    send: Box<dyn Fn(TransferUpdate) + Send + Sync>,
    state: Mutex<ThrottleState>,
}

#[derive(Default)]
struct ThrottleState {
    last: Option<Instant>,
    /// Progress not sent yet, by file.
    pending: Vec<(u32, u64)>,
}

impl Throttle {
    pub fn new(send: impl Fn(TransferUpdate) + Send + Sync + 'static) -> Self {
        Throttle {
            send: Box::new(send),
            state: Mutex::default(),
        }
    }

    pub fn event(&self, event: TransferEvent) {
        self.event_at(event, Instant::now());
    }

    /// `event` as if it came at `now` (tests pass their own clock).
    pub fn event_at(&self, event: TransferEvent, now: Instant) {
        let mut state = lock(&self.state);
        if let TransferEvent::Progress { file, bytes } = event {
            match state.pending.iter_mut().find(|(f, _)| *f == file) {
                Some(p) => p.1 = bytes,
                None => state.pending.push((file, bytes)),
            }
            let due = state
                .last
                .is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY);
            if due {
                state.last = Some(now);
                self.send_pending(&mut state);
            }
            return;
        }
        self.send_pending(&mut state);
        (self.send)(TransferUpdate::File { event });
    }

    /// Sends the progress still held back (before the transfer's last word).
    pub fn flush(&self) {
        let mut state = lock(&self.state);
        self.send_pending(&mut state);
    }

    fn send_pending(&self, state: &mut ThrottleState) {
        for (file, bytes) in state.pending.drain(..) {
            (self.send)(TransferUpdate::File {
                event: TransferEvent::Progress { file, bytes },
            });
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collecting() -> (Throttle, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let throttle = Throttle::new(move |u: TransferUpdate| {
            let text = match u {
                TransferUpdate::File { event } => match event {
                    TransferEvent::Progress { file, bytes } => format!("p{file}:{bytes}"),
                    TransferEvent::FileDone { file } => format!("done{file}"),
                    other => format!("{other:?}"),
                },
                other => format!("{other:?}"),
            };
            lock(&log).push(text);
        });
        (throttle, seen)
    }

    #[test]
    fn progress_is_thinned_to_the_latest_per_interval_and_never_overtaken() {
        let (t, seen) = collecting();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let p = |file, bytes| TransferEvent::Progress { file, bytes };
        t.event_at(p(0, 10), at(0)); // the first goes at once
        t.event_at(p(0, 20), at(30));
        t.event_at(p(0, 30), at(60));
        t.event_at(p(1, 5), at(90));
        t.event_at(p(0, 40), at(110)); // due: the latest of each file
        t.event_at(p(0, 50), at(150));
        t.event_at(TransferEvent::FileDone { file: 0 }, at(160)); // after the progress it follows
        t.event_at(p(1, 9), at(170));
        t.flush();
        assert_eq!(
            *lock(&seen),
            ["p0:10", "p0:40", "p1:5", "p0:50", "done0", "p1:9"]
        );
    }
}
