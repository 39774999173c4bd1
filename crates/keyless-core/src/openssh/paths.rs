//! Where the OpenSSH integration keeps its socket and files. The generated config names these
//! paths literally, and `keyless proxy` is handed the socket path by that config, so the two never
//! disagree even when the environment of a later shell differs.

use crate::error::{Error, ErrorKind, Result};
use std::path::PathBuf;

/// The agent's socket: `$XDG_RUNTIME_DIR/keyless/agent.sock` (a per-user tmpfs, mode 0700), else
/// `/tmp/keyless-UID/agent.sock` (the folder is made 0700 and checked to be ours before use).
pub fn agent_socket() -> Result<PathBuf> {
    Ok(runtime_dir()?.join("agent.sock"))
}

/// The folder of [`agent_socket`].
pub fn runtime_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("keyless"));
    }
    #[cfg(unix)]
    {
        let uid = nix::unistd::getuid();
        Ok(std::env::temp_dir().join(format!("keyless-{uid}")))
    }
    #[cfg(not(unix))]
    Err(Error::new(
        ErrorKind::Io,
        "the OpenSSH integration needs a Unix socket",
    ))
}

/// The generated OpenSSH config, included from `~/.ssh/config` by `keyless ssh-config --install`.
pub fn ssh_config_file() -> Result<PathBuf> {
    Ok(ssh_dir()?.join("keyless.conf"))
}

/// The user's `~/.ssh`.
pub fn ssh_dir() -> Result<PathBuf> {
    dirs::home_dir().map(|h| h.join(".ssh")).ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            "cannot find the home directory (HOME is not set)",
        )
        .with_hint("Set HOME.")
    })
}
