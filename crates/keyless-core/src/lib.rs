//! Keyless core: everything the desktop app and the `keyless` CLI share, free of any UI.
//!
//! - [`aws`]: identity and clients from aws-config's standard chain.
//! - [`inventory`]: instances across regions, paginated, filtered.
//! - [`push`]: EC2 Instance Connect `SendSSHPublicKey` with explained errors.
//! - [`connect`]: one-time key, push overlapped with the SSH handshake, authentication.
//! - [`reach`]: the path to sshd: direct, through the VPC's EC2 Instance Connect Endpoint, or raced.
//! - [`deadline`]: a deadline for each phase that waits on the server.
//! - [`eice`]: tunnels through a VPC's EC2 Instance Connect Endpoint (WebSocket, SigV4, proxies).
//! - [`hostkeys`]: host-key trust pinned by instance id.
//! - [`identity`]: AWS profiles, who am I, IAM Identity Center login, MFA.
//! - [`session`]: shells and commands on a connection.
//! - [`profiles`]: saved connection profiles (one TOML file) and their tag selectors.
//! - [`ConnectionPool`]: one SSH connection per instance, shared by its tabs (and later SFTP and
//!   forwards).
//! - [`live`]: a background session for a GUI, with coalesced output and flow control.
//! - [`output_queue`]: a session's output waiting for the viewer to pull it, in batches.
//! - [`KnownInstances`]: what the backend saw AWS report, the only instances the app dials.
//! - [`harden`]: the process keeps its secrets out of core dumps and away from ptrace.
//! - [`files`]: SFTP browsing and pipelined, resumable transfers on the same connection.
//! - [`forward`]: port forwards (`-L`, `-R`, `-D` SOCKS5) as channels on the one SSH connection,
//!   and the app's managed forwards on the pooled connection.
//! - [`local_tunnel`]: a local port forwarded through EC2 Instance Connect Endpoint tunnels.
//! - [`openssh`]: plain OpenSSH (`ssh`, `scp`, `rsync`, Ansible, VS Code) through `keyless proxy`
//!   and an in-memory agent.
//! - [`terminal_text`]: untrusted text (tags, AWS messages) escaped before it reaches a terminal.

pub mod address;
mod address_cache;
pub mod aws;
pub mod connect;
pub mod deadline;
mod dial;
pub mod eice;
pub mod error;
pub mod files;
pub mod filter;
pub mod forward;
pub mod harden;
pub mod hostkeys;
pub mod identity;
pub mod instance;
pub mod inventory;
mod known_instances;
pub mod live;
pub mod local_tunnel;
pub mod onetime_key;
pub mod openssh;
pub mod output_queue;
pub mod paths;
mod pool;
pub mod profiles;
pub mod push;
pub mod reach;
pub mod session;
mod severable;
mod speculate;
pub mod terminal_text;
pub mod validate;
mod verifier;

pub use address::{plan_route, RoutePlan, Via};
pub use address_cache::AddressCache;
pub use aws::{AwsContext, AwsSelection};
pub use connect::{connect_instance, ConnectOptions, Step, StepTiming};
pub use deadline::{phase_timeout, DEFAULT_PHASE_TIMEOUT};
pub use error::{Error, ErrorKind, Fix, Result};
pub use filter::InstanceFilter;
pub use hostkeys::{HostKeyPolicy, KnownHosts, TrustDecision, UnknownHostKey};
pub use instance::Instance;
pub use inventory::{enabled_regions, list_instances, resolve_target, Inventory, RegionError};
pub use known_instances::{AwsProfileKey, KnownInstances};
pub use live::{
    ConnectRequest, ExitInfo, LiveEvent, LiveSession, LiveSink, LiveStart, INPUT_BUDGET,
};
pub use onetime_key::OneTimeKey;
pub use output_queue::{OutputQueue, Taken, UnknownCount};
pub use pool::{ConnectionPool, Lease, PoolEntry, PoolKey, DEFAULT_IDLE_TIMEOUT};
pub use profiles::{Profile, ProfileStore};
pub use reach::Path;
pub use session::{Connection, Exit, PtySize, Session, SessionEvent, SessionInput, SessionSpec};
pub use speculate::{connect_target, connect_target_with};
pub use verifier::HostKeyPrompt;
