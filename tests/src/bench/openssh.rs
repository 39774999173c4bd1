//! Part 6: plain OpenSSH through the generated config (`keyless proxy` + Keyless's agent), with a
//! 150 ms EIC latency and the EC2 API's latency (the proxy looks its target up, by id beside the
//! push; the floor does not): `ssh -F config ID true` against `keyless ssh ID -- true` and the
//! floor (OpenSSH with a key pushed beforehand); then `rsync -a` of a 100 MB tree through the
//! config against plain rsync over ssh with a pre-pushed key. Each rsync goes to a fresh folder, so
//! every run moves every byte.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keyless_lab::{Lab, LabOptions};

use super::env::{which, BenchHome};
use super::measure::Measured;
use super::push::{eic_client, generate_key, Pusher};
use super::report::Row;
use super::transfer::give_to_login_user;

pub struct OpenSshConfig<'a> {
    pub runs: usize,
    pub keyless: &'a Path,
    pub eic_latency: Duration,
    /// DescribeInstances latency: the proxy looks the target up (by id beside the push).
    pub api_latency: Duration,
    pub tree_mib: u64,
}

pub struct OpenSshResult {
    pub through_config: Row,
    pub keyless_ssh: Row,
    pub floor: Row,
    pub rsync_config: Row,
    pub rsync_floor: Row,
    pub tree_files: usize,
    pub tree_bytes: u64,
    pub rsync_runs: usize,
    /// Pushes by the proxy per `ssh` through the config (one connection each: 1 expected).
    pub pushes_per_proxy_ssh: f64,
}

/// Files of the tree: 1 MiB each, so the tree is `tree_mib` files.
const FILE_BYTES: usize = 1024 * 1024;

pub async fn run(cfg: &OpenSshConfig<'_>) -> Result<OpenSshResult, String> {
    let lab = Lab::start(LabOptions {
        eic_latency: cfg.eic_latency,
        api_latency: cfg.api_latency,
        ..LabOptions::default()
    })
    .await
    .map_err(|e| format!("starting the lab: {e}"))?;
    let outcome = measure(&lab, cfg).await;
    lab.shutdown().await;
    outcome
}

async fn measure(lab: &Lab, cfg: &OpenSshConfig<'_>) -> Result<OpenSshResult, String> {
    let home = BenchHome::new().map_err(|e| format!("temp HOME: {e}"))?;
    let scratch = home.scratch();
    let runtime = home.path().join("run");
    private_dir(&runtime)?;
    let mut vars = home.vars(lab);
    vars.push(("XDG_RUNTIME_DIR".into(), runtime.display().to_string()));
    let inst = lab.instance_named("db-primary");
    let user = lab.os_user().to_string();
    let port = lab.ssh_port().to_string();
    let config = write_config(cfg.keyless, &vars, home.path(), &port)?;
    let config = config.display().to_string();

    let key = generate_key(&scratch)?;
    let mut pusher = Pusher::new(eic_client(&vars)?, &inst.id, &user, &key);
    let ssh = which("ssh").ok_or("no `ssh` on PATH")?;
    let rsync = which("rsync").ok_or("no `rsync` on PATH (apt install rsync)")?;
    let dest_id = format!("{user}@{}", inst.id);
    let dest_ip = format!("{user}@{}", inst.private_ip);

    let via_config = ["-F", config.as_str(), "-o", "BatchMode=yes"];
    let through_config = Measured::new(
        &ssh,
        &[
            &via_config[..],
            &["-o", "StrictHostKeyChecking=yes", &dest_id, "true"],
        ]
        .concat(),
        &vars,
    );
    let keyless_ssh = Measured::new(
        cfg.keyless,
        &["ssh", &dest_id, "--host-key-policy", "strict", "--", "true"],
        &vars,
    );
    let floor_options = key.openssh_options();
    let floor_args: Vec<&str> = floor_options.iter().map(String::as_str).collect();
    let floor = Measured::new(
        &ssh,
        &[&floor_args[..], &["-p", &port, &dest_ip, "true"]].concat(),
        &vars,
    );

    // Warm-up (untimed): keyless pins the host key, the first proxy starts the agent.
    let warm_up = Measured::new(
        cfg.keyless,
        &[
            "ssh",
            &dest_id,
            "--host-key-policy",
            "accept-new",
            "--",
            "true",
        ],
        &vars,
    );
    warm_up.run_ok(&scratch, "keyless ssh (warm-up)").await?;
    through_config
        .run_ok(&scratch, "ssh through the config (warm-up)")
        .await?;
    pusher.push().await?;
    floor.run_ok(&scratch, "ssh floor (warm-up)").await?;

    let mut rows: [Row; 3] = Default::default();
    let proxy_pushes_before = lab.pushes().len();
    let mut proxy_runs = 0usize;
    let mut other_pushes = 0usize;
    for round in 0..cfg.runs {
        for k in 0..rows.len() {
            let i = (round + k) % rows.len();
            let before = lab.pushes().len();
            let s = match i {
                0 => {
                    proxy_runs += 1;
                    through_config
                        .run_ok(&scratch, "ssh through the config")
                        .await?
                }
                1 => keyless_ssh.run_ok(&scratch, "keyless ssh").await?,
                _ => {
                    pusher.ensure_fresh().await?;
                    floor.run_ok(&scratch, "ssh floor").await?
                }
            };
            if i != 0 {
                other_pushes += lab.pushes().len() - before;
            }
            rows[i].add(s.wall, Some(&s));
        }
    }
    let proxy_pushes = lab.pushes().len() - proxy_pushes_before - other_pushes;

    // rsync of a tree, both ways of reaching the instance.
    let local = scratch.join("tree");
    let (tree_files, tree_bytes) = write_tree(&local, cfg.tree_mib)?;
    let remote = scratch.join("remote");
    std::fs::create_dir_all(&remote).map_err(|e| format!("{}: {e}", remote.display()))?;
    give_to_login_user(&scratch, &remote, &user)?;
    let source = format!("{}/", local.display());
    let rsync_ssh_config = format!("ssh {}", via_config.join(" "));
    let rsync_ssh_floor = format!("ssh {} -p {port}", floor_args.join(" "));
    let rsync_runs = cfg.runs.clamp(1, 3);
    let mut rsync_rows: [Row; 2] = Default::default();
    for round in 0..rsync_runs {
        for k in 0..2 {
            let i = (round + k) % 2;
            let dest_dir = remote.join(format!("copy-{round}-{i}"));
            let (shell, target) = if i == 0 {
                (
                    &rsync_ssh_config,
                    format!("{dest_id}:{}/", dest_dir.display()),
                )
            } else {
                pusher.ensure_fresh().await?;
                (
                    &rsync_ssh_floor,
                    format!("{dest_ip}:{}/", dest_dir.display()),
                )
            };
            let m = Measured::new(&rsync, &["-a", "-e", shell, &source, &target], &vars);
            let s = m.run_ok(&scratch, "rsync -a").await?;
            let (files, bytes) = tree_size(&dest_dir)?;
            if (files, bytes) != (tree_files, tree_bytes) {
                return Err(format!(
                    "rsync left {files} files / {bytes} bytes in {}, not {tree_files} / {tree_bytes}",
                    dest_dir.display()
                ));
            }
            let _ = std::fs::remove_dir_all(&dest_dir);
            rsync_rows[i].add(s.wall, Some(&s));
        }
    }

    let [through_config, keyless_ssh, floor] = rows;
    let [rsync_config, rsync_floor] = rsync_rows;
    Ok(OpenSshResult {
        through_config,
        keyless_ssh,
        floor,
        rsync_config,
        rsync_floor,
        tree_files,
        tree_bytes,
        rsync_runs,
        pushes_per_proxy_ssh: proxy_pushes as f64 / proxy_runs.max(1) as f64,
    })
}

