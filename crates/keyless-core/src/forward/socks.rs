//! `-D [bind:]port`: a SOCKS5 server (RFC 1928) on this machine. Only what `ssh -D` offers:
//! no authentication, CONNECT, to an IPv4 or IPv6 address or a domain name (which sshd on the
//! instance resolves, as `curl --socks5-hostname` wants). Each CONNECT is a `direct-tcpip`
//! channel; whatever cannot be done gets the SOCKS reply that says why, then the socket closes.
//! Small enough to own: a dependency would bring a server we would have to fence in.

use super::carry::{carry, ForwardStats};
use super::spec::ok_host;
use super::{bind_failed, host_port, DynamicForwardSpec, ForwardEvent, ForwardSink};
use crate::error::{Error, ErrorKind, Result};
use crate::session::Connection;
use russh::ChannelOpenFailure;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// A client must finish its greeting and request within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
const CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// SOCKS5 reply codes (RFC 1928 §6) this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Reply {
    Succeeded = 0,
    GeneralFailure = 1,
    NotAllowed = 2,
    HostUnreachable = 4,
    ConnectionRefused = 5,
    CommandNotSupported = 7,
    AddressTypeNotSupported = 8,
}

/// Where a CONNECT asks to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub host: String,
    pub port: u16,
}

/// Why a handshake ended without a target.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The client broke off or spoke too slowly: nothing to reply.
    Gone(String),
    /// Reply with this, then close.
    Reply(Reply, String),
}

/// A bound SOCKS5 listener; [`SocksForward::serve`] forwards what it accepts.
pub struct SocksForward {
    listener: TcpListener,
    stats: Arc<ForwardStats>,
}

impl SocksForward {
    /// Binds the local port now; a taken port is an error naming it.
    pub async fn bind(spec: DynamicForwardSpec) -> Result<Self> {
        let listener = (TcpListener::bind(spec.bind).await)
            .map_err(|e| bind_failed(spec.bind, "the SOCKS proxy", e))?;
        Ok(SocksForward {
            listener,
            stats: Arc::default(),
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn stats(&self) -> &Arc<ForwardStats> {
        &self.stats
    }

    /// Serves SOCKS clients over `connection` until the future is dropped (ending the
    /// connections it carries) or the listener fails.
    pub async fn serve<C>(&self, connection: Arc<C>, sink: ForwardSink) -> Result<()>
    where
        C: AsRef<Connection> + Send + Sync + 'static,
    {
        let mut carried = JoinSet::new();
        loop {
            let (socket, peer) = tokio::select! {
                accepted = self.listener.accept() => accepted?,
                Some(_) = carried.join_next(), if !carried.is_empty() => continue,
            };
            socket.set_nodelay(true).ok();
            let (connection, sink, stats) = (connection.clone(), sink.clone(), self.stats.clone());
            carried.spawn(async move {
                let connection: &Connection = (*connection).as_ref();
                serve_one(connection, socket, peer, stats, sink).await;
            });
        }
    }
}

async fn serve_one(
    connection: &Connection,
    mut socket: tokio::net::TcpStream,
    peer: SocketAddr,
    stats: Arc<ForwardStats>,
    sink: ForwardSink,
) {
    let refuse = |target: String, why: String| {
        let error = Error::new(ErrorKind::Network, format!("SOCKS request refused: {why}"));
        sink(ForwardEvent::Refused {
            peer,
            target,
            error,
        })
    };
    let asked = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut socket)).await;
    let target = match asked {
        Ok(Ok(target)) => target,
        Ok(Err(Refused::Reply(code, why))) => {
            let _ = reply(&mut socket, code).await;
            return refuse(String::new(), why);
        }
        Ok(Err(Refused::Gone(why))) => return refuse(String::new(), why),
        Err(_) => {
            let why = format!("no request within {} s", HANDSHAKE_TIMEOUT.as_secs());
            return refuse(String::new(), why);
        }
    };
    let shown = host_port(&target.host, target.port);
    let opened = connection
        .try_direct_tcpip(&target.host, target.port, peer)
        .await;
    let (code, why) = match opened {
        Ok(Ok(channel)) => {
            if reply(&mut socket, Reply::Succeeded).await.is_ok() {
                carry(socket, channel, stats, sink.clone(), peer, shown).await;
            }
            return;
        }
        Ok(Err(russh::Error::ChannelOpenFailure(reason))) => {
            let why = format!("the instance could not connect ({reason:?})");
            (reply_for(reason), why)
        }
        Ok(Err(e)) => (Reply::GeneralFailure, e.to_string()),
        Err(e) => (Reply::HostUnreachable, e.message),
    };
    let _ = reply(&mut socket, code).await;
    refuse(shown, why)
}

/// What a refused channel means to a SOCKS client.
fn reply_for(reason: ChannelOpenFailure) -> Reply {
    match reason {
        // sshd says ConnectFailed for a refused port, a name it cannot resolve, no route.
        ChannelOpenFailure::ConnectFailed => Reply::ConnectionRefused,
        ChannelOpenFailure::AdministrativelyProhibited => Reply::NotAllowed,
        _ => Reply::GeneralFailure,
    }
}

/// The greeting (no authentication chosen) and one request, read from `s`. The method reply is
/// written here; the request's reply is the caller's, once it knows whether the channel opened.
pub(crate) async fn handshake<S>(s: &mut S) -> std::result::Result<Target, Refused>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let gone = |e: std::io::Error| Refused::Gone(format!("the client went away: {e}"));
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await.map_err(gone)?;
    if head[0] != VERSION {
        return Err(Refused::Gone(format!(
            "not a SOCKS5 client (version byte {})",
            head[0]
        )));
    }
    let mut methods = vec![0u8; usize::from(head[1])];
    s.read_exact(&mut methods).await.map_err(gone)?;
    if !methods.contains(&NO_AUTH) {
        let _ = s.write_all(&[VERSION, NO_ACCEPTABLE_METHOD]).await;
        return Err(Refused::Gone(
            "the client offers no method without authentication".into(),
        ));
    }
    s.write_all(&[VERSION, NO_AUTH]).await.map_err(gone)?;

