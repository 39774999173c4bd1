//! Connecting: resolve the instance, make a one-time key, and run the key push **concurrently**
//! with the TCP connect and SSH key exchange (AWS's own tools do them one after the other), then
//! authenticate with that key only. If the instance refuses a key EC2 Instance Connect accepted,
//! push once more (the 60 s window may have passed) and otherwise explain the usual causes.
//! Each phase that waits on the server has a deadline (`deadline.rs`).

use crate::address::{choose_address, Via};
use crate::aws::AwsContext;
use crate::deadline::{Phase, PhaseDeadline, PromptClock};
use crate::error::{Error, ErrorKind, Fix, Result};
use crate::hostkeys::{HostKeyPolicy, KnownHosts};
use crate::instance::Instance;
use crate::onetime_key::OneTimeKey;
use crate::push::{push_key, PushReceipt, PushRequest, KEY_LIFETIME};
use crate::session::Connection;
use crate::verifier::{HostKeyPrompt, Refusal, Verifier};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Push again before authenticating once the key is this old: it must still be valid when sshd
/// asks for it, a round trip later.
const REPUSH_AFTER: Duration = Duration::from_secs(KEY_LIFETIME.as_secs() - 15);
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Resolve,
    Key,
    Push,
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
        if let Some(progress) = &self.progress {
            progress(timing);
        }
        timing
    }
}

/// Resolves `target` (id or Name tag) in `region`, then connects.
pub async fn connect_target(
    aws: &AwsContext,
    region: &str,
    target: &str,
    opts: &ConnectOptions,
) -> Result<Connection> {
    let started = Instant::now();
    let instance = crate::inventory::resolve_target(aws, region, target).await?;
    let resolved = opts.report(Step::Resolve, started);
    let mut connection = connect_instance(aws, instance, opts).await?;
    connection.timings.insert(0, resolved);
    Ok(connection)
}

/// Connects to an instance already described (the app has it from the list).
pub async fn connect_instance(
    aws: &AwsContext,
    instance: Instance,
    opts: &ConnectOptions,
) -> Result<Connection> {
    crate::validate::os_user(&opts.os_user)?;
    if !instance.is_running() {
        return Err(Error::new(
            ErrorKind::InstanceNotRunning,
            format!("{} is {}, not running", instance.label(), instance.state),
        )
        .with_fix(Fix::StartInstance));
    }
    let address = choose_address(&instance, opts.via)?;
    let deadline = PhaseDeadline::new(
        opts.timeout,
        instance.label(),
        SocketAddr::new(address, opts.port).to_string(),
    );
    let mut timings = Vec::new();

    let t = Instant::now();
    let key = OneTimeKey::generate()?;
    timings.push(opts.report(Step::Key, t));

    let public = key.public_openssh();
    let push_req = PushRequest {
        region: &instance.region,
        instance_id: &instance.instance_id,
        os_user: &opts.os_user,
        public_key: &public,
    };
    let refusal: Refusal = Default::default();
    let clock = PromptClock::default();
    let verifier = Verifier {
        instance_id: instance.instance_id.clone(),
        store: opts.known_hosts.clone(),
        policy: opts.host_key_policy,
        prompt: opts.prompt.clone(),
        refusal: refusal.clone(),
        clock: clock.clone(),
    };

    let push = async {
        let t = Instant::now();
        let r = push_key(aws, &push_req).await;
        (r, opts.report(Step::Push, t))
    };
    let handshake = async {
        let t = Instant::now();
        let r = handshake(
            SocketAddr::new(address, opts.port),
            verifier,
            &refusal,
            &deadline,
            &clock,
            &instance,
        )
        .await;
        (r, opts.report(Step::Handshake, t))
    };
    let ((pushed, push_timing), (handle, handshake_timing)) = tokio::join!(push, handshake);
    timings.push(push_timing);
    timings.push(handshake_timing);
    // A push error explains more than a connection error caused by the same root problem.
    let mut receipt = pushed?;
    let mut handle = handle?;

    let t = Instant::now();
    authenticate(
        aws,
        &mut handle,
        &key,
        &push_req,
        &mut receipt,
        &instance,
        &deadline,
    )
    .await?;
    timings.push(opts.report(Step::Authenticate, t));
    Ok(Connection::new(
        handle, instance, address, deadline, timings,
    ))
}

async fn handshake(
    address: SocketAddr,
    verifier: Verifier,
    refusal: &Refusal,
    deadline: &PhaseDeadline,
    clock: &PromptClock,
    instance: &Instance,
) -> Result<russh::client::Handle<Verifier>> {
    let socket = tokio::time::timeout(TCP_CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| unreachable(instance, address, "timed out"))?
        .map_err(|e| unreachable(instance, address, &e.to_string()))?;
    socket.set_nodelay(true).ok();
    // A second handle on the socket: on expiry it is shut down, which also ends the task russh
    // has started for the session by then.
    let socket = socket.into_std()?;
    let spare = socket.try_clone()?;
    let socket = tokio::net::TcpStream::from_std(socket)?;
    let ssh =
        russh::client::connect_stream(Arc::new(crate::session::ssh_config()), socket, verifier);
    let done =
        (deadline.within_pausable(Phase::Handshake, clock, ssh).await).inspect_err(|_| {
            let _ = spare.shutdown(std::net::Shutdown::Both);
        })?;
    done.map_err(|e| {
        refusal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(|| handshake_failed(e, address))
    })
}

fn handshake_failed(e: russh::Error, address: SocketAddr) -> Error {
    match e {
        russh::Error::NoCommonAlgo {
            kind: russh::AlgorithmKind::Key,
            ours,
            theirs,
        } => Error::new(
            ErrorKind::Ssh,
            format!(
                "the SSH server at {address} offers only host-key algorithms Keyless does \
                 not accept ({}); Keyless accepts {}",
                theirs.join(", "),
                ours.join(", ")
            ),
        )
        .with_hint(
            "ssh-rsa host-key signatures use SHA-1, which is broken. Give sshd an Ed25519 or \
             ECDSA host key, or let it sign RSA keys with rsa-sha2-256/512 (OpenSSH 7.2 and \
             later do).",
        ),
        e => Error::new(
            ErrorKind::Ssh,
            format!("SSH handshake with {address} failed: {e}"),
        )
        .with_hint("Is an SSH server listening on that port?"),
    }
}

fn unreachable(instance: &Instance, address: SocketAddr, why: &str) -> Error {
    Error::new(
        ErrorKind::Network,
        format!("cannot reach {} at {address}: {why}", instance.label()),
    )
    .with_hint(
        "Check that you can route to that address (VPN/Direct Connect for private IPs), that the \
         security group allows SSH from you, and that sshd is running.",
    )
}

async fn authenticate(
    aws: &AwsContext,
    handle: &mut russh::client::Handle<Verifier>,
    key: &OneTimeKey,
    push_req: &PushRequest<'_>,
    receipt: &mut PushReceipt,
    instance: &Instance,
    deadline: &PhaseDeadline,
) -> Result<()> {
    let user = push_req.os_user;
    if receipt.age() >= REPUSH_AFTER {
        *receipt = push_key(aws, push_req).await?;
    }
    if try_auth(handle, key, user, deadline).await? {
        return Ok(());
    }
    // The key may have expired on the way (slow network, a long host-key prompt): once more.
    *receipt = push_key(aws, push_req).await?;
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