/// `keyless ssh-config` as a user would install it, behind a `Port` line for the lab's sshd (one
/// port for every lab instance; OpenSSH keeps the first value it reads).
fn write_config(
    keyless: &Path,
    vars: &[(String, String)],
    home: &Path,
    port: &str,
) -> Result<PathBuf, String> {
    let out = std::process::Command::new(keyless)
        .arg("ssh-config")
        .env_clear()
        .envs(vars.iter().cloned())
        .output()
        .map_err(|e| format!("keyless ssh-config: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "keyless ssh-config failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let ssh_dir = home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).map_err(|e| format!("{}: {e}", ssh_dir.display()))?;
    let generated = ssh_dir.join("keyless.conf");
    let config = ssh_dir.join("config");
    let user_config = format!("Port {port}\nInclude {}\n", generated.display());
    for (path, text) in [
        (&generated, &out.stdout[..]),
        (&config, user_config.as_bytes()),
    ] {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(config)
}

fn private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// `mib` files of 1 MiB of incompressible bytes in ten folders.
fn write_tree(root: &Path, mib: u64) -> Result<(usize, u64), String> {
    use sha2::{Digest, Sha256};
    let mut counter = 0u64;
    for n in 0..mib {
        let dir = root.join(format!("d{}", n % 10));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut bytes = Vec::with_capacity(FILE_BYTES);
        while bytes.len() < FILE_BYTES {
            bytes.extend_from_slice(&Sha256::digest(counter.to_le_bytes()));
            counter += 1;
        }
        let path = dir.join(format!("f{n:04}.bin"));
        std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    tree_size(root)
}

fn tree_size(root: &Path) -> Result<(usize, u64), String> {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let meta = entry.metadata().map_err(|e| format!("{e}"))?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    Ok((files, bytes))
}

/// Target for an `ssh` through the config against the floor.
pub const PROXY_TARGET: f64 = 1.3;

pub fn print(r: &OpenSshResult, runs: usize, eic_latency: Duration, api_latency: Duration) -> f64 {
    use super::report::{header, line, ratio_line};
    println!(
        "6. Plain OpenSSH through `keyless ssh-config` (keyless proxy + agent), EIC latency {} ms, \
         EC2 API latency {} ms, {runs} runs per row",
        eic_latency.as_millis(),
        api_latency.as_millis()
    );
    header();
    line(
        "a",
        "ssh -F config ID true (keyless proxy)",
        &r.through_config,
    );
    line("b", "keyless ssh ID -- true", &r.keyless_ssh);
    line("f", "ssh with a key pushed beforehand", &r.floor);
    let ratio = ratio_line(
        "ssh through the config / floor",
        &r.through_config,
        &r.floor,
        Some(PROXY_TARGET),
    );
    ratio_line("keyless ssh / floor", &r.keyless_ssh, &r.floor, None);
    println!(
        "   key pushes per ssh through the config: {:.2} (one connection each)",
        r.pushes_per_proxy_ssh
    );
    let mib = r.tree_bytes as f64 / (1024.0 * 1024.0);
    println!(
        "   rsync -a of a {mib:.0} MiB tree ({} files), {} runs each:",
        r.tree_files, r.rsync_runs
    );
    line(
        "c",
        "rsync -e 'ssh -F config' (keyless proxy)",
        &r.rsync_config,
    );
    line("g", "rsync over ssh, key pushed beforehand", &r.rsync_floor);
    ratio_line(
        "rsync through the config / plain",
        &r.rsync_config,
        &r.rsync_floor,
        None,
    );
    ratio
}
