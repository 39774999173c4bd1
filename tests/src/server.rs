//! The lab's single HTTP endpoint: AWS APIs on `/` (routed by the SigV4 credential scope's
//! service), the sshd keys endpoint and the `/_lab/…` control routes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;

use crate::core::Core;
use crate::sigv4_verify::{self, Received, SigError};
use crate::state::ApiRequest;
use crate::{control, ec2_api, ec2_xml, eic_api, keys_endpoint, random, sso_api, sts_api};

pub fn router(core: Arc<Core>) -> Router {
    Router::new()
        .route("/", any(aws))
        .route("/_lab/keys/{id}", get(keys_endpoint::serve))
        .merge(control::routes())
        .merge(sso_api::routes())
        .layer(axum::middleware::from_fn_with_state(
            core.clone(),
            log_request,
        ))
        .with_state(core)
}

/// Records every request to an emulated AWS API (everything but the lab's own `/_lab/…` routes).
async fn log_request(
    State(core): State<Arc<Core>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/_lab/") {
        return next.run(req).await;
    }
    let record = ApiRequest {
        method: req.method().to_string(),
        path: path.to_string(),
        target: header_str(req.headers(), "x-amz-target").map(str::to_string),
        at: SystemTime::now(),
        answered: None,
    };
    let index = {
        let mut st = core.state();
        st.requests.push(record);
        st.requests.len() - 1
    };
    let response = next.run(req).await;
    if let Some(r) = core.state().requests.get_mut(index) {
        r.answered = Some(SystemTime::now());
    }
    response
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Ec2,
    Eic,
    Sts,
    Other,
}

impl Service {
    fn content_type(self) -> &'static str {
        match self {
            Service::Eic => eic_api::CONTENT_TYPE,
            _ => "text/xml;charset=UTF-8",
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn aws(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = random::uuid();
    let target = header_str(&headers, "x-amz-target")
        .unwrap_or("")
        .to_string();
    // Route before verifying, so an authentication error comes in the right service's format.
    let service = match sigv4_verify::scope(&headers).map(|s| s.service) {
        Some(s) if s == "ec2" => Service::Ec2,
        Some(s) if s == "ec2-instance-connect" => Service::Eic,
        Some(s) if s == "sts" => Service::Sts,
        Some(_) => Service::Other,
        None if !target.is_empty() => Service::Eic,
        None => Service::Ec2,
    };
    let received = Received {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers: &headers,
        body: &body,
    };
    // The static key and every unexpired key the lab issued (AssumeRole, SSO role credentials).
    let secret_for = |ak: &str| core.ids().secret_for(ak);
    let (status, text) = match sigv4_verify::verify(&received, secret_for, SystemTime::now()) {
        Err(e) => auth_error(service, e, &rid),
        Ok(scope) => match service {
            Service::Ec2 => {
                let extra = Duration::from_millis(core.state().faults.ec2_delay_ms);
                let delay = core.config.api_latency + extra;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let caller = core.ids().caller(&scope.access_key);
                let params = query_params(&uri, &body);
                ec2_api::handle(&core, &caller, &scope.region, &params, &rid)
            }
            Service::Sts => {
                sts_api::handle(&core, &scope.access_key, &query_params(&uri, &body), &rid)
            }
            Service::Eic if method != Method::POST => eic_api::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "UnknownOperationException",
                "Use POST",
            ),
            Service::Eic => {
                let caller = core.ids().caller(&scope.access_key);
                let (region, peer) = (scope.region, peer.ip());
                eic_api::handle(core.clone(), &caller, region, peer, &target, &body, &rid).await
            }
            Service::Other => (
                StatusCode::BAD_REQUEST,
                ec2_xml::error(
                    "InvalidAction",
                    &format!("Service '{}' is not emulated by keyless-lab", scope.service),
                    &rid,
                ),
            ),
        },
    };
    let mut resp = (status, text).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(service.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&rid) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// Query-protocol parameters: the query string plus a form-encoded body.
fn query_params(uri: &Uri, body: &[u8]) -> Vec<(String, String)> {
    let from_query = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes());
    from_query
        .chain(form_urlencoded::parse(body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn auth_error(service: Service, e: SigError, rid: &str) -> (StatusCode, String) {
    const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
    match service {
        Service::Eic => match e {
            SigError::Missing => eic_api::error(
                StatusCode::BAD_REQUEST,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            SigError::Malformed(m) => {
                eic_api::error(StatusCode::BAD_REQUEST, "IncompleteSignatureException", &m)
            }
            SigError::UnknownKey(_) => eic_api::error(
                StatusCode::FORBIDDEN,
                "UnrecognizedClientException",
                INVALID_TOKEN,
            ),
            SigError::Mismatch(m) => {
                eic_api::error(StatusCode::FORBIDDEN, "InvalidSignatureException", &m)
            }
        },
        Service::Sts => match e {
            SigError::Missing => sts_api::error(
                StatusCode::FORBIDDEN,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
                rid,
            ),
            SigError::Malformed(m) => {
                sts_api::error(StatusCode::BAD_REQUEST, "IncompleteSignature", &m, rid)
            }
            SigError::UnknownKey(_) => sts_api::error(
                StatusCode::FORBIDDEN,
                "InvalidClientTokenId",
                INVALID_TOKEN,
                rid,
            ),
            SigError::Mismatch(m) => {
                sts_api::error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", &m, rid)
            }
        },
        Service::Ec2 | Service::Other => {
            let msg = match e {
                SigError::Missing | SigError::UnknownKey(_) => {
                    "AWS was not able to validate the provided access credentials".to_string()
                }
                SigError::Malformed(m) | SigError::Mismatch(m) => m,
            };
            (
                StatusCode::UNAUTHORIZED,
                ec2_xml::error("AuthFailure", &msg, rid),
            )
        }
    }
}
