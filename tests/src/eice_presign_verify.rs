//! SigV4 *query* presign verification for `GET /openTunnel` (the EC2 Instance Connect Endpoint
//! WebSocket): the signature travels in `X-Amz-*` query parameters, not in a header. Built from
//! the header verifier's pieces (`sigv4_verify.rs`); the tests presign with the real `aws-sigv4`.

use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::sigv4_verify::{
    canonical_query, constant_time_eq, hmac, normalize_value, signing_key, ALGORITHM, MAX_SKEW,
};
use crate::timefmt::parse_amz_date;

/// The signing name the tunnel's presign must be scoped to.
pub const SERVICE: &str = "ec2-instance-connect";
/// The longest `X-Amz-Expires` the endpoint accepts (the AWS CLI signs with 60).
pub const MAX_EXPIRES_SECS: u64 = 60;

/// A verified presign: who signed it and for which region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub access_key: String,
    pub region: String,
}

/// Why a presigned URL is refused: the HTTP status, `ErrorCode` and `Message` of the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> PresignError {
    PresignError {
        status,
        code,
        message: message.into(),
    }
}

fn incomplete(message: impl Into<String>) -> PresignError {
    refuse(400, "IncompleteSignatureException", message)
}

fn mismatch(message: impl Into<String>) -> PresignError {
    refuse(403, "InvalidSignatureException", message)
}

/// What the upgrade request carried: path, raw query, and the headers it signed.
pub struct Request<'a> {
    pub path: &'a str,
    pub query: &'a str,
    /// Header lookup by lower-case name (all values, in order).
    pub header: &'a dyn Fn(&str) -> Vec<String>,
}

/// Who may sign: an access key's secret and, for an issued key, the session token it must
/// carry.
pub struct KeyInfo {
    pub secret: String,
    pub session_token: Option<String>,
}

fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Verifies the presign of an upgrade request; `key_info` maps an access key to its secret.
pub fn verify(
    req: &Request,
    key_info: impl Fn(&str) -> Option<KeyInfo>,
    now: SystemTime,
) -> Result<Presigned, PresignError> {
    let param = |name: &str| query_param(req.query, name);
    let required = |name: &str| {
        param(name).ok_or_else(|| {
            incomplete(format!(
                "The presigned URL is missing the query parameter '{name}'"
            ))
        })
    };
    let algorithm = param("X-Amz-Algorithm").ok_or_else(|| {
        refuse(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    })?;
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported X-Amz-Algorithm '{algorithm}'; use {ALGORITHM}"
        )));
    }
    let credential = required("X-Amz-Credential")?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [ak, date, region, service, "aws4_request"] = parts[..] else {
        return Err(incomplete(format!(
            "X-Amz-Credential '{credential}' is not of the form AKID/date/region/service/aws4_request"
        )));
    };
    if service != SERVICE {
        return Err(mismatch(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    let amz_date = required("X-Amz-Date")?;
    let signed_at = parse_amz_date(&amz_date)
        .ok_or_else(|| incomplete(format!("Invalid X-Amz-Date '{amz_date}'")))?;
    if !amz_date.starts_with(date) {
        return Err(mismatch(format!(
            "Credential date {date} does not match X-Amz-Date {amz_date}"
        )));
    }
    let expires = required("X-Amz-Expires")?;
    let expires = expires
        .parse::<u64>()
        .ok()
        .filter(|s| (1..=MAX_EXPIRES_SECS).contains(s))
        .ok_or_else(|| {
            mismatch(format!(
                "X-Amz-Expires must be between 1 and {MAX_EXPIRES_SECS} seconds, not '{expires}'"
            ))
        })?;
    if signed_at > now + MAX_SKEW {
        return Err(mismatch(format!(
            "Signature not yet current: {amz_date} is more than 5 minutes after the server time"
        )));
    }
    if now > signed_at + Duration::from_secs(expires) {
        return Err(mismatch(format!(
            "Signature expired: {amz_date} + {expires} s is earlier than the server time"
        )));
    }
    let signed_headers = required("X-Amz-SignedHeaders")?;
    let signed: Vec<&str> = signed_headers.split(';').collect();
    if !signed.contains(&"host") {
        return Err(incomplete("'host' must be a signed header"));
    }
    let signature = required("X-Amz-Signature")?;
    let info = key_info(ak).ok_or_else(|| {
        refuse(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    })?;
    if let Some(token) = &info.session_token {
        if param("X-Amz-Security-Token").as_deref() != Some(token.as_str()) {
            return Err(refuse(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        }
    }
    let mut canonical_headers = String::new();
    for name in &signed {
        let values = (req.header)(name);
        if values.is_empty() {
            return Err(incomplete(format!(
                "signed header '{name}' is not in the request"
            )));
        }
        let values: Vec<String> = values.iter().map(|v| normalize_value(v)).collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    // The path is `/openTunnel`: nothing to encode, and the empty payload's hash.
    let canonical = format!(
        "GET\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        req.path,
        canonical_query(req.query),
        hex::encode(Sha256::digest(b""))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(&info.secret, date, region, service);
    let expected = hex::encode(hmac(&key, to_sign.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(mismatch(
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    Ok(Presigned {
        access_key: ak.to_string(),
        region: region.to_string(),
    })
}
