//! Terminal sessions: open, type, resize, answer the host-key prompt, close (output:
//! `output_socket.rs`);
//! and the SSH connections they share.

use super::Result;
use crate::sink::ChannelSink;
use crate::state::{AppState, ProfileKey};
use keyless_core::{
    ConnectRequest, KnownHosts, LiveEvent, LiveSession, LiveStart, PoolEntry, PtySize,
    TrustDecision,
};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

#[tauri::command]
#[allow(clippy::too_many_arguments)] // Tauri passes each argument by name
pub async fn open_session(
    state: State<'_, AppState>,
    aws_profile: ProfileKey,
    request: ConnectRequest,
    // The saved profile this connects through: its `last_used` is set once the shell is open.
    profile: Option<String>,
    cols: u32,
    rows: u32,
    events: Channel<LiveEvent>,
) -> Result<u32> {
    // Names only, checked before anything else; the address comes from AWS, never from here.
    request.validate()?;
    let aws = state.aws(&aws_profile).await?;
    let known_hosts = KnownHosts::open_default()?;
    let listed = state
        .instances
        .get(&aws_profile, &request.region, &request.instance_id);
    // The saved profile's tunnel limit, read from the store here (not taken from the webview).
    let max_tunnel = match &profile {
        Some(name) => keyless_core::ProfileStore::open_default()?
            .get(name)?
            .max_tunnel(),
        None => None,
    };
    let start = LiveStart {
        aws,
        pool: state.pool.clone(),
        aws_profile,
        request,
        known: listed,
        size: PtySize { cols, rows },
        known_hosts,
        tunnel: state.tunnel.clone(),
        max_tunnel,
    };
    Ok(state.add_session(|end, output| {
        let sink = Arc::new(ChannelSink {
            events,
            output,
            profile,
            end,
        });
        LiveSession::start(start, sink)
    }))
}

// Synchronous on purpose: Tauri runs these in arrival order and the session queues them, so a
// burst of keystrokes reaches the shell in the order it was typed.
#[tauri::command]
pub fn session_input(state: State<'_, AppState>, id: u32, data: String) -> Result<()> {
    state.get(id)?.send(data.as_bytes())
}

#[tauri::command]
pub fn session_resize(state: State<'_, AppState>, id: u32, cols: u32, rows: u32) -> Result<()> {
    state.get(id)?.resize(PtySize { cols, rows })
}

/// Answers session `id`'s host-key question; `fingerprint` is the one the user was shown.
#[tauri::command]
pub fn session_host_key(
    state: State<'_, AppState>,
    id: u32,
    fingerprint: String,
    decision: TrustDecision,
) -> Result<()> {
    state.get(id)?.answer_host_key(&fingerprint, decision)
}

#[tauri::command]
pub fn session_close(state: State<'_, AppState>, id: u32) -> Result<()> {
    // The tab's Files panel goes with it (its transfers stop, its hold on the connection too).
    state.files.close(id);
    if let Some(live) = state.remove(id) {
        live.close();
    }
    Ok(())
}

/// Where the page pulls terminal output from (docs/ipc.md, "Output and flow control").
#[tauri::command]
pub fn output_socket<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> Result<String> {
    use tauri::Manager;
    match app.try_state::<crate::output_socket::OutputSocket>() {
        Some(socket) => Ok(socket.url.clone()),
        None => Err(keyless_core::Error::new(
            keyless_core::ErrorKind::Io,
            "the app could not open its terminal output socket on 127.0.0.1",
        )
        .with_hint("Restart Keyless; its log says why the socket did not start.")),
    }
}

/// The pooled SSH connections and how many tabs each carries (the UI asks after session events).
#[tauri::command]
pub fn connection_status(state: State<'_, AppState>) -> Vec<PoolEntry> {
    state.pool.status()
}
