//! `-L [bind:]port:host:hostport`: a listener on this machine whose every connection becomes a
//! `direct-tcpip` channel, so sshd on the instance connects to `host:hostport` (a database, an
//! internal web console) for it.

use super::carry::{carry, ForwardStats};
use super::{bind_failed, host_port, ForwardEvent, ForwardSink, LocalForwardSpec};
use crate::error::Result;
use crate::session::Connection;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// A bound listener; [`LocalForward::serve`] forwards what it accepts.
pub struct LocalForward {
    listener: TcpListener,
    spec: LocalForwardSpec,
    stats: Arc<ForwardStats>,
}

impl LocalForward {
    /// Binds the local port now; a taken port is an error naming it.
    pub async fn bind(spec: LocalForwardSpec) -> Result<Self> {
        let what = format!("the forward to {}", host_port(&spec.host, spec.port));
        let listener =
            (TcpListener::bind(spec.bind).await).map_err(|e| bind_failed(spec.bind, &what, e))?;
        Ok(LocalForward {
            listener,
            spec,
            stats: Arc::default(),
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn spec(&self) -> &LocalForwardSpec {
        &self.spec
    }

    /// Connections and bytes so far, across every `serve`.
    pub fn stats(&self) -> &Arc<ForwardStats> {
        &self.stats
    }

    /// Forwards every accepted connection over `connection` until the future is dropped (which
    /// ends the connections it carries) or the listener fails. The listener stays bound after,
    /// so a forward can serve again on a new connection without losing its port.
    pub async fn serve<C>(&self, connection: Arc<C>, sink: ForwardSink) -> Result<()>
    where
        C: AsRef<Connection> + Send + Sync + 'static,
    {
        let target = host_port(&self.spec.host, self.spec.port);
        let mut carried = JoinSet::new();
        loop {
            let (socket, peer) = tokio::select! {
                accepted = self.listener.accept() => accepted?,
                // Reap finished connections so the set does not grow for ever.
                Some(_) = carried.join_next(), if !carried.is_empty() => continue,
            };
            socket.set_nodelay(true).ok();
            let (connection, sink, stats) = (connection.clone(), sink.clone(), self.stats.clone());
            let (host, port, target) = (self.spec.host.clone(), self.spec.port, target.clone());
            carried.spawn(async move {
                let connection: &Connection = (*connection).as_ref();
                let channel = match connection.open_direct_tcpip(&host, port, peer).await {
                    Ok(channel) => channel,
                    Err(error) => {
                        return sink(ForwardEvent::Refused {
                            peer,
                            target,
                            error,
                        })
                    }
                };
                carry(socket, channel, stats, sink, peer, target).await;
            });
        }
    }
}
