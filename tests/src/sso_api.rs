//! IAM Identity Center as the AWS SDKs see it, both restJson1 and unsigned:
//! SSO-OIDC (`POST /client/register`, `/device_authorization`, `/token`) and the SSO portal
//! (`GET /federation/credentials`, `/assignment/accounts`, `/assignment/roles` — paged by
//! `max_result`/`next_token`, at most the lab's page-size cap —, `POST /logout`, bearer token in
//! `x-amz-sso_bearer_token`). Errors carry `x-amzn-errortype` and the OAuth-style body.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::core::Core;
use crate::identities::{self, Caller, Device};
use crate::{accounts, random};

pub(crate) fn routes() -> Router<Arc<Core>> {
    Router::new()
        .route("/client/register", post(register_client))
        .route("/device_authorization", post(start_device_authorization))
        .route("/token", post(create_token))
        .route("/federation/credentials", get(get_role_credentials))
        .route("/assignment/accounts", get(list_accounts))
        .route("/assignment/roles", get(list_account_roles))
        .route("/logout", post(logout))
}

fn reply(status: StatusCode, body: Value, error_type: Option<&str>) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&random::uuid()) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    resp
}

fn ok(body: Value) -> Response {
    reply(StatusCode::OK, body, None)
}

/// OIDC errors: `{"error": "...", "error_description": "..."}`.
fn oidc_error(status: StatusCode, ty: &str, error: &str, description: &str) -> Response {
    reply(
        status,
        json!({ "error": error, "error_description": description }),
        Some(ty),
    )
}

fn bad_request(description: &str) -> Response {
    oidc_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestException",
        "invalid_request",
        description,
    )
}

fn parse(body: &Bytes) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn register_client(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let v = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e),
    };
    if field(&v, "clientName").is_none() || field(&v, "clientType") != Some("public") {
        return bad_request("clientName is required and clientType must be 'public'");
    }
    let id = format!("lab-client-{}", random::hex(8));
    let secret = format!("lab-secret-{}", random::hex(16));
    let name = field(&v, "clientName").unwrap_or_default().to_string();
    let mut ids = core.ids();
    ids.clients.insert(id.clone(), secret.clone());
    ids.client_names.insert(id.clone(), name);
    drop(ids);
    let now = now_secs();
    ok(json!({
        "clientId": id,
        "clientSecret": secret,
        "clientIdIssuedAt": now,
        "clientSecretExpiresAt": now + 90 * 24 * 3600,
    }))
}

fn client_ok(core: &Core, v: &Value) -> bool {
    match (field(v, "clientId"), field(v, "clientSecret")) {
        (Some(id), Some(secret)) => core.ids().clients.get(id).is_some_and(|s| s == secret),
        _ => false,
    }
}

fn invalid_client() -> Response {
    oidc_error(
        StatusCode::UNAUTHORIZED,
        "InvalidClientException",
        "invalid_client",
        "unknown client or wrong secret",
    )
}

async fn start_device_authorization(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let v = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e),
    };
    if !client_ok(&core, &v) {
        return invalid_client();
    }
    if field(&v, "startUrl").is_none() {
        return bad_request("startUrl is required");
    }
    let client_id = field(&v, "clientId").unwrap_or_default().to_string();
    let client_name = core
        .ids()
        .client_names
        .get(&client_id)
        .cloned()
        .unwrap_or_default();
    let device = Device {
        device_code: format!("lab-device-{}", random::hex(16)),
        user_code: identities::user_code(),
        client_id,
        client_name,
        start_url: field(&v, "startUrl").unwrap_or_default().to_string(),
        approved: false,
        denied: false,
        redeemed: false,
        expires: Instant::now() + Duration::from_secs(identities::DEVICE_EXPIRES_SECS),
        interval: Duration::from_secs(identities::DEVICE_INTERVAL_SECS),
        last_poll: None,
    };
    let base = format!(
        "http://127.0.0.1:{}{}",
        core.config.http_port,
        crate::device_page::PAGE
    );
    let body = json!({
        "deviceCode": device.device_code,
        "userCode": device.user_code,
        "verificationUri": base,
        "verificationUriComplete": core.ids().forced_verification_uri.clone()
            .unwrap_or_else(|| format!("{base}?user_code={}", device.user_code)),
        "expiresIn": identities::DEVICE_EXPIRES_SECS,
        "interval": identities::DEVICE_INTERVAL_SECS,
    });
    core.ids().devices.push(device);
    ok(body)
}

fn token_reply(core: &Core, client_id: &str, refreshed: bool) -> Response {
    let mut ids = core.ids();
    let access = ids.new_token();
    let refresh = format!("lab-refresh-{}", random::hex(24));
    ids.refresh_tokens
        .insert(refresh.clone(), client_id.to_string());
    ids.refresh_of.insert(access.clone(), refresh.clone());
    if refreshed {
        ids.stats.refreshes += 1;
    } else {
        ids.stats.tokens_issued += 1;
    }
    ok(json!({
        "accessToken": access,
        "tokenType": "Bearer",
        "expiresIn": identities::TOKEN_TTL_SECS,
        "refreshToken": refresh,
    }))
}

async fn create_token(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let v = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e),
    };
    if !client_ok(&core, &v) {
        return invalid_client();
    }
    let client_id = field(&v, "clientId").unwrap_or_default().to_string();
    match field(&v, "grantType") {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            poll_device(&core, &client_id, field(&v, "deviceCode").unwrap_or(""))
        }
        Some("refresh_token") => {
            let token = field(&v, "refreshToken").unwrap_or("");
            // Refresh tokens rotate: the old one is spent.
            let owner = {
                let mut ids = core.ids();
                ids.stats.refresh_calls += 1;
                ids.refresh_tokens.remove(token)
            };
            if owner.as_deref() != Some(client_id.as_str()) {
                return oidc_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidGrantException",
                    "invalid_grant",
                    "refresh token is unknown, spent or not this client's",
                );
            }
            token_reply(&core, &client_id, true)
        }
        other => oidc_error(
            StatusCode::BAD_REQUEST,
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            &format!("grant type {other:?} is not supported"),
        ),
    }
}

