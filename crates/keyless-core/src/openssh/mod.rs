//! Keyless inside OpenSSH: plain `ssh`, `scp`, `rsync`, VS Code and Ansible reach instances with
//! one-time keys that never touch disk.
//!
//! - `ssh-config` renders `~/.ssh/keyless.conf`: a `Host` block per saved profile and patterns for
//!   ad-hoc targets, each with `ProxyCommand keyless proxy …`.
//! - `keyless proxy` resolves the target, asks the agent for a one-time key bound to the `ssh`
//!   process that started it, pushes the public half while it opens the path, and relays stdio.
//! - The agent speaks the ssh-agent protocol on a private Unix socket and answers each `ssh` only
//!   with the keys made for it; OpenSSH verifies host keys itself against Keyless's store.

#[cfg(unix)]
pub mod agent;
pub mod config;
#[cfg(unix)]
pub mod known_hosts_command;
pub mod paths;
#[cfg(unix)]
pub mod proxy;
#[cfg(unix)]
mod relay;
#[cfg(unix)]
mod stream;
