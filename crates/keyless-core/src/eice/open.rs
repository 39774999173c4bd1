//! Opening one tunnel: a freshly presigned URL, then TCP (directly or through the proxy's
//! CONNECT), TLS and the WebSocket upgrade — all within one deadline, so an endpoint or proxy that
//! accepts and then says nothing cannot hang a connect.

use super::endpoint::Endpoint;
use super::frames::Tunnel;
use super::presign::{presigned_path, Target, TunnelQuery};
use super::refusal::TunnelAsk;
use super::settings::TunnelSettings;
use super::upgrade::upgrade;
use super::wire::Wire;
use crate::aws::{error_text, keyless_error_in, AwsContext};
use crate::deadline::{within, PromptClock, TIMEOUT_ENV};
use crate::error::{Error, ErrorKind, Result};
use aws_credential_types::provider::ProvideCredentials;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpStream;

/// AWS's limit for one tunnel; IAM may set a lower one (`maxTunnelDuration`).
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(3600);

/// One tunnel to `address:remote_port` through `endpoint`.
#[derive(Debug, Clone)]
pub struct TunnelRequest<'a> {
    /// The instance's region: the signature is for it.
    pub region: &'a str,
    pub endpoint: &'a Endpoint,
    /// The instance's private address in the endpoint's VPC.
    pub address: IpAddr,
    /// 22 (SSH) or 3389 (RDP): AWS allows no others.
    pub remote_port: u16,
    /// Sent as `maxTunnelDuration` when set (1–3600 s); else AWS's 1 hour applies.
    pub max_duration: Option<Duration>,
}

/// Opens one tunnel within `limit`.
pub async fn open_tunnel(
    aws: &AwsContext,
    req: &TunnelRequest<'_>,
    settings: &TunnelSettings,
    limit: Duration,
) -> Result<Tunnel> {
    if let Some(d) = req.max_duration {
        if d.as_secs() == 0 || d > DEFAULT_MAX_DURATION {
            return Err(Error::invalid(format!(
                "a tunnel's maximum duration of {} s is outside 1 to 3600 s",
                d.as_secs()
            )));
        }
    }
    let target = Target::of(req.endpoint, settings.endpoint_url.as_deref())?;
    let proxy = settings.proxy.for_host(&target.host, target.port)?.cloned();
    let credentials = credentials(aws).await?;
    let query = TunnelQuery {
        region: req.region,
        endpoint_id: &req.endpoint.id,
        address: req.address,
        remote_port: req.remote_port,
        max_duration: req.max_duration,
    };
    let path = presigned_path(&target, &query, &credentials, SystemTime::now())?;
    let ask = TunnelAsk {
        region: req.region,
        endpoint_id: &req.endpoint.id,
        address: req.address,
        remote_port: req.remote_port,
        max_duration: req.max_duration,
    };
    let opening = async {
        let tcp = match &proxy {
            Some(proxy) => proxy.connect(&target.host, target.port).await?,
            None => connect_direct(&target, &req.endpoint.id).await?,
        };
        let wire = if target.tls {
            Wire::Tls(Box::new(super::tls::handshake(tcp, &target.host).await?))
        } else {
            Wire::Plain(tcp)
        };
        upgrade(wire, &target, &path, &ask).await
    };
    let ws = within(limit, &PromptClock::default(), opening)
        .await
        .ok_or_else(|| timed_out(limit, req, &target))??;
    let max_duration = req.max_duration.unwrap_or(DEFAULT_MAX_DURATION);
    Ok(Tunnel::new(
        ws,
        &req.endpoint.id,
        max_duration,
        Instant::now(),
    ))
}

/// The context's credentials, refreshed by its provider as needed (SSO, assumed roles).
async fn credentials(aws: &AwsContext) -> Result<aws_credential_types::Credentials> {
    let provider = aws.sdk().credentials_provider().ok_or_else(|| {
        Error::new(
            ErrorKind::Credentials,
            "no AWS credentials to sign the EICE tunnel with",
        )
    })?;
    provider.provide_credentials().await.map_err(|e| {
        keyless_error_in(&e).unwrap_or_else(|| {
            Error::new(
                ErrorKind::Credentials,
                format!(
                    "no AWS credentials to sign the EICE tunnel with: {}",
                    error_text(&e)
                ),
            )
            .with_hint("Sign in again, or choose another AWS profile.")
        })
    })
}

async fn connect_direct(target: &Target, endpoint_id: &str) -> Result<TcpStream> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Network,
                format!(
                    "cannot reach the EC2 Instance Connect Endpoint {endpoint_id} at {}: {e}",
                    target.host_header
                ),
            )
            .with_hint("Check the network; a network that needs a proxy needs HTTPS_PROXY.")
        })?;
    tcp.set_nodelay(true).ok();
    Ok(tcp)
}

fn timed_out(limit: Duration, req: &TunnelRequest<'_>, target: &Target) -> Error {
    let after = match limit.as_secs() {
        0 => format!("{} ms", limit.as_millis()),
        s => format!("{s} s"),
    };
    Error::new(
        ErrorKind::Timeout,
        format!(
            "timed out after {after} opening the EICE tunnel through {} ({}) to {}",
            req.endpoint.id,
            target.host_header,
            SocketAddr::new(req.address, req.remote_port)
        ),
    )
    .with_hint(format!(
        "The endpoint, or a proxy on the way, did not complete the connection, TLS and WebSocket \
         upgrade in time. Connect again to retry; on a slow link allow more time per step with \
         {TIMEOUT_ENV}=SECONDS."
    ))
}
