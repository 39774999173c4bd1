//! `-R [bind:]port:host:hostport`: sshd on the instance listens (a `tcpip-forward` request) and
//! opens a `forwarded-tcpip` channel for each connection it accepts; we connect on to `host:port`
//! from this machine. The handler accepts such a channel only for an address and port this
//! connection registered — a server that opens any other is refused, as every other channel is.

use super::carry::{carry, ForwardStats};
use super::{host_port, ForwardEvent, ForwardSink, RemoteForwardSpec};
use crate::error::{Error, ErrorKind, Result};
use russh::client::{ChannelOpenHandle, Msg};
use russh::{Channel, ChannelOpenFailure};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long connecting to the local target may take before the channel is refused.
const LOCAL_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The remote forwards one connection asked for; shared by its handler and its [`Connection`].
///
/// [`Connection`]: crate::session::Connection
#[derive(Clone, Default)]
pub(crate) struct RemoteForwards(Arc<Mutex<Vec<Registered>>>);

#[derive(Clone)]
struct Registered {
    id: u64,
    /// As sshd names it in `forwarded-tcpip`: the address we asked for and the port it bound.
    address: String,
    port: u32,
    host: String,
    target_port: u16,
    stats: Arc<ForwardStats>,
    sink: ForwardSink,
}

/// A remote forward sshd is listening for. Dropping it stops accepting its connections.
pub struct RemoteForward {
    registry: RemoteForwards,
    id: u64,
    spec: RemoteForwardSpec,
    remote_port: u16,
    stats: Arc<ForwardStats>,
}

impl RemoteForward {
    pub fn spec(&self) -> &RemoteForwardSpec {
        &self.spec
    }

    /// The port sshd listens on (the one it chose when the spec asked for 0).
    pub fn remote_port(&self) -> u16 {
        self.remote_port
    }

    pub fn stats(&self) -> &Arc<ForwardStats> {
        &self.stats
    }
}

impl Drop for RemoteForward {
    fn drop(&mut self) {
        self.registry.lock().retain(|r| r.id != self.id);
    }
}

impl RemoteForwards {
    fn lock(&self) -> MutexGuard<'_, Vec<Registered>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks sshd to listen for `spec` through `request` (the `tcpip-forward` global request);
    /// registered before asking, so a connection sshd takes at once is not refused.
    pub(crate) async fn request<F>(
        &self,
        spec: RemoteForwardSpec,
        sink: ForwardSink,
        request: F,
    ) -> Result<RemoteForward>
    where
        // The outer result: the deadline; the inner: sshd's answer.
        F: std::future::Future<Output = Result<std::result::Result<u32, russh::Error>>>,
    {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let stats = Arc::<ForwardStats>::default();
        self.lock().push(Registered {
            id,
            address: spec.bind.clone(),
            port: u32::from(spec.remote_port),
            host: spec.host.clone(),
            target_port: spec.port,
            stats: stats.clone(),
            sink,
        });
        let mut forward = RemoteForward {
            registry: self.clone(),
            id,
            remote_port: spec.remote_port,
            spec,
            stats,
        };
        let bound = (request.await?).map_err(|e| refused(&forward.spec, e))?;
        let port = if forward.spec.remote_port == 0 {
            u16::try_from(bound).map_err(|_| {
                Error::new(
                    ErrorKind::Ssh,
                    format!("sshd chose an impossible port {bound}"),
                )
            })?
        } else {
            forward.spec.remote_port
        };
        if let Some(r) = self.lock().iter_mut().find(|r| r.id == id) {
            r.port = u32::from(port);
        }
        forward.remote_port = port;
        Ok(forward)
    }

    /// A `forwarded-tcpip` channel from the server: carried if this connection asked for
    /// `address:port`, refused otherwise. Never blocks the connection's task.
    pub(crate) async fn opened(
        &self,
        channel: Channel<Msg>,
        address: &str,
        port: u32,
        originator: (&str, u32),
        reply: ChannelOpenHandle,
    ) {
        let found = (self.lock().iter())
            .find(|r| r.address == address && r.port == port)
            .cloned();
        let Some(forward) = found else {
            return reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
        };
        let peer = originator
            .0
            .parse()
            .ok()
            .zip(u16::try_from(originator.1).ok())
            .map(|(ip, port)| SocketAddr::new(ip, port))
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        tokio::spawn(connect_on(forward, channel, reply, peer));
    }
}

/// Connects to the forward's local target, then accepts the channel and carries it; a target
/// that cannot be reached refuses the channel, as OpenSSH does.
async fn connect_on(
    forward: Registered,
    channel: Channel<Msg>,
    reply: ChannelOpenHandle,
    peer: SocketAddr,
) {
    let target = host_port(&forward.host, forward.target_port);
    let connect = tokio::net::TcpStream::connect((forward.host.as_str(), forward.target_port));
    let socket = match tokio::time::timeout(LOCAL_CONNECT_TIMEOUT, connect).await {
        Ok(Ok(socket)) => socket,
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer in {} s", LOCAL_CONNECT_TIMEOUT.as_secs()),
            };
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
            let error = Error::new(
                ErrorKind::Network,
                format!("cannot connect to {target}: {why}"),
            );
            return (forward.sink)(ForwardEvent::Refused {
                peer,
                target,
                error,
            });
        }
    };
    socket.set_nodelay(true).ok();
    reply.accept().await;
    let stream = channel.into_stream();
    carry(socket, stream, forward.stats, forward.sink, peer, target).await;
}

fn refused(spec: &RemoteForwardSpec, e: russh::Error) -> Error {
    let at = host_port(
        if spec.bind.is_empty() {
            "*"
        } else {
            &spec.bind
        },
        spec.remote_port,
    );
    match e {
        russh::Error::RequestDenied => Error::new(
            ErrorKind::Ssh,
            format!("the instance refused to listen on {at} for the remote forward"),
        )
        .with_hint(format!(
            "Is port {} taken on the instance? Choose another, or check that its sshd allows \
             forwarding (AllowTcpForwarding; GatewayPorts for addresses other than loopback).",
            spec.remote_port
        )),
        other => Error::new(
            ErrorKind::ConnectionLost,
            format!("asking the instance to listen on {at} failed: {other}"),
        ),
    }
}
