//! Collected samples and the printed table. Figures only: targets are shown beside the ratios,
//! never asserted.

use std::time::Duration;

use super::connect::ConnectResult;
use super::listing::ListingResult;
use super::measure::Sample;
use super::stats::{ratio, summarize, Summary};

/// The timed runs of one variant.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub walls: Vec<Duration>,
    pub cpus: Vec<Duration>,
    /// Highest peak RSS over the runs, when the row is one measured process.
    pub peak_rss_kb: Option<u64>,
}

impl Row {
    pub fn new() -> Row {
        Row {
            walls: Vec::new(),
            cpus: Vec::new(),
            peak_rss_kb: None,
        }
    }

    /// One run taking `wall`; `sample` adds its CPU time and peak RSS.
    pub fn add(&mut self, wall: Duration, sample: Option<&Sample>) {
        self.walls.push(wall);
        if let Some(s) = sample {
            self.cpus.push(s.cpu);
            self.peak_rss_kb = Some(self.peak_rss_kb.unwrap_or(0).max(s.max_rss_kb));
        }
    }

    /// Several processes run one after another count as one run: times add, RSS is the max.
    pub fn merge_sequential(&mut self, parts: &Row) {
        self.walls.push(parts.walls.iter().sum());
        if !parts.cpus.is_empty() {
            self.cpus.push(parts.cpus.iter().sum());
        }
        if let Some(kb) = parts.peak_rss_kb {
            self.peak_rss_kb = Some(self.peak_rss_kb.unwrap_or(0).max(kb));
        }
    }

    pub fn summary(&self) -> Summary {
        summarize(&self.walls)
    }

    fn cpu_median(&self) -> Option<Duration> {
        (!self.cpus.is_empty()).then(|| summarize(&self.cpus).median)
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or("—".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0))
}

const W: usize = 50;

pub fn header() {
    println!(
        "  {:<W$} {:>10} {:>10} {:>10} {:>10}",
        "", "median", "p90", "CPU med.", "peak RSS"
    );
}

pub fn line(tag: &str, text: &str, row: &Row) {
    let s = row.summary();
    let cpu = row.cpu_median().map_or("—".into(), ms);
    println!(
        "  {tag:<2} {text:<w$} {:>10} {:>10} {:>10} {:>10}",
        ms(s.median),
        ms(s.p90),
        cpu,
        mib(row.peak_rss_kb),
        w = W - 3
    );
}

/// A ratio line: medians and p90s divided, with the target (if any) and whether it is met.
pub fn ratio_line(text: &str, a: &Row, b: &Row, target: Option<f64>) -> f64 {
    let (sa, sb) = (a.summary(), b.summary());
    let r = ratio(sa.median, sb.median);
    let r90 = ratio(sa.p90, sb.p90);
    let verdict = match target {
        Some(t) if r <= t => format!("target ≤ {t:.2}×: met"),
        Some(t) => format!("target ≤ {t:.2}×: MISSED"),
        None => String::new(),
    };
    let text = format!(
        "     {text:<w$} {:>10} {:>10}   {verdict}",
        format!("{r:.2}×"),
        format!("{r90:.2}×"),
        w = W - 3
    );
    println!("{}", text.trim_end());
    r
}

pub struct Verdicts {
    pub connect_ratio: f64,
    pub sequential_ratio: f64,
    pub overlap_saves: Duration,
    pub listing_ratio: f64,
}

pub const CONNECT_TARGET: f64 = 1.2;
pub const LISTING_TARGET: f64 = 0.25;

pub fn print_connect(
    c: &ConnectResult,
    runs: usize,
    eic_latency: Duration,
) -> (f64, f64, Duration) {
    println!(
        "1. Connect: db-primary ({}) as {} at {}, EIC latency {} ms, {runs} runs per row \
         (+1 untimed warm-up), order rotated each round",
        c.instance_id,
        c.os_user,
        c.address,
        eic_latency.as_millis()
    );
    header();
    line("a", "keyless ssh … -- true (push ∥ handshake)", &c.keyless);
    line(
        "b",
        "floor: OpenSSH ssh -i KEY, key pushed before",
        &c.floor,
    );
    line(
        "b′",
        "floor, KexAlgorithms=curve25519-sha256",
        &c.floor_x25519,
    );
    line("c", "sequential: SDK push, then ssh", &c.sequential_sdk);
    line("d", "sequential: aws CLI push, then ssh", &c.sequential_cli);
    let target = Some(CONNECT_TARGET);
    let r = ratio_line(
        "ratio a / b (keyless / floor)",
        &c.keyless,
        &c.floor,
        target,
    );
    let floor = &c.floor;
    let rs = ratio_line(
        "ratio c / b (sequential / floor)",
        &c.sequential_sdk,
        floor,
        None,
    );
    ratio_line(
        "ratio d / b (aws CLI sequential / floor)",
        &c.sequential_cli,
        floor,
        None,
    );
    let same_kex = &c.floor_x25519;
    ratio_line(
        "ratio a / b′ (keyless / floor, same KEX)",
        &c.keyless,
        same_kex,
        None,
    );
    let saves = c
        .sequential_sdk
        .summary()
        .median
        .saturating_sub(c.keyless.summary().median);
    println!(
        "     overlap saves {} per connect (median c − median a); keyless pushed {} one-time keys \
         in {runs} timed runs",
        ms(saves),
        c.pushes_by_keyless
    );
    if !c.steps.is_empty() {
        let steps: Vec<String> = c
            .steps
            .iter()
            .map(|(n, d)| format!("{n} {}", ms(*d)))
            .collect();
        println!(
            "     keyless ssh -v, median of {} extra runs: {} (Push ∥ Handshake run together)",
            c.verbose_runs,
            steps.join(", ")
        );
    }
    (r, rs, saves)
}

pub fn print_listing(l: &ListingResult, runs: usize) -> f64 {
    println!(
        "2. Listing: {} instances in us-east-1 + eu-west-1, both tools saw all of them in every \
         run; {runs} runs per row (+1 warm-up)",
        l.instances
    );
    header();
    line("a", "keyless ls --json (2 regions, concurrent)", &l.keyless);
    line("b", "aws ec2 describe-instances ×2 (sequential)", &l.aws);
    ratio_line(
        "ratio a / b (keyless / AWS CLI)",
        &l.keyless,
        &l.aws,
        Some(LISTING_TARGET),
    )
}

pub fn print_summary(v: &Verdicts, l: &ListingResult) {
    let met = |r: f64, t: f64| if r <= t { "met" } else { "MISSED" };
    println!(
        "Summary: connect {:.2}× the OpenSSH floor (target ≤ {CONNECT_TARGET}×: {}), sequential \
         push-then-ssh {:.2}× (overlap saves {}); listing {} instances {:.2}× the AWS CLI (target \
         ≤ {LISTING_TARGET}×: {}), peak RSS {} vs {}.",
        v.connect_ratio,
        met(v.connect_ratio, CONNECT_TARGET),
        v.sequential_ratio,
        ms(v.overlap_saves),
        l.instances,
        v.listing_ratio,
        met(v.listing_ratio, LISTING_TARGET),
        mib(l.keyless.peak_rss_kb),
        mib(l.aws.peak_rss_kb),
    );
}
