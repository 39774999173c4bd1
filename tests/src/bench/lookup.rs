//! Part 1b: connect by id and by name when `DescribeInstances` costs a real round trip (the
//! lab's EC2 API latency) besides the EIC latency, against the physical limit measured in the
//! same run: max(push, handshake) + the rest of the floor (authentication, the session).
//! keyless's address cache is warm (the warm-up connects write it), as for a returning user.

use std::path::Path;
use std::time::Duration;

use keyless_lab::{Lab, LabOptions};

use super::connect::parse_steps;
use super::env::{which, BenchHome};
use super::measure::Measured;
use super::push::{eic_client, generate_key, Pusher};
use super::report::{header, line, ms, Row};
use super::stats::{ratio, summarize};

pub struct LookupConfig<'a> {
    pub runs: usize,
    pub keyless: &'a Path,
    pub eic_latency: Duration,
    pub api_latency: Duration,
}

pub struct LookupResult {
    pub instance_id: String,
    pub by_id: Row,
    pub by_name: Row,
    /// OpenSSH with a key pushed before, curve25519 (keyless's key exchange).
    pub floor: Row,
    /// SendSSHPublicKey through the SDK.
    pub push: Row,
    /// keyless's TCP connect + key exchange (the Handshake step of `-v`), median.
    pub handshake: Duration,
    /// keyless's Authenticate step, median.
    pub auth: Duration,
    /// When keyless had authenticated (from its start, `-v`), median: by id, by name.
    pub connected_id: Duration,
    pub connected_name: Duration,
    /// One `keyless ssh -v` run by id and one by name: the step lines as printed.
    pub timeline_id: Vec<String>,
    pub timeline_name: Vec<String>,
}

pub const LOOKUP_TARGET: f64 = 1.1;
const VERBOSE_RUNS: usize = 5;