fn poll_device(core: &Core, client_id: &str, device_code: &str) -> Response {
    let now = Instant::now();
    let mut ids = core.ids();
    ids.stats.polls += 1;
    let forced = ids.forced_slow_downs > 0;
    if forced {
        ids.forced_slow_downs -= 1;
    }
    let Some(idx) = ids
        .devices
        .iter()
        .position(|d| d.device_code == device_code && d.client_id == client_id)
    else {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "InvalidGrantException",
            "invalid_grant",
            "unknown device code",
        );
    };
    let d = &mut ids.devices[idx];
    if d.redeemed {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "InvalidGrantException",
            "invalid_grant",
            "device code already used",
        );
    }
    if now > d.expires {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            "expired_token",
            "the device code has expired",
        );
    }
    // 100 ms of grace for timer jitter.
    let too_fast = d
        .last_poll
        .is_some_and(|last| now.duration_since(last) + Duration::from_millis(100) < d.interval);
    d.last_poll = Some(now);
    if too_fast || forced {
        d.interval += Duration::from_secs(5);
        ids.stats.slow_downs += 1;
        if too_fast {
            ids.stats.too_fast += 1;
        }
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "SlowDownException",
            "slow_down",
            "polling too fast; add 5 seconds to the interval",
        );
    }
    if d.denied {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            "access_denied",
            "the user denied the authorization request",
        );
    }
    if !d.approved {
        ids.stats.pending_answers += 1;
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "AuthorizationPendingException",
            "authorization_pending",
            "the user has not approved the device yet",
        );
    }
    d.redeemed = true;
    drop(ids);
    token_reply(core, client_id, false)
}

fn unauthorized(message: &str) -> Response {
    reply(
        StatusCode::UNAUTHORIZED,
        json!({ "message": message }),
        Some("UnauthorizedException"),
    )
}

fn bearer_ok(core: &Core, headers: &HeaderMap) -> bool {
    core.ids().token_valid(bearer(headers))
}

const BAD_TOKEN: &str = "Session token not found or invalid";

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get("x-amz-sso_bearer_token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `Logout`: ends the sign-in of the bearer token, as `aws sso logout` asks before it deletes
/// its cache; from then on the portal refuses that token. 200 with an empty body, as AWS does.
async fn logout(State(core): State<Arc<Core>>, headers: HeaderMap) -> Response {
    if !core.ids().logout(bearer(&headers)) {
        return unauthorized(BAD_TOKEN);
    }
    let mut resp = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&random::uuid()) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

async fn get_role_credentials(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&core, &headers) {
        return unauthorized(BAD_TOKEN);
    }
    let role = q.get("role_name").map(String::as_str).unwrap_or("");
    let account = q.get("account_id").map(String::as_str).unwrap_or("");
    let Some(account) = accounts::by_id(account).filter(|a| a.has_sso_role(role)) else {
        return reply(
            StatusCode::FORBIDDEN,
            json!({ "message": "No access" }),
            Some("ForbiddenException"),
        );
    };
    let caller = Caller::sso(account, role);
    let mut ids = core.ids();
    ids.stats.role_credentials += 1;
    let (ak, c) = ids.issue(caller);
    let expiration_ms = c
        .expires
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    ok(json!({
        "roleCredentials": {
            "accessKeyId": ak,
            "secretAccessKey": c.secret,
            "sessionToken": c.session_token,
            "expiration": expiration_ms,
        }
    }))
}

/// One page of a portal listing: `max_result` items (at most the lab's page-size cap) from the
/// offset `next_token` names; the token of the next page when there is one. Err: why the
/// request is bad.
fn page(
    core: &Core,
    q: &HashMap<String, String>,
    items: Vec<Value>,
) -> Result<(Vec<Value>, Option<String>), &'static str> {
    let size = match q.get("max_result").map(|v| v.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return Err("max_result must be 1 to 100"),
    }
    .min(core.config.max_page_size);
    let from = match q.get("next_token") {
        None => 0,
        Some(t) => match t
            .strip_prefix("lab-page-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n < items.len() => n,
            _ => return Err("next_token is not one this listing gave"),
        },
    };
    let to = (from + size).min(items.len());
    let next = (to < items.len()).then(|| format!("lab-page-{to}"));
    Ok((items[from..to].to_vec(), next))
}

async fn list_accounts(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&core, &headers) {
        return unauthorized(BAD_TOKEN);
    }
    let all: Vec<Value> = accounts::ALL
        .iter()
        .map(|a| json!({ "accountId": a.id, "accountName": a.name, "emailAddress": a.email }))
        .collect();
    match page(&core, &q, all) {
        Ok((list, next)) => ok(json!({ "accountList": list, "nextToken": next })),
        Err(why) => bad_request(why),
    }
}

async fn list_account_roles(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&core, &headers) {
        return unauthorized(BAD_TOKEN);
    }
    let roles: Vec<Value> = q
        .get("account_id")
        .and_then(|id| accounts::by_id(id))
        .map(|a| {
            a.sso_roles
                .iter()
                .map(|r| json!({ "roleName": r, "accountId": a.id }))
                .collect()
        })
        .unwrap_or_default();
    match page(&core, &q, roles) {
        Ok((list, next)) => ok(json!({ "roleList": list, "nextToken": next })),
        Err(why) => bad_request(why),
    }
}
