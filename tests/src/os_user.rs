//! Which OS user the instances log in as, and the machine setup that needs root.

use std::process::Command;
use std::sync::Mutex;

use nix::unistd::{geteuid, User};

use crate::LabError;

pub const ROOT_OS_USER: &str = "ec2-user";

/// Serializes `useradd` between labs of one process (it fails on a locked /etc/passwd).
static USERADD: Mutex<()> = Mutex::new(());

pub fn is_root() -> bool {
    geteuid().is_root()
}

pub fn current_user() -> Result<String, LabError> {
    match User::from_uid(geteuid()) {
        Ok(Some(u)) => Ok(u.name),
        _ => std::env::var("USER")
            .map_err(|_| LabError::Setup("cannot tell the current user's name".into())),
    }
}

fn user_exists(name: &str) -> bool {
    matches!(User::from_name(name), Ok(Some(_)))
}

/// As root: `ec2-user` (created when missing); otherwise the current user.
pub fn lab_user(root: bool) -> Result<String, LabError> {
    if !root {
        return current_user();
    }
    let _guard = USERADD.lock().unwrap_or_else(|e| e.into_inner());
    if !user_exists(ROOT_OS_USER) {
        // `*`: no password, but not locked (sshd refuses locked accounts without PAM).
        let out = Command::new("useradd")
            .args(["-m", "-s", "/bin/bash", "-p", "*", ROOT_OS_USER])
            .output()
            .map_err(LabError::io("running useradd"))?;
        if !out.status.success() && !user_exists(ROOT_OS_USER) {
            return Err(LabError::Setup(format!(
                "useradd {ROOT_OS_USER} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    Ok(ROOT_OS_USER.to_string())
}

/// sshd's privilege-separation directory, missing on machines that never ran the sshd service.
pub fn ensure_privsep_dir() -> Result<(), LabError> {
    std::fs::create_dir_all("/run/sshd").map_err(LabError::io("creating /run/sshd"))
}
