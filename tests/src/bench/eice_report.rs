//! The printed table of part 3 (EICE). Figures only, targets beside the ratios.

use super::eice::EiceResult;
use super::report::{header, line, ms, ratio_line};

/// `--via eice` / `--via private` to the same instance (issue 9).
pub const EICE_TARGET: f64 = 1.2;
/// `--via auto` / `--via eice` for an instance only the endpoint reaches (issue 9).
pub const AUTO_TARGET: f64 = 1.3;

/// The two ratios the summary names: eice / direct at the lab's endpoint latency, auto / eice.
pub struct EiceVerdicts {
    pub eice_ratio: f64,
    pub auto_ratio: f64,
}

pub fn print_eice(e: &EiceResult, runs: usize) -> EiceVerdicts {
    println!(
        "3. EICE: keyless ssh … -- true through the lab's Instance Connect Endpoint, EIC latency \
         {} ms, {runs} runs per row (+1 untimed warm-up), order swapped each round",
        e.eic_latency.as_millis()
    );
    header();
    let mut eice_ratio = f64::NAN;
    for (i, p) in e.pairs.iter().enumerate() {
        println!(
            "   db-primary ({}), endpoint latency {} ms (delay on each tunnel's upgrade); lab \
             opened {} tunnels in {} timed runs",
            e.instance_id,
            p.eice_latency.as_millis(),
            p.tunnels,
            p.eice.walls.len() + p.direct.walls.len()
        );
        line("a", "--via private db-primary (direct)", &p.direct);
        line("b", "--via eice db-primary (tunnel ∥ push)", &p.eice);
        let r = ratio_line(
            "ratio b / a (eice / direct)",
            &p.eice,
            &p.direct,
            Some(EICE_TARGET),
        );
        if i == 0 {
            eice_ratio = r;
        }
    }
    println!(
        "   private-db ({}): reachable only through the endpoint; lab opened {} tunnels in {} \
         timed runs",
        e.private_db_id,
        e.private_db_tunnels,
        e.auto_private_db.walls.len() + e.eice_private_db.walls.len()
    );
    line(
        "c",
        "--via auto private-db (race, new process)",
        &e.auto_private_db,
    );
    line("d", "--via eice private-db", &e.eice_private_db);
    let auto_ratio = ratio_line(
        "ratio c / d (auto / eice)",
        &e.auto_private_db,
        &e.eice_private_db,
        Some(AUTO_TARGET),
    );
    for t in &e.timelines {
        println!("   {} (one run, {} wall):", t.what, ms(t.wall));
        for l in &t.lines {
            println!("     {l}");
        }
    }
    EiceVerdicts {
        eice_ratio,
        auto_ratio,
    }
}

pub fn print_eice_summary(v: &EiceVerdicts) {
    let met = |r: f64, t: f64| if r <= t { "met" } else { "MISSED" };
    println!(
        "Summary (EICE): eice {:.2}× direct to the same instance (target ≤ {EICE_TARGET}×: {}); \
         auto {:.2}× eice for an endpoint-only instance (target ≤ {AUTO_TARGET}×: {}).",
        v.eice_ratio,
        met(v.eice_ratio, EICE_TARGET),
        v.auto_ratio,
        met(v.auto_ratio, AUTO_TARGET),
    );
}
