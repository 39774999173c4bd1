//! Runs one measured command. Peak RSS comes from `getrusage(RUSAGE_CHILDREN)`, which is a
//! high-water mark over *all* reaped children; to get one command's own figure, the bench re-execs
//! itself as a tiny helper (`__measure`) whose only child is that command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};

/// The hidden first argument that turns the bench into the helper.
pub const HELPER_ARG: &str = "__measure";

/// One run of one command.
#[derive(Debug, Clone)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kb: u64,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Sample {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// For error messages: the exit code and the tail of stderr.
    pub fn describe(&self) -> String {
        let tail: String = self
            .stderr
            .lines()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n    ");
        format!("exit {}; stderr:\n    {tail}", self.code)
    }
}

/// Helper side: `keyless-bench __measure REPORT PROG ARGS…`. Stdio is inherited, so the parent
/// captures the command's own output; the figures go to REPORT.
pub fn helper_main(args: &[String]) -> i32 {
    let [report, prog, rest @ ..] = args else {
        eprintln!("keyless-bench: usage: {HELPER_ARG} REPORT PROG [ARGS…]");
        return 2;
    };
    let started = Instant::now();
    let status = Command::new(prog).args(rest).status();
    let wall = started.elapsed();
    let code = match status {
        Ok(s) => s.code().unwrap_or(-1),
        Err(e) => {
            eprintln!("keyless-bench: cannot run {prog}: {e}");
            127
        }
    };
    let (cpu, rss) = match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => {
            let cpu = tv(u.user_time()) + tv(u.system_time());
            (cpu, u.max_rss().max(0) as u64) // kilobytes on Linux
        }
        Err(_) => (Duration::ZERO, 0),
    };
    let line = format!("{code} {} {} {rss}\n", wall.as_nanos(), cpu.as_nanos());
    if std::fs::write(report, line).is_err() {
        return 3;
    }
    0
}

fn tv(t: nix::sys::time::TimeVal) -> Duration {
    Duration::from_secs(t.tv_sec().max(0) as u64) + Duration::from_micros(t.tv_usec().max(0) as u64)
}

/// Parent side: a command to measure, with a clean environment.
pub struct Measured {
    pub prog: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl Measured {
    pub fn new(prog: impl Into<PathBuf>, args: &[&str], env: &[(String, String)]) -> Measured {
        Measured {
            prog: prog.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env.to_vec(),
        }
    }

    /// Runs the command once through the helper; `scratch` holds the report file. Async, so
    /// Ctrl-C can interrupt the bench and the lab still cleans up.
    pub async fn run(&self, scratch: &Path) -> std::io::Result<Sample> {
        let report = scratch.join(format!(
            "measure-{}.txt",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let me = std::env::current_exe()?;
        let out = tokio::process::Command::new(me)
            .arg(HELPER_ARG)
            .arg(&report)
            .arg(&self.prog)
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await?;
        let text = std::fs::read_to_string(&report).map_err(|e| {
            std::io::Error::other(format!(
                "no report from the measuring helper ({e}); its stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        })?;
        let _ = std::fs::remove_file(&report);
        let bad = || std::io::Error::other(format!("bad report {text:?}"));
        let mut words = text.split_whitespace();
        let code: i32 = words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
        let mut num = || -> std::io::Result<u64> {
            words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)
        };
        let (wall, cpu, rss) = (num()?, num()?, num()?);
        Ok(Sample {
            wall: Duration::from_nanos(wall),
            cpu: Duration::from_nanos(cpu),
            max_rss_kb: rss,
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

impl Measured {
    /// `run`, with a failed start or a non-zero exit turned into a message naming `what`.
    pub async fn run_ok(&self, scratch: &Path, what: &str) -> Result<Sample, String> {
        let s = self
            .run(scratch)
            .await
            .map_err(|e| format!("{what}: could not run: {e}"))?;
        if s.ok() {
            Ok(s)
        } else {
            Err(format!("{what} failed: {}", s.describe()))
        }
    }
}
