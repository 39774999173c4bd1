//! `keyless tunnel`: a local port forwarded through the instance's EC2 Instance Connect
//! Endpoint until Ctrl+C. The local address goes to stdout (for scripts); what happens to each
//! connection goes to stderr.

use crate::args::TunnelArgs;
use crate::output::Failure;
use keyless_core::eice::TunnelSettings;
use keyless_core::local_tunnel::{LocalTunnel, LocalTunnelEvent, LocalTunnelSpec};
use keyless_core::profiles::{resolve, target::Target, ProfileStore};
use keyless_core::terminal_text::escape;
use keyless_core::{validate, AwsContext, AwsSelection, Error, Instance};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

pub async fn run(args: TunnelArgs) -> Result<i32, Failure> {
    let spec = spec(&args).map_err(Failure::usage)?;
    let (target, from_profile, region, aws_profile) = destination(&args).map_err(Failure::usage)?;
    let aws = AwsContext::load_with(
        &AwsSelection {
            profile: aws_profile,
            region,
            endpoint_url: None,
        },
        Some(&crate::cmd_identity::tty_mfa_prompt),
    )
    .await
    .map_err(Failure::ssh)?;
    let region = aws.default_region().map_err(Failure::ssh)?;
    let instance = if from_profile {
        find(&aws, &region, &target).await
    } else {
        keyless_core::resolve_target(&aws, &region, &target).await
    }
    .map_err(Failure::ssh)?;
    let tunnel = LocalTunnel::bind(&aws, &instance, spec)
        .await
        .map_err(Failure::ssh)?;
    let local = tunnel.local_addr().map_err(Failure::ssh)?;
    println!("{local}");
    let _ = std::io::stdout().flush();
    eprintln!(
        "keyless: {local} → {} at {} via EICE {}; Ctrl+C ends it",
        escape(&instance.label()),
        tunnel.address(),
        escape(tunnel.endpoint_id()),
    );
    let sink = Arc::new(|event: LocalTunnelEvent| report(&event));
    tokio::select! {
        served = tunnel.serve(sink) => served.map(|_| 0).map_err(Failure::ssh),
        _ = tokio::signal::ctrl_c() => Ok(0),
    }
}

fn report(event: &LocalTunnelEvent) {
    match event {
        LocalTunnelEvent::Opened { peer, took } => {
            eprintln!("keyless: {peer}: tunnel open ({} ms)", took.as_millis())
        }
        LocalTunnelEvent::Failed { peer, error } => {
            eprintln!("keyless: {peer}: {}", escape(&error.message));
            if let Some(hint) = &error.hint {
                eprintln!("  hint: {}", escape(hint));
            }
        }
        LocalTunnelEvent::Closed {
            peer,
            sent,
            received,
            error,
        } => match error {
            Some(e) => eprintln!("keyless: {peer}: {}", escape(&e.message)),
            None => eprintln!("keyless: {peer}: closed ({sent} bytes sent, {received} received)"),
        },
    }
}

fn spec(args: &TunnelArgs) -> keyless_core::Result<LocalTunnelSpec> {
    let local_port = match &args.local_port {
        Some(text) => validate::port(parse_port(text)?)?,
        None => 0,
    };
    let remote_port = validate::port(parse_port(&args.remote_port)?)?;
    Ok(LocalTunnelSpec {
        local: SocketAddr::from((Ipv4Addr::LOCALHOST, local_port)),
        remote_port,
        max_duration: (args.max_tunnel_duration.as_deref())
            .map(validate::max_tunnel_duration)
            .transpose()?,
        settings: TunnelSettings::from_env(),
        limit: keyless_core::phase_timeout(args.timeout.as_deref())?,
    })
}

fn parse_port(text: &str) -> keyless_core::Result<u32> {
    text.trim().parse::<u32>().map_err(|_| {
        Error::invalid(format!("'{}' is not a port number", escape(text)))
            .with_hint("Ports go from 1 to 65535.")
    })
}

/// The target (and whether a profile gave it), region and AWS profile: from the command line,
/// filled in by `@PROFILE`.
fn destination(
    args: &TunnelArgs,
) -> keyless_core::Result<(String, bool, Option<String>, Option<String>)> {
    if let Some(region) = &args.region {
        validate::region(region)?;
    }
    let Some(name) = args.target.strip_prefix('@') else {
        validate::target(&args.target)?;
        return Ok((
            args.target.clone(),
            false,
            args.region.clone(),
            args.aws.profile.clone(),
        ));
    };
    keyless_core::profiles::model::validate_name(name)?;
    let p = ProfileStore::open_default()?.get(name)?;
    Ok((
        p.target,
        true,
        args.region.clone().or(p.region),
        args.aws.profile.clone().or(p.aws_profile),
    ))
}

/// The one running instance a profile's target (id or tag selector) means.
async fn find(aws: &AwsContext, region: &str, target: &str) -> keyless_core::Result<Instance> {
    let parsed = Target::parse(target)?;
    let mut found = resolve::running_candidates(aws, region, &parsed).await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        _ => Err(resolve::ambiguous_error(&parsed, region, &found)),
    }
}
