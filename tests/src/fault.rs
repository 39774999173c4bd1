//! Fault switches, one type for the library, `POST /_lab/fault` (JSON) and `keyless-lab fault`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::Core;
use crate::policy::Cidr;
use crate::state::TunnelCommand;
use crate::LabError;

/// JSON form: `{"op":"throttle","n":2}`, `{"op":"stop","id":"i-…"}`, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, clap::Subcommand)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Fault {
    /// Next N pushes → ThrottlingException
    Throttle { n: u32 },
    /// Next N pushes → ServiceException (HTTP 500)
    Fail { n: u32 },
    /// Next N pushes succeed but their key is never served to sshd
    Expire { n: u32 },
    /// Remove USER from the policy's allowed ec2:osuser values
    DenyUser { user: String },
    /// Set the policy's aws:SourceIp CIDR
    SourceCidr { cidr: String },
    /// DescribeInstances in REGION → UnauthorizedOperation
    DenyRegion { region: String },
    /// Stop an instance (kills its sshd and sessions)
    Stop { id: String },
    /// Start a stopped instance (same host key)
    Start { id: String },
    /// SIGKILL an instance's sshd and all its sessions; state stays running
    KillSshd { id: String },
    /// Restart an instance's sshd
    RestartSshd { id: String },
    /// Replace an instance's sshd with a listener that accepts TCP and never says a word (no SSH
    /// banner); state stays running. restart-sshd (or stop + start) brings sshd back
    MuteSshd { id: String },
    /// New host key, then restart sshd
    Rekey { id: String },
    /// Set tag KEY to VALUE, as anyone with ec2:CreateTags can (KEY=Name renames the instance)
    Tag {
        id: String,
        key: String,
        value: String,
    },
    /// Approve the IAM Identity Center device authorization with this user code
    SsoApprove { code: String },
    /// Next N CreateToken polls answer SlowDownException
    SsoSlowDown { n: u32 },
    /// Revoke every IAM Identity Center sign-in (access and refresh tokens), as an administrator
    /// would; cached tokens still look valid to clients
    SsoRevoke,
    /// StartDeviceAuthorization answers URI as verificationUriComplete (a hostile portal)
    SsoVerificationUri { uri: String },
    /// IAM denies ec2-instance-connect:OpenTunnel (on) or allows it again (off)
    DenyOpenTunnel { switch: Switch },
    /// Every EC2 Instance Connect Endpoint shows create-in-progress and refuses tunnels (on), or
    /// is create-complete again (off)
    EndpointNotReady { switch: Switch },
    /// Every endpoint acts as if its 20 concurrent tunnels were open (on), or counts again (off)
    TunnelCap { switch: Switch },
    /// Close every open tunnel now (close code 1011, "tunnel closed by the endpoint")
    CloseTunnels,
    /// Send a text frame on every open tunnel, then close it with 1011
    TunnelTextFrame,
    /// Every EC2 API answer waits MS milliseconds more from now on (0: no more)
    Ec2Delay { ms: u64 },
}

/// A fault that stays until turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Switch {
    On,
    Off,
}

impl Switch {
    pub fn is_on(self) -> bool {
        self == Switch::On
    }
}

impl Core {
    pub async fn apply(self: &Arc<Self>, fault: Fault) -> Result<(), LabError> {
        match fault {
            Fault::Throttle { n } => self.state().faults.throttle = n,
            Fault::Fail { n } => self.state().faults.fail = n,
            Fault::Expire { n } => self.state().faults.expire = n,
            Fault::Ec2Delay { ms } => self.state().faults.ec2_delay_ms = ms,
            Fault::DenyUser { user } => {
                self.state().policy.allowed_users.remove(&user);
            }
            Fault::SourceCidr { cidr } => {
                let parsed = Cidr::parse(&cidr)
                    .ok_or_else(|| LabError::Invalid(format!("not a CIDR: {cidr}")))?;
                self.state().policy.source = parsed;
            }
            Fault::DenyRegion { region } => {
                self.state().policy.denied_regions.insert(region);
            }
            Fault::Stop { id } => self.stop_instance(&id).await?,
            Fault::Start { id } => self.start_instance(&id).await?,
            Fault::KillSshd { id } => self.kill_sshd(&id).await?,
            Fault::RestartSshd { id } => self.restart_sshd(&id).await?,
            Fault::MuteSshd { id } => self.mute_sshd(&id).await?,
            Fault::Rekey { id } => self.rekey(&id).await?,
            Fault::Tag { id, key, value } => self.set_tag(&id, &key, &value)?,
            Fault::SsoApprove { code } => {
                if !self.ids().approve(&code) {
                    return Err(LabError::Invalid(format!(
                        "no pending device authorization has user code {code}"
                    )));
                }
            }
            Fault::SsoSlowDown { n } => self.ids().forced_slow_downs = n,
            Fault::SsoRevoke => self.ids().revoke_sign_ins(),
            Fault::SsoVerificationUri { uri } => self.ids().forced_verification_uri = Some(uri),
            Fault::DenyOpenTunnel { switch } => {
                self.state().eice_faults.deny_open_tunnel = switch.is_on()
            }
            Fault::EndpointNotReady { switch } => {
                self.state().eice_faults.not_ready = switch.is_on()
            }
            Fault::TunnelCap { switch } => self.state().eice_faults.cap_reached = switch.is_on(),
            Fault::CloseTunnels => self.command_open_tunnels(TunnelCommand::Close),
            Fault::TunnelTextFrame => self.command_open_tunnels(TunnelCommand::SendText),
        }
        Ok(())
    }
}

impl Core {
    /// Tells every open tunnel's relay to act; returns at once (the relays close on their own).
    fn command_open_tunnels(&self, cmd: TunnelCommand) {
        for tx in self.state().open_tunnels.values() {
            let _ = tx.send(cmd);
        }
    }
}
