//! Whether an `openTunnel` upgrade request may become a tunnel: the presign, the parameters,
//! IAM, the endpoint, the target and the 20-tunnel quota, checked in that order (LAB-SPEC.md
//! "EC2 Instance Connect Endpoint" lists the codes). Every attempt lands in the tunnel log.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::core::Core;
use crate::eice_catalogue::{MAX_TUNNELS, USABLE_STATES};
use crate::eice_presign_verify::{self, KeyInfo, PresignError};
use crate::state::{LabState, TunnelCommand, TunnelOutcome, TunnelRecord};

/// AWS's default and longest tunnel lifetime.
pub const MAX_TUNNEL_SECS: u64 = 3600;

/// A plain-HTTP refusal of the upgrade: status and the JSON body's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    /// `{"ErrorCode":…,"Message":…}`, the body AWS's endpoint answers failed upgrades with.
    pub fn body(&self) -> String {
        serde_json::json!({ "ErrorCode": self.code, "Message": self.message }).to_string()
    }
}

fn refusal(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        message: message.into(),
    }
}

fn invalid(message: impl Into<String>) -> Refusal {
    refusal(400, "InvalidParameter", message)
}

impl From<PresignError> for Refusal {
    fn from(e: PresignError) -> Refusal {
        refusal(e.status, e.code, e.message)
    }
}

/// A tunnel the endpoint accepted (its record is in the log as opened).
pub struct Admitted {
    /// Index in the tunnel log.
    pub index: usize,
    /// Where the relay connects.
    pub target: SocketAddr,
    pub max_duration: Duration,
    pub commands: UnboundedReceiver<TunnelCommand>,
}

/// The request as the handshake saw it.
pub struct Upgrade<'a> {
    pub path: &'a str,
    pub query: &'a str,
    pub header: &'a dyn Fn(&str) -> Vec<String>,
}

