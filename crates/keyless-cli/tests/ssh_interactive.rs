//! An interactive login through a real pseudo-terminal: the remote PTY opens at our size, follows
//! a resize, and the shell's exit status becomes ours.

mod common;

use common::Env;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_shell_follows_resizes() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let target = format!("{user}@db-primary");
    let mut term = env.spawn_in_pty(&["ssh", &target, "--host-key-policy", "accept-new"], 80, 24);
    tokio::task::block_in_place(|| {
        // Markers are computed remotely so the echo of what we type never matches them.
        term.type_line("echo size=$(stty size)=$((40+2))");
        term.expect("size=24 80=42");

        term.resize(120, 40);
        // The resize travels as SIGWINCH → window-change; ask until the remote side reports it.
        // `$((100+n))` is expanded remotely, so the echo of what we type never matches `=100+n`.
        let mut reported = Vec::new();
        for n in 0..40 {
            term.type_line(&format!("echo size=$(stty size)=$((100+{n}))"));
            let text = term.expect(&format!("={}", 100 + n));
            if text.contains("size=40 120=") {
                break;
            }
            reported.push(text);
            assert!(n < 39, "the new size never arrived: {reported:?}");
            std::thread::sleep(Duration::from_millis(250));
        }

        term.type_line("exit 7");
    });
    let (code, _) = tokio::task::spawn_blocking(move || term.wait())
        .await
        .unwrap();
    assert_eq!(code, 7);
}
