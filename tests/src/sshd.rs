//! One real OpenSSH sshd per running instance: host key, config, process, readiness.

use std::fs::{self, OpenOptions};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::LabError;

pub const SSHD: &str = "/usr/sbin/sshd";
pub const CURL: &str = "/usr/bin/curl";

pub struct Paths {
    /// Config, log and pid file of this run.
    pub dir: PathBuf,
    /// The host key, part of the lab's identity (kept across runs, see `identity.rs`).
    pub key_dir: PathBuf,
}

impl Paths {
    pub fn new(state_dir: &Path, id: &str) -> Paths {
        Paths {
            dir: state_dir.join(id),
            key_dir: crate::identity::dir(state_dir).join(id),
        }
    }
    pub fn host_key(&self) -> PathBuf {
        self.key_dir.join("ssh_host_ed25519_key")
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("sshd_config")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("sshd.log")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("sshd.pid")
    }
}

/// Returns the host public key line, generating the key pair the first time (or after `rekey`
/// removed it) so the key survives restarts.
pub async fn ensure_host_key(paths: &Paths, id: &str) -> Result<String, LabError> {
    fs::create_dir_all(&paths.dir)
        .map_err(LabError::io(format!("creating {}", paths.dir.display())))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&paths.key_dir)
        .map_err(LabError::io(format!(
            "creating {}",
            paths.key_dir.display()
        )))?;
    let key = paths.host_key();
    let pub_path = key.with_extension("pub");
    if !key.exists() || !pub_path.exists() {
        let _ = fs::remove_file(&key);
        let _ = fs::remove_file(&pub_path);
        let out = tokio::process::Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                &format!("keyless-lab {id}"),
                "-f",
            ])
            .arg(&key)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(LabError::io("running ssh-keygen"))?;
        if !out.status.success() {
            return Err(LabError::Setup(format!(
                "ssh-keygen failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    let line = fs::read_to_string(&pub_path)
        .map_err(LabError::io(format!("reading {}", pub_path.display())))?;
    Ok(line.trim().to_string())
}

/// Forget the host key so the next `ensure_host_key` makes a new one.
pub fn remove_host_key(paths: &Paths) {
    let _ = fs::remove_file(paths.host_key());
    let _ = fs::remove_file(paths.host_key().with_extension("pub"));
}

pub struct ConfigInput<'a> {
    pub id: &'a str,
    pub addrs: &'a [Ipv4Addr],
    pub port: u16,
    pub keys_port: u16,
    pub command_user: &'a str,
}

/// OpenSSH ≥ 9.8 throttles sources that fail auth; tests fail auth on purpose.
fn has_per_source_penalties() -> bool {
    static CACHED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CACHED.get_or_init(detect_penalties)
}

fn detect_penalties() -> bool {
    let Ok(out) = Command::new("ssh").arg("-V").output() else {
        return false;
    };
    let v = String::from_utf8_lossy(&out.stderr);
    let Some(ver) = v.strip_prefix("OpenSSH_") else {
        return false;
    };
    let mut nums = ver
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let (major, minor) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    (major, minor) >= (9, 8)
}

pub fn config_text(paths: &Paths, c: &ConfigInput) -> String {
    let mut s = String::new();
    for ip in c.addrs {
        s.push_str(&format!("ListenAddress {ip}:{}\n", c.port));
    }
    s.push_str(&format!(
        "HostKey {host_key}\n\
         PidFile {pid}\n\
         UsePAM no\n\
         StrictModes no\n\
         AuthorizedKeysFile none\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PubkeyAuthentication yes\n\
         PermitRootLogin prohibit-password\n\
         AuthenticationMethods publickey\n\
         LogLevel VERBOSE\n\
         PrintMotd no\n\
         X11Forwarding no\n\
         Subsystem sftp internal-sftp\n\
         AuthorizedKeysCommand {CURL} -sfG --max-time 4 --data-urlencode user=%u --data-urlencode fp=%f http://127.0.0.1:{kp}/_lab/keys/{id}\n\
         AuthorizedKeysCommandUser {cu}\n",
        host_key = paths.host_key().display(),
        pid = paths.pid_file().display(),
        kp = c.keys_port,
        id = c.id,
        cu = c.command_user,
    ));
    if has_per_source_penalties() {
        s.push_str("PerSourcePenalties no\n");
    }
    s
}

pub fn spawn(paths: &Paths, config: &str) -> Result<Child, LabError> {
    fs::write(paths.config(), config).map_err(LabError::io("writing sshd_config"))?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.log())
        .map_err(LabError::io("opening sshd.log"))?;
    let log2 = log.try_clone().map_err(LabError::io("opening sshd.log"))?;
    Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(paths.config())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(LabError::io(format!("starting {SSHD}")))
}

/// Last lines of the sshd log, for error messages.
pub fn log_tail(paths: &Paths) -> String {
    let text = fs::read_to_string(paths.log()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

/// Counts the TCP connections sshd accepted, from its log's `Connection from A port P on B port
/// Q` lines (LogLevel VERBOSE) after byte `offset`. The lab's own readiness probes connect from
/// the address they probe (`A == B`) and are not counted; clients, direct or through a tunnel,
/// connect from 127.0.0.1.
pub fn connections_in_log(paths: &Paths, offset: u64) -> usize {
    let bytes = fs::read(paths.log()).unwrap_or_default();
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    String::from_utf8_lossy(&bytes[start..])
        .lines()
        .filter_map(|l| {
            let rest = &l[l.find("Connection from ")? + "Connection from ".len()..];
            let mut words = rest.split_whitespace();
            let from = words.next()?;
            let on = words.nth(3)?; // after "port P on"
            Some(from != on)
        })
        .filter(|counted| *counted)
        .count()
}

/// The log's current length: where a new lab run starts counting.
pub fn log_len(paths: &Paths) -> u64 {
    fs::metadata(paths.log()).map_or(0, |m| m.len())
}

/// One readiness probe, from the probed address itself so `connections_in_log` can skip it.
/// Ready means sshd sent its banner: a bare TCP connect can land in a listener that is about to
/// close (a muted port's, an sshd still starting) and be reset a moment later.
async fn probe(sa: SocketAddr) -> bool {
    use tokio::io::AsyncReadExt;
    let SocketAddr::V4(v4) = sa else {
        return false;
    };
    let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
        return false;
    };
    if socket.bind(SocketAddr::from((*v4.ip(), 0))).is_err() {
        return false;
    }
    let banner = async {
        let mut stream = socket.connect(sa).await.ok()?;
        let mut head = [0u8; 8];
        stream.read_exact(&mut head).await.ok()?;
        Some(head)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), banner).await,
        Ok(Some(head)) if head.starts_with(b"SSH-2.0-")
    )
}

/// Waits until sshd greets on every address. `exited` reports an early death.
pub async fn wait_ready(
    addrs: &[Ipv4Addr],
    port: u16,
    mut exited: impl FnMut() -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    for ip in addrs {
        let sa = SocketAddr::from((*ip, port));
        loop {
            if probe(sa).await {
                break;
            }
            if exited() {
                return Err("sshd exited during startup".into());
            }
            if Instant::now() > deadline {
                return Err(format!("sshd did not greet on {sa} within 10 s"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn probes_are_not_connections() {
        let dir = tempfile::tempdir().unwrap();
        let paths = super::Paths::new(dir.path(), "i-0123456789abcdef0");
        std::fs::create_dir_all(&paths.dir).unwrap();
        std::fs::write(
            paths.log(),
            "Server listening on 127.1.2.3 port 22.\n\
             Connection from 127.1.2.3 port 5 on 127.1.2.3 port 22 rdomain \"\"\n\
             Connection from 127.0.0.1 port 6 on 127.1.2.3 port 22 rdomain \"\"\n",
        )
        .unwrap();
        assert_eq!(super::connections_in_log(&paths, 0), 1);
        assert_eq!(super::connections_in_log(&paths, 10_000), 0);
    }
}
