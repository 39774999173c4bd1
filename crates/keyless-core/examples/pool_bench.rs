//! Benchmark (figures, not assertions): a second tab on a pooled connection. Against an
//! in-process lab (real sshd, EIC latency 150 ms), one tab connects to `db-primary`; then, N times,
//! a second tab to the same pool key opens as the app's does (`LiveSession`: a lease on the pooled
//! connection, a new channel, a PTY shell) and is timed until its shell answers a command. The
//! lab's push count shows that no second tab pushed a key. Once per path: `--via private` and
//! `--via eice`. Core-level, so it lives here and not in `keyless-bench` (the lab crate cannot
//! depend on core). `scripts/bench.sh` builds and runs it in release:
//!
//!     cargo run --release -p keyless-core --example pool_bench -- [--runs N] [--quick]

use keyless_core::{
    AwsContext, AwsSelection, ConnectRequest, ConnectionPool, Instance, KnownHosts, LiveEvent,
    LiveSession, LiveSink, LiveStart, PtySize, Via,
};
use keyless_lab::{Lab, LabOptions};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Issue 9: a second tab opens in at most this, with no push.
const TARGET: Duration = Duration::from_millis(50);
const EIC_LATENCY: Duration = Duration::from_millis(150);
const EICE_LATENCY: Duration = Duration::from_millis(20);
/// Bounds every wait, so a broken build fails the run instead of hanging it.
const WAIT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let runs = match runs_from_args() {
        Ok(runs) => runs,
        Err(e) => {
            eprintln!("pool_bench: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = tokio::runtime::Runtime::new()
        .map_err(|e| format!("tokio runtime: {e}"))
        .and_then(|rt| {
            rt.block_on(async {
                // On Ctrl-C the bench future is dropped, which drops the lab and kills its sshds.
                tokio::select! {
                    r = run(runs) => r,
                    _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
                }
            })
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pool_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--runs N` (default 15) or `--quick` (5), as keyless-bench takes them.
fn runs_from_args() -> Result<usize, String> {
    let mut runs = None;
    let mut quick = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => {
                let n = args.next().ok_or("--runs needs a number")?;
                runs = Some(
                    n.parse()
                        .map_err(|_| format!("--runs {n:?}: not a number"))?,
                );
            }
            other => return Err(format!("unknown argument {other:?} (--runs N, --quick)")),
        }
    }
    Ok(runs.unwrap_or(if quick { 5 } else { 15 }).max(1))
}

async fn run(runs: usize) -> Result<(), String> {
    let lab = Lab::start(LabOptions {
        eic_latency: EIC_LATENCY,
        eice_latency: EICE_LATENCY,
        ..LabOptions::default()
    })
    .await
    .map_err(|e| format!("starting the lab: {e}"))?;
    keyless_lab::use_lab_credentials_in_process();
    let aws = AwsContext::load(&AwsSelection {
        profile: None,
        region: Some(lab.regions()[0].clone()),
        endpoint_url: Some(lab.endpoint()),
    })
    .await
    .map_err(|e| format!("AWS context for the lab: {e}"))?;
    let region = lab.regions()[0].clone();
    let instance = keyless_core::resolve_target(&aws, &region, "db-primary")
        .await
        .map_err(|e| format!("db-primary: {e}"))?;
    // The host key is trusted beforehand, as for a returning user: no question.
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let known_hosts = KnownHosts::at(dir.path().join("known_hosts"));
    let host_key =
        russh::keys::PublicKey::from_openssh(&lab.instance_named("db-primary").host_public_key)
            .map_err(|e| format!("the lab's host key: {e}"))?;
    known_hosts
        .trust(&instance.instance_id, &host_key)
        .map_err(|e| format!("trusting the host key: {e}"))?;

    println!(
        "4. Second tab on a pooled connection (core LiveSession, in-process): db-primary ({}), \
         EIC latency {} ms, endpoint latency {} ms, {runs} second tabs per path, each timed until \
         its shell answers a command",
        instance.instance_id,
        EIC_LATENCY.as_millis(),
        EICE_LATENCY.as_millis()
    );
    println!("  {:<50} {:>10} {:>10}", "", "median", "p90");
    let bench = Bench {
        lab: &lab,
        aws,
        instance,
        known_hosts,
    };
    let mut verdicts = Vec::new();
    for via in [Via::Private, Via::Eice] {
        verdicts.push((via, bench.path(via, runs).await?));
    }
    let summary: Vec<String> = verdicts
        .iter()
        .map(|(via, v)| {
            format!(
                "--via {via} {} (target ≤ {} ms: {}), {} push",
                ms(v.median),
                TARGET.as_millis(),
                if v.median <= TARGET { "met" } else { "MISSED" },
                v.pushes
            )
        })
        .collect();
    println!(
        "Summary (pool): second tab on a pooled connection {}.",
        summary.join("; ")
    );
    lab.shutdown().await;
    Ok(())
}

struct Bench<'a> {
    lab: &'a Lab,
    aws: AwsContext,
    instance: Instance,
    known_hosts: KnownHosts,
}

struct Verdict {
    median: Duration,
    pushes: usize,
}

impl Bench<'_> {
    /// A first tab on a pool of its own, then `runs` second tabs on the same pool key.
    async fn path(&self, via: Via, runs: usize) -> Result<Verdict, String> {
        let pool = ConnectionPool::default();
        let id = &self.instance.instance_id;
        let (pushes, conns, tunnels) = self.counts();
        let first = self.tab(&pool, via, 0).await?;

        let mut connected = Vec::with_capacity(runs);
        let mut answered = Vec::with_capacity(runs);
        for n in 1..=runs {
            let second = self.tab(&pool, via, n).await?;
            if second.shared != 2 {
                return Err(format!(
                    "--via {via}: the second tab is not on the first one's connection \
                     ({} tabs share it)",
                    second.shared
                ));
            }
            connected.push(second.connected);
            answered.push(second.answered);
            second.live.close();
        }
        first.live.close();
        let (pushes_now, conns_now, tunnels_now) = self.counts();
        let pushes = pushes_now - pushes;

        let tag = |t: &str| format!("--via {via}: {t}");
        row(
            "a",
            &tag("first tab (new connection)"),
            &[first.answered],
            None,
        );
        row("b", &tag("second tab, until Connected"), &connected, None);
        let median = row(
            "c",
            &tag("second tab, until shell answers"),
            &answered,
            Some(TARGET),
        );
        println!(
            "     the lab saw, for the first tab and {runs} second tabs: key pushes {pushes} \
             (target 1), TCP connections to {id}'s sshd {}, tunnels {}",
            conns_now - conns,
            tunnels_now - tunnels,
        );
        Ok(Verdict { median, pushes })
    }

    /// Successful pushes to, TCP connections reaching, and tunnels opened to the instance.
    fn counts(&self) -> (usize, usize, usize) {
        let id = &self.instance.instance_id;
        let pushes = self
            .lab
            .pushes()
            .iter()
            .filter(|p| &p.instance_id == id && p.outcome == "Success")
            .count();
        let tunnels = self
            .lab
            .tunnels()
            .iter()
            .filter(|t| t.instance_id.as_deref() == Some(id.as_str()))
            .count();
        (pushes, self.lab.ssh_connections(id), tunnels)
    }

    /// Opens a tab as the app does and waits for its shell to compute a reply to `n`.
    async fn tab(&self, pool: &ConnectionPool, via: Via, n: usize) -> Result<Tab, String> {
        let (sink, mut rx) = Channel::new();
        let request = ConnectRequest {
            region: self.instance.region.clone(),
            instance_id: self.instance.instance_id.clone(),
            os_user: self.lab.os_user().to_owned(),
            port: self.lab.ssh_port(),
            via,
        };
        request.validate().map_err(|e| e.to_string())?;
        let started = Instant::now();
        let live = LiveSession::start(
            LiveStart {
                aws: self.aws.clone(),
                pool: pool.clone(),
                aws_profile: None,
                request,
                known: Some(self.instance.clone()),
                size: PtySize {
                    cols: 100,
                    rows: 30,
                },
                known_hosts: self.known_hosts.clone(),
                // Tunnels go to the lab's endpoint, as the app's do when it runs in the lab.
                tunnel: keyless_core::eice::TunnelSettings::direct()
                    .with_endpoint_url(self.lab.eice_url()),
                max_tunnel: None,
            },
            sink,
        );
        let shared = wait(&mut rx, &live, "Connected", |s, _| match s {
            Signal::Event(LiveEvent::Connected { shared, .. }) => Some(*shared),
            _ => None,
        })
        .await?;
        let connected = started.elapsed();
        // A reply the shell must compute, so the echoed command line never matches.
        let want = format!("result={}", n * 1000 + 1);
        live.send(format!("echo result=$(({n}*1000+1))\n").as_bytes())
            .map_err(|e| format!("typing into the tab: {e}"))?;
        wait(&mut rx, &live, &want, |_, text| {
            text.contains(&want).then_some(())
        })
        .await?;
        Ok(Tab {
            answered: started.elapsed(),
            connected,
            shared,
            live,
        })
    }
}

struct Tab {
    live: Arc<LiveSession>,
    shared: u32,
    connected: Duration,
    answered: Duration,
}

/// What a tab reports, in order.
enum Signal {
    Event(LiveEvent),
    Output(Vec<u8>),
}

/// A `LiveSink` that hands everything to the bench as it happens (no polling, so no delay is
/// added to the figures).
struct Channel(mpsc::UnboundedSender<Signal>);

impl Channel {
    fn new() -> (Arc<Channel>, mpsc::UnboundedReceiver<Signal>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Arc::new(Channel(tx)), rx)
    }
}

impl LiveSink for Channel {
    fn event(&self, event: LiveEvent) {
        let _ = self.0.send(Signal::Event(event));
    }
    fn output(&self, chunk: Vec<u8>) {
        let _ = self.0.send(Signal::Output(chunk));
    }
}

/// Waits (bounded) until `found` sees what it wants in a signal or in the output so far; a
/// failed or lost session is an error with its message.
async fn wait<T>(
    rx: &mut mpsc::UnboundedReceiver<Signal>,
    live: &LiveSession,
    what: &str,
    mut found: impl FnMut(&Signal, &str) -> Option<T>,
) -> Result<T, String> {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let signal = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .map_err(|_| format!("no {what} within {} s; output: {text:?}", WAIT.as_secs()))?
            .ok_or_else(|| format!("the session ended before {what}"))?;
        match &signal {
            Signal::Output(chunk) => {
                live.ack(chunk.len());
                text.push_str(&String::from_utf8_lossy(chunk));
            }
            Signal::Event(LiveEvent::Failed { error } | LiveEvent::Lost { error }) => {
                return Err(format!("the session failed before {what}: {error}"));
            }
            Signal::Event(_) => {}
        }
        if let Some(t) = found(&signal, &text) {
            return Ok(t);
        }
    }
}

/// One table row: median and nearest-rank p90, the target beside the median. Returns the median.
fn row(tag: &str, text: &str, samples: &[Duration], target: Option<Duration>) -> Duration {
    let mut v = samples.to_vec();
    v.sort();
    let n = v.len();
    let median = match n {
        0 => Duration::ZERO,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2,
    };
    let p90 = v
        .get((n * 9).div_ceil(10).max(1) - 1)
        .copied()
        .unwrap_or_default();
    let verdict = match target {
        Some(t) if median <= t => format!("   target ≤ {} ms: met", t.as_millis()),
        Some(t) => format!("   target ≤ {} ms: MISSED", t.as_millis()),
        None => String::new(),
    };
    println!(
        "  {tag:<2} {text:<47} {:>10} {:>10}{verdict}",
        ms(median),
        ms(p90)
    );
    median
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
