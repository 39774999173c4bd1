//! `keyless tunnel`: a local TCP port whose every accepted connection gets its own EC2 Instance
//! Connect Endpoint tunnel to the instance (what `aws ec2-instance-connect open-tunnel` does), for
//! RDP to Windows instances and for tools that want a plain TCP port. No key is pushed: whoever
//! connects authenticates end to end (their own SSH client, RDP).

use crate::aws::AwsContext;
use crate::eice::{self, Endpoint, TunnelRequest, TunnelSettings};
use crate::error::{Error, ErrorKind, Result};
use crate::instance::Instance;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// What happens on the listener, for the front end to show.
#[derive(Debug)]
pub enum LocalTunnelEvent {
    /// A tunnel opened for the connection from `peer`.
    Opened { peer: SocketAddr, took: Duration },
    /// The tunnel for `peer` could not be opened; the local connection was closed.
    Failed { peer: SocketAddr, error: Error },
    /// The connection from `peer` ended; `error` says why when the tunnel broke.
    Closed {
        peer: SocketAddr,
        sent: u64,
        received: u64,
        error: Option<Error>,
    },
}

pub type LocalTunnelSink = Arc<dyn Fn(LocalTunnelEvent) + Send + Sync>;

/// A bound listener and where each of its connections goes.
pub struct LocalTunnel {
    listener: TcpListener,
    target: Arc<Target>,
}

struct Target {
    aws: AwsContext,
    region: String,
    endpoint: Endpoint,
    address: IpAddr,
    remote_port: u16,
    max_duration: Option<Duration>,
    settings: TunnelSettings,
    limit: Duration,
}

/// Where a [`LocalTunnel`] listens and what it reaches.
pub struct LocalTunnelSpec {
    pub local: SocketAddr,
    /// 22 (SSH) or 3389 (RDP): the only ports an endpoint forwards to.
    pub remote_port: u16,
    pub max_duration: Option<Duration>,
    pub settings: TunnelSettings,
    /// For opening each tunnel.
    pub limit: Duration,
}

impl LocalTunnel {
    /// Finds the instance's endpoint and binds the local port; nothing is tunnelled yet.
    pub async fn bind(
        aws: &AwsContext,
        instance: &Instance,
        spec: LocalTunnelSpec,
    ) -> Result<Self> {
        if !matches!(spec.remote_port, 22 | 3389) {
            return Err(Error::invalid(format!(
                "an EC2 Instance Connect Endpoint forwards only to port 22 or 3389, not {}",
                spec.remote_port
            ))
            .with_hint("Use 22 for SSH or 3389 for RDP."));
        }
        instance.ensure_running()?;
        let address = crate::address::plan_route(instance, crate::Via::Eice)?.address();
        let endpoint = eice::endpoint_of(aws, instance).await?;
        let listener = TcpListener::bind(spec.local).await.map_err(|e| {
            let e = Error::new(
                ErrorKind::Io,
                format!("cannot listen on {}: {e}", spec.local),
            );
            if spec.local.port() == 0 {
                e
            } else {
                e.with_hint(format!(
                    "Is port {} taken by another program? Choose another local port, or leave \
                     it out to get a free one.",
                    spec.local.port()
                ))
            }
        })?;
        Ok(LocalTunnel {
            listener,
            target: Arc::new(Target {
                aws: aws.clone(),
                region: instance.region.clone(),
                endpoint,
                address,
                remote_port: spec.remote_port,
                max_duration: spec.max_duration,
                settings: spec.settings,
                limit: spec.limit,
            }),
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn endpoint_id(&self) -> &str {
        &self.target.endpoint.id
    }

    /// The instance address each tunnel reaches.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::new(self.target.address, self.target.remote_port)
    }

    /// Accepts connections until the future is dropped; each gets its own tunnel, so one that
    /// fails or ends leaves the others running.
    pub async fn serve(self, sink: LocalTunnelSink) -> Result<()> {
        loop {
            let (socket, peer) = self.listener.accept().await?;
            socket.set_nodelay(true).ok();
            tokio::spawn(forward(self.target.clone(), socket, peer, sink.clone()));
        }
    }
}

async fn forward(
    target: Arc<Target>,
    mut socket: TcpStream,
    peer: SocketAddr,
    sink: LocalTunnelSink,
) {
    let started = Instant::now();
    let request = TunnelRequest {
        region: &target.region,
        endpoint: &target.endpoint,
        address: target.address,
        remote_port: target.remote_port,
        max_duration: target.max_duration,
    };
    let mut tunnel =
        match eice::open_tunnel(&target.aws, &request, &target.settings, target.limit).await {
            Ok(tunnel) => tunnel,
            Err(error) => return sink(LocalTunnelEvent::Failed { peer, error }),
        };
    sink(LocalTunnelEvent::Opened {
        peer,
        took: started.elapsed(),
    });
    let end = tunnel.end();
    let copied = tokio::io::copy_bidirectional(&mut socket, &mut tunnel).await;
    let (sent, received, io_error) = match copied {
        Ok((sent, received)) => (sent, received, None),
        Err(e) => (0, 0, Some(e)),
    };
    let error = end.reason().or_else(|| {
        io_error.map(|e| {
            Error::new(
                ErrorKind::ConnectionLost,
                format!("the connection from {peer} broke: {e}"),
            )
        })
    });
    sink(LocalTunnelEvent::Closed {
        peer,
        sent,
        received,
        error,
    });
}
