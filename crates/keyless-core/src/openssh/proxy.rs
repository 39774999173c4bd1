//! `keyless proxy`: OpenSSH's ProxyCommand. For an instance already resolved, it asks the agent
//! for a one-time key bound to the `ssh` that runs it, pushes the public half while it opens the
//! stream to sshd, marks the key ready once EC2 Instance Connect has it, and relays stdio. OpenSSH
//! does the rest — key exchange, host-key check, authentication through the agent — so the key
//! exchange overlaps the push exactly as in `keyless ssh`.

use super::agent::AgentClient;
use super::relay::relay;
use super::stream::{self, StreamOptions};
use crate::address::{plan_route, Via};
use crate::aws::AwsContext;
use crate::eice::TunnelSettings;
use crate::error::{Error, ErrorKind, Result};
use crate::hostkeys::KnownHosts;
use crate::instance::Instance;
use crate::push::{push_key, PushRequest};
use std::time::{Duration, Instant};

pub struct ProxyRequest {
    pub instance: Instance,
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
pub async fn run(aws: &AwsContext, req: ProxyRequest, mut agent: AgentClient) -> Result<()> {
    crate::validate::os_user(&req.os_user)?;
    req.instance.ensure_running()?;
    let plan = plan_route(&req.instance, req.via)?;
    let instance_id = &req.instance.instance_id;
    let key = agent.open(instance_id, req.known_hosts.path()).await?;
    let say = |what: &str, since: Instant| {
        if req.verbose {
            eprintln!("keyless: {what} took {} ms", since.elapsed().as_millis());
        }
    };

    let push = async {
        let t = Instant::now();
        let request = PushRequest {
            region: &req.instance.region,
            instance_id,
            os_user: &req.os_user,
            public_key: &key.public_openssh,
        };
        push_key(aws, &request).await?;
        say("Push", t);
        agent.ready(key.id).await
    };
    let opts = StreamOptions {
        port: req.port,
        timeout: req.timeout,
        max_tunnel: req.max_tunnel,
        tunnel: &req.tunnel,
    };
    let carry = async {
        let t = Instant::now();
        let opened = stream::open(aws, &req.instance, plan, &opts).await?;
        say(&format!("Reaching {}", opened.route), t);
        relay(opened.stream).await.map_err(|e| {
            Error::new(
                ErrorKind::ConnectionLost,
                format!("the connection to {} broke: {e}", req.instance.label()),
            )
        })
    };
    // The agent connection must outlive the relay: the record (and the key) end with it.
    let ((), ()) = tokio::try_join!(push, carry)?;
    drop(agent);
    Ok(())
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
