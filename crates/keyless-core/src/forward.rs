//! Local port forwarding (`ssh -L [bind:]port:host:hostport`): a listener on this machine whose
//! every connection becomes a `direct-tcpip` channel on the one SSH connection, so sshd on the
//! instance connects to `host:hostport` (a database, an internal web console) for it. No second
//! key push, no second connection. Listeners bind 127.0.0.1 unless the spec names an address, and
//! are bound before anything is connected, so a taken port fails at once, naming the port.

use crate::error::{Error, ErrorKind, Result};
use crate::session::Connection;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

/// One `-L` spec, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalForwardSpec {
    pub bind: SocketAddr,
    /// Resolved by sshd on the instance (a private DNS name or an IP there).
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for LocalForwardSpec {
    type Err = Error;

    /// `port:host:hostport` or `bind:port:host:hostport`; an IPv6 bind or host in brackets.
    fn from_str(spec: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(format!("'{}' is not a forward: {why}", spec.escape_debug()))
                .with_hint("Write [bind_address:]port:host:hostport, e.g. 5432:db.internal:5432.")
        };
        let parts = split_spec(spec);
        let (bind, port, host, hostport) = match parts.as_slice() {
            [port, host, hostport] => (None, *port, *host, *hostport),
            [bind, port, host, hostport] => (Some(*bind), *port, *host, *hostport),
            _ => return Err(bad("it needs three or four parts separated by ':'")),
        };
        let number = |text: &str, what: &str| -> Result<u16> {
            text.parse::<u16>()
                .map_err(|_| bad(&format!("{what} '{}' is not a port", text.escape_debug())))
        };
        let local_port = number(port, "the local port")?;
        let port = number(hostport, "the remote port")?;
        if port == 0 {
            return Err(bad("the remote port is 0"));
        }
        let ok_host = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !ok_host {
            return Err(bad(&format!(
                "'{}' is not a host name",
                host.escape_debug()
            )));
        }
        let bind_ip = match bind {
            None | Some("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some("*") | Some("") => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some(text) => text
                .parse()
                .map_err(|_| bad(&format!("'{}' is not a local address", text.escape_debug())))?,
        };
        Ok(LocalForwardSpec {
            bind: SocketAddr::new(bind_ip, local_port),
            host: host.to_owned(),
            port,
        })
    }
}

/// Splits on ':' outside `[…]`, dropping the brackets (`[::1]:8080:[fd00::5]:80`).
fn split_spec(spec: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = 0;
    for (i, c) in spec.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&spec[start..]);
    parts
        .into_iter()
        .map(|p| p.trim_start_matches('[').trim_end_matches(']'))
        .collect()
}

/// A bound listener waiting for its connection.
pub struct LocalForward {
    listener: TcpListener,
    spec: LocalForwardSpec,
}

/// What happens to a forwarded connection, for the front end to show.
#[derive(Debug)]
pub enum ForwardEvent {
    /// The instance could not open the channel (refused, no route, forwarding disabled).
    Refused { peer: SocketAddr, error: Error },
    Closed {
        peer: SocketAddr,
        sent: u64,
        received: u64,
    },
}

pub type ForwardSink = Arc<dyn Fn(&LocalForwardSpec, ForwardEvent) + Send + Sync>;

impl LocalForward {
    /// Binds the local port now; a taken port is an error naming it.
    pub async fn bind(spec: LocalForwardSpec) -> Result<Self> {
        let listener = TcpListener::bind(spec.bind).await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "cannot listen on {} for the forward to {}:{}: {e}",
                    spec.bind, spec.host, spec.port
                ),
            )
            .with_hint(format!(
                "Is port {} taken by another program? Choose another local port.",
                spec.bind.port()
            ))
        })?;
        Ok(LocalForward { listener, spec })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn spec(&self) -> &LocalForwardSpec {
        &self.spec
    }

    /// Forwards every accepted connection over `connection` until the future is dropped or the
    /// listener fails.
    pub async fn serve(self, connection: Arc<Connection>, sink: ForwardSink) -> Result<()> {
        let spec = Arc::new(self.spec);
        loop {
            let (socket, peer) = self.listener.accept().await?;
            socket.set_nodelay(true).ok();
            tokio::spawn(forward_one(
                connection.clone(),
                spec.clone(),
                socket,
                peer,
                sink.clone(),
            ));
        }
    }
}

async fn forward_one(
    connection: Arc<Connection>,
    spec: Arc<LocalForwardSpec>,
    mut socket: TcpStream,
    peer: SocketAddr,
    sink: ForwardSink,
) {
    let mut channel = match connection
        .open_direct_tcpip(&spec.host, spec.port, peer)
        .await
    {
        Ok(channel) => channel,
        Err(error) => return sink(&spec, ForwardEvent::Refused { peer, error }),
    };
    let (sent, received) = tokio::io::copy_bidirectional(&mut socket, &mut channel)
        .await
        .unwrap_or((0, 0));
    sink(
        &spec,
        ForwardEvent::Closed {
            peer,
            sent,
            received,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_as_openssh_writes_them() {
        let s: LocalForwardSpec = "5432:db.internal:5432".parse().unwrap();
        assert_eq!(s.bind, "127.0.0.1:5432".parse().unwrap());
        assert_eq!((s.host.as_str(), s.port), ("db.internal", 5432));
        let s: LocalForwardSpec = "0.0.0.0:8080:10.0.1.5:80".parse().unwrap();
        assert_eq!(s.bind, "0.0.0.0:8080".parse().unwrap());
        let s: LocalForwardSpec = "[::1]:8080:[fd00::5]:80".parse().unwrap();
        assert_eq!(s.bind, "[::1]:8080".parse().unwrap());
        assert_eq!(s.host, "fd00::5");
        for bad in [
            "5432",
            "a:b:c",
            "1:h:0",
            "1:h:70000",
            "x:1:h:2",
            "1:h h:2",
            "1::2",
        ] {
            let e = bad.parse::<LocalForwardSpec>().unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
            assert!(e.message.contains("is not a forward"), "{bad}: {e:?}");
        }
    }
}
