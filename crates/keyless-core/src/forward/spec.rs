//! The forward specs as OpenSSH writes them: `-L`/`-R` `[bind:]port:host:hostport` and `-D
//! [bind:]port`, IPv6 addresses in brackets. Checked here once, so the CLI, saved profiles and the
//! app all refuse the same things with the same words.

use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `-L`: a port here whose connections sshd on the instance connects on to `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalForwardSpec {
    pub bind: SocketAddr,
    /// Resolved by sshd on the instance (a private DNS name or an IP there).
    pub host: String,
    pub port: u16,
}

/// `-R`: a port sshd listens on at the instance whose connections come back to `host:port` as
/// seen from this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteForwardSpec {
    /// The address sshd binds on the instance (`127.0.0.1` unless given; sshd's `GatewayPorts`
    /// decides whether anything else is allowed).
    pub bind: String,
    /// 0: sshd picks one and says which.
    pub remote_port: u16,
    /// Connected to from this machine.
    pub host: String,
    pub port: u16,
}

/// `-D`: a SOCKS5 server here; each CONNECT becomes a channel sshd on the instance connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicForwardSpec {
    pub bind: SocketAddr,
}

const FORWARD_HINT: &str = "Write [bind_address:]port:host:hostport, e.g. 5432:db.internal:5432.";

impl std::str::FromStr for LocalForwardSpec {
    type Err = Error;

    /// `port:host:hostport` or `bind:port:host:hostport`; an IPv6 bind or host in brackets.
    fn from_str(spec: &str) -> Result<Self> {
        let shape = FourParts::parse(spec)?;
        Ok(LocalForwardSpec {
            bind: SocketAddr::new(local_bind(shape.bind, spec)?, shape.listen),
            host: shape.host.to_owned(),
            port: shape.port,
        })
    }
}

impl std::str::FromStr for RemoteForwardSpec {
    type Err = Error;

    /// As `-L`; the listening port may be 0 (sshd chooses), the bind address may be a name.
    fn from_str(spec: &str) -> Result<Self> {
        let shape = FourParts::parse(spec)?;
        let bind = match shape.bind {
            None | Some("localhost") => "127.0.0.1".to_owned(),
            Some("*") | Some("") => String::new(),
            Some(name) if ok_host(name) => name.to_owned(),
            Some(other) => {
                return Err(not_a_forward(
                    spec,
                    &format!("'{}' is not an address", other.escape_debug()),
                    FORWARD_HINT,
                ))
            }
        };
        Ok(RemoteForwardSpec {
            bind,
            remote_port: shape.listen,
            host: shape.host.to_owned(),
            port: shape.port,
        })
    }
}

impl std::str::FromStr for DynamicForwardSpec {
    type Err = Error;

    /// `port` or `bind:port`.
    fn from_str(spec: &str) -> Result<Self> {
        let hint = "Write [bind_address:]port, e.g. 1080 or 127.0.0.1:1080.";
        let parts = split_spec(spec);
        let (bind, port) = match parts.as_slice() {
            [port] => (None, *port),
            [bind, port] => (Some(*bind), *port),
            _ => {
                return Err(not_a_forward(
                    spec,
                    "it needs a port, or address:port",
                    hint,
                ))
            }
        };
        let port = port.parse::<u16>().map_err(|_| {
            not_a_forward(
                spec,
                &format!("'{}' is not a port", port.escape_debug()),
                hint,
            )
        })?;
        Ok(DynamicForwardSpec {
            bind: SocketAddr::new(local_bind(bind, spec)?, port),
        })
    }
}

impl std::fmt::Display for LocalForwardSpec {
    /// The spec as it parses back (brackets around IPv6 addresses).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.bind, bracketed(&self.host), self.port)
    }
}

/// `[bind:]listen:host:port`, each part checked.
struct FourParts<'a> {
    bind: Option<&'a str>,
    listen: u16,
    host: &'a str,
    port: u16,
}

impl<'a> FourParts<'a> {
    fn parse(spec: &'a str) -> Result<Self> {
        let bad = |why: &str| not_a_forward(spec, why, FORWARD_HINT);
        let parts = split_spec(spec);
        let (bind, listen, host, port) = match parts.as_slice() {
            [listen, host, port] => (None, *listen, *host, *port),
            [bind, listen, host, port] => (Some(*bind), *listen, *host, *port),
            _ => return Err(bad("it needs three or four parts separated by ':'")),
        };
        let number = |text: &str, what: &str| -> Result<u16> {
            text.parse::<u16>()
                .map_err(|_| bad(&format!("{what} '{}' is not a port", text.escape_debug())))
        };
        let listen = number(listen, "the listening port")?;
        let port = number(port, "the target port")?;
        if port == 0 {
            return Err(bad("the target port is 0"));
        }
        if !ok_host(host) {
            return Err(bad(&format!(
                "'{}' is not a host name",
                host.escape_debug()
            )));
        }
        Ok(FourParts {
            bind,
            listen,
            host,
            port,
        })
    }
}

/// A listening address on this machine: 127.0.0.1 unless given; `*` or empty: every interface.
fn local_bind(bind: Option<&str>, spec: &str) -> Result<IpAddr> {
    Ok(match bind {
        None | Some("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some("*") | Some("") => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Some(text) => text.parse().map_err(|_| {
            not_a_forward(
                spec,
                &format!("'{}' is not a local address", text.escape_debug()),
                FORWARD_HINT,
            )
        })?,
    })
}

/// A DNS name or an IP address; nothing a shell or a log could misread.
pub(crate) fn ok_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn not_a_forward(spec: &str, why: &str, hint: &str) -> Error {
    Error::invalid(format!("'{}' is not a forward: {why}", spec.escape_debug())).with_hint(hint)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn local_specs_parse_as_openssh_writes_them() {
        let s: LocalForwardSpec = "5432:db.internal:5432".parse().unwrap();
        assert_eq!(s.bind, "127.0.0.1:5432".parse().unwrap());
        assert_eq!((s.host.as_str(), s.port), ("db.internal", 5432));
        let s: LocalForwardSpec = "0.0.0.0:8080:10.0.1.5:80".parse().unwrap();
        assert_eq!(s.bind, "0.0.0.0:8080".parse().unwrap());
        let s: LocalForwardSpec = "[::1]:8080:[fd00::5]:80".parse().unwrap();
        assert_eq!(s.bind, "[::1]:8080".parse().unwrap());
        assert_eq!(s.host, "fd00::5");
        assert_eq!(s.to_string(), "[::1]:8080:[fd00::5]:80");
        assert_eq!(s.to_string().parse::<LocalForwardSpec>().unwrap(), s);
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

    #[test]
    fn remote_specs_bind_loopback_on_the_instance_unless_told() {
        let s: RemoteForwardSpec = "8080:localhost:80".parse().unwrap();
        assert_eq!(s.bind, "127.0.0.1");
        assert_eq!(
            (s.remote_port, s.host.as_str(), s.port),
            (8080, "localhost", 80)
        );
        let s: RemoteForwardSpec = "*:0:10.0.0.9:22".parse().unwrap();
        assert_eq!((s.bind.as_str(), s.remote_port), ("", 0));
        let s: RemoteForwardSpec = "[::1]:9000:[::1]:9001".parse().unwrap();
        assert_eq!((s.bind.as_str(), s.host.as_str()), ("::1", "::1"));
        for bad in ["80", "a b:1:h:2", "1:h:0", "1:;rm:2"] {
            let e = bad.parse::<RemoteForwardSpec>().unwrap_err();
            assert!(e.message.contains("is not a forward"), "{bad}: {e:?}");
        }
    }

    #[test]
    fn dynamic_specs_are_a_port_and_maybe_an_address() {
        let s: DynamicForwardSpec = "1080".parse().unwrap();
        assert_eq!(s.bind, "127.0.0.1:1080".parse().unwrap());
        let s: DynamicForwardSpec = "[::1]:1080".parse().unwrap();
        assert_eq!(s.bind, "[::1]:1080".parse().unwrap());
        let s: DynamicForwardSpec = "*:1080".parse().unwrap();
        assert_eq!(s.bind, "0.0.0.0:1080".parse().unwrap());
        for bad in ["", "socks", "1:2:3", "host.example:1080", "70000"] {
            let e = bad.parse::<DynamicForwardSpec>().unwrap_err();
            assert!(e.message.contains("is not a forward"), "{bad}: {e:?}");
        }
    }
}
