//! The lab's mutable world: inventory, pushed keys, push history, fault switches and policy.

use std::net::Ipv4Addr;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::catalogue::Instance;
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
        }
    }
}
