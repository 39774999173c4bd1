//! `keyless ssh`: connect, then run a login shell (raw TTY, live resize) or a command whose exit
//! status becomes ours. Anything that fails before the session exits 255.

use crate::args::SshArgs;
use crate::output::Failure;
use crate::ssh_forwards::ForwardSpecs;
use crate::{prompt, terminal};
use keyless_core::{
    validate, AddressCache, AwsContext, AwsSelection, ConnectOptions, Exit, HostKeyPolicy,
    KnownHosts, PtySize, SessionEvent, SessionSpec, Via,
};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_USER: &str = "ec2-user";

pub async fn run(mut args: SshArgs) -> Result<i32, Failure> {
    // `@NAME`: the saved profile fills in whatever the command line left out.
    let profile = crate::cmd_profile::apply_to_ssh(&mut args).map_err(Failure::ssh)?;
    let plan = Plan::from_args(&args).map_err(Failure::ssh)?;
    // Bound before anything is connected: a taken port fails now, and no key is pushed.
    let listeners = plan.forwards.bind().await.map_err(Failure::ssh)?;
    let connection = connect(&args, &plan, profile.as_deref()).await?;
    let verbose = args.verbose;
    if verbose {
        eprintln!("keyless: connected to {}", connection.route_text());
    }
    let connection = Arc::new(connection);
    let forwarding = match listeners.start(&connection).await {
        Ok(forwarding) => forwarding,
        Err(e) => {
            close(connection).await;
            return Err(Failure::ssh(e));
        }
    };
    if plan.no_command {
        let outcome = forward_until_interrupted(&connection).await;
        drop(forwarding);
        close(connection).await;
        return outcome.map(|_| 0).map_err(Failure::ssh);
    }

    let pty = if plan.wants_pty {
        let (cols, rows) = terminal::size();
        Some(PtySize { cols, rows })
    } else {
        None
    };
    let spec = SessionSpec {
        command: plan.command.clone(),
        pty,
    };
    let mut session = connection.open(&spec).await.map_err(Failure::ssh)?;
    let input = session.input();

    // Raw mode only for an interactive terminal; restored when the guard drops, on every path.
    let raw = if pty.is_some() && std::io::stdin().is_terminal() {
        Some(terminal::RawMode::enable().map_err(|e| Failure::ssh(e.into()))?)
    } else {
        None
    };
    let stdin_task = tokio::spawn(terminal::forward_stdin(input.clone()));
    let resize_task = pty.map(|_| tokio::spawn(terminal::forward_resizes(input.clone())));

    let outcome = pump_output(&mut session).await;
    stdin_task.abort();
    if let Some(t) = resize_task {
        t.abort();
    }
    drop(raw);
    drop(forwarding);
    close(connection).await;
    match outcome {
        Ok(Exit::Status(code)) => Ok(code as i32),
        Ok(Exit::Signal { signal, message }) => {
            // The server chose both words.
            eprintln!(
                "keyless: remote program killed by signal {} {}",
                keyless_core::terminal_text::escape(&signal),
                keyless_core::terminal_text::escape(&message)
            );
            Ok(255)
        }
        Err(e) => Err(Failure::ssh(e)),
    }
}

/// `keyless cp` and anything else that connects the way `ssh` does: `args` as `ssh` takes them
/// (`@NAME` filled in from the saved profile), checked, then connected.
pub async fn connect_as_ssh(mut args: SshArgs) -> Result<keyless_core::Connection, Failure> {
    let profile = crate::cmd_profile::apply_to_ssh(&mut args).map_err(Failure::ssh)?;
    let plan = Plan::from_args(&args).map_err(Failure::ssh)?;
    connect(&args, &plan, profile.as_deref()).await
}

/// AWS identity, then the one-time key and the SSH connection (through the profile when named).
async fn connect(
    args: &SshArgs,
    plan: &Plan,
    profile: Option<&str>,
) -> Result<keyless_core::Connection, Failure> {
    let aws = AwsContext::load_with(
        &AwsSelection {
            profile: args.aws.profile.clone(),
            region: args.region.clone(),
            endpoint_url: None,
        },
        Some(&crate::cmd_identity::tty_mfa_prompt),
    )
    .await
    .map_err(Failure::ssh)?;
    let region = aws.default_region().map_err(Failure::ssh)?;

    let verbose = args.verbose;
    let begun = std::time::Instant::now();
    let opts = ConnectOptions {
        os_user: plan.user.clone(),
        port: plan.port,
        via: plan.via,
        host_key_policy: plan.policy,
        known_hosts: KnownHosts::open_default().map_err(Failure::ssh)?,
        prompt: Some(prompt::tty_host_key_prompt()),
        progress: Some(Arc::new(move |t: keyless_core::StepTiming| {
            // Steps overlap: when each ended shows the timeline.
            if verbose {
                eprintln!(
                    "keyless: {:?} took {} ms, done at {} ms",
                    t.step,
                    t.took.as_millis(),
                    begun.elapsed().as_millis()
                );
            }
        })),
        timeout: plan.timeout,
        max_tunnel: plan.max_tunnel,
        tunnel: keyless_core::eice::TunnelSettings::from_env(),
    };
    let connection = match profile {
        Some(name) => crate::cmd_profile::connect(&aws, &region, name, &plan.target, &opts).await,
        None => {
            let aws_profile = crate::cmd_ls::aws_profile_key(args.aws.profile.as_deref());
            let cache = AddressCache::open_default().ok();
            let recent =
                (cache.as_ref()).and_then(|c| c.recent(&aws_profile, &region, &plan.target));
            let connected = keyless_core::connect_target_with(
                &aws,
                &region,
                &plan.target,
                recent.as_ref(),
                &opts,
            )
            .await;
            if let (Ok(connection), Some(cache)) = (&connected, &cache) {
                // Only saves time later: a cache that cannot be written is no failure.
                let _ = cache.record(&aws_profile, std::slice::from_ref(&connection.instance));
            }
            connected
        }
    }
    .map_err(Failure::ssh)?;
    Ok(connection)
}

