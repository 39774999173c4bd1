//! `/_lab/…` control routes (JSON, unsigned: loopback-only lab plumbing, not an AWS API) and
//! the matching client calls used by the `keyless-lab` binary.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::core::Core;
use crate::mini_http;
use crate::{Fault, LabEndpoint, LabError, LabInstance, PushRecord, TunnelRecord};

pub(crate) fn routes() -> Router<Arc<Core>> {
    Router::new()
        .route("/_lab/state", get(state))
        .route("/_lab/pushes", get(pushes))
        .route("/_lab/endpoints", get(endpoints))
        .route("/_lab/tunnels", get(tunnels))
        .route("/_lab/ssh-connections/{id}", get(ssh_connections))
        .route("/_lab/fault", post(fault))
        .route("/_lab/sso/approve", post(sso_approve))
        .route("/_lab/sso/stats", get(sso_stats))
        .merge(crate::device_page::routes())
}

#[derive(serde::Deserialize)]
struct Approve {
    user_code: String,
}

/// The "browser" side of the device flow for scripts: what a user clicking "Allow" does (the
/// page a person clicks is `device_page.rs`).
async fn sso_approve(
    State(core): State<Arc<Core>>,
    Json(a): Json<Approve>,
) -> (StatusCode, Json<serde_json::Value>) {
    if core.ids().approve(&a.user_code) {
        (StatusCode::OK, Json(json!({ "ok": true })))
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(
                json!({ "error": format!("no pending device authorization has user code {}", a.user_code) }),
            ),
        )
    }
}

async fn sso_stats(State(core): State<Arc<Core>>) -> Json<crate::SsoStats> {
    Json(core.ids().stats.clone())
}

#[derive(serde::Deserialize)]
struct StateQuery {
    account: Option<String>,
}

/// The main account's instances; `?account=ID` one account's, `?account=all` every account's.
async fn state(
    State(core): State<Arc<Core>>,
    axum::extract::Query(q): axum::extract::Query<StateQuery>,
) -> Json<Vec<LabInstance>> {
    let account = match q.account.as_deref() {
        None => Some(crate::ACCOUNT_ID),
        Some("all") => None,
        Some(id) => Some(id),
    };
    Json(core.snapshot(account))
}

async fn pushes(State(core): State<Arc<Core>>) -> Json<Vec<PushRecord>> {
    Json(core.state().pushes.clone())
}

async fn endpoints(State(core): State<Arc<Core>>) -> Json<Vec<LabEndpoint>> {
    Json(core.endpoints())
}

async fn tunnels(State(core): State<Arc<Core>>) -> Json<Vec<TunnelRecord>> {
    Json(core.state().tunnels.clone())
}

/// `{"instance_id": ID, "connections": N}`: TCP connections that reached its sshd this run.
async fn ssh_connections(
    State(core): State<Arc<Core>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> (StatusCode, Json<serde_json::Value>) {
    match core.ssh_connections(&id) {
        Ok(n) => (
            StatusCode::OK,
            Json(json!({ "instance_id": id, "connections": n })),
        ),
        Err(e) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": e.to_string() })),
        ),
    }
}

async fn fault(
    State(core): State<Arc<Core>>,
    Json(f): Json<Fault>,
) -> (StatusCode, Json<serde_json::Value>) {
    match core.apply(f).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "ok": true }))),
        Err(e @ LabError::UnknownInstance(_)) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": e.to_string() })),
        ),
        Err(e @ LabError::Invalid(_)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": e.to_string() })),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        ),
    }
}

fn client_error(e: impl std::fmt::Display) -> LabError {
    LabError::Setup(format!("lab control request failed: {e}"))
}

/// `GET /_lab/state` of the lab at `addr`: the main account's instances.
pub fn fetch_state(addr: SocketAddr) -> Result<Vec<LabInstance>, LabError> {
    get_state(addr, "/_lab/state")
}

/// `GET /_lab/state?account=…`: one account's instances, or every account's for `"all"`.
pub fn fetch_state_of(addr: SocketAddr, account: &str) -> Result<Vec<LabInstance>, LabError> {
    let account: String = form_urlencoded::byte_serialize(account.as_bytes()).collect();
    get_state(addr, &format!("/_lab/state?account={account}"))
}

fn get_state(addr: SocketAddr, path: &str) -> Result<Vec<LabInstance>, LabError> {
    get_json(addr, path)
}

fn get_json<T: serde::de::DeserializeOwned>(addr: SocketAddr, path: &str) -> Result<T, LabError> {
    let resp = mini_http::request(addr, "GET", path, &[], b"").map_err(client_error)?;
    if resp.status != 200 {
        return Err(client_error(format!("HTTP {}", resp.status)));
    }
    serde_json::from_slice(&resp.body).map_err(client_error)
}

/// `GET /_lab/endpoints`: every account's EC2 Instance Connect Endpoints.
pub fn fetch_endpoints(addr: SocketAddr) -> Result<Vec<LabEndpoint>, LabError> {
    get_json(addr, "/_lab/endpoints")
}

/// `GET /_lab/tunnels`: every openTunnel attempt so far.
pub fn fetch_tunnels(addr: SocketAddr) -> Result<Vec<TunnelRecord>, LabError> {
    get_json(addr, "/_lab/tunnels")
}

/// `GET /_lab/ssh-connections/ID`: TCP connections that reached the instance's sshd this run.
pub fn fetch_ssh_connections(addr: SocketAddr, instance_id: &str) -> Result<usize, LabError> {
    let id: String = form_urlencoded::byte_serialize(instance_id.as_bytes()).collect();
    let v: serde_json::Value = get_json(addr, &format!("/_lab/ssh-connections/{id}"))?;
    v["connections"]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| client_error("no connections count in the answer"))
}

/// `POST /_lab/fault` to the lab at `addr`.
pub fn send_fault(addr: SocketAddr, fault: &Fault) -> Result<(), LabError> {
    let body = serde_json::to_vec(fault).map_err(client_error)?;
    let headers = [("content-type".to_string(), "application/json".to_string())];
    let resp =
        mini_http::request(addr, "POST", "/_lab/fault", &headers, &body).map_err(client_error)?;
    if resp.status == 200 {
        return Ok(());
    }
    let msg = serde_json::from_slice::<serde_json::Value>(&resp.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("HTTP {}", resp.status));
    Err(LabError::Remote(msg))
}
