//! Part 4: moving a file. `keyless cp` up and down against OpenSSH's `sftp` and `scp` (with a key
//! pushed beforehand) on the same sshd, over loopback as it is and over a delay line that adds a
//! round trip (a distant region), where a transfer with few requests in flight falls behind.
//! Every copy is checked byte for byte (SHA-256) before its time counts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use keyless_lab::{Lab, LabInstance, LabOptions};
use sha2::{Digest, Sha256};

use super::delay_line::DelayLine;
use super::env::{which, BenchHome};
use super::measure::Measured;
use super::push::{eic_client, generate_key, FloorKey, Pusher};
use super::report::Row;

pub struct TransferConfig {
    pub size_mib: u64,
    /// Round trips to add; zero is loopback as it is (no relay).
    pub rtts: Vec<Duration>,
}

/// The rows of one link, each with its label, in print order.
pub struct LinkRows {
    pub rtt: Duration,
    pub upload: Vec<(&'static str, Row)>,
    pub download: Vec<(&'static str, Row)>,
}

pub struct TransferResult {
    pub size_bytes: u64,
    pub instance_id: String,
    pub links: Vec<LinkRows>,
    /// Key pushes keyless made per `cp` (one connection each, so 1 expected).
    pub keyless_pushes_per_copy: f64,
}

/// The lab, the floor key, and the files, shared by both parts that move bytes.
pub struct Bench<'a> {
    pub lab: Lab,
    pub inst: LabInstance,
    pub keyless: &'a Path,
    pub vars: Vec<(String, String)>,
    pub scratch: PathBuf,
    pub key: FloorKey,
    pub pusher: Pusher,
    pub runs: usize,
    _home: BenchHome,
}

impl<'a> Bench<'a> {
    pub async fn start(keyless: &'a Path, runs: usize) -> Result<Bench<'a>, String> {
        let lab = Lab::start(LabOptions::default())
            .await
            .map_err(|e| format!("starting the lab: {e}"))?;
        let home = BenchHome::new().map_err(|e| format!("temp HOME: {e}"))?;
        let vars = home.vars(&lab);
        let scratch = home.scratch();
        let inst = lab.instance_named("db-primary");
        let key = generate_key(&scratch)?;
        let pusher = Pusher::new(eic_client(&vars)?, &inst.id, lab.os_user(), &key);
        Ok(Bench {
            lab,
            inst,
            keyless,
            vars,
            scratch,
            key,
            pusher,
            runs,
            _home: home,
        })
    }

    /// Where a client reaches the instance's sshd with `rtt` added (the relay lives as long as
    /// the returned guard).
    pub async fn link(&self, rtt: Duration) -> Result<(SocketAddr, Option<DelayLine>), String> {
        let sshd = SocketAddr::new(self.inst.private_ip.into(), self.lab.ssh_port());
        if rtt.is_zero() {
            return Ok((sshd, None));
        }
        let line = DelayLine::start(sshd.ip(), sshd, rtt / 2)
            .await
            .map_err(|e| format!("starting the delay line: {e}"))?;
        Ok((line.addr, Some(line)))
    }

    pub fn keyless_pushes(&self) -> usize {
        let floor = self.key.public_line.trim();
        (self.lab.pushes().iter())
            .filter(|p| p.outcome == "Success" && p.key.trim() != floor)
            .count()
    }
}

pub async fn run(bench: &mut Bench<'_>, cfg: &TransferConfig) -> Result<TransferResult, String> {
    let sftp = which("sftp").ok_or("no `sftp` on PATH")?;
    let scp = which("scp").ok_or("no `scp` on PATH")?;
    let local = bench.scratch.join("local");
    let remote = bench.scratch.join("remote");
    for dir in [&local, &remote] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let source = local.join("source.bin");
    let size_bytes = cfg.size_mib * 1024 * 1024;
    let want = write_random(&source, size_bytes)?;
    std::fs::copy(&source, remote.join("source.bin")).map_err(|e| format!("copy: {e}"))?;
    give_to_login_user(&bench.scratch, &remote, bench.lab.os_user())?;

    let pushes_before = bench.keyless_pushes();
    let mut copies = 0usize;
    let mut links = Vec::new();
    for &rtt in &cfg.rtts {
        let (addr, _line) = bench.link(rtt).await?;
        let port = addr.port().to_string();
        let user = bench.lab.os_user().to_string();
        let keyless_remote = |path: &Path| format!("{user}@{}:{}", bench.inst.id, path.display());
        let openssh_remote = |path: &Path| format!("{user}@{}:{}", addr.ip(), path.display());
        let keyless_cp = |from: String, to: String| {
            Measured::new(
                bench.keyless,
                &[
                    "cp",
                    "--port",
                    &port,
                    "--host-key-policy",
                    "accept-new",
                    &from,
                    &to,
                ],
                &bench.vars,
            )
        };
        let openssh = |prog: &Path, port_flag: &str, tail: &[String]| {
            let mut args = bench.key.openssh_options();
            args.extend(["-q".into(), port_flag.into(), port.clone()]);
            args.extend_from_slice(tail);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Measured::new(prog, &args, &bench.vars)
        };
        let batch = |name: &str, line: String| -> Result<String, String> {
            let path = bench.scratch.join(name);
            std::fs::write(&path, line + "\n").map_err(|e| format!("batch file: {e}"))?;
            Ok(path.display().to_string())
        };
        let up_dest = remote.join("upload.bin");
        let down_dest = local.join("download.bin");
        let remote_source = remote.join("source.bin");
        let host = format!("{user}@{}", addr.ip());
        let put = batch(
            "put.batch",
            format!("put {} {}", source.display(), up_dest.display()),
        )?;
        let get = batch(
            "get.batch",
            format!("get {} {}", remote_source.display(), down_dest.display()),
        )?;
        let upload = [
            (
                "keyless cp (upload)",
                keyless_cp(source.display().to_string(), keyless_remote(&up_dest)),
            ),
            (
                "sftp put",
                openssh(&sftp, "-P", &["-b".into(), put, host.clone()]),
            ),
            (
                "scp (upload)",
                openssh(
                    &scp,
                    "-P",
                    &[source.display().to_string(), openssh_remote(&up_dest)],
                ),
            ),
        ];
        let download = [
            (
                "keyless cp (download)",
                keyless_cp(
                    keyless_remote(&remote_source),
                    down_dest.display().to_string(),
                ),
            ),
            ("sftp get", openssh(&sftp, "-P", &["-b".into(), get, host])),
            (
                "scp (download)",
                openssh(
                    &scp,
                    "-P",
                    &[
                        openssh_remote(&remote_source),
                        down_dest.display().to_string(),
                    ],
                ),
            ),
        ];
        // Untimed warm-up: keyless pins the host key on its first run; the page cache fills.
        bench.pusher.ensure_fresh().await?;
        for (what, m) in upload.iter().chain(download.iter()) {
            m.run_ok(&bench.scratch, &format!("{what} (warm-up)"))
                .await?;
        }
        copies += 2;
        let up = timed(bench, &upload, &up_dest, &want, &mut copies).await?;
        let down = timed(bench, &download, &down_dest, &want, &mut copies).await?;
        links.push(LinkRows {
            rtt,
            upload: up,
            download: down,
        });
    }
    let pushes = bench.keyless_pushes() - pushes_before;
    Ok(TransferResult {
        size_bytes,
        instance_id: bench.inst.id.clone(),
        links,
        keyless_pushes_per_copy: pushes as f64 / copies.max(1) as f64,
    })
}

/// sshd logs in as the lab's user (ec2-user when the bench runs as root): it must reach the
/// scratch folder and own the remote one, as on a real instance.
pub fn give_to_login_user(scratch: &Path, remote: &Path, user: &str) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        return Ok(());
    }
    let open = std::fs::Permissions::from_mode(0o755);
    for dir in [scratch.parent(), Some(scratch)].into_iter().flatten() {
        std::fs::set_permissions(dir, open.clone())
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let status = std::process::Command::new("chown")
        .arg("-R")
        .arg(user)
        .arg(remote)
        .status()
        .map_err(|e| format!("chown: {e}"))?;
    if !status.success() {
        return Err(format!("chown {} failed", remote.display()));
    }
    Ok(())
}

/// `runs` rounds of every variant, the order rotated each round; each copy checked whole.
async fn timed(
    bench: &mut Bench<'_>,
    variants: &[(&'static str, Measured)],
    dest: &Path,
    want: &[u8; 32],
    keyless_copies: &mut usize,
) -> Result<Vec<(&'static str, Row)>, String> {
    let mut rows: Vec<(&'static str, Row)> =
        variants.iter().map(|(w, _)| (*w, Row::new())).collect();
    for round in 0..bench.runs {
        for k in 0..variants.len() {
            let i = (round + k) % variants.len();
            let (what, m) = &variants[i];
            let _ = std::fs::remove_file(dest);
            if what.starts_with("keyless") {
                *keyless_copies += 1;
            } else {
                bench.pusher.ensure_fresh().await?;
            }
            let s = m.run_ok(&bench.scratch, what).await?;
            if sha256_of(dest)? != *want {
                return Err(format!(
                    "{what}: {} differs from the source",
                    dest.display()
                ));
            }
            rows[i].1.add(s.wall, Some(&s));
        }
    }
    Ok(rows)
}

/// `size` random bytes (a counter hashed, so nothing compresses it), returning their SHA-256.
fn write_random(path: &Path, size: u64) -> Result<[u8; 32], String> {
    use std::io::Write;
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut total = Sha256::new();
    let mut written = 0u64;
    let mut counter = 0u64;
    while written < size {
        let mut block = Vec::with_capacity(64 * 1024);
        while block.len() < 64 * 1024 {
            block.extend_from_slice(&Sha256::digest(counter.to_le_bytes()));
            counter += 1;
        }
        let n = block.len().min((size - written) as usize);
        out.write_all(&block[..n])
            .map_err(|e| format!("{}: {e}", path.display()))?;
        total.update(&block[..n]);
        written += n as u64;
    }
    out.flush()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(total.finalize().into())
}

fn sha256_of(path: &Path) -> Result<[u8; 32], String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut hash = Sha256::new();
    std::io::copy(&mut file, &mut hash).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(hash.finalize().into())
}
