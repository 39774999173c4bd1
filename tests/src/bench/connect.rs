//! Part 1: connect latency to `db-primary` with a 150 ms EIC latency. Keyless (push overlapped
//! with the handshake) against the floor (OpenSSH with a key pushed beforehand) and against
//! push-then-connect, the way the AWS tools do it.

use std::path::Path;
use std::time::Duration;

use keyless_lab::{Lab, LabOptions};

use super::env::{which, BenchHome};
use super::measure::Measured;
use super::push::{eic_client, generate_key, Pusher};
use super::report::Row;

pub struct ConnectConfig<'a> {
    pub runs: usize,
    pub keyless: &'a Path,
    pub aws: &'a Path,
    pub eic_latency: Duration,
}

pub struct ConnectResult {
    pub instance_id: String,
    pub os_user: String,
    pub address: String,
    pub keyless: Row,
    pub floor: Row,
    pub sequential_sdk: Row,
    pub sequential_cli: Row,
    /// The floor with keyless's key exchange, to tell KEX cost from the rest.
    pub floor_x25519: Row,
    /// Median per step from `keyless ssh -v`, in the order keyless prints them.
    pub steps: Vec<(String, Duration)>,
    pub verbose_runs: usize,
    pub pushes_by_keyless: usize,
}

const VERBOSE_RUNS: usize = 5;

