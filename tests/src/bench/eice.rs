//! Part 3: connecting through the lab's EC2 Instance Connect Endpoint. `keyless ssh --via eice`
//! against `--via private` to the same instance (`db-primary`, reachable both ways, so only the
//! path differs), and `--via auto` against `--via eice` for `private-db`, which only the tunnel
//! reaches. Each run is a new process, so `auto` never benefits from the per-run memory of the
//! path that won: every run races afresh.

use std::path::Path;
use std::time::Duration;

use keyless_lab::{Lab, LabInstance, LabOptions};

use super::env::BenchHome;
use super::measure::Measured;
use super::report::Row;

pub struct EiceConfig<'a> {
    pub runs: usize,
    pub keyless: &'a Path,
    pub eic_latency: Duration,
    /// The endpoint's extra delay on each tunnel's upgrade, so its round trip shows.
    pub eice_latency: Duration,
}

/// `--via private` vs `--via eice` to db-primary, in one lab.
pub struct PathPair {
    pub eice_latency: Duration,
    pub direct: Row,
    pub eice: Row,
    /// Tunnels the lab opened during the timed runs (one per eice run, none per direct one).
    pub tunnels: usize,
}

pub struct EiceResult {
    pub instance_id: String,
    pub private_db_id: String,
    pub eic_latency: Duration,
    /// At `eice_latency`, then the same with none (the tunnel's own cost only).
    pub pairs: Vec<PathPair>,
    pub auto_private_db: Row,
    pub eice_private_db: Row,
    /// Tunnels the lab opened during the private-db runs (auto must tunnel every time).
    pub private_db_tunnels: usize,
    /// `keyless ssh -v` of one run, as printed: (what was run, wall time, its `keyless:` lines).
    pub timelines: Vec<Timeline>,
}

pub struct Timeline {
    pub what: String,
    pub wall: Duration,
    pub lines: Vec<String>,
}

pub async fn run(cfg: &EiceConfig<'_>) -> Result<EiceResult, String> {
    let lab = Bench::start(cfg, cfg.eice_latency).await?;
    let db = lab.lab.instance_named("db-primary");
    let private_db = lab.lab.instance_named("private-db");
    let mut pairs = vec![lab.path_pair(&db).await?];

    let auto = lab.ssh(&private_db, "auto", false);
    let eice = lab.ssh(&private_db, "eice", false);
    auto.run_ok(&lab.scratch, "keyless ssh --via auto private-db (warm-up)")
        .await?;
    eice.run_ok(&lab.scratch, "keyless ssh --via eice private-db (warm-up)")
        .await?;
    let before = lab.lab.tunnels().len();
    let [auto_private_db, eice_private_db] = lab.alternate([&auto, &eice]).await?;
    let private_db_tunnels = lab.lab.tunnels().len() - before;

    let timelines = vec![
        lab.timeline(&db, "eice").await?,
        lab.timeline(&db, "private").await?,
        lab.timeline(&private_db, "auto").await?,
    ];
    lab.lab.shutdown().await;

    if !cfg.eice_latency.is_zero() {
        let bare = Bench::start(cfg, Duration::ZERO).await?;
        let db = bare.lab.instance_named("db-primary");
        pairs.push(bare.path_pair(&db).await?);
        bare.lab.shutdown().await;
    }

    Ok(EiceResult {
        instance_id: db.id,
        private_db_id: private_db.id,
        eic_latency: cfg.eic_latency,
        pairs,
        auto_private_db,
        eice_private_db,
        private_db_tunnels,
        timelines,
    })
}

/// One lab and a private HOME for the keyless runs against it.
struct Bench<'a> {
    lab: Lab,
    runs: usize,
    keyless: &'a Path,
    eice_latency: Duration,
    vars: Vec<(String, String)>,
    scratch: std::path::PathBuf,
    _home: BenchHome,
}

impl<'a> Bench<'a> {
    async fn start(cfg: &EiceConfig<'a>, eice_latency: Duration) -> Result<Bench<'a>, String> {
        let lab = Lab::start(LabOptions {
            eic_latency: cfg.eic_latency,
            eice_latency,
            ..LabOptions::default()
        })
        .await
        .map_err(|e| format!("starting the lab: {e}"))?;
        let home = BenchHome::new().map_err(|e| format!("temp HOME: {e}"))?;
        Ok(Bench {
            vars: home.vars(&lab),
            scratch: home.scratch(),
            lab,
            runs: cfg.runs,
            keyless: cfg.keyless,
            eice_latency,
            _home: home,
        })
    }

    /// `keyless ssh [-v] --via VIA USER@ID -- true`.
    fn ssh(&self, inst: &LabInstance, via: &str, verbose: bool) -> Measured {
        let dest = format!("{}@{}", self.lab.os_user(), inst.id);
        let mut args = vec!["ssh"];
        if verbose {
            args.push("-v");
        }
        args.extend([
            "--via",
            via,
            dest.as_str(),
            "--host-key-policy",
            "accept-new",
            "--",
            "true",
        ]);
        Measured::new(self.keyless, &args, &self.vars)
    }

    /// `--via private` and `--via eice` to the same instance; the first run of each (untimed)
    /// pins the host key, so every timed run verifies it as a returning user's would.
    async fn path_pair(&self, inst: &LabInstance) -> Result<PathPair, String> {
        let direct = self.ssh(inst, "private", false);
        let eice = self.ssh(inst, "eice", false);
        direct
            .run_ok(&self.scratch, "keyless ssh --via private (warm-up)")
            .await?;
        eice.run_ok(&self.scratch, "keyless ssh --via eice (warm-up)")
            .await?;
        let before = self.lab.tunnels().len();
        let [direct, eice] = self.alternate([&direct, &eice]).await?;
        Ok(PathPair {
            eice_latency: self.eice_latency,
            direct,
            eice,
            tunnels: self.lab.tunnels().len() - before,
        })
    }

    /// `runs` timed runs of each, the order swapped every round.
    async fn alternate(&self, pair: [&Measured; 2]) -> Result<[Row; 2], String> {
        let mut rows: [Row; 2] = Default::default();
        for round in 0..self.runs {
            for k in 0..2 {
                let i = (round + k) % 2;
                let s = pair[i].run_ok(&self.scratch, "keyless ssh").await?;
                rows[i].add(s.wall, Some(&s));
            }
        }
        Ok(rows)
    }

    /// One `-v` run, kept out of the timed rows.
    async fn timeline(&self, inst: &LabInstance, via: &str) -> Result<Timeline, String> {
        let name = inst.name.as_deref().unwrap_or(&inst.id);
        let what = format!("keyless ssh -v --via {via} {name}");
        let s = self
            .ssh(inst, via, true)
            .run_ok(&self.scratch, &what)
            .await?;
        let lines = s
            .stderr
            .lines()
            .filter(|l| l.starts_with("keyless: "))
            .map(str::to_owned)
            .collect();
        Ok(Timeline {
            what,
            wall: s.wall,
            lines,
        })
    }
}