/// `-N`: until Ctrl+C (exit 0) or the connection drops (an error).
async fn forward_until_interrupted(
    connection: &keyless_core::Connection,
) -> keyless_core::Result<()> {
    eprintln!("keyless: Ctrl+C ends the forwarding");
    let dropped = async {
        // russh offers no future for the end of a connection: look twice a second.
        while !connection.is_closed() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = dropped => Err(keyless_core::Error::new(
            keyless_core::ErrorKind::ConnectionLost,
            format!("the connection to {} was lost", connection.instance.label()),
        )
        .with_hint("Run the command again to forward over a new connection.")),
    }
}

/// Ends the connection politely when nothing else holds it (forwarded streams may still).
async fn close(connection: Arc<keyless_core::Connection>) {
    if let Ok(connection) = Arc::try_unwrap(connection) {
        connection.disconnect().await;
    }
}

async fn pump_output(session: &mut keyless_core::Session) -> keyless_core::Result<Exit> {
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    loop {
        match session.next().await? {
            SessionEvent::Stdout(data) => {
                stdout.write_all(&data)?;
                stdout.flush()?;
            }
            SessionEvent::Stderr(data) => {
                stderr.write_all(&data)?;
                stderr.flush()?;
            }
            SessionEvent::Ended(exit) => return Ok(exit),
        }
    }
}

/// Everything the command line asks for, checked before any network call.
pub(crate) struct Plan {
    pub user: String,
    pub target: String,
    pub port: u16,
    pub via: Via,
    policy: HostKeyPolicy,
    command: Option<String>,
    wants_pty: bool,
    /// Per connect phase.
    pub timeout: Duration,
    pub max_tunnel: Option<Duration>,
    forwards: ForwardSpecs,
    /// `-N`: forward only.
    no_command: bool,
}

impl Plan {
    pub(crate) fn from_args(args: &SshArgs) -> keyless_core::Result<Plan> {
        let (user, target) = match &args.login {
            Some(login) => (Some(login.as_str()), args.destination.as_str()),
            None => validate::split_user_target(&args.destination),
        };
        let user = user.unwrap_or(DEFAULT_USER).to_owned();
        validate::os_user(&user)?;
        validate::target(target)?;
        let port_text = (args.port.clone())
            .or_else(|| {
                std::env::var("KEYLESS_SSH_PORT")
                    .ok()
                    .filter(|p| !p.is_empty())
            })
            .unwrap_or_else(|| "22".into());
        let port = port_text.trim().parse::<u32>().map_err(|_| {
            keyless_core::Error::invalid(format!("'{port_text}' is not a port number"))
                .with_hint("Ports go from 1 to 65535.")
        })?;
        let port = validate::port(port)?;
        if let Some(region) = &args.region {
            validate::region(region)?;
        }
        let via: Via = args.via.as_deref().unwrap_or("private").parse()?;
        let timeout = keyless_core::phase_timeout(args.timeout.as_deref())?;
        let max_tunnel = (args.max_tunnel_duration.as_deref())
            .map(validate::max_tunnel_duration)
            .transpose()?;
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let policy = match &args.host_key_policy {
            Some(p) => p.parse()?,
            None if interactive => HostKeyPolicy::Ask,
            None => HostKeyPolicy::Strict,
        };
        // Remote commands are one string, as with OpenSSH: the words joined by spaces.
        let command = (!args.command.is_empty()).then(|| args.command.join(" "));
        let forwards = ForwardSpecs::parse(
            &args.local_forward,
            &args.remote_forward,
            &args.dynamic_forward,
        )?;
        if args.no_command && (command.is_some() || forwards.is_empty()) {
            return Err(keyless_core::Error::invalid(
                "-N forwards ports only: it needs -L, -R or -D and takes no command",
            )
            .with_hint(
                "Add -L PORT:HOST:HOSTPORT (or -R, -D PORT), or leave out -N to run a shell.",
            ));
        }
        let wants_pty = args.force_tty || (command.is_none() && std::io::stdin().is_terminal());
        Ok(Plan {
            user,
            target: target.to_owned(),
            port,
            via,
            policy,
            command,
            wants_pty,
            timeout,
            max_tunnel,
            forwards,
            no_command: args.no_command,
        })
    }
}