pub async fn run(cfg: &ConnectConfig<'_>) -> Result<ConnectResult, String> {
    let lab = Lab::start(LabOptions {
        eic_latency: cfg.eic_latency,
        ..LabOptions::default()
    })
    .await
    .map_err(|e| format!("starting the lab: {e}"))?;
    let home = BenchHome::new().map_err(|e| format!("temp HOME: {e}"))?;
    let vars = home.vars(&lab);
    let scratch = home.scratch();
    let inst = lab.instance_named("db-primary");
    let user = lab.os_user().to_string();
    let port = lab.ssh_port().to_string();
    let ip = inst.private_ip.to_string();

    let key = generate_key(&scratch)?;
    let mut pusher = Pusher::new(eic_client(&vars)?, &inst.id, &user, &key);
    let ssh = which("ssh").ok_or("no `ssh` on PATH")?;
    let dest_id = format!("{user}@{}", inst.id);
    let dest_ip = format!("{user}@{ip}");

    let keyless_args = |verbose: bool| {
        let mut a = vec!["ssh"];
        if verbose {
            a.push("-v");
        }
        a.extend([
            dest_id.as_str(),
            "--host-key-policy",
            "accept-new",
            "--",
            "true",
        ]);
        Measured::new(cfg.keyless, &a, &vars)
    };
    let keyless = keyless_args(false);
    // The floor: OpenSSH as a user would run it right after a push.
    let floor_options = key.openssh_options();
    let ssh_args = |extra: &[&str]| {
        let mut a: Vec<&str> = floor_options.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        a.extend(["-p", port.as_str(), dest_ip.as_str(), "true"]);
        Measured::new(&ssh, &a, &vars)
    };
    let floor = ssh_args(&[]);
    // OpenSSH's default key exchange (sntrup761x25519) costs more CPU than the curve25519 that
    // keyless (russh) ends up with against this sshd; this row separates that from the rest.
    let floor_x25519 = ssh_args(&["-o", "KexAlgorithms=curve25519-sha256"]);
    let cli_push = Measured::new(
        cfg.aws,
        &[
            "ec2-instance-connect",
            "send-ssh-public-key",
            "--instance-id",
            &inst.id,
            "--instance-os-user",
            &user,
            "--ssh-public-key",
            pusher.key_line(),
            "--output",
            "json",
        ],
        &vars,
    );

    // Warm-up (untimed): page cache, and keyless's first run trusts the host key so every timed
    // run verifies it against the pin, as a returning user's would.
    keyless.run_ok(&scratch, "keyless ssh (warm-up)").await?;
    let known_hosts = home.path().join(".local/share/keyless/known_hosts");
    if !known_hosts.is_file() {
        return Err(format!(
            "keyless did not pin the host key in {}",
            known_hosts.display()
        ));
    }
    pusher.push().await?;
    floor.run_ok(&scratch, "ssh floor (warm-up)").await?;
    floor_x25519
        .run_ok(&scratch, "ssh floor, curve25519 (warm-up)")
        .await?;
    cli_push
        .run_ok(&scratch, "aws send-ssh-public-key (warm-up)")
        .await?;

    let mut rows: [Row; 5] = Default::default();
    let pushes_before = keyless_pushes(&lab, pusher.key_line());
    for round in 0..cfg.runs {
        // Rotate the order so no variant always runs right after another.
        for k in 0..rows.len() {
            match (round + k) % rows.len() {
                0 => {
                    let s = keyless.run_ok(&scratch, "keyless ssh").await?;
                    rows[0].add(s.wall, Some(&s));
                }
                1 => {
                    pusher.ensure_fresh().await?;
                    let s = floor.run_ok(&scratch, "ssh floor").await?;
                    rows[1].add(s.wall, Some(&s));
                }
                2 => {
                    let pushed = pusher.push().await?;
                    let s = floor.run_ok(&scratch, "ssh after SDK push").await?;
                    rows[2].add(pushed + s.wall, None);
                }
                3 => {
                    pusher.ensure_fresh().await?;
                    let s = floor_x25519
                        .run_ok(&scratch, "ssh floor, curve25519")
                        .await?;
                    rows[4].add(s.wall, Some(&s));
                }
                _ => {
                    let p = cli_push.run_ok(&scratch, "aws send-ssh-public-key").await?;
                    let s = floor.run_ok(&scratch, "ssh after aws CLI push").await?;
                    rows[3].add(p.wall + s.wall, None);
                }
            }
        }
    }
    let pushes_by_keyless = keyless_pushes(&lab, pusher.key_line()) - pushes_before;

    // Where keyless's time goes: a few extra runs with -v (kept out of the timed rows).
    let verbose = keyless_args(true);
    let mut steps: Vec<(String, Vec<Duration>)> = Vec::new();
    for _ in 0..VERBOSE_RUNS {
        let s = verbose.run_ok(&scratch, "keyless ssh -v").await?;
        for (name, took) in parse_steps(&s.stderr) {
            match steps.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(took),
                None => steps.push((name, vec![took])),
            }
        }
    }
    let steps = steps
        .into_iter()
        .map(|(n, v)| (n, super::stats::summarize(&v).median))
        .collect();

    let [keyless, floor, sequential_sdk, sequential_cli, floor_x25519] = rows;
    let result = ConnectResult {
        instance_id: inst.id.clone(),
        os_user: user,
        address: format!("{ip}:{port}"),
        keyless,
        floor,
        sequential_sdk,
        sequential_cli,
        floor_x25519,
        steps,
        verbose_runs: VERBOSE_RUNS,
        pushes_by_keyless,
    };
    lab.shutdown().await;
    Ok(result)
}

/// Successful pushes of any key but the floor's: keyless's one-time keys (one per run).
fn keyless_pushes(lab: &Lab, floor_key: &str) -> usize {
    lab.pushes()
        .iter()
        .filter(|p| p.outcome == "Success" && p.key.trim() != floor_key)
        .count()
}

/// `keyless: Push took 152 ms, done at 160 ms` lines (the step and how long it took).
pub fn parse_steps(stderr: &str) -> Vec<(String, Duration)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("keyless: ")?;
            let (step, ms) = rest.split_once(" took ")?;
            let ms = ms.split(',').next()?;
            let ms: u64 = ms.strip_suffix(" ms")?.trim().parse().ok()?;
            Some((step.to_string(), Duration::from_millis(ms)))
        })
        .collect()
}
