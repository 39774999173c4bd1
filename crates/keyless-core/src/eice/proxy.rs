//! HTTPS proxies for the tunnel, as corporate networks require: `HTTPS_PROXY` (an `http://` proxy,
//! optional `user:password@` for Basic auth) and `NO_PROXY`, through HTTP CONNECT. The proxy's
//! credentials never appear in an error or in `Debug`.

use super::http_head::read_head;
use super::no_proxy::NoProxy;
use crate::error::{Error, ErrorKind, Result};
use base64::Engine;
use std::fmt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Which proxy, if any, a tunnel's connection goes through.
#[derive(Clone, Default)]
pub struct ProxySettings {
    /// `Err`: the environment named a proxy Keyless cannot use; said when a tunnel needs it.
    proxy: Option<std::result::Result<HttpProxy, Error>>,
    no_proxy: NoProxy,
}

/// An `http://` proxy. `Debug` and errors show only `host:port`.
#[derive(Clone)]
pub(crate) struct HttpProxy {
    host: String,
    port: u16,
    /// The value of `Proxy-Authorization`.
    authorization: Option<String>,
}

impl ProxySettings {
    /// `https_proxy`/`HTTPS_PROXY` and `no_proxy`/`NO_PROXY` (lower case first, as curl).
    pub fn from_env() -> Self {
        let var = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
        };
        let proxy = var(["https_proxy", "HTTPS_PROXY"]).map(|url| HttpProxy::parse(&url));
        let no_proxy = var(["no_proxy", "NO_PROXY"]).unwrap_or_default();
        ProxySettings {
            proxy,
            no_proxy: NoProxy::parse(&no_proxy),
        }
    }

    /// Connect directly.
    pub fn none() -> Self {
        Self::default()
    }

    /// Through this proxy (`http://[user:password@]host[:port]`).
    pub fn via(url: &str) -> Result<Self> {
        Ok(ProxySettings {
            proxy: Some(Ok(HttpProxy::parse(url)?)),
            no_proxy: NoProxy::default(),
        })
    }

    /// Hosts that go around the proxy, in `NO_PROXY`'s syntax.
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = NoProxy::parse(list);
        self
    }

    /// The proxy for a connection to `host:port`, if one applies.
    pub(crate) fn for_host(&self, host: &str, port: u16) -> Result<Option<&HttpProxy>> {
        match &self.proxy {
            None => Ok(None),
            Some(_) if self.no_proxy.bypasses(host, port) => Ok(None),
            Some(Ok(proxy)) => Ok(Some(proxy)),
            Some(Err(e)) => Err(e.clone()),
        }
    }
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match &self.proxy {
            None => "none".to_owned(),
            Some(Ok(p)) => p.to_string(),
            Some(Err(_)) => "invalid".to_owned(),
        };
        f.debug_struct("ProxySettings")
            .field("proxy", &proxy)
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl fmt::Display for HttpProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl HttpProxy {
    fn parse(text: &str) -> Result<Self> {
        // Never echo the text: it may carry a password.
        let bad = |why: &str| {
            Error::invalid(format!("the HTTPS proxy setting {why}")).with_hint(
                "Give the proxy as http://host:port, with user:password@ before the host if it \
                 wants Basic authentication.",
            )
        };
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|_| bad("is not a URL"))?;
        if url.scheme() != "http" {
            return Err(bad(
                "is not an http:// proxy (Keyless talks to proxies in plain HTTP)",
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| bad("has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let authorization = (!url.username().is_empty()).then(|| {
            let pair = format!(
                "{}:{}",
                decode(url.username()),
                decode(url.password().unwrap_or(""))
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Ok(HttpProxy {
            host,
            port: url.port().unwrap_or(80),
            authorization,
        })
    }

    /// A TCP connection to `host:port` through the proxy's CONNECT.
    pub(crate) async fn connect(&self, host: &str, port: u16) -> Result<TcpStream> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Network,
                    format!("cannot reach the HTTPS proxy {self}: {e}"),
                )
                .with_hint("Check HTTPS_PROXY, or add the endpoint's host to NO_PROXY.")
            })?;
        stream.set_nodelay(true).ok();
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(auth) = &self.authorization {
            request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
        }
        request.push_str("\r\n");
        let failed = |why: String| {
            Error::new(
                ErrorKind::Network,
                format!("the HTTPS proxy {self} did not open a connection to {authority}: {why}"),
            )
        };
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| failed(e.to_string()))?;
        let head = read_head(&mut stream)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !(200..300).contains(&head.status) {
            let e = failed(format!("it answered HTTP {}", head.status));
            return Err(match head.status {
                407 => e.with_hint(
                    "The proxy wants credentials: give them in the proxy URL \
                     (http://user:password@host:port).",
                ),
                _ => e.with_hint(
                    "The proxy may not allow connections to that host or port; ask its \
                     administrators, or add the host to NO_PROXY if it is reachable directly.",
                ),
            });
        }
        if !head.rest.is_empty() {
            // The endpoint speaks only after we do: these bytes are the proxy's, not the tunnel's.
            return Err(failed("it sent data after its answer".into()));
        }
        Ok(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_become_basic_auth_and_stay_out_of_debug() {
        let p = ProxySettings::via("http://al%40ice:s3cr%3At@proxy.corp:3128").unwrap();
        let proxy = p.for_host("eice.example", 443).unwrap().unwrap();
        assert_eq!(proxy.to_string(), "proxy.corp:3128");
        let expected = base64::engine::general_purpose::STANDARD.encode("al@ice:s3cr:t");
        assert_eq!(
            proxy.authorization.as_deref(),
            Some(format!("Basic {expected}").as_str())
        );
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("s3cr") && !shown.contains(&expected),
            "{shown}"
        );
    }

    #[test]
    fn a_bare_host_port_is_http_and_other_schemes_are_refused_without_echoing() {
        let p = ProxySettings::via("proxy:8080").unwrap();
        assert_eq!(
            p.for_host("h", 443).unwrap().unwrap().to_string(),
            "proxy:8080"
        );
        let e = ProxySettings::via("https://u:hunter2@proxy:443").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(!e.message.contains("hunter2"), "{}", e.message);
    }

    #[test]
    fn no_proxy_hosts_go_direct() {
        let p = ProxySettings::via("http://proxy:3128")
            .unwrap()
            .with_no_proxy(".internal,127.0.0.1");
        assert!(p.for_host("eice.internal", 443).unwrap().is_none());
        assert!(p.for_host("127.0.0.1", 9).unwrap().is_none());
        assert!(p.for_host("eice.amazonaws.com", 443).unwrap().is_some());
        assert!(ProxySettings::none().for_host("x", 1).unwrap().is_none());
    }
}
