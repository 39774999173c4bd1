//! Fault switches, one type for the library, `POST /_lab/fault` (JSON) and `keyless-lab fault`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::Core;
use crate::policy::Cidr;
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
}

impl Core {
    pub async fn apply(self: &Arc<Self>, fault: Fault) -> Result<(), LabError> {
        match fault {
            Fault::Throttle { n } => self.state().faults.throttle = n,
            Fault::Fail { n } => self.state().faults.fail = n,
            Fault::Expire { n } => self.state().faults.expire = n,
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
        }
        Ok(())
    }
}
