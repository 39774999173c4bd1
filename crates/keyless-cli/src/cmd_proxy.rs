//! `keyless proxy` (OpenSSH's ProxyCommand), `keyless proxy-known-hosts` (its KnownHostsCommand)
//! and `keyless agent` (the in-memory ssh-agent they share). `keyless ssh-config` writes the
//! OpenSSH config that runs them. Failures print one `keyless: …` line and the hint on stderr,
//! which OpenSSH shows, and exit 255 as `ssh` itself does.

use crate::args::{AwsArgs, ConnectArgs};
use crate::output::Failure;
use clap::Args;
use keyless_core::openssh::agent::{self, AgentClient};
use keyless_core::openssh::{known_hosts_command, paths, proxy};
use keyless_core::{AwsContext, AwsSelection, KnownHosts};
use std::path::PathBuf;
use std::time::Duration;

pub const EXAMPLES: &str = "Examples (in ~/.ssh/config; `keyless ssh-config --install` writes them for you):\n  \
    Host *.keyless\n      ProxyCommand keyless proxy -l %r -p %p %n\n  \
    Host web-prod\n      ProxyCommand keyless proxy -l %r -p %p @web-prod\n\n\
    TARGET is an instance id, a Name tag (NAME.keyless works too), a tag selector matching one\n\
    running instance (Env=prod,Role=web) or @PROFILE. The one-time key is offered to that ssh only,\n\
    through Keyless's agent (IdentityAgent); it is never written to disk.";

/// Suffix of ad-hoc names in the generated config: `ssh web.keyless` reaches the instance `web`.
const NAME_SUFFIX: &str = ".keyless";

#[derive(Args, Debug)]
pub struct ProxyArgs {
    /// Instance id, Name tag, NAME.keyless, tag selector or @PROFILE.
    pub target: String,
    /// OS user the key is pushed for (OpenSSH's %r).
    #[arg(short = 'l', long = "login", value_name = "USER")]
    pub login: Option<String>,
    /// sshd's port on the instance (OpenSSH's %p).
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// private (default), public, eice or auto.
    #[arg(long, value_name = "PATH")]
    pub via: Option<String>,
    #[arg(long, value_name = "SECS")]
    pub max_tunnel_duration: Option<String>,
    /// Seconds an AWS call or a tunnel may take [default: KEYLESS_TIMEOUT, else 15].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
    /// The agent's socket, as the config's IdentityAgent names it [default: the runtime folder's].
    #[arg(long, value_name = "PATH")]
    pub agent: Option<PathBuf>,
    /// Each step's time on stderr.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct KnownHostsArgs {
    #[arg(long, value_name = "PATH")]
    pub agent: Option<PathBuf>,
    /// Why OpenSSH asks (%I: ADDRESS, HOSTNAME or ORDER).
    pub reason: String,
    /// The name OpenSSH looks the key up under (%H).
    pub host: String,
    /// The offered key's type and base64 (%t %K), when OpenSSH has one.
    pub offered: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AgentArgs {
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

pub async fn run(args: ProxyArgs) -> Result<i32, Failure> {
    let socket = socket_or_default(args.agent.clone())?;
    let verbose = args.verbose;
    let target = args
        .target
        .strip_suffix(NAME_SUFFIX)
        .unwrap_or(&args.target);
    let connect = ConnectArgs {
        login: args.login,
        port: args.port,
        aws: args.aws,
        region: args.region,
        via: args.via,
        max_tunnel_duration: args.max_tunnel_duration,
        host_key_policy: None,
        timeout: args.timeout,
        verbose,
    };
    let mut ssh = connect.into_ssh(target.to_owned());
    let profile = crate::cmd_profile::apply_to_ssh(&mut ssh).map_err(Failure::ssh)?;
    let plan = crate::cmd_ssh::Plan::from_args(&ssh).map_err(Failure::ssh)?;
    let selection = AwsSelection {
        profile: ssh.aws.profile.clone(),
        region: ssh.region.clone(),
        endpoint_url: None,
    };
    // No MFA prompt: stdin and stdout belong to OpenSSH. `keyless login` first.
    let aws = AwsContext::load_with(&selection, None)
        .await
        .map_err(Failure::ssh)?;
    let region = aws.default_region().map_err(Failure::ssh)?;
    let agent = AgentClient::connect_or_start(&socket, agent_command(&socket)?)
        .await
        .map_err(Failure::ssh)?;
    let request = proxy::ProxyRequest {
        target: plan.target,
        region,
        os_user: plan.user,
        port: plan.port,
        via: plan.via,
        timeout: plan.timeout,
        max_tunnel: plan.max_tunnel,
        tunnel: keyless_core::eice::TunnelSettings::from_env(),
        known_hosts: KnownHosts::open_default().map_err(Failure::ssh)?,
        verbose,
    };
    if let Some(name) = profile {
        let _ = keyless_core::ProfileStore::open_default().and_then(|s| s.mark_used(&name));
    }
    proxy::run(&aws, request, agent)
        .await
        .map_err(Failure::ssh)?;
    Ok(0)
}

/// Prints the keys pinned for the instance this `ssh` reaches, under the name it asked about.
/// Always exits 0: a failure here must not stop OpenSSH from applying its own policy.
pub async fn known_hosts(args: KnownHostsArgs) -> Result<i32, Failure> {
    // A name OpenSSH would not parse back is not one of ours.
    if args.host.is_empty() || args.host.contains(char::is_whitespace) {
        return Ok(0);
    }
    // `%t %K`: empty words when OpenSSH only asks which key types to prefer.
    let offered = args.offered.join(" ");
    let offered = (args.offered.len() == 2).then_some(offered.as_str());
    let found = async {
        let socket = socket_or_default(args.agent.clone()).map_err(|f| f.error)?;
        let store = KnownHosts::open_default()?;
        known_hosts_command::answer(&socket, &args.host, offered, &store).await
    };
    match found.await {
        Ok(answer) => {
            for line in answer.lines {
                println!("{line}");
            }
            if let Some(changed) = answer.changed {
                crate::output::print_error(&changed);
            }
        }
        Err(e) => crate::output::print_error(&e),
    }
    Ok(0)
}

pub async fn agent(args: AgentArgs) -> Result<i32, Failure> {
    let socket = socket_or_default(args.socket)?;
    let idle_exit = std::env::var("KEYLESS_AGENT_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(agent::IDLE_EXIT);
    agent::serve(agent::AgentOptions { socket, idle_exit })
        .await
        .map_err(Failure::ssh)?;
    Ok(0)
}

fn socket_or_default(given: Option<PathBuf>) -> Result<PathBuf, Failure> {
    match given {
        Some(path) => Ok(path),
        None => paths::agent_socket().map_err(Failure::ssh),
    }
}

/// `keyless agent --socket PATH`, run from this very binary.
fn agent_command(socket: &std::path::Path) -> Result<std::process::Command, Failure> {
    let exe = std::env::current_exe().map_err(|e| {
        Failure::ssh(keyless_core::Error::new(
            keyless_core::ErrorKind::Io,
            format!("cannot find the keyless binary to start its agent: {e}"),
        ))
    })?;
    let mut command = std::process::Command::new(exe);
    command.arg("agent").arg("--socket").arg(socket);
    Ok(command)
}
