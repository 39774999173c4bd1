//! Connecting: resolve the instance, make a one-time key, and run the key push **concurrently**
//! with the TCP connect and SSH key exchange (AWS's own tools do them one after the other), then
//! authenticate with that key only. If the instance refuses a key EC2 Instance Connect accepted,
//! push once more (the 60 s window may have passed) and otherwise explain the usual causes.
//! Each phase that waits on the server has a deadline (`deadline.rs`). How the instance is
//! reached — directly, through its VPC's EC2 Instance Connect Endpoint, or both raced — is
//! `reach.rs`'s job; starting before the instance is looked up is `speculate.rs`'s.

use crate::address::{plan_route, Via};
use crate::aws::AwsContext;
use crate::deadline::{Phase, PhaseDeadline};
use crate::error::{Error, ErrorKind, Result};
use crate::hostkeys::{HostKeyPolicy, KnownHosts};
use crate::instance::Instance;
use crate::onetime_key::OneTimeKey;
use crate::push::{push_key, PushReceipt, PushRequest, KEY_LIFETIME};
use crate::reach::{Reach, Reached};
use crate::session::Connection;
use crate::verifier::{HostKeyPrompt, Verifier};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Push again before authenticating once the key is this old: it must still be valid when sshd
/// asks for it, a round trip later.
const REPUSH_AFTER: Duration = Duration::from_secs(KEY_LIFETIME.as_secs() - 15);

#[derive(Clone)]
pub struct ConnectOptions {
    pub os_user: String,
    pub port: u16,
    pub via: Via,
    pub host_key_policy: HostKeyPolicy,
    pub known_hosts: KnownHosts,
    /// Asked for unknown keys under `HostKeyPolicy::Ask`.
    pub prompt: Option<HostKeyPrompt>,
    /// Told when each step finishes (for progress displays).
    pub progress: Option<Arc<dyn Fn(StepTiming) + Send + Sync>>,
    /// How long the server may take for each phase: banner and key exchange, authentication,
    /// opening the session. A host-key question does not count. See [`crate::deadline::phase_timeout`].
    /// Opening an EICE tunnel gets the same.
    pub timeout: Duration,
    /// Ask the endpoint to close EICE tunnels after this long (`maxTunnelDuration`, needed when
    /// an IAM policy allows less than AWS's 1 h). `None`: AWS's limit.
    pub max_tunnel: Option<Duration>,
    /// Where EICE tunnels go (the lab's endpoint override) and through which HTTPS proxy.
    pub tunnel: crate::eice::TunnelSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Resolve,
    Key,
    Push,
    /// Opening the EICE tunnel (only when the connection goes through one).
    Tunnel,
    Handshake,
    Authenticate,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct StepTiming {
    pub step: Step,
    #[serde(serialize_with = "as_millis")]
    pub took: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl ConnectOptions {
    pub(crate) fn report(&self, step: Step, since: Instant) -> StepTiming {
        let timing = StepTiming {
            step,
            took: since.elapsed(),
        };
        self.tell(timing);
        timing
    }

    /// Passes on a step timed elsewhere.
    pub(crate) fn tell(&self, timing: StepTiming) {
        if let Some(progress) = &self.progress {
            progress(timing);
        }
    }
}

/// Connects to an instance already described (the app has it from the list).
pub async fn connect_instance(
    aws: &AwsContext,
    instance: Instance,
    opts: &ConnectOptions,
) -> Result<Connection> {
    crate::validate::os_user(&opts.os_user)?;
    instance.ensure_running()?;
    let plan = plan_route(&instance, opts.via)?;
    let mut timings = Vec::new();
    let key = one_time_key(opts, &mut timings)?;
    let public = key.public_openssh();
    let push_req = push_request(&instance.instance_id, &instance.region, opts, &public);
    let reach = Reach {
        aws,
        instance: &instance,
        opts,
        speculation: None,
    };
    let ((pushed, push_timing), reached) =
        tokio::join!(timed_push(aws, &push_req, opts), reach.run(plan));
    timings.push(push_timing);
    // A push error explains more than a connection error caused by the same root problem.
    let receipt = pushed?;
    let reached = reached?;
    let done = Pushed {
        key: &key,
        request: &push_req,
        receipt,
    };
    finish(aws, &instance, done, reached, timings, opts).await
}

/// A fresh one-time key, timed as the Key step.
pub(crate) fn one_time_key(
    opts: &ConnectOptions,
    timings: &mut Vec<StepTiming>,
) -> Result<OneTimeKey> {
    let t = Instant::now();
    let key = OneTimeKey::generate()?;
    timings.push(opts.report(Step::Key, t));
    Ok(key)
}

pub(crate) fn push_request<'a>(
    instance_id: &'a str,
    region: &'a str,
    opts: &'a ConnectOptions,
    public_key: &'a str,
) -> PushRequest<'a> {
    PushRequest {
        region,
        instance_id,
        os_user: &opts.os_user,
        public_key,
    }
}