pub async fn run(cfg: &LookupConfig<'_>) -> Result<LookupResult, String> {
    let lab = Lab::start(LabOptions {
        eic_latency: cfg.eic_latency,
        api_latency: cfg.api_latency,
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
    let key = generate_key(&scratch)?;
    let mut pusher = Pusher::new(eic_client(&vars)?, &inst.id, &user, &key);
    let ssh = which("ssh").ok_or("no `ssh` on PATH")?;

    let dest_id = format!("{user}@{}", inst.id);
    let dest_name = format!("{user}@db-primary");
    let keyless = |dest: &str, verbose: bool| {
        let mut a = vec!["ssh"];
        if verbose {
            a.push("-v");
        }
        a.extend([dest, "--host-key-policy", "accept-new", "--", "true"]);
        Measured::new(cfg.keyless, &a, &vars)
    };
    let (by_id, by_name) = (keyless(&dest_id, false), keyless(&dest_name, false));
    let dest_ip = format!("{user}@{}", inst.private_ip);
    let mut floor_args: Vec<String> = key.openssh_options();
    floor_args.extend(
        [
            "-o",
            "KexAlgorithms=curve25519-sha256",
            "-p",
            &port,
            &dest_ip,
            "true",
        ]
        .map(String::from),
    );
    let floor_args: Vec<&str> = floor_args.iter().map(String::as_str).collect();
    let floor = Measured::new(&ssh, &floor_args, &vars);

    // Warm-up (untimed): pins the host key and fills the address cache.
    by_id
        .run_ok(&scratch, "keyless ssh by id (warm-up)")
        .await?;
    by_name
        .run_ok(&scratch, "keyless ssh by name (warm-up)")
        .await?;
    pusher.push().await?;
    floor.run_ok(&scratch, "ssh floor (warm-up)").await?;

    let mut rows: [Row; 4] = Default::default();
    for round in 0..cfg.runs {
        for k in 0..rows.len() {
            match (round + k) % rows.len() {
                0 => {
                    let s = by_id.run_ok(&scratch, "keyless ssh by id").await?;
                    rows[0].add(s.wall, Some(&s));
                }
                1 => {
                    let s = by_name.run_ok(&scratch, "keyless ssh by name").await?;
                    rows[1].add(s.wall, Some(&s));
                }
                2 => {
                    pusher.ensure_fresh().await?;
                    let s = floor.run_ok(&scratch, "ssh floor").await?;
                    rows[2].add(s.wall, Some(&s));
                }
                _ => {
                    let took = pusher.push().await?;
                    rows[3].add(took, None);
                }
            }
        }
    }

    let mut steps = Steps::default();
    let mut timeline_id = Vec::new();
    let mut timeline_name = Vec::new();
    for (dest, connected, timeline) in [
        (&dest_id, &mut steps.connected_id, &mut timeline_id),
        (&dest_name, &mut steps.connected_name, &mut timeline_name),
    ] {
        let verbose = keyless(dest, true);
        for _ in 0..VERBOSE_RUNS {
            let s = verbose.run_ok(&scratch, "keyless ssh -v").await?;
            for (name, took) in parse_steps(&s.stderr) {
                match name.as_str() {
                    "Handshake" => steps.handshake.push(took),
                    "Authenticate" => steps.auth.push(took),
                    _ => {}
                }
            }
            connected.extend(done_at(&s.stderr, "Authenticate"));
            *timeline = step_lines(&s.stderr);
        }
    }
    let median = |v: &[Duration], what: &str| {
        (!v.is_empty())
            .then(|| summarize(v).median)
            .ok_or(format!("keyless ssh -v printed no {what}"))
    };
    let [by_id, by_name, floor, push] = rows;
    let result = LookupResult {
        instance_id: inst.id.clone(),
        by_id,
        by_name,
        floor,
        push,
        handshake: median(&steps.handshake, "Handshake step")?,
        auth: median(&steps.auth, "Authenticate step")?,
        connected_id: median(&steps.connected_id, "Authenticate end")?,
        connected_name: median(&steps.connected_name, "Authenticate end")?,
        timeline_id,
        timeline_name,
    };
    lab.shutdown().await;
    Ok(result)
}

#[derive(Default)]
struct Steps {
    handshake: Vec<Duration>,
    auth: Vec<Duration>,
    connected_id: Vec<Duration>,
    connected_name: Vec<Duration>,
}

/// From `keyless: STEP took N ms, done at M ms`: M.
fn done_at(stderr: &str, step: &str) -> Option<Duration> {
    let prefix = format!("keyless: {step} took ");
    let l = stderr.lines().find(|l| l.starts_with(&prefix))?;
    let at = l.split_once(", done at ")?.1.strip_suffix(" ms")?;
    at.trim().parse().ok().map(Duration::from_millis)
}

fn step_lines(stderr: &str) -> Vec<String> {
    (stderr.lines())
        .filter(|l| l.starts_with("keyless: ") && l.contains(" took "))
        .map(str::to_owned)
        .collect()
}

impl LookupResult {
    /// max(push, handshake) + (floor − handshake): the floor with its handshake overlapped by
    /// the push, which is all a connect cannot avoid.
    pub fn limit(&self) -> Duration {
        let (push, floor) = (self.push.summary().median, self.floor.summary().median);
        push.max(self.handshake) + floor.saturating_sub(self.handshake)
    }

    /// max(push, handshake) + authentication: the least a connect's own steps can take.
    pub fn phase_limit(&self) -> Duration {
        self.push.summary().median.max(self.handshake) + self.auth
    }
}

/// Prints part 1b; returns the by-id and by-name ratios to the limit.
pub fn print(r: &LookupResult, runs: usize, cfg: &LookupConfig<'_>) -> (f64, f64) {
    println!(
        "1b. Connect with the lookup off the critical path: db-primary ({}), EIC latency {} ms, \
         EC2 API latency {} ms, {runs} runs per row, address cache warm",
        r.instance_id,
        cfg.eic_latency.as_millis(),
        cfg.api_latency.as_millis()
    );
    header();
    line("a", "keyless ssh ID -- true", &r.by_id);
    line("b", "keyless ssh db-primary -- true (by name)", &r.by_name);
    line(
        "c",
        "floor: OpenSSH, key pushed before, curve25519",
        &r.floor,
    );
    line("p", "SDK SendSSHPublicKey", &r.push);
    let limit = r.limit();
    println!(
        "     limit = max(push p {}, handshake {}) + (floor c − handshake) = {}",
        ms(r.push.summary().median),
        ms(r.handshake),
        ms(limit)
    );
    let show = |text: &str, row: &Row| {
        let x = ratio(row.summary().median, limit);
        let met = if x <= LOOKUP_TARGET { "met" } else { "MISSED" };
        println!(
            "     {text:<47} {:>10}   target ≤ {LOOKUP_TARGET:.2}×: {met}",
            format!("{x:.2}×")
        );
        x
    };
    let id = show("ratio a / limit (by id)", &r.by_id);
    let name = show("ratio b / limit (by name)", &r.by_name);
    let phase = r.phase_limit();
    println!(
        "     connect steps only (-v, median of {VERBOSE_RUNS}): authenticated at {} by id, {} by \
         name; max(push {}, handshake {}) + auth {} = {}: {:.2}× and {:.2}×",
        ms(r.connected_id),
        ms(r.connected_name),
        ms(r.push.summary().median),
        ms(r.handshake),
        ms(r.auth),
        ms(phase),
        ratio(r.connected_id, phase),
        ratio(r.connected_name, phase),
    );
    for (what, lines) in [("by id", &r.timeline_id), ("by name", &r.timeline_name)] {
        println!("     timeline, one keyless ssh -v run {what}:");
        for l in lines {
            println!("       {l}");
        }
    }
    (id, name)
}
