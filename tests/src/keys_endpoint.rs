//! `GET /_lab/keys/<instance-id>?user=U&fp=F`: what sshd's AuthorizedKeysCommand (curl) reads.
//! Plays the role of the instance's `eic_run_authorized_keys` + IMDS: only fresh, matching keys.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;

use crate::core::Core;

pub async fn serve(
    State(core): State<Arc<Core>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let (user, fp) = (
        q.get("user").cloned().unwrap_or_default(),
        q.get("fp").cloned().unwrap_or_default(),
    );
    let body = authorized_keys(&core, &id, &user, &fp);
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}

fn authorized_keys(core: &Core, id: &str, user: &str, fp: &str) -> String {
    let st = core.state();
    // With IMDS off the instance-side script cannot fetch anything.
    if !st.instance(id).is_some_and(|i| i.imds_enabled) {
        return String::new();
    }
    st.keys
        .iter()
        .filter(|k| k.instance_id == id && k.user == user && k.fingerprint == fp)
        .filter(|k| !k.never_served && k.pushed.elapsed() < core.config.key_ttl)
        .map(|k| format!("{}\n", k.line))
        .collect()
}
