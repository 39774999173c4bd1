//! `keyless-lab`: run the Keyless test lab in the background and poke at it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use keyless_lab::daemon::{self, LabRecord};
use keyless_lab::{control, Fault, IdentityStatus, Lab, LabEndpoint, LabInstance, LabOptions};

#[derive(Parser)]
#[command(
    name = "keyless-lab",
    about = "Local AWS EC2 / EC2 Instance Connect lab with real sshd instances"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a lab in the background and print how to use it
    Up(LabArgs),
    /// Run a lab in the foreground (what `up` starts); SIGTERM/SIGINT stop it
    Serve {
        #[command(flatten)]
        lab: LabArgs,
        /// Start a new session (set by `up`)
        #[arg(long, hide = true)]
        detached: bool,
    },
    /// Stop the lab of the state dir
    Down(DirArg),
    /// Show the running lab and its instances
    Status(DirArg),
    /// Print the env file
    Env(DirArg),
    /// Flip a fault switch on the running lab
    Fault {
        #[command(flatten)]
        dir: DirArg,
        #[command(subcommand)]
        fault: Fault,
    },
}

#[derive(Args, Clone)]
struct LabArgs {
    /// Extra (stopped) inventory instances
    #[arg(long, default_value_t = 0)]
    instances: usize,
    #[arg(long, value_delimiter = ',', default_value = "us-east-1,eu-west-1")]
    regions: Vec<String>,
    #[arg(long, default_value_t = 0)]
    eic_latency_ms: u64,
    /// Delay before the EC2 Instance Connect Endpoint answers a tunnel's upgrade
    #[arg(long, default_value_t = 0)]
    eice_latency_ms: u64,
    /// Delay before every EC2 API answer (DescribeInstances, …)
    #[arg(long, default_value_t = 0)]
    api_latency_ms: u64,
    #[arg(long, default_value_t = 60)]
    key_ttl_secs: u64,
    #[arg(long, default_value_t = 1000)]
    max_page_size: usize,
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Forget the lab identity of the state dir (instance ids, addresses, host keys) and start
    /// a new world; without it a lab started again in the same state dir keeps its identity
    #[arg(long)]
    fresh: bool,
}

impl LabArgs {
    fn dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(daemon::default_state_dir)
    }

    fn argv(&self, dir: &Path) -> Vec<String> {
        let mut v = vec![
            format!("--instances={}", self.instances),
            format!("--regions={}", self.regions.join(",")),
            format!("--eic-latency-ms={}", self.eic_latency_ms),
            format!("--eice-latency-ms={}", self.eice_latency_ms),
            format!("--api-latency-ms={}", self.api_latency_ms),
            format!("--key-ttl-secs={}", self.key_ttl_secs),
            format!("--max-page-size={}", self.max_page_size),
            format!("--state-dir={}", dir.display()),
        ];
        if self.fresh {
            v.push("--fresh".into());
        }
        v
    }
}

#[derive(Args)]
struct DirArg {
    /// Default: $XDG_STATE_HOME/keyless-lab or ~/.local/state/keyless-lab
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
}

impl DirArg {
    fn dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(daemon::default_state_dir)
    }

    fn running(&self) -> Result<LabRecord, String> {
        let dir = self.dir();
        daemon::running(&dir).ok_or_else(|| format!("no lab is running in {}", dir.display()))
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Up(args) => up(&args),
        Cmd::Serve { lab, detached } => serve(&lab, detached),
        Cmd::Down(d) => down(&d),
        Cmd::Status(d) => status(&d),
        Cmd::Env(d) => d
            .running()
            .and_then(|rec| std::fs::read_to_string(&rec.env_file).map_err(|e| e.to_string()))
            .map(|text| print!("{text}")),
        Cmd::Fault { dir, fault } => dir
            .running()
            .and_then(|rec| control::send_fault(rec.http_addr(), &fault).map_err(|e| e.to_string()))
            .map(|()| println!("ok")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyless-lab: {e}");
            ExitCode::FAILURE
        }
    }
}

