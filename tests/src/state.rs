//! The lab's mutable world: inventory, pushed keys, push history, fault switches and policy.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use crate::catalogue::Instance;
use crate::eice_catalogue::Endpoint;
use crate::policy::Policy;

/// A key accepted by SendSSHPublicKey, served to sshd until the TTL passes.
#[derive(Debug, Clone)]
pub struct ActiveKey {
    pub instance_id: String,
    pub user: String,
    pub line: String,
    pub fingerprint: String,
    pub pushed: Instant,
    /// Set by `expire_next_pushes`: the push said yes but the key is never served.
    pub never_served: bool,
}

/// Counters of pending injected faults; each push consumes at most one.
#[derive(Debug, Default, Clone, Copy)]
pub struct Faults {
    pub throttle: u32,
    pub fail: u32,
    pub expire: u32,
    /// Milliseconds every EC2 API answer waits on top of the configured latency.
    pub ec2_delay_ms: u64,
}

#[derive(Debug)]
pub struct LabState {
    pub instances: Vec<Instance>,
    pub keys: Vec<ActiveKey>,
    pub pushes: Vec<PushRecord>,
    /// Every request to an emulated AWS API (not `/_lab/…`), in arrival order.
    pub requests: Vec<ApiRequest>,
    pub faults: Faults,
    pub policy: Policy,
    pub endpoints: Vec<Endpoint>,
    /// Every openTunnel attempt, in arrival order.
    pub tunnels: Vec<TunnelRecord>,
    /// Index in `tunnels` → the relay of a tunnel still open (what the fault switches reach).
    pub open_tunnels: HashMap<usize, UnboundedSender<TunnelCommand>>,
    pub eice_faults: EiceFaults,
}

/// EC2 Instance Connect Endpoint switches (see `fault.rs`); they stay until turned off.
#[derive(Debug, Default, Clone, Copy)]
pub struct EiceFaults {
    /// IAM denies `ec2-instance-connect:OpenTunnel`.
    pub deny_open_tunnel: bool,
    /// Every endpoint shows `create-in-progress` and refuses tunnels.
    pub not_ready: bool,
    /// Every endpoint acts as if its 20 tunnels were open.
    pub cap_reached: bool,
}

/// What a fault switch asks an open tunnel's relay to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelCommand {
    /// Close now with 1011 "tunnel closed by the endpoint".
    Close,
    /// Send a text frame, then close with 1011.
    SendText,
}

impl LabState {
    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    pub fn instance_mut(&mut self, id: &str) -> Option<&mut Instance> {
        self.instances.iter_mut().find(|i| i.id == id)
    }

    /// The instance as `account` sees it: another account's instance does not exist for it.
    pub fn instance_of(&self, account: &str, id: &str) -> Option<&Instance> {
        self.instance(id).filter(|i| i.account == account)
    }

    /// What DescribeInstanceConnectEndpoints shows as an endpoint's state.
    pub fn endpoint_state(&self) -> &'static str {
        if self.eice_faults.not_ready {
            crate::eice_catalogue::NOT_READY_STATE
        } else {
            crate::eice_catalogue::READY_STATE
        }
    }

    /// Tunnels of this endpoint still open.
    pub fn open_tunnels_of(&self, endpoint_id: &str) -> usize {
        self.tunnels
            .iter()
            .filter(|t| t.endpoint_id == endpoint_id && t.is_open())
            .count()
    }
}

/// One openTunnel attempt, whatever its outcome (see LAB-SPEC.md "EC2 Instance Connect
/// Endpoint").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelRecord {
    /// `instanceConnectEndpointId` as sent (empty when absent).
    pub endpoint_id: String,
    /// The caller's account; `None` when the presigned URL did not verify.
    pub account: Option<String>,
    /// The instance whose private address was asked for, when there is one in the VPC.
    pub instance_id: Option<String>,
    /// `privateIpAddress` as sent.
    pub private_ip: String,
    /// `remotePort`, when it is a number.
    pub remote_port: Option<u16>,
    /// The tunnel's lifetime in seconds (`maxTunnelDuration`, default 3600), once valid.
    pub max_duration_secs: Option<u64>,
    /// When the upgrade request arrived (refused ones too).
    pub opened_at: SystemTime,
    /// When an opened tunnel closed (either side); `None` while open or when refused.
    pub closed_at: Option<SystemTime>,
    /// Bytes relayed from the client to the instance and back.
    pub bytes_to_instance: u64,
    pub bytes_from_instance: u64,
    pub outcome: TunnelOutcome,
    /// The close frame that ended an opened tunnel: the endpoint's or the client's.
    pub close_code: Option<u16>,
    pub close_reason: Option<String>,
    /// Who sent it: `"endpoint"`, `"client"`, or `"instance"` (sshd closed its side; the
    /// endpoint then closes with 1000).
    pub closed_by: Option<String>,
}

