//! EC2 Instance Connect (awsJson1_1): SendSSHPublicKey, checked in AWS's order — fields, then
//! injected faults, then IAM policy, then the instance — and recorded whatever the outcome.
//! A caller sees only its own account's instances: another account's id is "not found".

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::catalogue::InstanceState;
use crate::core::Core;
use crate::identities::Caller;
use crate::policy::instance_arn;
use crate::ssh_keys::{fingerprint_of_line, validate_push_key};
use crate::state::{ActiveKey, PushRecord};

pub const TARGET_PREFIX: &str = "AWSEC2InstanceConnectService.";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub type Reply = (StatusCode, String);

pub fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    (
        status,
        json!({ "__type": code, "Message": message }).to_string(),
    )
}

fn bad(code: &str, message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, code, message)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    instance_id: Option<String>,
    #[serde(rename = "InstanceOSUser")]
    instance_os_user: Option<String>,
    #[serde(rename = "SSHPublicKey")]
    ssh_public_key: Option<String>,
    availability_zone: Option<String>,
}

/// Dispatches on `X-Amz-Target`.
pub async fn handle(
    core: Arc<Core>,
    caller: &Caller,
    region: String,
    peer: IpAddr,
    target: &str,
    body: &[u8],
    request_id: &str,
) -> Reply {
    match target.strip_prefix(TARGET_PREFIX) {
        Some("SendSSHPublicKey") => {}
        _ => {
            return bad(
                "UnknownOperationException",
                &format!("Unknown operation {target}"),
            )
        }
    }
    let req: Request = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return bad(
                "SerializationException",
                &format!("Could not parse request body: {e}"),
            )
        }
    };
    let id = req.instance_id.clone().unwrap_or_default();
    let user = req.instance_os_user.clone().unwrap_or_default();
    let key = req.ssh_public_key.clone().unwrap_or_default();
    let result = send_ssh_public_key(&core, caller, &region, peer, req).await;
    let outcome = match &result {
        Ok(()) => "Success",
        Err(r) => r.code,
    };
    core.state().pushes.push(PushRecord {
        account: caller.account.clone(),
        region,
        instance_id: id,
        user,
        key,
        outcome: outcome.to_string(),
        at: SystemTime::now(),
    });
    match result {
        Ok(()) => (
            StatusCode::OK,
            json!({ "RequestId": request_id, "Success": true }).to_string(),
        ),
        Err(r) => error(r.status, r.code, &r.message),
    }
}

/// A refused push: its AWS error code is also what the push record keeps.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code,
        message: message.into(),
    }
}

fn check_fields(req: &Request) -> Result<(String, String, String), String> {
    let id = req.instance_id.as_deref().ok_or("InstanceId is required")?;
    let hex = id.strip_prefix("i-").unwrap_or("");
    if !(10..=32).contains(&id.len())
        || hex.is_empty()
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!("Invalid instance ID: {id}"));
    }
    let user = req
        .instance_os_user
        .as_deref()
        .ok_or("InstanceOSUser is required")?;
    if !(1..=32).contains(&user.chars().count()) {
        return Err("InstanceOSUser must be between 1 and 32 characters long".into());
    }
    let key = req
        .ssh_public_key
        .as_deref()
        .ok_or("SSHPublicKey is required")?;
    validate_push_key(key)?;
    Ok((id.to_string(), user.to_string(), key.to_string()))
}

async fn send_ssh_public_key(
    core: &Core,
    caller: &Caller,
    region: &str,
    peer: IpAddr,
    req: Request,
) -> Result<(), Refusal> {
    let (id, user, key) = match check_fields(&req) {
        Ok(f) => f,
        Err(msg) => return Err(refuse("InvalidArgsException", msg)),
    };
    let account = caller.account.as_str();
    let arn = instance_arn(region, account, &id);
    let never_served = {
        let mut st = core.state();
        if st.faults.throttle > 0 {
            st.faults.throttle -= 1;
            return Err(refuse("ThrottlingException", "Rate exceeded"));
        }
        if st.faults.fail > 0 {
            st.faults.fail -= 1;
            return Err(Refusal {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "ServiceException",
                message: "An internal error occurred. Please try again.".into(),
            });
        }
        // The policy grants every instance ARN except the `restricted` one's.
        let arn_allowed = st
            .instance_of(account, &id)
            .is_none_or(|i| i.in_push_policy);
        if let Err(msg) = st
            .policy
            .check_push(&caller.arn, &arn, arn_allowed, &user, peer)
        {
            return Err(refuse("AccessDeniedException", msg));
        }
        let Some(inst) = st.instance_of(account, &id).filter(|i| i.region == region) else {
            return Err(refuse(
                "EC2InstanceNotFoundException",
                format!("Instance {id} not found in {region}"),
            ));
        };
        if req
            .availability_zone
            .as_deref()
            .is_some_and(|az| az != inst.az)
        {
            return Err(refuse(
                "InvalidArgsException",
                format!(
                    "Instance {id} is not in availability zone {}",
                    req.availability_zone.unwrap_or_default()
                ),
            ));
        }
        match inst.state {
            InstanceState::Running => {}
            InstanceState::Pending => {
                return Err(refuse(
                    "EC2InstanceUnavailableException",
                    "The instance is not available yet. Try again shortly.",
                ))
            }
            _ => {
                return Err(refuse(
                    "EC2InstanceStateInvalidException",
                    format!(
                        "Instance {id} is not in a valid state for this operation: {}",
                        inst.state.name()
                    ),
                ))
            }
        }
        let expire = st.faults.expire > 0;
        st.faults.expire = st.faults.expire.saturating_sub(1);
        expire
    };
    if !core.config.eic_latency.is_zero() {
        tokio::time::sleep(core.config.eic_latency).await;
    }
    let fingerprint = fingerprint_of_line(&key).unwrap_or_default();
    let line = key.trim().to_string();
    let mut st = core.state();
    st.keys.retain(|k| k.pushed.elapsed() < core.config.key_ttl);
    st.keys.push(ActiveKey {
        instance_id: id,
        user,
        line,
        fingerprint,
        pushed: Instant::now(),
        never_served,
    });
    Ok(())
}
