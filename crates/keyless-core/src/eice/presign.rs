//! The tunnel's URL: `/openTunnel?instanceConnectEndpointId=…&remotePort=…&privateIpAddress=…`
//! presigned with SigV4 in the query (service `ec2-instance-connect`, the instance's region,
//! `X-Amz-Expires=60`, only `host` signed, the empty payload's hash, the session token inside the
//! signed query), as the AWS CLI does. A new URL for every WebSocket: it is valid for 60 s.

use super::endpoint::Endpoint;
use crate::error::{Error, ErrorKind, Result};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

pub(crate) const SERVICE: &str = "ec2-instance-connect";
pub(crate) const EXPIRES: Duration = Duration::from_secs(60);

/// SigV4's URI encoding: everything but the RFC 3986 unreserved characters.
const SIGV4: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Where a tunnel's WebSocket goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `wss` (TLS) or, only through the lab's override, `ws`.
    pub tls: bool,
    /// What TCP connects to (and TLS names): a DNS name or an IP, without brackets.
    pub host: String,
    pub port: u16,
    /// The `Host` header, as signed: `host`, or `host:port` for a port that is not the default.
    pub host_header: String,
    /// The path before `/openTunnel` (the override's, normally empty).
    pub base_path: String,
}

impl Target {
    /// `wss://<DnsName>`, or the override URL when one is set.
    pub fn of(endpoint: &Endpoint, override_url: Option<&str>) -> Result<Self> {
        match override_url {
            Some(url) => Self::from_override(url),
            None => Self::from_dns_name(&endpoint.dns_name, &endpoint.id),
        }
    }

    fn from_dns_name(dns_name: &str, id: &str) -> Result<Self> {
        let valid = !dns_name.is_empty()
            && dns_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Err(Error::new(
                ErrorKind::Service,
                format!(
                    "AWS reported a DnsName for {id} that is not a host name: {}",
                    dns_name.escape_debug()
                ),
            ));
        }
        Ok(Target {
            tls: true,
            host: dns_name.to_ascii_lowercase(),
            port: 443,
            host_header: dns_name.to_ascii_lowercase(),
            base_path: String::new(),
        })
    }

    fn from_override(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "{} '{}' {why}",
                super::settings::ENDPOINT_URL_ENV,
                text.escape_debug()
            ))
            .with_hint("Give a ws:// or wss:// URL such as ws://127.0.0.1:8443, or unset it.")
        };
        let url = url::Url::parse(text).map_err(|_| bad("is not a URL"))?;
        let tls = match url.scheme() {
            "wss" => true,
            "ws" => false,
            _ => return Err(bad("is not a ws:// or wss:// URL")),
        };
        if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(bad("may not carry a query or credentials"));
        }
        let host_text = url.host_str().ok_or_else(|| bad("has no host"))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| bad("has no port"))?;
        let host_header = match url.port() {
            Some(p) => format!("{host_text}:{p}"),
            None => host_text.to_owned(),
        };
        Ok(Target {
            tls,
            host: host_text
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            host_header,
            base_path: url.path().trim_end_matches('/').to_owned(),
        })
    }
}

/// What one tunnel asks for.
pub(crate) struct TunnelQuery<'a> {
    pub region: &'a str,
    pub endpoint_id: &'a str,
    pub address: IpAddr,
    pub remote_port: u16,
    pub max_duration: Option<Duration>,
}

/// The presigned path and query (`/openTunnel?…`) for `target`, signed at `now`.
pub(crate) fn presigned_path(
    target: &Target,
    query: &TunnelQuery<'_>,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<String> {
    let mut params: Vec<(&str, String)> = vec![
        ("instanceConnectEndpointId", query.endpoint_id.to_owned()),
        ("remotePort", query.remote_port.to_string()),
        ("privateIpAddress", query.address.to_string()),
    ];
    if let Some(d) = query.max_duration {
        params.push(("maxTunnelDuration", d.as_secs().to_string()));
    }
    let path = format!("{}/openTunnel", target.base_path);
    let unsigned = encode(params.iter().map(|(k, v)| (*k, v.as_str())));
    // Only the authority, path and query enter the signature; the scheme does not.
    let uri = format!("https://{}{path}?{unsigned}", target.host_header);

    let identity = Identity::from(credentials.clone());
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(EXPIRES);
    let signing = SigningParams::builder()
        .identity(&identity)
        .region(query.region)
        .name(SERVICE)
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| sign_failed(&e))?
        .into();
    let request = SignableRequest::new(
        "GET",
        uri,
        [("host", target.host_header.as_str())].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| sign_failed(&e))?;
    let (instructions, _) = sign(request, &signing)
        .map_err(|e| sign_failed(&e))?
        .into_parts();
    let signed = encode(instructions.params().iter().map(|(k, v)| (*k, v.as_ref())));
    Ok(format!("{path}?{unsigned}&{signed}"))
}

fn encode<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, SIGV4),
                utf8_percent_encode(v, SIGV4)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn sign_failed(e: &dyn std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Credentials,
        format!("cannot sign the EICE tunnel's URL: {e}"),
    )
}

#[cfg(test)]
#[path = "presign_tests.rs"]
mod tests;
