//! What the environment says about tunnels, read once by the front end and passed in, so the hot
//! path and the tests never read (or mutate) the process environment.

use super::proxy::ProxySettings;

/// The lab's endpoint override, e.g. `ws://127.0.0.1:PORT`: tunnels go there instead of
/// `wss://<DnsName>`, signed for that URL's host. The only way Keyless ever speaks plain `ws://`.
pub const ENDPOINT_URL_ENV: &str = "KEYLESS_EICE_ENDPOINT_URL";

#[derive(Debug, Clone, Default)]
pub struct TunnelSettings {
    /// HTTP CONNECT proxy and its exceptions.
    pub proxy: ProxySettings,
    /// [`ENDPOINT_URL_ENV`]: every tunnel goes to this `ws://` or `wss://` URL.
    pub endpoint_url: Option<String>,
}

impl TunnelSettings {
    /// `HTTPS_PROXY`/`https_proxy`, `NO_PROXY`/`no_proxy` and [`ENDPOINT_URL_ENV`].
    pub fn from_env() -> Self {
        TunnelSettings {
            proxy: ProxySettings::from_env(),
            endpoint_url: std::env::var(ENDPOINT_URL_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty()),
        }
    }

    /// No proxy, AWS's own endpoints.
    pub fn direct() -> Self {
        Self::default()
    }

    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    pub fn with_proxy(mut self, proxy: ProxySettings) -> Self {
        self.proxy = proxy;
        self
    }
}