fn up(args: &LabArgs) -> Result<(), String> {
    let dir = args.dir();
    if let Some(rec) = daemon::running(&dir) {
        return Err(format!(
            "a lab is already running in {} (pid {}); run `keyless-lab down` first",
            dir.display(),
            rec.pid
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    daemon::remove_record(&dir);
    let log = File::create(daemon::log_path(&dir)).map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("serve")
        .args(args.argv(&dir))
        .arg("--detached")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("starting the lab: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let rec = loop {
        if let Some(rec) = daemon::read_record(&dir).filter(|r| r.pid == child.id()) {
            break rec;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(daemon::log_path(&dir)).unwrap_or_default();
            return Err(format!("the lab exited during startup ({status}):\n{log}"));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the lab did not become ready in 60 s; see {}",
                daemon::log_path(&dir).display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let instances = control::fetch_state_of(rec.http_addr(), "all").map_err(|e| e.to_string())?;
    let endpoints = control::fetch_endpoints(rec.http_addr()).map_err(|e| e.to_string())?;
    println!("env file: {}", rec.env_file.display());
    match &rec.identity {
        Some(i @ IdentityStatus::Replaced(_)) => eprintln!("keyless-lab: {i}"),
        Some(i) => println!("identity: {i} ({})", dir.join("identity").display()),
        None => {}
    }
    print!("{}", table(&instances));
    print!("{}", endpoint_table(&endpoints));
    println!("hint: source {} && keyless ls", rec.env_file.display());
    Ok(())
}

fn serve(args: &LabArgs, detached: bool) -> Result<(), String> {
    if detached {
        // Our own session: the lab outlives the terminal that ran `up`.
        let _ = nix::unistd::setsid();
    }
    let dir = args.dir();
    if let Some(rec) = daemon::running(&dir).filter(|r| r.pid != std::process::id()) {
        return Err(format!(
            "a lab is already running in {} (pid {})",
            dir.display(),
            rec.pid
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    daemon::clear_old_instances(&dir);
    if args.fresh {
        keyless_lab::forget_identity(&dir).map_err(|e| e.to_string())?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let opts = LabOptions {
            regions: args.regions.clone(),
            extra_instances: args.instances,
            eic_latency: Duration::from_millis(args.eic_latency_ms),
            eice_latency: Duration::from_millis(args.eice_latency_ms),
            api_latency: Duration::from_millis(args.api_latency_ms),
            key_ttl: Duration::from_secs(args.key_ttl_secs),
            max_page_size: args.max_page_size,
            state_dir: Some(dir.clone()),
        };
        let lab = Lab::start(opts).await.map_err(|e| e.to_string())?;
        let rec = LabRecord {
            pid: std::process::id(),
            endpoint: lab.endpoint(),
            http_port: lab.http_addr().port(),
            ssh_port: lab.ssh_port(),
            env_file: lab.env_file().to_path_buf(),
            os_user: lab.os_user().to_string(),
            identity: Some(lab.identity().clone()),
        };
        daemon::write_record(&dir, &rec).map_err(|e| e.to_string())?;
        println!(
            "keyless-lab serving on {} (ssh port {}, user {})",
            rec.endpoint, rec.ssh_port, rec.os_user
        );
        print!("{}", table(&lab.all_instances()));
        print!("{}", endpoint_table(&lab.endpoints()));
        wait_for_signal().await;
        println!("keyless-lab: stopping");
        daemon::remove_record(&dir);
        lab.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn down(d: &DirArg) -> Result<(), String> {
    let dir = d.dir();
    let Some(rec) = daemon::running(&dir) else {
        daemon::remove_record(&dir);
        println!("no lab is running in {}", dir.display());
        return Ok(());
    };
    let pid = nix::unistd::Pid::from_raw(rec.pid as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
        .map_err(|e| format!("signalling pid {}: {e}", rec.pid))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon::pid_alive(rec.pid) {
        if Instant::now() > deadline {
            return Err(format!("lab pid {} did not stop within 20 s", rec.pid));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon::remove_record(&dir);
    println!("lab stopped (pid {})", rec.pid);
    Ok(())
}

fn status(d: &DirArg) -> Result<(), String> {
    let rec = d.running()?;
    let instances = control::fetch_state_of(rec.http_addr(), "all").map_err(|e| e.to_string())?;
    let endpoints = control::fetch_endpoints(rec.http_addr()).map_err(|e| e.to_string())?;
    println!(
        "lab pid {} at {} (ssh port {}, user {})",
        rec.pid, rec.endpoint, rec.ssh_port, rec.os_user
    );
    println!("env file: {}", rec.env_file.display());
    print!("{}", table(&instances));
    print!("{}", endpoint_table(&endpoints));
    Ok(())
}

fn table(instances: &[LabInstance]) -> String {
    let rows: Vec<[String; 7]> = instances
        .iter()
        .map(|i| {
            let name = match i.name.as_deref() {
                None => "-".to_string(),
                Some("") => "\"\"".to_string(),
                Some(n) => n.to_string(),
            };
            let public = i.public_ip.map_or("-".to_string(), |ip| ip.to_string());
            [
                i.id.clone(),
                i.account.clone(),
                name,
                i.region.clone(),
                i.state.clone(),
                i.private_ip.to_string(),
                public,
            ]
        })
        .collect();
    let header = [
        "ID",
        "ACCOUNT",
        "NAME",
        "REGION",
        "STATE",
        "PRIVATE IP",
        "PUBLIC IP",
    ]
    .map(String::from);
    columns(&header, &rows)
}

/// The EC2 Instance Connect Endpoints (every account), after the instances.
fn endpoint_table(endpoints: &[LabEndpoint]) -> String {
    let rows: Vec<[String; 6]> = endpoints
        .iter()
        .map(|e| {
            [
                e.id.clone(),
                e.account.clone(),
                e.region.clone(),
                e.vpc_id.clone(),
                e.state.clone(),
                e.dns_name.clone(),
            ]
        })
        .collect();
    let header = ["ENDPOINT", "ACCOUNT", "REGION", "VPC", "STATE", "DNS NAME"].map(String::from);
    format!("\n{}", columns(&header, &rows))
}

/// Left-aligned columns, two spaces apart.
fn columns<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in std::iter::once(header).chain(rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
