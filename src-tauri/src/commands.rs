//! The commands the UI may invoke: each a few lines over keyless-core.

use crate::app_info::AppInfo;
use crate::sink::ChannelSink;
use crate::state::AppState;
use keyless_core::{
    ConnectRequest, Error, InstanceFilter, Inventory, KnownHosts, LiveEvent, LiveSession, PtySize,
    TrustDecision,
};
use std::sync::Arc;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::State;

type Result<T> = std::result::Result<T, Error>;

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo> {
    let region = state.aws().await?.default_region().ok();
    Ok(AppInfo::from_env(region))
}

#[tauri::command]
pub async fn list_regions(state: State<'_, AppState>) -> Result<Vec<String>> {
    keyless_core::enabled_regions(&state.aws().await?).await
}

#[tauri::command]
pub async fn list_instances(state: State<'_, AppState>, regions: Vec<String>) -> Result<Inventory> {
    for r in &regions {
        keyless_core::validate::region(r)?;
    }
    let aws = state.aws().await?;
    Ok(keyless_core::list_instances(&aws, &regions, &InstanceFilter::default()).await)
}

#[tauri::command]
pub async fn open_session(
    state: State<'_, AppState>,
    request: ConnectRequest,
    cols: u32,
    rows: u32,
    events: Channel<LiveEvent>,
    output: Channel<InvokeResponseBody>,
) -> Result<u32> {
    let aws = state.aws().await?;
    let sink = Arc::new(ChannelSink { events, output });
    let size = PtySize { cols, rows };
    let live = LiveSession::start(aws, request, size, KnownHosts::open_default()?, sink);
    Ok(state.add(live))
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

#[tauri::command]
pub fn session_ack(state: State<'_, AppState>, id: u32, bytes: usize) -> Result<()> {
    state.get(id)?.ack(bytes);
    Ok(())
}

#[tauri::command]
pub fn session_host_key(
    state: State<'_, AppState>,
    id: u32,
    decision: TrustDecision,
) -> Result<()> {
    state.get(id)?.answer_host_key(decision)
}

#[tauri::command]
pub fn session_close(state: State<'_, AppState>, id: u32) -> Result<()> {
    if let Some(live) = state.remove(id) {
        live.close();
    }
    Ok(())
}
