//! TLS to the endpoint with the rustls + aws-lc-rs stack the AWS SDK already uses (no second TLS
//! library or crypto provider), trusting the system's root certificates as the SDK does.

use crate::error::{Error, ErrorKind, Result};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use std::sync::{Arc, OnceLock};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Loading the system's roots reads many files: once per process.
fn client_config() -> Result<Arc<ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(build_config)
        .clone()
        .map_err(|why| Error::new(ErrorKind::Io, why))
}

fn build_config() -> std::result::Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(
            "no trusted root certificates found on this system, so the EC2 Instance \
                    Connect Endpoint's certificate cannot be verified"
                .into(),
        );
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// TLS over `tcp`, verifying the certificate for `host`.
pub(crate) async fn handshake(tcp: TcpStream, host: &str) -> Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(host.to_owned()).map_err(|_| {
        Error::new(
            ErrorKind::Service,
            format!("'{}' is not a name TLS can verify", host.escape_debug()),
        )
    })?;
    TlsConnector::from(client_config()?)
        .connect(name, tcp)
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Network,
                format!("TLS with the EC2 Instance Connect Endpoint {host} failed: {e}"),
            )
            .with_hint(
                "A proxy or firewall that inspects TLS presents its own certificate; its root \
                 must be trusted by this system.",
            )
        })
}
