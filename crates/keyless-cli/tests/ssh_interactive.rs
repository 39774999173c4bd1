//! An interactive login through a real pseudo-terminal: the remote PTY opens at our size, follows
//! a resize, and the shell's exit status becomes ours.

mod common;

use common::Env;
use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Screen {
    rx: mpsc::Receiver<Vec<u8>>,
    seen: String,
}

impl Screen {
    /// Waits until the output contains `needle`; returns (and consumes) the text up to it.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("never saw {needle:?}; screen so far:\n{}", self.seen),
            }
        }
        let at = self.seen.find(needle).unwrap() + needle.len();
        self.seen.drain(..at).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_shell_follows_resizes() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(common::bin());
    cmd.args([
        "ssh",
        &format!("{user}@db-primary"),
        "--host-key-policy",
        "accept-new",
    ]);
    cmd.env_clear();
    for (k, v) in env.vars() {
        cmd.env(k, v);
    }
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);

    let mut reader = pty.master.try_clone_reader().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut writer = pty.master.take_writer().unwrap();
    let mut screen = Screen {
        rx,
        seen: String::new(),
    };
    // Markers are computed remotely so the echo of what we type never matches them.
    let mut type_line = |line: &str| {
        writer.write_all(line.as_bytes()).unwrap();
        writer.write_all(b"\r").unwrap();
        writer.flush().unwrap();
    };

    type_line("echo size=$(stty size)=$((40+2))");
    screen.expect("size=24 80=42");

    pty.master
        .resize(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    // The resize travels as SIGWINCH → window-change; ask until the remote side reports it.
    // `$((100+n))` is expanded remotely, so the echo of what we type never matches `=100+n`.
    let mut reported = Vec::new();
    for n in 0..40 {
        type_line(&format!("echo size=$(stty size)=$((100+{n}))"));
        let text = screen.expect(&format!("={}", 100 + n));
        if text.contains("size=40 120=") {
            break;
        }
        reported.push(text);
        assert!(n < 39, "the new size never arrived: {reported:?}");
        std::thread::sleep(Duration::from_millis(250));
    }

    type_line("exit 7");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.exit_code(), 7);
}
