//! The byte stream `keyless proxy` hands to OpenSSH: a TCP connection to the instance's sshd, or
//! an EC2 Instance Connect Endpoint tunnel to it, or — for `--via auto` on a private address —
//! the first of the two to open (the direct one gets a head start, as `keyless ssh` does). OpenSSH
//! does the key exchange over it itself, so the race is won by the first stream, not the first
//! handshake.

use crate::address::RoutePlan;
use crate::aws::AwsContext;
use crate::eice::{self, TunnelRequest, TunnelSettings};
use crate::error::Result;
use crate::instance::Instance;
use crate::reach::{unreachable, HEAD_START, TCP_CONNECT_TIMEOUT};
use futures::future::{BoxFuture, FutureExt};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Any stream to sshd.
pub trait SshdStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> SshdStream for T {}

/// How the stream was opened, for `-v` and for errors.
pub struct Opened {
    pub stream: Box<dyn SshdStream>,
    /// `10.0.1.5:22` or `10.0.1.5:22 via eice-…`.
    pub route: String,
}

pub struct StreamOptions<'a> {
    pub port: u16,
    /// Opening a tunnel (the TCP connect has its own 10 s).
    pub timeout: Duration,
    pub max_tunnel: Option<Duration>,
    pub tunnel: &'a TunnelSettings,
}

pub async fn open(
    aws: &AwsContext,
    instance: &Instance,
    plan: RoutePlan,
    opts: &StreamOptions<'_>,
) -> Result<Opened> {
    match plan {
        RoutePlan::Direct(address) => direct(instance, address, opts.port).await,
        RoutePlan::Tunnel(address) => tunnel(aws, instance, address, opts).await,
        RoutePlan::Race {
            direct: d,
            tunnel: t,
        } => {
            let first = direct(instance, d, opts.port).boxed();
            let second = tunnel(aws, instance, t, opts).boxed();
            first_to_open(first, second).await
        }
    }
}

async fn direct(instance: &Instance, address: IpAddr, port: u16) -> Result<Opened> {
    let at = SocketAddr::new(address, port);
    let socket = tokio::time::timeout(TCP_CONNECT_TIMEOUT, tokio::net::TcpStream::connect(at))
        .await
        .map_err(|_| unreachable(instance, at, "timed out"))?
        .map_err(|e| unreachable(instance, at, &e.to_string()))?;
    socket.set_nodelay(true).ok();
    Ok(Opened {
        stream: Box::new(socket),
        route: at.to_string(),
    })
}

async fn tunnel(
    aws: &AwsContext,
    instance: &Instance,
    address: IpAddr,
    opts: &StreamOptions<'_>,
) -> Result<Opened> {
    let endpoint = eice::endpoint_of(aws, instance).await?;
    let request = TunnelRequest {
        region: &instance.region,
        endpoint: &endpoint,
        address,
        remote_port: opts.port,
        max_duration: opts.max_tunnel,
    };
    let tunnel = eice::open_tunnel(aws, &request, opts.tunnel, opts.timeout).await?;
    Ok(Opened {
        route: format!(
            "{} via {}",
            SocketAddr::new(address, opts.port),
            endpoint.id
        ),
        stream: Box::new(tunnel),
    })
}

/// `first` alone for [`HEAD_START`] (or until it fails), then both; the first to open wins and
/// the other is dropped. Both failing: the first's error, which names the address it tried.
async fn first_to_open(
    first: BoxFuture<'_, Result<Opened>>,
    second: BoxFuture<'_, Result<Opened>>,
) -> Result<Opened> {
    let mut first = first.fuse();
    let mut second = second.fuse();
    let head_start = tokio::time::sleep(HEAD_START);
    tokio::pin!(head_start);
    let mut second_running = false;
    let (mut first_error, mut second_error) = (None, None);
    loop {
        tokio::select! {
            r = &mut first, if first_error.is_none() => match r {
                Ok(opened) => return Ok(opened),
                Err(e) => {
                    second_running = true;
                    first_error = Some(e);
                }
            },
            _ = &mut head_start, if !second_running => second_running = true,
            r = &mut second, if second_running && second_error.is_none() => match r {
                Ok(opened) => return Ok(opened),
                Err(e) => second_error = Some(e),
            },
        }
        match (first_error.take(), &second_error) {
            (Some(e), Some(_)) => return Err(e),
            (e, _) => first_error = e,
        }
    }
}
