//! `keyless proxy`: OpenSSH's ProxyCommand. It resolves the target (by id, the push goes out
//! beside that lookup), asks the agent for a one-time key bound to the `ssh` that runs it, pushes
//! the public half while it opens the stream to sshd, marks the key ready once EC2 Instance
//! Connect has it, and relays stdio. OpenSSH does the rest — key exchange, host-key check,
//! authentication through the agent — so the key exchange overlaps the push as in `keyless ssh`.

use super::agent::{AgentClient, AgentKey};
use super::relay::relay;
use super::stream::{self, StreamOptions};
use crate::address::{plan_route, RoutePlan, Via};
use crate::aws::AwsContext;
use crate::eice::TunnelSettings;
use crate::error::{Error, ErrorKind, Result};
use crate::hostkeys::KnownHosts;
use crate::instance::Instance;
use crate::push::{push_key, PushRequest};
use std::time::{Duration, Instant};

pub struct ProxyRequest {
    /// What OpenSSH was asked to reach: an id, a Name tag or a tag selector (see [`resolve`]).
    pub target: String,
    pub region: String,
    pub os_user: String,
    pub port: u16,
    pub via: Via,
    /// Opening a tunnel.
    pub timeout: Duration,
    pub max_tunnel: Option<Duration>,
    pub tunnel: TunnelSettings,
    /// The store OpenSSH reads (the generated config names it) and the agent pins new keys in.
    pub known_hosts: KnownHosts,
    /// `-v`: each step on stderr, which OpenSSH shows.
    pub verbose: bool,
}

/// Until sshd closes the stream. Errors come before any byte reaches OpenSSH, or as the end of
/// the stream (the caller prints them and exits 255, which `ssh` reports as its own failure).
pub async fn run(aws: &AwsContext, req: ProxyRequest, agent: AgentClient) -> Result<()> {
    crate::validate::os_user(&req.os_user)?;
    let say = |what: &str, since: Instant| {
        if req.verbose {
            eprintln!("keyless: {what} took {} ms", since.elapsed().as_millis());
        }
    };
    if crate::validate::looks_like_instance_id(&req.target) {
        run_by_id(aws, &req, agent, &say).await
    } else {
        run_after_lookup(aws, &req, agent, &say).await
    }
}

/// An instance id: the key is made and pushed at once, beside the lookup (EC2 Instance Connect
/// refuses unknown and stopped instances itself, and the lookup's explanation is the one shown);
/// the stream opens as soon as the lookup has the address, while the push may still run.
async fn run_by_id(
    aws: &AwsContext,
    req: &ProxyRequest,
    mut agent: AgentClient,
    say: &impl Fn(&str, Instant),
) -> Result<()> {
    let key = agent.open(&req.target, req.known_hosts.path()).await?;
    let push = push_and_offer(aws, req, &req.target, &key, &mut agent, say);
    let lookup = lookup(aws, req, say);
    tokio::pin!(push, lookup);
    let mut pushed = None;
    let (instance, plan) = loop {
        tokio::select! {
            found = &mut lookup => break found?,
            done = &mut push, if pushed.is_none() => pushed = Some(done),
        }
    };
    let rest_of_push = async {
        match pushed {
            Some(done) => done,
            None => push.await,
        }
    };
    // The agent connection outlives the relay: the record (and the key) end with it.
    tokio::try_join!(rest_of_push, carry(aws, &instance, plan, req, say))?;
    Ok(())
}

/// A name or a tag selector: the lookup names the instance, then push and stream go together.
async fn run_after_lookup(
    aws: &AwsContext,
    req: &ProxyRequest,
    mut agent: AgentClient,
    say: &impl Fn(&str, Instant),
) -> Result<()> {
    let (instance, plan) = lookup(aws, req, say).await?;
    let id = &instance.instance_id;
    let key = agent.open(id, req.known_hosts.path()).await?;
    let push = push_and_offer(aws, req, id, &key, &mut agent, say);
    tokio::try_join!(push, carry(aws, &instance, plan, req, say))?;
    Ok(())
}

/// The one running instance the target names, and how to reach it.
async fn lookup(
    aws: &AwsContext,
    req: &ProxyRequest,
    say: &impl Fn(&str, Instant),
) -> Result<(Instance, RoutePlan)> {
    let t = Instant::now();
    let instance = resolve(aws, &req.region, &req.target).await?;
    say("Resolve", t);
    instance.ensure_running()?;
    let plan = plan_route(&instance, req.via)?;
    Ok((instance, plan))
}

/// The stream to sshd, then stdio relayed over it until sshd closes it.
async fn carry(
    aws: &AwsContext,
    instance: &Instance,
    plan: RoutePlan,
    req: &ProxyRequest,
    say: &impl Fn(&str, Instant),
) -> Result<()> {
    let opts = StreamOptions {
        port: req.port,
        timeout: req.timeout,
        max_tunnel: req.max_tunnel,
        tunnel: &req.tunnel,
    };
    let t = Instant::now();
    let opened = stream::open(aws, instance, plan, &opts).await?;
    say(&format!("Reaching {}", opened.route), t);
    relay(opened.stream).await.map_err(|e| {
        Error::new(
            ErrorKind::ConnectionLost,
            format!("the connection to {} broke: {e}", instance.label()),
        )
    })
}

/// Pushes `key` for `instance_id`; once EC2 Instance Connect has it, the agent may offer it.
async fn push_and_offer(
    aws: &AwsContext,
    req: &ProxyRequest,
    instance_id: &str,
    key: &AgentKey,
    agent: &mut AgentClient,
    say: &impl Fn(&str, Instant),
) -> Result<()> {
    let t = Instant::now();
    let request = PushRequest {
        region: &req.region,
        instance_id,
        os_user: &req.os_user,
        public_key: &key.public_openssh,
    };
    push_key(aws, &request).await?;
    say("Push", t);
    agent.ready(key.id).await
}

/// The one instance a proxy target names in `region`: an instance id or Name tag (as
/// `keyless ssh` takes them; a stopped instance is found, and refused later with its state), or a
/// tag selector (`Env=prod,Role=web`) matching exactly one running instance.
pub async fn resolve(aws: &AwsContext, region: &str, target: &str) -> Result<Instance> {
    use crate::profiles::resolve::{ambiguous_error, running_candidates};
    use crate::profiles::target::Target;
    if !target.contains('=') {
        return crate::inventory::resolve_target(aws, region, target).await;
    }
    let selector = Target::parse(target)?;
    let mut found = running_candidates(aws, region, &selector).await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        _ => Err(ambiguous_error(&selector, region, &found)),
    }
}
