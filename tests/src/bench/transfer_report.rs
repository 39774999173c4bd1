//! The printed tables of parts 4 (file transfers) and 5 (port forwards). Throughput is the file's
//! size over the median wall time of the whole command (connect and key push included, as a
//! user waits for them). Figures only: the target is shown beside the ratio, never asserted.

use std::time::Duration;

use super::forward::ForwardLink;
use super::report::Row;
use super::transfer::TransferResult;

/// Keyless's throughput against the better of OpenSSH's sftp and scp (issue 10).
pub const TRANSFER_TARGET: f64 = 0.9;

/// The lowest keyless/OpenSSH throughput ratio per part, for the summary.
pub struct TransferVerdicts {
    pub worst_transfer: f64,
    pub worst_forward: f64,
}

fn mib_per_s(bytes: u64, row: &Row) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / row.summary().median.as_secs_f64()
}

fn rss(kb: Option<u64>) -> String {
    kb.map_or("—".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0))
}

fn link_name(rtt: Duration) -> String {
    if rtt.is_zero() {
        "loopback".into()
    } else {
        format!("+{} ms round trip (delay line)", rtt.as_millis())
    }
}

fn verdict(r: f64) -> &'static str {
    if r >= TRANSFER_TARGET {
        "met"
    } else {
        "MISSED"
    }
}

pub fn print_transfers(t: &TransferResult, runs: usize) -> f64 {
    let mib = t.size_bytes / (1024 * 1024);
    println!(
        "4. Files: a {mib} MiB random file to and from {} (db-primary), {runs} runs per row \
         (+1 untimed warm-up), order rotated each round, each copy checked by SHA-256",
        t.instance_id
    );
    println!(
        "  {:<44} {:>10} {:>12} {:>10}",
        "", "median", "throughput", "peak RSS"
    );
    let mut worst = f64::INFINITY;
    for link in &t.links {
        println!("   {}", link_name(link.rtt));
        for rows in [&link.upload, &link.download] {
            for (what, row) in rows {
                println!(
                    "     {what:<42} {:>10} {:>8.1} MiB/s {:>10}",
                    format!("{:.0} ms", row.summary().median.as_secs_f64() * 1e3),
                    mib_per_s(t.size_bytes, row),
                    rss(row.peak_rss_kb),
                );
            }
            let ours = mib_per_s(t.size_bytes, &rows[0].1);
            let best = (rows[1..].iter())
                .map(|(_, r)| mib_per_s(t.size_bytes, r))
                .fold(0.0, f64::max);
            let r = ours / best;
            worst = worst.min(r);
            println!(
                "       keyless / best OpenSSH throughput {:>14}   target ≥ {TRANSFER_TARGET:.2}×: {}",
                format!("{r:.2}×"),
                verdict(r)
            );
        }
    }
    println!(
        "   key pushes per keyless cp: {:.2} (one connection per copy)",
        t.keyless_pushes_per_copy
    );
    worst
}

pub fn print_forwards(links: &[ForwardLink], size_mib: u64, runs: usize) -> f64 {
    println!(
        "5. Port forward: {size_mib} MiB through -L to a sink on the instance's loopback, one \
         forwarding process per tool for all {runs} runs (+1 warm-up connection)"
    );
    println!(
        "  {:<30} {:>16} {:>16} {:>10}",
        "", "to instance", "from instance", "peak RSS"
    );
    let bytes = size_mib * 1024 * 1024;
    let mut worst = f64::INFINITY;
    for link in links {
        println!("   {}", link_name(link.rtt));
        for (what, up, down, kb) in &link.rows {
            println!(
                "     {what:<28} {:>10.1} MiB/s {:>10.1} MiB/s {:>10}",
                mib_per_s(bytes, up),
                mib_per_s(bytes, down),
                rss(*kb)
            );
        }
        if let [(_, ku, kd, _), (_, ou, od, _)] = link.rows.as_slice() {
            let up = mib_per_s(bytes, ku) / mib_per_s(bytes, ou);
            let down = mib_per_s(bytes, kd) / mib_per_s(bytes, od);
            worst = worst.min(up).min(down);
            println!("       keyless / OpenSSH: {up:.2}× to, {down:.2}× from the instance");
        }
    }
    worst
}

pub fn print_transfer_summary(v: &TransferVerdicts) {
    println!(
        "Summary (files and forwards): keyless cp at {:.2}× the better of sftp/scp at worst \
         (target ≥ {TRANSFER_TARGET}×: {}); a forward at {:.2}× OpenSSH's -L at worst.",
        v.worst_transfer,
        verdict(v.worst_transfer),
        v.worst_forward
    );
}
