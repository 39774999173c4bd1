//! SigV4 (header form) verification: recompute the signature over what was received — method,
//! path, query, the headers named in SignedHeaders and the body — with the lab's secret.
//! Hand-rolled on purpose: the tests sign with the real `aws-sigv4`, so two independent
//! implementations have to agree.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::timefmt::parse_amz_date;

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(300);
/// SigV4's "unreserved" characters are left alone; everything else is %XX.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
pub(crate) const PATH: &AsciiSet = &STRICT.remove(b'/');

/// The credential scope of a request (known before the signature is checked, so errors can be
/// shaped for the right service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SigError {
    /// No `Authorization` header.
    Missing,
    /// Present but not a well-formed SigV4 header, or a signed header is absent.
    Malformed(String),
    UnknownKey(String),
    /// Signature does not match, or the date is out of range.
    Mismatch(String),
}

struct AuthHeader {
    scope: Scope,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_auth(headers: &HeaderMap) -> Result<AuthHeader, SigError> {
    let raw = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(SigError::Missing)?;
    let raw = raw
        .to_str()
        .map_err(|_| SigError::Malformed("non-ASCII Authorization".into()))?;
    let rest = raw
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| SigError::Malformed(format!("unsupported algorithm in '{raw}'")))?;
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => cred = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => sig = Some(v),
            _ => {}
        }
    }
    let missing = |what: &str| {
        SigError::Malformed(format!("Authorization header requires '{what}' parameter"))
    };
    let cred = cred.ok_or_else(|| missing("Credential"))?;
    let parts: Vec<&str> = cred.split('/').collect();
    let [ak, date, region, service, "aws4_request"] = parts[..] else {
        return Err(SigError::Malformed(format!(
            "credential '{cred}' is not of the form AKID/date/region/service/aws4_request"
        )));
    };
    Ok(AuthHeader {
        scope: Scope {
            access_key: ak.into(),
            date: date.into(),
            region: region.into(),
            service: service.into(),
        },
        signed_headers: signed
            .ok_or_else(|| missing("SignedHeaders"))?
            .split(';')
            .map(str::to_string)
            .collect(),
        signature: sig.ok_or_else(|| missing("Signature"))?.to_string(),
    })
}

/// The scope alone, for routing a request before verification.
pub fn scope(headers: &HeaderMap) -> Option<Scope> {
    parse_auth(headers).ok().map(|a| a.scope)
}

pub struct Received<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Verifies the request; `secret_for` maps an access key to its secret.
pub fn verify(
    req: &Received,
    secret_for: impl Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<Scope, SigError> {
    let auth = parse_auth(req.headers)?;
    let secret = secret_for(&auth.scope.access_key)
        .ok_or_else(|| SigError::UnknownKey(auth.scope.access_key.clone()))?;
    let amz_date = header_str(req.headers, "x-amz-date")
        .ok_or_else(|| SigError::Malformed("missing X-Amz-Date header".into()))?;
    let signed_at = parse_amz_date(amz_date)
        .ok_or_else(|| SigError::Malformed(format!("bad X-Amz-Date '{amz_date}'")))?;
    let skew = now
        .duration_since(signed_at)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(SigError::Mismatch(format!(
            "Signature expired or not yet valid: {amz_date} is more than 5 minutes from the server time"
        )));
    }
    if !amz_date.starts_with(&auth.scope.date) {
        return Err(SigError::Mismatch(format!(
            "credential date {} does not match X-Amz-Date {amz_date}",
            auth.scope.date
        )));
    }
    let body_hash = hex::encode(Sha256::digest(req.body));
    if let Some(claimed) = header_str(req.headers, "x-amz-content-sha256") {
        if claimed != body_hash && claimed != "UNSIGNED-PAYLOAD" {
            return Err(SigError::Mismatch(
                "x-amz-content-sha256 does not match the body".into(),
            ));
        }
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigError::Malformed("'Host' must be a signed header".into()));
    }
    let canonical = canonical_request(req, &auth.signed_headers, &body_hash)?;
    let scope_str = format!(
        "{}/{}/{}/aws4_request",
        auth.scope.date, auth.scope.region, auth.scope.service
    );
    let to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope_str}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(
        &secret,
        &auth.scope.date,
        &auth.scope.region,
        &auth.scope.service,
    );
    let expected = hex::encode(hmac(&key, to_sign.as_bytes()));
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(auth.scope)
    } else {
        Err(SigError::Mismatch(
            "The request signature we calculated does not match the signature you provided.".into(),
        ))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn canonical_request(
    req: &Received,
    signed: &[String],
    body_hash: &str,
) -> Result<String, SigError> {
    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    // Non-S3 services sign the already-encoded path encoded once more.
    out.push_str(&utf8_percent_encode(req.path, PATH).to_string());
    out.push('\n');
    out.push_str(&canonical_query(req.query.unwrap_or("")));
    out.push('\n');
    for name in signed {
        let values: Vec<String> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| normalize_value(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() {
            return Err(SigError::Malformed(format!(
                "signed header '{name}' is not in the request"
            )));
        }
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    out.push('\n');
    out.push_str(&signed.join(";"));
    out.push('\n');
    out.push_str(body_hash);
    Ok(out)
}

pub(crate) fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let enc = |s: &str| {
                utf8_percent_encode(&percent_decode_str(s).decode_utf8_lossy(), STRICT).to_string()
            };
            (enc(k), enc(v))
        })
        .filter(|(k, _)| k != "X-Amz-Signature")
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Trim and collapse runs of spaces, as SigV4 requires.
pub(crate) fn normalize_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// HMAC-SHA256 (RFC 2104); a few lines instead of a crate whose digest version clashes.
pub(crate) fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_rfc4231_case2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signing_key_aws_docs_example() {
        let k = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn query_is_sorted_and_reencoded() {
        assert_eq!(canonical_query("b=2&a=x%20y&a=1&c"), "a=1&a=x%20y&b=2&c=");
    }
}
