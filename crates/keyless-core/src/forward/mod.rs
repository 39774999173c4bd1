//! Port forwarding over the one SSH connection, as OpenSSH's `-L`, `-R` and `-D` do it: every
//! forwarded connection is a channel on the connection that already exists — no second key push,
//! no second handshake.
//!
//! - [`LocalForward`] (`-L`): a listener here; sshd on the instance connects on (`direct-tcpip`).
//! - [`RemoteForward`] (`-R`): sshd listens on the instance; what connects there comes back as a
//!   `forwarded-tcpip` channel, accepted only for a forward this connection asked for.
//! - [`SocksForward`] (`-D`): a SOCKS5 server here; each CONNECT is a `direct-tcpip` channel.
//! - [`ManagedForward`]: a `-L` forward for the app, on the pooled connection the tabs share, with
//!   status, loss and reconnect.
//!
//! Listeners here bind 127.0.0.1 unless a spec names an address, and are bound before anything
//! is connected, so a taken port fails at once, naming the port.

mod carry;
mod local;
mod managed;
mod remote;
mod socks;
mod spec;

pub use carry::{ForwardStats, StatsSnapshot};
pub use local::LocalForward;
pub use managed::{ForwardState, ForwardStatus, ManagedForward, ManagedForwardStart, StatusSink};
pub use remote::RemoteForward;
pub(crate) use remote::RemoteForwards;
pub use socks::SocksForward;
pub use spec::{DynamicForwardSpec, LocalForwardSpec, RemoteForwardSpec};

use crate::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

/// What happens to one forwarded connection, for the front end to show.
#[derive(Debug)]
pub enum ForwardEvent {
    /// The other end could not be reached (the instance refused the channel, the local service
    /// is down, a SOCKS client asked for something impossible).
    Refused {
        peer: SocketAddr,
        /// `host:port` it was meant for.
        target: String,
        error: Error,
    },
    Closed {
        peer: SocketAddr,
        target: String,
        /// Bytes from the side that connected, and to it.
        sent: u64,
        received: u64,
    },
}

/// Called from the tasks that carry connections.
pub type ForwardSink = Arc<dyn Fn(ForwardEvent) + Send + Sync>;

/// A sink that drops every event.
pub fn quiet() -> ForwardSink {
    Arc::new(|_| {})
}

/// `host:port`, with brackets around an IPv6 host.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The error for a local port that cannot be listened on, naming the port.
pub(crate) fn bind_failed(bind: SocketAddr, what: &str, e: std::io::Error) -> Error {
    Error::new(
        crate::error::ErrorKind::Io,
        format!("cannot listen on {bind} for {what}: {e}"),
    )
    .with_hint(format!(
        "Is port {} taken by another program? Choose another local port.",
        bind.port()
    ))
}
