//! Runs the real `keyless` binary against a real lab (emulated AWS endpoints, real sshd), with a
//! private HOME and TMPDIR so tests see exactly what Keyless writes.

#![allow(dead_code)] // each test file uses a different part

use keyless_lab::{Lab, LabOptions};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;

pub struct Env {
    pub lab: Lab,
    pub home: TempDir,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Env {
    pub async fn start() -> Env {
        Self::with(LabOptions::default()).await
    }

    pub async fn with(opts: LabOptions) -> Env {
        let lab = Lab::start(opts).await.expect("lab starts");
        let home = tempfile::tempdir().expect("temp home");
        std::fs::create_dir_all(home.path().join("tmp")).unwrap();
        Env { lab, home }
    }

    pub fn tmpdir(&self) -> PathBuf {
        self.home.path().join("tmp")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.home.path().join(".local/share/keyless/known_hosts")
    }

    /// Every variable the binary sees: the lab's, a private HOME, nothing from the developer.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars = self.lab.env();
        let home = self.home.path().display().to_string();
        vars.extend([
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), home.clone()),
            ("XDG_DATA_HOME".into(), format!("{home}/.local/share")),
            ("XDG_CONFIG_HOME".into(), format!("{home}/.config")),
            ("TMPDIR".into(), self.tmpdir().display().to_string()),
            ("NO_COLOR".into(), "1".into()),
        ]);
        vars
    }

    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        program(bin(), args, self.vars())
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[]).await
    }

    /// `run` with these variables added to the environment.
    pub async fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        cmd.envs(vars.iter().copied());
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("keyless finishes within a minute")
            .expect("keyless runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `keyless ssh TARGET --host-key-policy accept-new -- COMMAND…`
    pub async fn ssh(&self, target: &str, command: &[&str]) -> Output {
        let mut args = vec!["ssh", target, "--host-key-policy", "accept-new", "--"];
        args.extend_from_slice(command);
        self.run(&args).await
    }

    /// `keyless login --profile P --no-browser`, approved in the lab once the CLI has polled at
    /// least once (as a user in a browser would). Returns everything the CLI printed.
    pub async fn login(&self, profile: &str) -> String {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = self
            .command(&["login", "--profile", profile, "--no-browser"])
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut shown = String::new();
        let code = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                shown.push_str(&line);
                shown.push('\n');
                if let Some(c) = line.trim().strip_prefix("Code: ") {
                    return c.to_string();
                }
            }
            panic!("login never showed a code:\n{shown}");
        })
        .await
        .expect("code shown in time");
        assert!(shown.contains(&format!("user_code={code}")), "{shown}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(self.lab.approve_sso(&code));
        while let Some(line) = lines.next_line().await.unwrap() {
            shown.push_str(&line);
            shown.push('\n');
        }
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "{shown}");
        shown
    }

    pub fn successful_pushes(&self) -> usize {
        self.lab
            .pushes()
            .iter()
            .filter(|p| p.outcome == "Success")
            .count()
    }
}

/// `program ARGS…` with exactly `vars`, no stdin, output captured, killed if the test drops it.
pub fn program(
    program: &str,
    args: &[&str],
    vars: Vec<(String, String)>,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(vars)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A loopback TCP port nothing listens on right now (for a listener a child process opens).
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_keyless")
}

/// Every regular file below `dir`.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

/// `keyless` running on a real pseudo-terminal, with what it printed so far.
pub struct PtyRun {
    master: Box<dyn portable_pty::MasterPty + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn std::io::Write + Send>,
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Output not yet consumed by `expect`.
    pub seen: String,
}

impl Env {
    /// Starts `keyless ARGS` on a new PTY of `cols`×`rows` with this env's variables.
    pub fn spawn_in_pty(&self, args: &[&str], cols: u16, rows: u16) -> PtyRun {
        self.spawn_in_pty_with(args, cols, rows, &[])
    }

    /// `spawn_in_pty` with these variables added (e.g. a `TERM`).
    pub fn spawn_in_pty_with(
        &self,
        args: &[&str],
        cols: u16,
        rows: u16,
        vars: &[(&str, &str)],
    ) -> PtyRun {
        use portable_pty::{native_pty_system, CommandBuilder, PtySize};
        use std::io::Read;
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(bin());
        cmd.args(args);
        cmd.env_clear();
        for (k, v) in self.vars() {
            cmd.env(k, v);
        }
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let writer = pty.master.take_writer().unwrap();
        PtyRun {
            master: pty.master,
            child,
            writer,
            rx,
            seen: String::new(),
        }
    }
}

impl PtyRun {
    /// Waits until the output contains `needle`; returns (and consumes) the text up to it.
    pub fn expect(&mut self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !self.seen.contains(needle) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("never saw {needle:?}; screen so far:\n{}", self.seen),
            }
        }
        let at = self.seen.find(needle).unwrap() + needle.len();
        self.seen.drain(..at).collect()
    }

    /// Types `line` and Enter.
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        self.writer.write_all(line.as_bytes()).unwrap();
        self.writer.write_all(b"\r").unwrap();
        self.writer.flush().unwrap();
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.master
            .resize(portable_pty::PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// Waits for the exit (blocking); returns the exit code and everything printed meanwhile.
    pub fn wait(mut self) -> (u32, String) {
        let status = self.child.wait().unwrap();
        while let Ok(chunk) = self.rx.recv_timeout(Duration::from_millis(300)) {
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        (status.exit_code(), self.seen)
    }
}

/// A key pair of the test's own for the system's OpenSSH client (in the env's temp dir).
pub struct OpensshKey {
    pub private: PathBuf,
    pub public: String,
}

pub fn openssh_key(env: &Env) -> OpensshKey {
    let private = env.tmpdir().join("openssh_test_key");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&private)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let public = std::fs::read_to_string(private.with_extension("pub")).unwrap();
    OpensshKey {
        private,
        public: public.trim().to_owned(),
    }
}

/// Pushes `public` for the lab's OS user to `instance_id` with EC2 Instance Connect, as any
/// client would (valid for the lab's key lifetime).
pub async fn push_key(env: &Env, instance_id: &str, public: &str) {
    keyless_lab::use_lab_credentials_in_process();
    let region = env.lab.regions()[0].clone();
    let aws = keyless_core::AwsContext::load(&keyless_core::AwsSelection {
        profile: None,
        region: Some(region.clone()),
        endpoint_url: Some(env.lab.endpoint()),
    })
    .await
    .expect("lab credentials");
    keyless_core::push::push_key(
        &aws,
        &keyless_core::push::PushRequest {
            region: &region,
            instance_id,
            os_user: env.lab.os_user(),
            public_key: public,
        },
    )
    .await
    .expect("the push succeeds");
}
