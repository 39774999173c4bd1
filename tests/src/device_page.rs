//! The lab's stand-in for AWS's device authorization page (the `verificationUri` of
//! StartDeviceAuthorization): a self-contained HTML page where a person allows or denies a
//! sign-in request with real form POSTs. Tests and scripts use `POST /_lab/sso/approve` (JSON).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::core::Core;
use crate::identities::Identities;
// `&<>"'` escaped: fine for HTML text and double-quoted attribute values too.
use crate::ec2_xml::escape;

pub const PAGE: &str = "/_lab/sso/device";
pub const APPROVE: &str = "/_lab/sso/device/approve";
pub const DENY: &str = "/_lab/sso/device/deny";

pub(crate) fn routes() -> Router<Arc<Core>> {
    Router::new()
        .route(PAGE, get(page))
        .route(APPROVE, post(approve))
        .route(DENY, post(deny))
}

const STYLE: &str = "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;\
background:#f2f3f3;color:#16191f}\
header{background:#232f3e;color:#fff;padding:12px 24px;font-weight:600}\
main{max-width:440px;margin:48px auto;background:#fff;border-radius:8px;padding:28px 32px;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}\
h1{font-size:20px;margin:0 0 12px}\
.code{font:600 26px/1.2 ui-monospace,monospace;letter-spacing:3px;background:#f2f3f3;\
border-radius:6px;padding:10px;text-align:center;margin:16px 0}\
.muted{color:#5f6b7a;font-size:13px}\
form{display:flex;gap:12px;margin-top:20px}\
button{flex:1;font:inherit;font-weight:600;padding:9px;border-radius:20px;cursor:pointer}\
.allow{background:#ff9900;border:1px solid #ff9900;color:#16191f}\
.deny{background:#fff;border:1px solid #5f6b7a;color:#16191f}\
input{flex:2;font:600 18px ui-monospace,monospace;padding:8px;text-transform:uppercase}";

/// A whole page: `body` is HTML the caller escaped.
fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title} — keyless-lab</title><style>{STYLE}</style></head>\
<body><header>AWS IAM Identity Center · keyless-lab</header><main>{body}</main></body></html>\n",
        title = escape(title),
    );
    let mut resp = (status, doc).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn unknown(code: &str) -> Response {
    html(
        StatusCode::NOT_FOUND,
        "Request not found",
        &format!(
            "<h1>Request not found</h1><p>No sign-in request is waiting for the code \
<strong>{}</strong>. It may have expired or been answered already; start the sign-in again \
from the application.</p>",
            escape(code)
        ),
    )
}

/// What a device authorization looks like to the page.
enum Seen {
    Unknown,
    Waiting { client: String, start_url: String },
    Approved,
    Denied,
    Expired,
}

fn look(ids: &mut Identities, code: &str) -> Seen {
    match ids.device(code) {
        None => Seen::Unknown,
        Some(d) if d.denied => Seen::Denied,
        Some(d) if d.approved || d.redeemed => Seen::Approved,
        Some(d) if d.expires <= Instant::now() => Seen::Expired,
        Some(d) => Seen::Waiting {
            client: d.client_name.clone(),
            start_url: d.start_url.clone(),
        },
    }
}

/// `GET /_lab/sso/device[?user_code=CODE]`: the request to allow or deny, or a form to enter
/// the code when the browser came without one.
async fn page(State(core): State<Arc<Core>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let code = q.get("user_code").map(|c| c.trim()).unwrap_or_default();
    if code.is_empty() {
        return html(
            StatusCode::OK,
            "Authorize request",
            &format!(
                "<h1>Authorize request</h1><p>Enter the code shown by the application.</p>\
<form method=\"get\" action=\"{PAGE}\"><input name=\"user_code\" placeholder=\"ABCD-EFGH\" \
autocomplete=\"off\" required><button class=\"allow\" type=\"submit\">Next</button></form>"
            ),
        );
    }
    let c = escape(code);
    let seen = look(&mut core.ids(), code);
    match seen {
        Seen::Unknown => unknown(code),
        Seen::Approved => done(true, code),
        Seen::Denied => done(false, code),
        Seen::Expired => expired(code),
        Seen::Waiting { client, start_url } => {
            let client = if client.is_empty() {
                "An application".to_string()
            } else {
                format!("<strong>{}</strong>", escape(&client))
            };
            html(
                StatusCode::OK,
                "Authorize request",
                &format!(
                    "<h1>Authorize request</h1>\
<p>{client} is asking to access your AWS accounts as <strong>{user}</strong>.</p>\
<p>Check that the application shows this code:</p><div class=\"code\">{c}</div>\
<form method=\"post\" action=\"{APPROVE}\"><input type=\"hidden\" name=\"user_code\" value=\"{c}\">\
<button class=\"allow\" type=\"submit\">Allow</button>\
<button class=\"deny\" type=\"submit\" formaction=\"{DENY}\">Deny</button></form>\
<p class=\"muted\">Portal: {portal}</p>",
                    user = escape(crate::SSO_USER),
                    portal = escape(&start_url),
                ),
            )
        }
    }
}

fn expired(code: &str) -> Response {
    html(
        StatusCode::GONE,
        "Request expired",
        &format!(
            "<h1>Request expired</h1><p>The sign-in request <strong>{}</strong> has expired. \
Start the sign-in again from the application.</p>",
            escape(code)
        ),
    )
}

fn done(allowed: bool, code: &str) -> Response {
    let (title, what) = if allowed {
        ("Request approved", "approved")
    } else {
        ("Request denied", "denied")
    };
    html(
        StatusCode::OK,
        title,
        &format!(
            "<h1>{title}</h1><p>The sign-in request <strong>{}</strong> was {what}. \
You can close this tab and return to the application.</p>",
            escape(code)
        ),
    )
}

fn form_code(body: &Bytes) -> String {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "user_code")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// `POST /_lab/sso/device/approve` (form `user_code=…`): the "Allow" button.
async fn approve(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    decide(&core, &form_code(&body), true)
}

/// `POST /_lab/sso/device/deny` (form `user_code=…`): the "Deny" button.
async fn deny(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    decide(&core, &form_code(&body), false)
}

fn decide(core: &Core, code: &str, allow: bool) -> Response {
    // One lock for the look and the decision: nothing changes the request in between.
    let mut ids = core.ids();
    match look(&mut ids, code) {
        Seen::Waiting { .. } => {
            if allow {
                ids.approve(code);
            } else {
                ids.deny(code);
            }
            done(allow, code)
        }
        // Pressing the same button twice (a reload) shows the same outcome.
        Seen::Approved if allow => done(true, code),
        Seen::Denied if !allow => done(false, code),
        Seen::Unknown => unknown(code),
        Seen::Expired => expired(code),
        Seen::Approved | Seen::Denied => html(
            StatusCode::CONFLICT,
            "Request already answered",
            &format!(
                "<h1>Request already answered</h1><p>The sign-in request <strong>{}</strong> \
was already {}.</p>",
                escape(code),
                if allow { "denied" } else { "approved" }
            ),
        ),
    }
}
