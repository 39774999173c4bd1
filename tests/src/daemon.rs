//! Bookkeeping for a background lab (`keyless-lab up/down/status`): the state dir and the
//! `lab.json` record a running `serve` leaves there.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::procs;
use crate::IdentityStatus;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabRecord {
    pub pid: u32,
    pub endpoint: String,
    pub http_port: u16,
    pub ssh_port: u16,
    pub env_file: PathBuf,
    pub os_user: String,
    /// Whether the lab kept the identity of the last run in this state dir.
    #[serde(default)]
    pub identity: Option<IdentityStatus>,
}

impl LabRecord {
    pub fn http_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.http_port))
    }
}

/// `$XDG_STATE_HOME/keyless-lab`, else `~/.local/state/keyless-lab`.
pub fn default_state_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("keyless-lab");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    home.join(".local/state/keyless-lab")
}

fn record_path(dir: &Path) -> PathBuf {
    dir.join("lab.json")
}

pub fn log_path(dir: &Path) -> PathBuf {
    dir.join("lab.log")
}

/// Written atomically, so a reader never sees half a record.
pub fn write_record(dir: &Path, rec: &LabRecord) -> std::io::Result<()> {
    let tmp = dir.join("lab.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(rec)?)?;
    std::fs::rename(tmp, record_path(dir))
}

pub fn read_record(dir: &Path) -> Option<LabRecord> {
    serde_json::from_slice(&std::fs::read(record_path(dir)).ok()?).ok()
}

pub fn remove_record(dir: &Path) {
    let _ = std::fs::remove_file(record_path(dir));
}

/// The record of a lab that is really running: its pid is alive and is a `keyless-lab serve`
/// (a stale record with a reused pid must not make us signal a stranger).
pub fn running(dir: &Path) -> Option<LabRecord> {
    let rec = read_record(dir)?;
    let pid = i32::try_from(rec.pid).ok()?;
    let cmd = procs::cmdline(pid);
    (procs::alive(pid) && cmd.contains("keyless-lab") && cmd.contains(" serve")).then_some(rec)
}

pub fn pid_alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(procs::alive)
}

/// The per-run files (sshd config, log, pid) of earlier labs in a persistent state dir; what
/// outlives a run (ids, host keys) is in `<state>/identity`.
pub fn clear_old_instances(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_instance = name
            .strip_prefix("i-")
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if is_instance && e.path().is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