/// The push, timed as the Push step.
pub(crate) async fn timed_push(
    aws: &AwsContext,
    request: &PushRequest<'_>,
    opts: &ConnectOptions,
) -> (Result<PushReceipt>, StepTiming) {
    let t = Instant::now();
    let pushed = push_key(aws, request).await;
    (pushed, opts.report(Step::Push, t))
}

/// A key EC2 Instance Connect accepted, and how to push it again.
pub(crate) struct Pushed<'a> {
    pub key: &'a OneTimeKey,
    pub request: &'a PushRequest<'a>,
    pub receipt: PushReceipt,
}

/// Authenticates over a finished key exchange with the pushed key; the connection to hand out.
pub(crate) async fn finish(
    aws: &AwsContext,
    instance: &Instance,
    mut pushed: Pushed<'_>,
    reached: Reached,
    mut timings: Vec<StepTiming>,
    opts: &ConnectOptions,
) -> Result<Connection> {
    timings.extend(reached.timings.iter().copied());
    let deadline = reached.deadline.clone();
    let mut handle = reached.handle;
    let t = Instant::now();
    authenticate(aws, &mut handle, &mut pushed, instance, &deadline).await?;
    timings.push(opts.report(Step::Authenticate, t));
    Ok(Connection::new(
        handle,
        instance.clone(),
        crate::session::Route {
            address: reached.address,
            path: reached.path,
            tunnel_end: reached.tunnel_end,
            shareable: !reached.trusted_once,
            remote_forwards: reached.remote_forwards,
        },
        deadline,
        timings,
    ))
}

async fn authenticate(
    aws: &AwsContext,
    handle: &mut russh::client::Handle<Verifier>,
    pushed: &mut Pushed<'_>,
    instance: &Instance,
    deadline: &PhaseDeadline,
) -> Result<()> {
    let (key, push_req) = (pushed.key, pushed.request);
    let user = push_req.os_user;
    if pushed.receipt.age() >= REPUSH_AFTER {
        pushed.receipt = push_key(aws, push_req).await?;
    }
    if try_auth(handle, key, user, deadline).await? {
        return Ok(());
    }
    // The key may have expired on the way (slow network, a long host-key prompt): once more.
    pushed.receipt = push_key(aws, push_req).await?;
    if try_auth(handle, key, user, deadline).await? {
        return Ok(());
    }
    Err(auth_refused(instance, user))
}

/// One attempt, within the authentication deadline (the pushes around it have their own).
async fn try_auth(
    handle: &mut russh::client::Handle<Verifier>,
    key: &OneTimeKey,
    user: &str,
    deadline: &PhaseDeadline,
) -> Result<bool> {
    let attempt = handle.authenticate_publickey(user, key.for_auth());
    let result = (deadline.within(Phase::Authenticate, attempt).await)?
        .map_err(|e| Error::new(ErrorKind::Ssh, format!("SSH authentication failed: {e}")))?;
    Ok(result.success())
}

fn auth_refused(instance: &Instance, user: &str) -> Error {
    let id = &instance.instance_id;
    let message = format!(
        "{} refused the one-time key for '{user}', although EC2 Instance Connect accepted it",
        instance.label()
    );
    let hint = if instance.metadata_disabled() {
        format!(
            "The instance metadata service is disabled on {id} (MetadataOptions.HttpEndpoint = \
             disabled), so it cannot fetch pushed keys. Enable it: aws ec2 \
             modify-instance-metadata-options --instance-id {id} --http-endpoint enabled"
        )
    } else {
        format!(
            "Check on the instance: (1) the ec2-instance-connect package is installed (Amazon \
             Linux 2/2023 and Ubuntu 20.04+ have it); (2) the OS user '{user}' exists there \
             (Amazon Linux: ec2-user, Ubuntu: ubuntu, Debian: admin); (3) the instance can reach \
             its metadata service (IMDS)."
        )
    };
    Error::new(ErrorKind::AuthFailed, message).with_hint(hint)
}
