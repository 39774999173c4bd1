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
use crate::{Fault, LabError, LabInstance, PushRecord};

pub(crate) fn routes() -> Router<Arc<Core>> {
    Router::new()
        .route("/_lab/state", get(state))
        .route("/_lab/pushes", get(pushes))
        .route("/_lab/fault", post(fault))
}

async fn state(State(core): State<Arc<Core>>) -> Json<Vec<LabInstance>> {
    Json(core.snapshot())
}

async fn pushes(State(core): State<Arc<Core>>) -> Json<Vec<PushRecord>> {
    Json(core.state().pushes.clone())
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

/// `GET /_lab/state` of the lab at `addr`.
pub fn fetch_state(addr: SocketAddr) -> Result<Vec<LabInstance>, LabError> {
    let resp = mini_http::request(addr, "GET", "/_lab/state", &[], b"").map_err(client_error)?;
    if resp.status != 200 {
        return Err(client_error(format!("HTTP {}", resp.status)));
    }
    serde_json::from_slice(&resp.body).map_err(client_error)
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
