//! `SendSSHPublicKey`: put the one-time public key on the instance for 60 seconds. Every modeled
//! error becomes an `Error` whose hint names the likely cause. Throttling and 5xx are retried by
//! the SDK's standard retry mode (see `aws.rs`) before we ever see them.

use crate::aws::{AwsContext, AwsFailure};
use crate::error::{Error, ErrorKind, Fix, Result};
use std::time::{Duration, Instant};

/// How long AWS keeps a pushed key on the instance.
pub const KEY_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct PushRequest<'a> {
    pub region: &'a str,
    pub instance_id: &'a str,
    pub os_user: &'a str,
    pub public_key: &'a str,
}

/// When the key was accepted: the 60 s window starts then.
#[derive(Debug, Clone, Copy)]
pub struct PushReceipt {
    pub at: Instant,
}

impl PushReceipt {
    pub fn age(&self) -> Duration {
        self.at.elapsed()
    }
}

pub async fn push_key(aws: &AwsContext, req: &PushRequest<'_>) -> Result<PushReceipt> {
    crate::validate::instance_id(req.instance_id)?;
    crate::validate::os_user(req.os_user)?;
    // No AvailabilityZone: optional since 2022, and AWS CLI v2 omits it too.
    let sent = aws
        .instance_connect(req.region)
        .send_ssh_public_key()
        .instance_id(req.instance_id)
        .instance_os_user(req.os_user)
        .ssh_public_key(req.public_key)
        .send()
        .await;
    match sent {
        Ok(out) if out.success() => Ok(PushReceipt { at: Instant::now() }),
        Ok(_) => Err(Error::new(
            ErrorKind::Service,
            format!(
                "EC2 Instance Connect did not accept the key for {}",
                req.instance_id
            ),
        )),
        Err(e) => Err(push_error(AwsFailure::from_sdk(&e), req)),
    }
}

fn push_error(failure: AwsFailure, req: &PushRequest<'_>) -> Error {
    let id = req.instance_id;
    let region = req.region;
    let user = req.os_user;
    let aws_says = failure.message.clone();
    match failure.code.as_deref() {
        Some("AccessDeniedException") | Some("AuthException") => Error::new(
            ErrorKind::AccessDenied,
            format!("not allowed to push a key to {id} as '{user}': {aws_says}"),
        )
        .with_hint(format!(
            "Your IAM policy must allow ec2-instance-connect:SendSSHPublicKey on \
             arn:aws:ec2:{region}:<account>:instance/{id}. Check its conditions: ec2:osuser \
             must allow '{user}', and aws:SourceIp must include the address you connect from \
             (are you on the corporate network or VPN?)."
        )),
        Some("EC2InstanceNotFoundException") => Error::new(
            ErrorKind::InstanceNotFound,
            format!("instance {id} does not exist in {region}"),
        )
        .with_hint("Check the instance id and the region.")
        .with_fix(Fix::ChooseRegion),
        Some("EC2InstanceStateInvalidException") => Error::new(
            ErrorKind::InstanceNotRunning,
            format!("instance {id} is not running"),
        )
        .with_fix(Fix::StartInstance),
        Some("EC2InstanceUnavailableException") => Error::new(
            ErrorKind::InstanceUnavailable,
            format!("instance {id} is not available right now: {aws_says}"),
        )
        .with_hint("Wait a minute and try again; a starting instance needs a moment."),
        Some("InvalidArgsException") => Error::new(
            ErrorKind::InvalidInput,
            format!("EC2 Instance Connect rejected the request: {aws_says}"),
        )
        .with_hint(format!(
            "Check the OS user '{user}' and the instance id; Keyless sends an Ed25519 key."
        )),
        Some("ThrottlingException") => Error::new(
            ErrorKind::Throttled,
            format!(
                "EC2 Instance Connect is throttling requests (still after retries): {aws_says}"
            ),
        )
        .with_hint("Wait a few seconds and try again."),
        Some("ServiceException") => Error::new(
            ErrorKind::Service,
            format!("EC2 Instance Connect failed (still after retries): {aws_says}"),
        )
        .with_hint("This is on AWS's side; try again shortly."),
        _ => failure.into_generic_error(&format!("pushing the key to {id}")),
    }
}
