//! `keyless sftp` with its commands piped in, as a script would drive it (the prompt reads the
//! same lines from a terminal): every command does its work on the lab's real sshd, a wrong one
//! is said and the rest still run, and the exit status tells whether all worked.

use super::{dir, hand_to_lab_user};
use crate::common::{Env, Output};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

fn remote_user(env: &Env) -> String {
    format!("{}@db-primary", env.lab.os_user())
}

async fn sftp(env: &Env, script: &str) -> Output {
    let mut cmd = env.command(&["sftp", "--host-key-policy", "accept-new", &remote_user(env)]);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("keyless runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("sftp finishes within a minute")
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_commands_browse_copy_and_change_files_on_one_connection() {
    let env = Env::start().await;
    let (here, there) = (dir(&env, "here"), dir(&env, "there"));
    std::fs::write(there.join("syslog 1.txt"), "remote log\n").unwrap();
    std::fs::write(here.join("app.conf"), "local conf\n").unwrap();
    hand_to_lab_user(&env, &there);
    let pushes = env.successful_pushes();

    let script = format!(
        "cd {there}\n\
         pwd\n\
         ls\n\
         lcd {here}\n\
         get \"syslog 1.txt\"\n\
         put app.conf\n\
         mkdir conf.d\n\
         rename app.conf conf.d/app.conf\n\
         chmod 600 conf.d/app.conf\n\
         ls -l conf.d\n\
         # a comment, then a blank line\n\
         \n\
         exit\n",
        there = there.display(),
        here = here.display(),
    );
    let out = sftp(&env, &script).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        env.successful_pushes(),
        pushes + 1,
        "one key push for the session"
    );
    assert!(
        out.stdout
            .contains(&format!("Remote working directory: {}", there.display())),
        "{out:?}"
    );
    assert!(out.stdout.lines().any(|l| l == "syslog 1.txt"), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(here.join("syslog 1.txt")).unwrap(),
        "remote log\n"
    );
    let moved = there.join("conf.d/app.conf");
    assert_eq!(std::fs::read_to_string(&moved).unwrap(), "local conf\n");
    let mode = std::fs::metadata(&moved).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("-rw------- ") && l.ends_with(" app.conf")),
        "ls -l shows mode and name: {out:?}"
    );
    env.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_command_is_explained_the_rest_still_run_and_the_exit_says_so() {
    let env = Env::start().await;
    let there = dir(&env, "there");
    std::fs::create_dir(there.join("full")).unwrap();
    std::fs::write(there.join("full/keep"), "x").unwrap();
    hand_to_lab_user(&env, &there);

    let script = format!(
        "cd {there}\n\
         frobnicate now\n\
         rmdir full\n\
         rm full\n\
         mkdir made-after-errors\n",
        there = there.display()
    );
    let out = sftp(&env, &script).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("unknown command 'frobnicate'"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("is a directory"),
        "rm on a directory: {out:?}"
    );
    // The server's own refusal of rmdir on a non-empty directory reaches the user.
    assert!(out.stderr.contains("full"), "{out:?}");
    assert!(there.join("full/keep").exists(), "nothing was removed");
    assert!(
        there.join("made-after-errors").is_dir(),
        "later commands ran"
    );
    env.lab.shutdown().await;
}