    let mut request = [0u8; 4];
    s.read_exact(&mut request).await.map_err(gone)?;
    let [version, command, _reserved, atyp] = request;
    if version != VERSION {
        return Err(Refused::Reply(
            Reply::GeneralFailure,
            format!("a request of version {version}"),
        ));
    }
    let host = match atyp {
        ATYP_IPV4 => {
            let mut ip = [0u8; 4];
            s.read_exact(&mut ip).await.map_err(gone)?;
            Ipv4Addr::from(ip).to_string()
        }
        ATYP_IPV6 => {
            let mut ip = [0u8; 16];
            s.read_exact(&mut ip).await.map_err(gone)?;
            Ipv6Addr::from(ip).to_string()
        }
        ATYP_DOMAIN => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await.map_err(gone)?;
            let mut name = vec![0u8; usize::from(len[0])];
            s.read_exact(&mut name).await.map_err(gone)?;
            match String::from_utf8(name) {
                Ok(name) if ok_host(&name) => name,
                _ => {
                    return Err(Refused::Reply(
                        Reply::HostUnreachable,
                        "a host name that is not a DNS name".into(),
                    ))
                }
            }
        }
        other => {
            return Err(Refused::Reply(
                Reply::AddressTypeNotSupported,
                format!("address type {other}"),
            ))
        }
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).await.map_err(gone)?;
    let port = u16::from_be_bytes(port);
    if command != CONNECT {
        // BIND and UDP ASSOCIATE: `ssh -D` offers neither.
        return Err(Refused::Reply(
            Reply::CommandNotSupported,
            format!("command {command} (only CONNECT is offered)"),
        ));
    }
    if port == 0 {
        return Err(Refused::Reply(Reply::HostUnreachable, "port 0".into()));
    }
    Ok(Target { host, port })
}

