//! `keyless profile …` and `keyless ssh @NAME` as a user runs them: the real binary, a private
//! HOME (so the real `$XDG_CONFIG_HOME/keyless/profiles.toml`), and for connections the real lab.

mod common;
#[path = "profiles/ssh_config.rs"]
mod ssh_config;

use common::{bin, Env, Output};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A private HOME with no lab: the profile commands make no network call.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join(".config/keyless/profiles.toml")
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let home = self.dir.path().display().to_string();
        let mut cmd = std::process::Command::new(bin());
        cmd.args(args)
            .env_clear()
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", format!("{home}/.config"))
            .env("XDG_DATA_HOME", format!("{home}/.local/share"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[test]
fn profile_commands_end_to_end() {
    let h = Home::new();
    let out = h.run(&["profile", "ls"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("0 profiles"), "{out:?}");

    let out = h.run(&[
        "profile",
        "add",
        "web prod",
        "--target",
        "Env=prod,Role=web",
        "--group",
        "prod",
        "--user",
        "ubuntu",
        "--region",
        "eu-west-1",
        "-p",
        "2222",
        "--via",
        "public",
        "--notes",
        "behind the VPN",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = h.run(&["profile", "add", "db", "--target", "i-0123456789abcdef0"]);
    assert_eq!(out.code, 0, "{out:?}");

    let ls = h.run(&["profile", "ls"]);
    assert_eq!(ls.code, 0, "{ls:?}");
    let lines: Vec<&str> = ls.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "NAME      GROUP  TARGET               USER    REGION     LAST USED"
    );
    assert_eq!(
        lines[1],
        "db        -      i-0123456789abcdef0  -       -          -"
    );
    assert_eq!(
        lines[2],
        "web prod  prod   Env=prod,Role=web    ubuntu  eu-west-1  -"
    );

    let show = h.run(&["profile", "show", "web prod"]);
    assert!(show.stdout.contains("port:        2222"), "{show:?}");
    assert!(
        show.stdout.contains("notes:       behind the VPN"),
        "{show:?}"
    );

    // Edit: change, clear, rename.
    let out = h.run(&[
        "profile", "edit", "web prod", "--group", "", "--via", "auto", "--rename", "web",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let all = json(&h.run(&["profile", "ls", "--json"]));
    let web = all["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "web")
        .unwrap()
        .clone();
    assert_eq!(web["via"], "auto");
    assert!(web.get("group").is_none(), "{web}");
    assert_eq!(web["port"], 2222);

    // Bad values are refused before anything is written, naming the value.
    let before = std::fs::read(h.file()).unwrap();
    for (args, needle) in [
        (
            vec!["profile", "add", "x", "--target", "Env=prod,Role"],
            "'Role'",
        ),
        (
            vec!["profile", "add", "x", "--target", "web", "--user", "a b"],
            "'a b'",
        ),
        (
            vec!["profile", "add", "x", "--target", "web", "-p", "70000"],
            "70000",
        ),
        (
            vec![
                "profile", "add", "x", "--target", "web", "--via", "sideways",
            ],
            "sideways",
        ),
        (
            vec!["profile", "add", "x", "--target", "web", "--region", "mars"],
            "'mars'",
        ),
        (vec!["profile", "add", "@x", "--target", "web"], "'@x'"),
        (vec!["profile", "add", "x"], "target"),
        (
            vec!["profile", "add", "db", "--target", "web"],
            "'db' already exists",
        ),
        (vec!["profile", "edit", "nope", "--user", "u"], "'nope'"),
    ] {
        let out = h.run(&args);
        assert_ne!(out.code, 0, "{args:?}: {out:?}");
        assert!(out.stderr.starts_with("keyless: "), "{out:?}");
        assert!(out.stderr.contains(needle), "{args:?}: {out:?}");
    }
    assert_eq!(std::fs::read(h.file()).unwrap(), before);

    // Export, remove, import back: the report says what happened.
    let export = h.dir.path().join("export.json");
    let out = h.run(&["profile", "export", export.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let stdout_export = h.run(&["profile", "export"]);
    assert_eq!(
        stdout_export.stdout,
        std::fs::read_to_string(&export).unwrap()
    );
    assert_eq!(h.run(&["profile", "rm", "db"]).code, 0);
    assert_eq!(h.run(&["profile", "show", "db"]).code, 1);
    let out = h.run(&["profile", "import", export.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "added 1: db\nupdated 0\nunchanged 1: web\nrejected 0\n"
    );

    let bad = h.dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"name": "ok", "target": "web"}, {"name": "no", "target": "web", "user": "-x"}]"#,
    )
    .unwrap();
    let out = h.run(&["profile", "import", bad.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("added 1: ok\n"), "{out:?}");
    assert!(
        out.stdout
            .contains("rejected 1\n  no: profile 'no': '-x' is not a valid OS user name"),
        "{out:?}"
    );

    // Every command documents itself with examples.
    for sub in ["ls", "show", "add", "edit", "rm", "export", "import"] {
        let help = h.run(&["profile", sub, "--help"]);
        assert_eq!(help.code, 0);
        assert!(help.stdout.contains("keyless profile "), "{sub}: {help:?}");
    }
    assert!(h
        .run(&["connect", "--help"])
        .stdout
        .contains("keyless connect web-prod"));
}

#[test]
fn two_processes_adding_at_once_lose_nothing() {
    let h = Home::new();
    // Two writers at a time, ten rounds, plus some reading; every add must survive.
    let mut children = Vec::new();
    for n in 0..20 {
        let name = format!("p{n:02}");
        children.push(
            h.command(&["profile", "add", &name, "--target", "Name=web-*"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let all = json(&h.run(&["profile", "ls", "--json"]));
    let names: Vec<&str> = all["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 20, "{names:?}");
    let dir = h.file().parent().unwrap().to_path_buf();
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}"); // profiles.toml and its lock
}

#[test]
fn a_hand_broken_file_is_kept_and_reported_with_its_line() {
    let h = Home::new();
    assert_eq!(h.run(&["profile", "add", "web", "--target", "web"]).code, 0);
    let mut text = std::fs::read_to_string(h.file()).unwrap();
    text.push_str("\n[[profile]]\nname = \"db\"\nport = twenty-two\n");
    std::fs::write(h.file(), &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("port = twenty"))
        .unwrap()
        + 1;

    let out = h.run(&["profile", "ls"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .starts_with(&format!("keyless: {}:{line}:", h.file().display())),
        "{out:?}"
    );
    assert!(out.stderr.contains("  hint: A copy is kept as "), "{out:?}");
    let out = h.run(&["profile", "add", "x", "--target", "web"]);
    assert_eq!(out.code, 1, "{out:?}");
    let out = h.run(&["ssh", "@web", "--", "true"]);
    assert_eq!(out.code, 255, "{out:?}");
    assert!(out.stderr.contains(&format!(":{line}:")), "{out:?}");
    assert_eq!(std::fs::read_to_string(h.file()).unwrap(), text);
    let backups = backups(h.file().parent().unwrap());
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), text);
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("profiles.toml.broken-"))
        .collect()
}

fn last_used(env: &Env, name: &str) -> Option<String> {
    let text =
        std::fs::read_to_string(env.home.path().join(".config/keyless/profiles.toml")).unwrap();
    let table: toml_like::Doc = toml_like::parse(&text);
    table.get(name)
}

/// Just enough to read `last_used` of a profile without a TOML dependency in the tests.
mod toml_like {
    pub struct Doc(Vec<(String, Option<String>)>);
    pub fn parse(text: &str) -> Doc {
        let mut out = Vec::new();
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("name = ") {
                out.push((v.trim_matches('"').to_owned(), None));
            } else if let Some(v) = line.strip_prefix("last_used = ") {
                out.last_mut().unwrap().1 = Some(v.trim_matches('"').to_owned());
            }
        }
        Doc(out)
    }
    impl Doc {
        pub fn get(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| v.clone())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_at_name_runs_a_command_and_records_last_used() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let region = env.lab.regions()[0].clone();
    let out = env
        .run(&[
            "profile",
            "add",
            "db",
            "--target",
            "Env=prod,Role=d?,Name=db-*", // private-db is Env=prod Role=db too
            "--user",
            &user,
            "--region",
            &region,
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(last_used(&env, "db"), None);

    let out = env
        .run(&[
            "ssh",
            "@db",
            "--host-key-policy",
            "accept-new",
            "--",
            "echo hello from $(hostname); exit 3",
        ])
        .await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.starts_with("hello from "), "{out:?}");
    let first = last_used(&env, "db").expect("last_used is set");
    assert!(first.ends_with('Z') && first.len() == 20, "{first}");
    assert_eq!(env.successful_pushes(), 1);
    let db = env.lab.instance_named("db-primary");
    assert_eq!(env.lab.pushes()[0].instance_id, db.id);

    // `connect NAME` is the same thing; flags override the profile (an OS user the lab denies).
    let out = env
        .run(&[
            "connect",
            "db",
            "--host-key-policy",
            "strict",
            "--",
            "whoami",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), user);
    let out = env
        .run(&["connect", "db", "-l", "nobody-here", "--", "true"])
        .await;
    assert_eq!(out.code, 255, "{out:?}");
    // Refused for that user, by the push policy: the flag, not the profile's user, was used.
    assert!(out.stderr.contains("as 'nobody-here'"), "{out:?}");
    assert!(
        out.stderr.contains("ec2:osuser must allow 'nobody-here'"),
        "{out:?}"
    );
    let refused = env.lab.pushes().pop().expect("a push was tried");
    assert_eq!(
        (refused.instance_id.as_str(), refused.user.as_str()),
        (db.id.as_str(), "nobody-here")
    );
    assert_eq!(refused.outcome, "AccessDeniedException");

    // An instance-id profile whose instance is stopped says so before pushing any key.
    let batch = env.lab.instance_named("batch");
    let pushes = env.lab.pushes().len();
    assert_eq!(
        env.run(&["profile", "add", "batch", "--target", &batch.id])
            .await
            .code,
        0
    );
    let out = env.run(&["ssh", "@batch", "--", "true"]).await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("{} (batch) is stopped", batch.id)),
        "{out:?}"
    );
    assert_eq!(env.lab.pushes().len(), pushes);
    assert_eq!(last_used(&env, "batch"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_matching_none_or_several_explain_themselves() {
    let env = Env::start().await;
    let region = env.lab.regions()[0].clone();
    for (name, target) in [
        ("web", "Name=web"),
        ("none", "Env=prod,Role=nothing*"),
        ("stopped", "Name=batch"),
    ] {
        assert_eq!(
            env.run(&["profile", "add", name, "--target", target])
                .await
                .code,
            0
        );
    }
    // Several: the error lists the candidates (no terminal to ask on), exit 255.
    let out = env.run(&["ssh", "@web", "--", "true"]).await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "'Name=web' matches 2 running instances in {region}"
        )),
        "{out:?}"
    );
    for web in env
        .lab
        .instances()
        .iter()
        .filter(|i| i.name.as_deref() == Some("web"))
    {
        assert!(out.stderr.contains(&web.id), "{out:?}");
    }
    // None, and a stopped instance never matches.
    for (name, target) in [
        ("none", "Env=prod,Role=nothing*"),
        ("stopped", "Name=batch"),
    ] {
        let out = env.run(&["ssh", &format!("@{name}"), "--", "true"]).await;
        assert_eq!(out.code, 255, "{out:?}");
        assert!(
            out.stderr.contains(&format!(
                "no running instance matches '{target}' in {region}"
            )),
            "{out:?}"
        );
    }
    // `--region` overrides the profile: eu-web lives in another region.
    assert_eq!(
        env.run(&["profile", "add", "eu", "--target", "Name=eu-*"])
            .await
            .code,
        0
    );
    let eu_region = env.lab.instance_named("eu-web").region;
    let out = env.run(&["ssh", "@eu", "--", "true"]).await;
    assert!(
        out.stderr.contains("no running instance matches"),
        "{out:?}"
    );
    let user = env.lab.os_user().to_owned();
    let out = env
        .run(&[
            "ssh",
            "@eu",
            "--region",
            &eu_region,
            "-l",
            &user,
            "--host-key-policy",
            "accept-new",
            "--",
            "echo ok",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "ok\n");
    assert_eq!(env.successful_pushes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_user_picks_among_several_matches() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let out = env
        .run(&[
            "profile", "add", "web", "--target", "Name=web", "--user", &user,
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let mut ids: Vec<String> = env
        .lab
        .instances()
        .into_iter()
        .filter(|i| i.name.as_deref() == Some("web"))
        .map(|i| i.id)
        .collect();
    ids.sort();

    let mut term = env.spawn_in_pty(
        &[
            "ssh",
            "@web",
            "--host-key-policy",
            "accept-new",
            "--",
            "echo picked $((40+2))",
        ],
        80,
        24,
    );
    let screen =
        tokio::task::block_in_place(|| term.expect("Connect to which one? [1-2, Enter cancels]: "));
    assert!(
        screen.contains(&format!(" 1)  {}  web", ids[0])),
        "{screen}"
    );
    assert!(
        screen.contains(&format!(" 2)  {}  web", ids[1])),
        "{screen}"
    );
    term.type_line("2");
    tokio::task::block_in_place(|| term.expect("picked 42"));
    let (code, _) = tokio::task::spawn_blocking(move || term.wait())
        .await
        .unwrap();
    assert_eq!(code, 0);
    let pushed: Vec<String> = env
        .lab
        .pushes()
        .into_iter()
        .filter(|p| p.outcome == "Success")
        .map(|p| p.instance_id)
        .collect();
    assert_eq!(pushed, vec![ids[1].clone()]);
    assert!(last_used(&env, "web").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picker_and_the_ambiguity_error_print_hostile_names_escaped() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    // An OSC window-title sequence, then U+202E (right-to-left override).
    let hostile = "web\x1b]0;pwned\x07\u{202e}dorp";
    let shown = "web\\x1b]0;pwned\\x07\\u202edorp";
    let renamed = env
        .lab
        .instances()
        .into_iter()
        .find(|i| i.name.as_deref() == Some("web"))
        .unwrap();
    env.lab.set_tag(&renamed.id, "Name", hostile);
    let out = env
        .run(&[
            "profile",
            "add",
            "web",
            "--target",
            "Name=web*",
            "--user",
            &user,
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");

    let mut term = env.spawn_in_pty(
        &[
            "ssh",
            "@web",
            "--host-key-policy",
            "accept-new",
            "--",
            "true",
        ],
        200,
        24,
    );
    let screen =
        tokio::task::block_in_place(|| term.expect("Connect to which one? [1-2, Enter cancels]: "));
    assert!(
        screen.contains(&format!("{}  {shown}  ", renamed.id)),
        "{screen:?}"
    );
    term.type_line("");
    let (code, rest) = tokio::task::spawn_blocking(move || term.wait())
        .await
        .unwrap();
    assert_eq!(code, 255, "{rest:?}");
    assert!(
        rest.contains(&format!("  {}  {shown}  ", renamed.id)),
        "the error lists the candidates: {rest:?}"
    );
    for raw in ['\x07', '\u{202e}'] {
        assert!(
            !screen.contains(raw) && !rest.contains(raw),
            "{raw:?} reached the terminal: {screen:?}{rest:?}"
        );
    }
    assert!(!screen.contains("\x1b]") && !rest.contains("\x1b]"));
    assert_eq!(env.successful_pushes(), 0);
}