impl TunnelRecord {
    pub fn is_open(&self) -> bool {
        self.outcome == TunnelOutcome::Opened && self.closed_at.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TunnelOutcome {
    /// Upgraded to a WebSocket.
    Opened,
    /// Answered with plain HTTP: the status and the JSON body's `ErrorCode`.
    Refused { status: u16, code: String },
}

/// One SendSSHPublicKey attempt, whatever its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The caller's account.
    pub account: String,
    pub region: String,
    pub instance_id: String,
    pub user: String,
    pub key: String,
    /// `"Success"` or the AWS error code returned.
    pub outcome: String,
    pub at: SystemTime,
}

/// One request to an emulated AWS API (EC2, EIC, STS, IAM Identity Center) as it arrived, whatever
/// its outcome: what tests check when Keyless must fail "before any request", or must have a
/// call in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// The `X-Amz-Target` header (JSON protocols such as EIC's), if any.
    pub target: Option<String>,
    /// Arrival time.
    pub at: SystemTime,
    /// When the answer left (`None` while it is being worked on).
    pub answered: Option<SystemTime>,
}

/// A snapshot of one instance, as tests and `GET /_lab/state` see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabInstance {
    pub id: String,
    /// The owning account ([`crate::ACCOUNT_ID`] or [`crate::STAGING_ACCOUNT_ID`]).
    pub account: String,
    pub name: Option<String>,
    pub region: String,
    pub az: String,
    /// EC2 state name: `pending`, `running`, `stopping`, `stopped`.
    pub state: String,
    pub private_ip: Ipv4Addr,
    pub public_ip: Option<Ipv4Addr>,
    pub ssh_port: u16,
    /// `ssh-ed25519 AAAA…` (empty for filler never started).
    pub host_public_key: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub host_key_sha256: String,
    pub tags: Vec<(String, String)>,
    pub metadata_http_endpoint_enabled: bool,
    #[serde(default)]
    pub vpc_id: String,
    #[serde(default)]
    pub subnet_id: String,
    /// Where its sshd really listens when only the endpoint reaches it (`private-db`); nothing
    /// listens on `private_ip` then.
    #[serde(default)]
    pub behind_endpoint_ip: Option<Ipv4Addr>,
}

impl LabInstance {
    pub(crate) fn of(i: &Instance, ssh_port: u16) -> LabInstance {
        LabInstance {
            id: i.id.clone(),
            account: i.account.to_string(),
            name: i.name.clone(),
            region: i.region.clone(),
            az: i.az.clone(),
            state: i.state.name().to_string(),
            private_ip: i.private_ip,
            public_ip: i.public_ip,
            ssh_port,
            host_public_key: i.host_public_key.clone(),
            host_key_sha256: crate::ssh_keys::fingerprint_of_line(&i.host_public_key)
                .unwrap_or_default(),
            tags: i.tags.clone(),
            metadata_http_endpoint_enabled: i.imds_enabled,
            vpc_id: i.vpc_id.clone(),
            subnet_id: i.subnet_id.clone(),
            behind_endpoint_ip: i.behind_endpoint_ip,
        }
    }
}

/// A snapshot of one EC2 Instance Connect Endpoint, as tests and `GET /_lab/endpoints` see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabEndpoint {
    pub id: String,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub subnet_id: String,
    /// As DescribeInstanceConnectEndpoints shows it now (the "not ready" fault changes it).
    pub state: String,
    pub dns_name: String,
    pub fips_dns_name: String,
    /// Tunnels open right now.
    pub open_tunnels: usize,
}
