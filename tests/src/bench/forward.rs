//! Part 5: a port forward's throughput. `keyless ssh -N -L` against `ssh -N -L` (OpenSSH, key
//! pushed beforehand) to a byte sink on the instance's loopback, the same bytes through each,
//! both directions, with and without the added round trip. The forwarding processes stay up for
//! all runs (as a user's would); their peak RSS is read from /proc when they end.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Child;

use super::env::which;
use super::report::Row;
use super::transfer::Bench;

pub struct ForwardConfig {
    pub size_mib: u64,
    pub rtts: Vec<Duration>,
}

pub struct ForwardLink {
    pub rtt: Duration,
    /// (label, to the instance, from the instance, the forwarder's peak RSS in KiB).
    pub rows: Vec<(&'static str, Row, Row, Option<u64>)>,
}

pub async fn run(bench: &mut Bench<'_>, cfg: &ForwardConfig) -> Result<Vec<ForwardLink>, String> {
    let sink = Sink::start(bench.inst.private_ip.into()).await?;
    let ssh = which("ssh").ok_or("no `ssh` on PATH")?;
    let size = cfg.size_mib * 1024 * 1024;
    let mut links = Vec::new();
    for &rtt in &cfg.rtts {
        let (addr, _line) = bench.link(rtt).await?;
        let target = format!("{}:{}", sink.addr.ip(), sink.addr.port());
        let user = bench.lab.os_user().to_string();

        let keyless_port = free_port().await?;
        let spec = format!("127.0.0.1:{keyless_port}:{target}");
        let keyless = spawn(
            bench.keyless.as_os_str(),
            &[
                "ssh",
                "-N",
                "-L",
                &spec,
                "--port",
                &addr.port().to_string(),
                "--host-key-policy",
                "accept-new",
                &format!("{user}@{}", bench.inst.id),
            ],
            &bench.vars,
        )?;

        bench.pusher.push().await?;
        let ssh_port = free_port().await?;
        let spec = format!("127.0.0.1:{ssh_port}:{target}");
        let mut args = bench.key.openssh_options();
        args.extend(
            [
                "-N",
                "-o",
                "ExitOnForwardFailure=yes",
                "-L",
                &spec,
                "-p",
                &addr.port().to_string(),
                &format!("{user}@{}", addr.ip()),
            ]
            .map(String::from),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let openssh = spawn(ssh.as_os_str(), &args, &bench.vars)?;

        let mut forwarders = [
            (
                "keyless ssh -N -L",
                keyless,
                keyless_port,
                Row::new(),
                Row::new(),
            ),
            (
                "ssh -N -L (OpenSSH)",
                openssh,
                ssh_port,
                Row::new(),
                Row::new(),
            ),
        ];
        for (what, child, port, _, _) in forwarders.iter_mut() {
            wait_listening(*port, child, what).await?;
            // Warm-up: the first connection through each, untimed.
            through(*port, Mode::Up, 1 << 20).await?;
        }
        for round in 0..bench.runs {
            for k in 0..forwarders.len() {
                let (what, _, port, up, down) = &mut forwarders[(round + k) % 2];
                up.add(
                    through(*port, Mode::Up, size)
                        .await
                        .map_err(|e| format!("{what}: {e}"))?,
                    None,
                );
                down.add(
                    through(*port, Mode::Down, size)
                        .await
                        .map_err(|e| format!("{what}: {e}"))?,
                    None,
                );
            }
        }
        let mut rows = Vec::new();
        for (what, mut child, _, up, down) in forwarders {
            let rss = child.id().and_then(peak_rss_kb);
            let _ = child.kill().await;
            rows.push((what, up, down, rss));
        }
        links.push(ForwardLink { rtt, rows });
    }
    Ok(links)
}

fn spawn(
    prog: &std::ffi::OsStr,
    args: &[&str],
    vars: &[(String, String)],
) -> Result<Child, String> {
    tokio::process::Command::new(prog)
        .args(args)
        .env_clear()
        .envs(vars.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", prog.to_string_lossy()))
}

async fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("a free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Until the forwarder's port accepts (it binds before connecting, so also until its first
/// forwarded connection works: see the warm-up), or it exits.
async fn wait_listening(port: u16, child: &mut Child, what: &str) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err).await;
            }
            return Err(format!("{what} exited ({status}): {err}"));
        }
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{what} did not listen on port {port} within 30 s"))
}

#[derive(Clone, Copy)]
enum Mode {
    /// The client sends `size` bytes; the sink answers with how many it got.
    Up,
    /// The sink sends `size` bytes.
    Down,
}

/// One connection through the forward on `port`, moving `size` bytes; how long it took.
async fn through(port: u16, mode: Mode, size: u64) -> Result<Duration, String> {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connecting to the forward: {e}"))?;
    let _ = s.set_nodelay(true);
    let io = |e: std::io::Error| format!("through the forward: {e}");
    match mode {
        Mode::Up => {
            s.write_all(b"U").await.map_err(io)?;
            let block = vec![0x5au8; 256 * 1024];
            let mut left = size;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                s.write_all(&block[..n]).await.map_err(io)?;
                left -= n as u64;
            }
            s.shutdown().await.map_err(io)?;
            let got = s.read_u64().await.map_err(io)?;
            if got != size {
                return Err(format!("the sink got {got} bytes of {size}"));
            }
        }
        Mode::Down => {
            s.write_all(b"D").await.map_err(io)?;
            s.write_u64(size).await.map_err(io)?;
            let mut buf = vec![0u8; 256 * 1024];
            let mut got = 0u64;
            loop {
                match s.read(&mut buf).await.map_err(io)? {
                    0 => break,
                    n => got += n as u64,
                }
            }
            if got != size {
                return Err(format!("received {got} bytes of {size}"));
            }
        }
    }
    Ok(started.elapsed())
}

/// The service "behind the instance": counts what it is sent, or sends what it is asked for.
struct Sink {
    addr: SocketAddr,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self._task.abort();
    }
}

impl Sink {
    async fn start(ip: std::net::IpAddr) -> Result<Sink, String> {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .await
            .map_err(|e| format!("the sink: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s));
            }
        });
        Ok(Sink { addr, _task: task })
    }
}

async fn serve(mut s: TcpStream) -> std::io::Result<()> {
    let _ = s.set_nodelay(true);
    match s.read_u8().await? {
        b'U' => {
            let mut buf = vec![0u8; 256 * 1024];
            let mut got = 0u64;
            loop {
                match s.read(&mut buf).await? {
                    0 => break,
                    n => got += n as u64,
                }
            }
            s.write_u64(got).await?;
        }
        b'D' => {
            let mut left = s.read_u64().await?;
            let block = vec![0xa5u8; 256 * 1024];
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                s.write_all(&block[..n]).await?;
                left -= n as u64;
            }
        }
        _ => {}
    }
    s.shutdown().await
}

/// The high-water mark of a live process's resident set (VmHWM), in KiB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
