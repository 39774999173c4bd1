//! A refused upgrade, from its status and JSON body (`{"ErrorCode":…,"Message":…}`), as a typed
//! error that says what to change. The endpoint's words are untrusted: shortened and escaped.

use crate::error::{Error, ErrorKind};
use std::net::IpAddr;
use std::time::Duration;

/// More of the endpoint's message than this is noise in an error.
const MAX_TEXT: usize = 400;

/// What the refused tunnel asked for, for the error's words.
pub(crate) struct TunnelAsk<'a> {
    pub region: &'a str,
    pub endpoint_id: &'a str,
    pub address: IpAddr,
    pub remote_port: u16,
    pub max_duration: Option<Duration>,
}

/// The endpoint's text, safe to show: escaped and at most [`MAX_TEXT`] characters.
pub(crate) fn untrusted(text: &str) -> String {
    let mut shown: String = text.trim().chars().take(MAX_TEXT).collect();
    if text.trim().chars().count() > MAX_TEXT {
        shown.push('…');
    }
    crate::terminal_text::escape(&shown).into_owned()
}

fn code_and_message(body: &[u8]) -> (Option<String>, String) {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |names: &[&str]| {
        let j = json.as_ref()?;
        names
            .iter()
            .find_map(|n| j.get(*n).and_then(|v| v.as_str()).map(str::to_owned))
    };
    let code = field(&["ErrorCode", "errorCode", "Code", "code", "__type"]);
    let message = field(&["Message", "message", "ErrorMessage"])
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (code, message)
}

pub(crate) fn refused(status: u16, body: &[u8], ask: &TunnelAsk<'_>) -> Error {
    let (code, message) = code_and_message(body);
    let code = code.unwrap_or_default();
    let id = ask.endpoint_id;
    let to = std::net::SocketAddr::new(ask.address, ask.remote_port);
    let says = match (code.is_empty(), message.trim().is_empty()) {
        (true, true) => format!("HTTP {status}"),
        (true, false) => format!("HTTP {status}: {}", untrusted(&message)),
        (false, true) => untrusted(&code),
        (false, false) => format!("{}: {}", untrusted(&code), untrusted(&message)),
    };
    let has = |part: &str| {
        code.to_ascii_lowercase()
            .contains(&part.to_ascii_lowercase())
    };

    if has("AccessDenied") || has("UnauthorizedOperation") || status == 403 {
        let duration = match ask.max_duration {
            Some(d) => format!("{} s", d.as_secs()),
            None => "AWS's default of 3600 s".to_owned(),
        };
        return Error::new(
            ErrorKind::TunnelDenied,
            format!("not allowed to open a tunnel through {id} to {to}: {says}"),
        )
        .with_hint(format!(
            "Your IAM policy must allow ec2-instance-connect:OpenTunnel on \
             arn:aws:ec2:{}:<account>:instance-connect-endpoint/{id}. Check its conditions: \
             ec2-instance-connect:remotePort must allow {}, ec2-instance-connect:privateIpAddress \
             must allow {}, and ec2-instance-connect:maxTunnelDuration must allow {duration} (a \
             policy with a lower limit needs a shorter maximum tunnel duration).",
            ask.region, ask.remote_port, ask.address
        ));
    }
    if has("Throttl") {
        return Error::new(
            ErrorKind::Throttled,
            format!("the EC2 Instance Connect Endpoint {id} is throttling tunnels: {says}"),
        )
        .with_hint("Wait a few seconds and try again.");
    }
    if status == 429 || has("Limit") || has("TooMany") || has("Quota") {
        return Error::new(
            ErrorKind::TunnelLimit,
            format!("the EC2 Instance Connect Endpoint {id} has no free connection: {says}"),
        )
        .with_hint(
            "An endpoint allows 20 concurrent connections, shared by everyone using its VPC: \
             close other sessions through it, or wait and try again.",
        );
    }
    if has("NotFound") {
        return Error::new(
            ErrorKind::NoEndpoint,
            format!("the EC2 Instance Connect Endpoint {id} does not exist: {says}"),
        )
        .with_hint("It may have been deleted; connect again to look up the VPC's endpoint anew.");
    }
    if has("IncorrectState") || has("NotReady") {
        return Error::new(
            ErrorKind::EndpointNotReady,
            format!("the EC2 Instance Connect Endpoint {id} is not ready for tunnels: {says}"),
        )
        .with_hint("Wait until the endpoint's state is create-complete and connect again.");
    }
    if status == 401 || is_credentials_code(&code) {
        return Error::new(
            ErrorKind::Credentials,
            format!(
                "the EC2 Instance Connect Endpoint {id} did not accept the signed request: {says}"
            ),
        )
        .with_hint(
            "Your AWS credentials are missing, expired or not valid, or this machine's clock is \
             off by minutes: sign in again, or check the clock.",
        );
    }
    if status >= 500 {
        return Error::new(
            ErrorKind::Service,
            format!("the EC2 Instance Connect Endpoint {id} failed to open a tunnel: {says}"),
        )
        .with_hint("This is on AWS's side; try again shortly.");
    }
    Error::new(
        ErrorKind::TunnelRefused,
        format!("the EC2 Instance Connect Endpoint {id} refused a tunnel to {to}: {says}"),
    )
    .with_hint(
        "An endpoint tunnels only to ports 22 and 3389, only to private addresses in its own VPC \
         (not through an endpoint another account shares), and for at most 3600 s.",
    )
}

fn is_credentials_code(code: &str) -> bool {
    matches!(
        code,
        "AuthFailure"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "RequestExpired"
            | "SignatureDoesNotMatch"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask() -> TunnelAsk<'static> {
        TunnelAsk {
            region: "eu-west-1",
            endpoint_id: "eice-0123",
            address: "10.0.1.5".parse().unwrap(),
            remote_port: 22,
            max_duration: None,
        }
    }

    #[test]
    fn the_endpoints_text_is_escaped_and_shortened() {
        let body = serde_json::json!({
            "ErrorCode": "InvalidParameter",
            "Message": format!("bad\x1b]0;pwned\x07 {}", "x".repeat(1000)),
        });
        let e = refused(400, body.to_string().as_bytes(), &ask());
        assert_eq!(e.kind, ErrorKind::TunnelRefused);
        assert!(
            !e.message.chars().any(crate::terminal_text::is_unsafe),
            "{}",
            e.message
        );
        assert!(e.message.contains("bad\\x1b]0;pwned\\x07"), "{}", e.message);
        assert!(e.message.len() < 700, "{}", e.message.len());
    }

    #[test]
    fn a_body_that_is_not_json_is_shown_as_text() {
        let e = refused(502, b"<html>Bad Gateway</html>", &ask());
        assert_eq!(e.kind, ErrorKind::Service);
        assert!(
            e.message.contains("HTTP 502: <html>Bad Gateway</html>"),
            "{}",
            e.message
        );
    }
}