/// A reply with an unspecified bound address: clients do not use it for CONNECT.
pub(crate) async fn reply<S: AsyncWrite + Unpin>(s: &mut S, code: Reply) -> std::io::Result<()> {
    s.write_all(&[VERSION, code as u8, 0, ATYP_IPV4, 0, 0, 0, 0, 0, 0])
        .await?;
    s.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the handshake on `input`; returns its outcome and what the server wrote.
    async fn run(input: &[u8]) -> (std::result::Result<Target, Refused>, Vec<u8>) {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let outcome = handshake(&mut server).await;
        drop(server);
        let mut written = Vec::new();
        client.read_to_end(&mut written).await.unwrap();
        (outcome, written)
    }

    fn greeting_then(request: &[u8]) -> Vec<u8> {
        let mut bytes = vec![5, 2, 2, 0];
        bytes.extend_from_slice(request);
        bytes
    }

    #[tokio::test]
    async fn connect_requests_name_an_ipv4_ipv6_or_domain_target() {
        let (t, written) = run(&greeting_then(&[5, 1, 0, 1, 10, 0, 0, 9, 0x15, 0x38])).await;
        assert_eq!(
            t.unwrap(),
            Target {
                host: "10.0.0.9".into(),
                port: 5432
            }
        );
        assert_eq!(written, [5, 0], "no authentication chosen");

        let mut v6 = vec![5, 1, 0, 4];
        v6.extend_from_slice(&"fd00::5".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend_from_slice(&[0, 80]);
        let (t, _) = run(&greeting_then(&v6)).await;
        assert_eq!(
            t.unwrap(),
            Target {
                host: "fd00::5".into(),
                port: 80
            }
        );

        let mut named = vec![5, 1, 0, 3, 11];
        named.extend_from_slice(b"db.internal");
        named.extend_from_slice(&[0x1f, 0x90]);
        let (t, _) = run(&greeting_then(&named)).await;
        assert_eq!(
            t.unwrap(),
            Target {
                host: "db.internal".into(),
                port: 8080
            }
        );
    }

    #[tokio::test]
    async fn what_cannot_be_done_gets_the_reply_that_says_why() {
        let code = |outcome: std::result::Result<Target, Refused>| match outcome {
            Err(Refused::Reply(code, _)) => Some(code),
            _ => None,
        };
        // BIND.
        let (t, _) = run(&greeting_then(&[5, 2, 0, 1, 10, 0, 0, 9, 0, 80])).await;
        assert_eq!(code(t), Some(Reply::CommandNotSupported));
        // An address type that does not exist.
        let (t, _) = run(&greeting_then(&[5, 1, 0, 9, 1, 2])).await;
        assert_eq!(code(t), Some(Reply::AddressTypeNotSupported));
        // A name with a space and a newline: not sent on to sshd.
        let mut named = vec![5, 1, 0, 3, 6];
        named.extend_from_slice(b"a b\nc ");
        named.extend_from_slice(&[0, 80]);
        let (t, _) = run(&greeting_then(&named)).await;
        assert_eq!(code(t), Some(Reply::HostUnreachable));
        // Port 0.
        let (t, _) = run(&greeting_then(&[5, 1, 0, 1, 10, 0, 0, 9, 0, 0])).await;
        assert_eq!(code(t), Some(Reply::HostUnreachable));
    }

    #[tokio::test]
    async fn clients_that_want_authentication_or_speak_socks4_are_turned_away() {
        let (t, written) = run(&[5, 1, 2]).await;
        assert!(matches!(t, Err(Refused::Gone(_))));
        assert_eq!(written, [5, 0xff], "no acceptable method");
        let (t, written) = run(&[4, 1, 0, 80, 10, 0, 0, 9, 0]).await;
        assert!(matches!(t, Err(Refused::Gone(_))));
        assert!(written.is_empty());
        // Cut off in the middle of the request.
        let (t, _) = run(&[5, 1, 0, 5, 1, 0, 1, 10]).await;
        assert!(matches!(t, Err(Refused::Gone(_))));
    }

    #[tokio::test]
    async fn replies_are_ten_bytes_with_the_code_second() {
        let mut out = Vec::new();
        reply(&mut out, Reply::ConnectionRefused).await.unwrap();
        assert_eq!(out, [5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    }
}
