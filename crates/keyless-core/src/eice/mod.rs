//! EC2 Instance Connect Endpoint (EICE) tunnels: a WebSocket, presigned with SigV4, from anywhere
//! to port 22 (or 3389) of a private address in the endpoint's VPC — how instances in private
//! subnets are reached without a VPN. Natively: no AWS CLI, no ProxyCommand process.
//!
//! - [`endpoint_for`]: the VPC's endpoint, asked once per (region, VPC) per [`AwsContext`].
//! - [`open_tunnel`]: proxy (HTTP CONNECT) → TLS → WebSocket upgrade, within one deadline.
//! - [`Tunnel`]: the raw TCP bytes as a tokio stream, ready for `russh::client::connect_stream`.
//!
//! [`AwsContext`]: crate::AwsContext

mod endpoint;
mod frames;
mod http_head;
mod no_proxy;
mod open;
mod presign;
mod proxy;
mod refusal;
mod settings;
mod tls;
mod upgrade;
mod wire;

pub use endpoint::{endpoint_for, endpoint_of, no_endpoint, Endpoint, EndpointCache};
pub use frames::{Tunnel, TunnelEnd, MAX_FRAME};
pub use open::{open_tunnel, TunnelRequest, DEFAULT_MAX_DURATION};
pub use proxy::ProxySettings;
pub use settings::{TunnelSettings, ENDPOINT_URL_ENV};
