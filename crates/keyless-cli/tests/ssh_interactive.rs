//! On a real pseudo-terminal: an interactive login whose remote PTY opens at our size, follows
//! a resize and gives us the shell's exit status; and the host-key question, answered there.

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

/// Lines of the known-hosts file that pin `id` (none when the file does not exist).
fn pinned_lines(env: &Env, id: &str) -> Vec<String> {
    std::fs::read_to_string(env.known_hosts())
        .unwrap_or_default()
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(id))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_key_question_on_a_terminal_pins_only_on_yes() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let db = env.lab.instance_named("db-primary");
    let target = format!("{user}@db-primary");
    // On a terminal, with no policy given, an unknown key is asked about (the `ask` policy).
    let question = "Trust it? [y]es and remember / [o]nce / [N]o: ";
    let ask = |answer: &'static str| {
        let mut term = env.spawn_in_pty(&["ssh", &target, "--", "echo ran-$((20+1))"], 80, 24);
        let asked = term.expect(question);
        assert!(asked.contains(&db.host_key_sha256), "{asked}");
        assert!(asked.contains(&db.id), "{asked}");
        term.type_line(answer);
        term.wait()
    };

    let (code, shown) = tokio::task::block_in_place(|| ask("no"));
    assert_eq!(code, 255, "{shown}");
    assert!(!shown.contains("ran-21"), "nothing ran after a no: {shown}");
    assert_eq!(pinned_lines(&env, &db.id), Vec::<String>::new());

    let (code, shown) = tokio::task::block_in_place(|| ask("once"));
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("ran-21"), "{shown}");
    assert_eq!(pinned_lines(&env, &db.id), Vec::<String>::new());

    let (code, shown) = tokio::task::block_in_place(|| ask("yes"));
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("ran-21"), "{shown}");
    let key: Vec<&str> = db.host_public_key.split_whitespace().take(2).collect();
    assert_eq!(
        pinned_lines(&env, &db.id),
        vec![format!("{} {}", db.id, key.join(" "))]
    );
    // Pinned: the next connect on a terminal does not ask again.
    let mut term = env.spawn_in_pty(&["ssh", &target, "--", "echo again-$((40+2))"], 80, 24);
    let shown = tokio::task::block_in_place(|| term.expect("again-42"));
    assert!(!shown.contains(question), "{shown}");
    let (code, rest) = tokio::task::block_in_place(|| term.wait());
    assert_eq!(code, 0, "{shown}{rest}");
}
