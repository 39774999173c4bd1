//! `keyless ssh-config`: the OpenSSH config that sends `ssh NAME` through `keyless proxy`.
//!
//! - [`SshConfig`]: what the file names besides the profiles (the `keyless` CLI, the agent's
//!   socket, Keyless's host-key store, flags for ad-hoc targets), recorded in its header.
//! - [`SshConfig::render`]: a `Host` block per profile and `Host i-* *.keyless`.
//! - [`SshFiles`]: `~/.ssh/keyless.conf` and the `Include` on top of `~/.ssh/config`; installed,
//!   refreshed when profiles change ([`refresh_if_installed`]), uninstalled.

mod atomic;
mod include;
mod install;
mod render;
mod settings;
#[cfg(test)]
mod tests;
mod words;

pub use install::{
    refresh_if_installed, FileChange, IncludeChange, InstallReport, SshFiles, UninstallReport,
};
pub use render::{Rendered, Skipped};
pub use settings::{AdHoc, SshConfig};
