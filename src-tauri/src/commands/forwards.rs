//! Saved port forwards: start one (named by its profile and index — the host it reaches comes
//! from the profile store, never from the webview), stop, reconnect, list. A forward runs on the
//! pooled connection its profile's tabs use, so it shares their one SSH connection.

use super::Result;
use crate::forwards::ForwardEntry;
use crate::state::AppState;
use keyless_core::forward::{ForwardStatus, ManagedForward, ManagedForwardStart};
use keyless_core::{ConnectRequest, Error, KnownHosts, ProfileStore};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

/// Starts forward `index` of saved profile `profile` on the connection `request` names (the one
/// the profile's tabs use: instance, user, port, path — names only). Its port is bound before
/// anything connects; a taken port is the error. Every change of status comes on `events`.
#[tauri::command]
pub async fn forward_start(
    state: State<'_, AppState>,
    profile: String,
    index: u32,
    request: ConnectRequest,
    events: Channel<ForwardStatus>,
) -> Result<u32> {
    request.validate()?;
    let saved = ProfileStore::open_default()?.get(&profile)?;
    let forward = (saved.forwards.get(index as usize)).ok_or_else(|| {
        Error::invalid(format!("'{profile}' has no forward {}", index + 1))
            .with_hint("Its list of forwards changed; look at the profile again.")
    })?;
    state.forwards.check_not_running(&profile, index)?;
    let aws_profile = saved.aws_profile.clone();
    let start = ManagedForwardStart {
        aws: state.aws(&aws_profile).await?,
        pool: state.pool.clone(),
        known: state
            .instances
            .get(&aws_profile, &request.region, &request.instance_id),
        aws_profile,
        request,
        known_hosts: KnownHosts::open_default()?,
        tunnel: state.tunnel.clone(),
        max_tunnel: saved.max_tunnel(),
        spec: forward.spec()?,
        // A new host key is a terminal tab's question: the forward says to open one.
        prompt: None,
        auto_reconnect: saved.reconnect_forwards,
    };
    let sink = Arc::new(move |status: ForwardStatus| {
        // The window may be gone; nothing useful to do about a failed send.
        let _ = events.send(status);
    });
    let running = ManagedForward::start(start, sink).await?;
    Ok(state.forwards.add(profile, index, running))
}

/// Stops the forward and releases its port. Stopping one that has gone is not an error.
#[tauri::command]
pub fn forward_stop(state: State<'_, AppState>, id: u32) -> Result<()> {
    state.forwards.stop(id);
    Ok(())
}

/// Leases the connection again (after Lost): a fresh key push when the old one is gone.
#[tauri::command]
pub fn forward_reconnect(state: State<'_, AppState>, id: u32) -> Result<()> {
    state.forwards.get(id)?.reconnect();
    Ok(())
}

/// Every running forward with its status (counters are current, not only at events).
#[tauri::command]
pub fn forward_list(state: State<'_, AppState>) -> Vec<ForwardEntry> {
    state.forwards.list()
}
