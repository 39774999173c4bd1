//! `keyless`: the command-line face of Keyless, over the same core as the desktop app.

mod args;
mod cmd_configure_sso;
mod cmd_cp;
mod cmd_identity;
mod cmd_known_hosts;
mod cmd_ls;
mod cmd_profile;
mod cmd_proxy;
mod cmd_ssh;
mod cmd_ssh_config;
mod cmd_tunnel;
mod output;
mod progress;
mod prompt;
mod sftp;
mod ssh_forwards;
mod table;
mod terminal;

use args::{Cli, Command};
use clap::Parser;

fn main() {
    // The one-time key, SSO tokens and MFA credentials pass through this process too.
    if let Err(e) = keyless_core::harden::harden_process() {
        eprintln!("keyless: warning: could not keep secrets out of core dumps: {e}");
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keyless: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Ls(a) => cmd_ls::run(a).await,
            Command::Ssh(a) => cmd_ssh::run(a).await,
            Command::Cp(a) => cmd_cp::run(a).await,
            Command::Sftp(a) => sftp::run(a).await,
            Command::Tunnel(a) => cmd_tunnel::run(a).await,
            Command::Profile { action } => cmd_profile::run(action),
            Command::Connect(mut a) => {
                a.destination = format!("@{}", a.destination);
                cmd_ssh::run(a).await
            }
            Command::SshConfig(a) => cmd_ssh_config::run(a),
            Command::KnownHosts { action } => cmd_known_hosts::run(action),
            Command::Login(a) => cmd_identity::login(a).await,
            Command::ConfigureSso(a) => cmd_configure_sso::run(a).await,
            Command::Logout(a) => cmd_identity::logout(a).await,
            Command::Whoami(a) => cmd_identity::whoami(a).await,
            Command::AwsProfiles(a) => cmd_identity::aws_profiles(a),
            Command::Proxy(a) => cmd_proxy::run(a).await,
            Command::ProxyKnownHosts(a) => cmd_proxy::known_hosts(a).await,
            Command::Agent(a) => cmd_proxy::agent(a).await,
        }
    });
    let code = match result {
        Ok(code) => code,
        Err(failure) => {
            output::print_error(&failure.error);
            failure.code
        }
    };
    // Exit without waiting for the runtime: a blocked stdin read would otherwise hold us.
    std::process::exit(code);
}
