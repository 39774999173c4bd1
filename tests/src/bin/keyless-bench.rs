//! `keyless-bench`: connect latency (keyless vs the OpenSSH floor vs push-then-connect),
//! listing (keyless vs the AWS CLI) and connecting through the EC2 Instance Connect Endpoint
//! (eice vs direct, auto vs eice) against in-process labs. Prints figures; never asserts on
//! timing. Run it through `scripts/bench.sh`, which builds release binaries and the AWS CLI.

#[path = "../bench/mod.rs"]
mod bench;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use bench::{
    connect, eice, eice_report, env::which, forward, listing, lookup, measure, openssh, report,
    transfer, transfer_report,
};
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "keyless-bench",
    about = "Benchmark keyless ssh / keyless ls against OpenSSH and the AWS CLI on a loopback lab"
)]
struct Cli {
    /// Timed runs per row (default 15; 5 with --quick).
    #[arg(long)]
    runs: Option<usize>,
    /// Smoke test: 5 runs, 1,000 inventory instances.
    #[arg(long)]
    quick: bool,
    /// Inventory filler for the listing lab (default 5000; 1000 with --quick).
    #[arg(long)]
    instances: Option<usize>,
    /// Delay the lab adds to SendSSHPublicKey.
    #[arg(long, default_value_t = 150)]
    eic_latency_ms: u64,
    /// Delay the lab's Instance Connect Endpoint adds to each tunnel's upgrade (part 3 also runs
    /// its direct-vs-eice pair without it).
    #[arg(long, default_value_t = 20)]
    eice_latency_ms: u64,
    /// Delay the lab adds to every EC2 API call (DescribeInstances) in part 1b.
    #[arg(long, default_value_t = 100)]
    api_latency_ms: u64,
    /// Run part 1b (connect with EC2 API latency, by id and by name) only; needs no AWS CLI.
    #[arg(long)]
    only_lookup: bool,
    /// Run part 3 (EICE) only; needs no AWS CLI.
    #[arg(long)]
    only_eice: bool,
    /// Run parts 4 and 5 (file transfers, port forwards) only; needs no AWS CLI.
    #[arg(long)]
    only_files: bool,
    /// Run part 6 (plain OpenSSH through `keyless ssh-config`) only; needs no AWS CLI.
    #[arg(long)]
    only_openssh: bool,
    /// Size of the file parts 4 and 5 move (default 200; 20 with --quick).
    #[arg(long)]
    transfer_mib: Option<u64>,
    /// The round trip parts 4 and 5 add with a delay line, besides plain loopback (0: none).
    #[arg(long, default_value_t = 50)]
    link_rtt_ms: u64,
    /// The keyless binary (default: `keyless` next to this binary).
    #[arg(long, env = "KEYLESS_BIN")]
    keyless: Option<PathBuf>,
    /// The AWS CLI (default: `aws` on PATH).
    #[arg(long, env = "KEYLESS_BENCH_AWS", default_value = "aws")]
    aws: String,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(measure::HELPER_ARG) {
        return ExitCode::from(measure::helper_main(&args[2..]) as u8);
    }
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keyless-bench: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = rt.block_on(async {
        // On Ctrl-C the bench future is dropped, which drops the labs and kills their sshds.
        tokio::select! {
            r = run(&cli) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyless-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> Result<(), String> {
    let started = Instant::now();
    let runs = cli.runs.unwrap_or(if cli.quick { 5 } else { 15 }).max(1);
    let instances = cli.instances.unwrap_or(if cli.quick { 1000 } else { 5000 });
    let eic_latency = Duration::from_millis(cli.eic_latency_ms);
    let keyless = match &cli.keyless {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("keyless"),
    };
    if !keyless.is_file() {
        return Err(format!(
            "no keyless binary at {} (build it, or pass --keyless)",
            keyless.display()
        ));
    }
    if cli.only_lookup {
        print_context(&keyless, None, runs);
        lookup_part(cli, &keyless, runs).await?;
        return Ok(());
    }
    if cli.only_eice {
        print_context(&keyless, None, runs);
        let verdicts = eice_part(cli, &keyless, runs).await?;
        eice_report::print_eice_summary(&verdicts);
        return Ok(());
    }
    if cli.only_openssh {
        print_context(&keyless, None, runs);
        openssh_part(cli, &keyless, runs).await?;
        return Ok(());
    }
    if cli.only_files {
        print_context(&keyless, None, runs);
        let verdicts = files_part(cli, &keyless, runs).await?;
        transfer_report::print_transfer_summary(&verdicts);
        return Ok(());
    }
    let aws = which(&cli.aws).ok_or_else(|| {
        format!(
            "no AWS CLI at {:?} (pip install awscli, or pass --aws)",
            cli.aws
        )
    })?;

    print_context(&keyless, Some(&aws), runs);
    let c = connect::run(&connect::ConnectConfig {
        runs,
        keyless: &keyless,
        aws: &aws,
        eic_latency,
    })
    .await
    .map_err(|e| format!("connect benchmark: {e}"))?;
    let (connect_ratio, sequential_ratio, overlap_saves) =
        report::print_connect(&c, runs, eic_latency);
    println!();
    let (lookup_id, lookup_name) = lookup_part(cli, &keyless, runs).await?;

    let l = listing::run(&listing::ListingConfig {
        runs,
        keyless: &keyless,
        aws: &aws,
        extra_instances: instances,
    })
    .await
    .map_err(|e| format!("listing benchmark: {e}"))?;
    let listing_ratio = report::print_listing(&l, runs);
    println!();

    let eice_verdicts = eice_part(cli, &keyless, runs).await?;
    let files_verdicts = files_part(cli, &keyless, runs).await?;
    let openssh_ratio = openssh_part(cli, &keyless, runs).await?;
    report::print_summary(
        &report::Verdicts {
            connect_ratio,
            sequential_ratio,
            overlap_saves,
            listing_ratio,
        },
        &l,
    );
    println!(
        "Summary (lookup): with {} ms of EC2 API latency, connect by id {lookup_id:.2}× and by \
         name {lookup_name:.2}× the limit max(push, handshake) + auth (target ≤ {}×).",
        cli.api_latency_ms,
        lookup::LOOKUP_TARGET
    );
    eice_report::print_eice_summary(&eice_verdicts);
    transfer_report::print_transfer_summary(&files_verdicts);
    println!(
        "Summary (OpenSSH): ssh through the generated config at {openssh_ratio:.2}× the floor \
         (target ≤ {}×).",
        openssh::PROXY_TARGET
    );
    eprintln!(
        "keyless-bench: done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn lookup_part(
    cli: &Cli,
    keyless: &std::path::Path,
    runs: usize,
) -> Result<(f64, f64), String> {
    let cfg = lookup::LookupConfig {
        runs,
        keyless,
        eic_latency: Duration::from_millis(cli.eic_latency_ms),
        api_latency: Duration::from_millis(cli.api_latency_ms),
    };
    let r = lookup::run(&cfg)
        .await
        .map_err(|e| format!("lookup benchmark: {e}"))?;
    let ratios = lookup::print(&r, runs, &cfg);
    println!();
    Ok(ratios)
}

async fn eice_part(
    cli: &Cli,
    keyless: &std::path::Path,
    runs: usize,
) -> Result<eice_report::EiceVerdicts, String> {
    let e = eice::run(&eice::EiceConfig {
        runs,
        keyless,
        eic_latency: Duration::from_millis(cli.eic_latency_ms),
        eice_latency: Duration::from_millis(cli.eice_latency_ms),
    })
    .await
    .map_err(|e| format!("EICE benchmark: {e}"))?;
    let verdicts = eice_report::print_eice(&e, runs);
    println!();
    Ok(verdicts)
}

/// Part 6: ssh and rsync through the generated config (100 MiB tree; 20 with --quick).
async fn openssh_part(cli: &Cli, keyless: &std::path::Path, runs: usize) -> Result<f64, String> {
    let eic_latency = Duration::from_millis(cli.eic_latency_ms);
    let api_latency = Duration::from_millis(cli.api_latency_ms);
    let r = openssh::run(&openssh::OpenSshConfig {
        runs,
        keyless,
        eic_latency,
        api_latency,
        tree_mib: if cli.quick { 20 } else { 100 },
    })
    .await
    .map_err(|e| format!("OpenSSH benchmark: {e}"))?;
    let ratio = openssh::print(&r, runs, eic_latency, api_latency);
    println!();
    Ok(ratio)
}

/// Parts 4 and 5 share one lab: files moved with keyless cp / sftp / scp, then a port forward.
async fn files_part(
    cli: &Cli,
    keyless: &std::path::Path,
    runs: usize,
) -> Result<transfer_report::TransferVerdicts, String> {
    // 200 MiB per copy: fewer rounds than the connect rows, or the part takes many minutes.
    let runs = runs.clamp(1, 5);
    let size_mib = cli.transfer_mib.unwrap_or(if cli.quick { 20 } else { 200 });
    let mut rtts = vec![Duration::ZERO];
    if cli.link_rtt_ms > 0 {
        rtts.push(Duration::from_millis(cli.link_rtt_ms));
    }
    let mut bench = transfer::Bench::start(keyless, runs).await?;
    let outcome = async {
        let t = transfer::run(
            &mut bench,
            &transfer::TransferConfig {
                size_mib,
                rtts: rtts.clone(),
            },
        )
        .await
        .map_err(|e| format!("transfer benchmark: {e}"))?;
        let worst_transfer = transfer_report::print_transfers(&t, runs);
        println!();
        let f = forward::run(&mut bench, &forward::ForwardConfig { size_mib, rtts })
            .await
            .map_err(|e| format!("forward benchmark: {e}"))?;
        let worst_forward = transfer_report::print_forwards(&f, size_mib, runs);
        println!();
        Ok(transfer_report::TransferVerdicts {
            worst_transfer,
            worst_forward,
        })
    }
    .await;
    bench.lab.shutdown().await;
    outcome
}

/// What was measured with what: versions, so figures can be compared across machines.
fn print_context(keyless: &std::path::Path, aws: Option<&std::path::Path>, runs: usize) {
    let version = |prog: &std::path::Path, arg: &str| {
        Command::new(prog)
            .arg(arg)
            .output()
            .map(|o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|e| format!("? ({e})"))
    };
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("keyless-bench — {runs} timed runs per row, {cpus} CPUs, loopback lab (real sshd)");
    println!(
        "  keyless: {} ({})",
        version(keyless, "--version"),
        keyless.display()
    );
    println!("  ssh:     {}", version(std::path::Path::new("ssh"), "-V"));
    if let Some(aws) = aws {
        println!(
            "  aws:     {} ({})",
            version(aws, "--version"),
            aws.display()
        );
    }
    println!();
}