/// Checks the request and records the attempt; on success the tunnel counts against its
/// endpoint's quota until the relay closes it.
pub fn admit(core: &Arc<Core>, req: &Upgrade, now: SystemTime) -> Result<Admitted, Refusal> {
    let param = |name: &str| {
        form_urlencoded::parse(req.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let mut record = TunnelRecord {
        endpoint_id: param("instanceConnectEndpointId").unwrap_or_default(),
        account: None,
        instance_id: None,
        private_ip: param("privateIpAddress").unwrap_or_default(),
        remote_port: param("remotePort").and_then(|p| p.parse().ok()),
        max_duration_secs: None,
        opened_at: now,
        closed_at: None,
        bytes_to_instance: 0,
        bytes_from_instance: 0,
        outcome: TunnelOutcome::Opened,
        close_code: None,
        close_reason: None,
        closed_by: None,
    };
    match check(core, req, &param, &mut record, now) {
        // The quota was checked under this same lock: no other attempt slips in between.
        Ok((target, max_duration, mut st)) => {
            let (tx, commands) = mpsc::unbounded_channel();
            let index = st.tunnels.len();
            st.tunnels.push(record);
            st.open_tunnels.insert(index, tx);
            Ok(Admitted {
                index,
                target,
                max_duration,
                commands,
            })
        }
        Err(r) => {
            record.outcome = TunnelOutcome::Refused {
                status: r.status,
                code: r.code.to_string(),
            };
            core.state().tunnels.push(record);
            Err(r)
        }
    }
}

/// Every check; fills in what it learns (account, instance, duration) as it goes. On success
/// it returns the state lock it checked the quota under.
fn check<'c>(
    core: &'c Arc<Core>,
    req: &Upgrade,
    param: &dyn Fn(&str) -> Option<String>,
    record: &mut TunnelRecord,
    now: SystemTime,
) -> Result<(SocketAddr, Duration, MutexGuard<'c, LabState>), Refusal> {
    if req.path != "/openTunnel" {
        return Err(refusal(
            404,
            "UnknownOperationException",
            format!("No such operation: {}", req.path),
        ));
    }
    let key_info = |ak: &str| {
        let ids = core.ids();
        ids.secret_for(ak).map(|secret| KeyInfo {
            secret,
            session_token: ids.session_token_of(ak),
        })
    };
    let presign = eice_presign_verify::verify(
        &eice_presign_verify::Request {
            path: req.path,
            query: req.query,
            header: req.header,
        },
        key_info,
        now,
    )?;
    let caller = core.ids().caller(&presign.access_key);
    record.account = Some(caller.account.clone());
    let required = |name: &str| {
        param(name).ok_or_else(|| {
            invalid(format!(
                "The request must contain the parameter {name}. Specify it and retry your request."
            ))
        })
    };
    let endpoint_id = required("instanceConnectEndpointId")?;
    let port = required("remotePort")?;
    let ip = required("privateIpAddress")?;
    let region = presign.region;

    let st = core.state();
    if st.eice_faults.deny_open_tunnel {
        return Err(refusal(
            403,
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: ec2-instance-connect:OpenTunnel on resource: \
                 arn:aws:ec2:{region}:{}:instance-connect-endpoint/{endpoint_id} because no \
                 identity-based policy allows the ec2-instance-connect:OpenTunnel action",
                caller.arn, caller.account
            ),
        ));
    }
    let endpoint = st
        .endpoints
        .iter()
        .find(|e| e.id == endpoint_id && e.region == region && e.account == caller.account)
        .ok_or_else(|| {
            refusal(
                404,
                "InvalidInstanceConnectEndpointId.NotFound",
                format!(
                    "The instance connect endpoint ID '{endpoint_id}' does not exist in {region}"
                ),
            )
        })?;
    let state = st.endpoint_state();
    if !USABLE_STATES.contains(&state) {
        return Err(refusal(
            409,
            "IncorrectState",
            format!(
                "The instance connect endpoint {endpoint_id} is in state {state}; tunnels open once \
                 it is {}",
                USABLE_STATES.join(", ")
            ),
        ));
    }
    // Where the lab's sshd cannot have port 22 (not root, or 22 taken), clients are told its
    // port in KEYLESS_SSH_PORT and send that: the lab takes it as 22 (a lab-only concession).
    let lab_ssh_port = core.config.ssh_port;
    let port: u16 = match port.parse() {
        Ok(p @ (22 | 3389)) => p,
        Ok(p) if p == lab_ssh_port => 22,
        _ => return Err(invalid(
            "The specified RemotePort is not valid. Specify either 22 or 3389 as the RemotePort \
                 and retry your request.",
        )),
    };
    let max_secs = match param("maxTunnelDuration") {
        None => MAX_TUNNEL_SECS,
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=MAX_TUNNEL_SECS).contains(s))
            .ok_or_else(|| {
                invalid(format!(
                    "The specified MaxTunnelDuration is not valid. Specify a value between 1 and \
                     {MAX_TUNNEL_SECS} seconds and retry your request."
                ))
            })?,
    };
    record.max_duration_secs = Some(max_secs);
    let instance = ip
        .parse::<Ipv4Addr>()
        .ok()
        .and_then(|ip| {
            st.instances.iter().find(|i| {
                i.private_ip == ip && i.vpc_id == endpoint.vpc_id && i.account == endpoint.account
            })
        })
        .ok_or_else(|| {
            invalid(format!(
                "The specified PrivateIpAddress '{ip}' is not valid. Specify the private IPv4 \
                 address of a resource in {} (the VPC of {endpoint_id}) and retry your request.",
                endpoint.vpc_id
            ))
        })?;
    record.instance_id = Some(instance.id.clone());
    if st.eice_faults.cap_reached || st.open_tunnels_of(&endpoint_id) >= MAX_TUNNELS {
        return Err(refusal(
            429,
            "ServiceQuotaExceededException",
            format!(
                "The instance connect endpoint {endpoint_id} already has {MAX_TUNNELS} open tunnels, \
                 the limit of {MAX_TUNNELS} concurrent connections per endpoint (not adjustable). \
                 Close a tunnel and retry your request."
            ),
        ));
    }
    let target_port = if port == 22 {
        core.config.ssh_port
    } else {
        port
    };
    let target = SocketAddr::from((instance.tunnel_target(), target_port));
    Ok((target, Duration::from_secs(max_secs), st))
}
