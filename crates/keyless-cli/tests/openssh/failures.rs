//! Failures are OpenSSH-shaped: `keyless proxy` says why in one `keyless:` line (and a hint) on
//! stderr, and `ssh` exits 255. A changed host key is refused by OpenSSH, and even with checking
//! turned off the agent withholds the key from a host that does not match its pin.

use crate::setup::OpenSsh;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_instance_and_a_denied_user_fail_with_keylesss_reason() {
    let o = OpenSsh::start().await;
    let stopped = o.ssh(&["batch.keyless", "true"]).await;
    assert_eq!(stopped.code, 255, "{stopped:?}");
    assert!(stopped.stderr.contains("keyless: "), "{stopped:?}");
    assert!(stopped.stderr.contains("stopped"), "{stopped:?}");

    // By id the push goes out beside the lookup; the lookup's explanation is still the one shown.
    let stopped_id = o.instance_id("batch");
    let by_id = o.ssh(&[&stopped_id, "true"]).await;
    assert_eq!(by_id.code, 255, "{by_id:?}");
    assert!(
        by_id
            .stderr
            .contains(&format!("keyless: {stopped_id} (batch) is stopped")),
        "{by_id:?}"
    );

    let denied = o.ssh(&["-l", "admin", "db-primary.keyless", "true"]).await;
    assert_eq!(denied.code, 255, "{denied:?}");
    assert!(denied.stderr.contains("keyless: "), "{denied:?}");
    assert!(denied.stderr.contains("admin"), "{denied:?}");
    assert_eq!(o.env.successful_pushes(), 0);

    let unknown = o.ssh(&["no-such-instance.keyless", "true"]).await;
    assert_eq!(unknown.code, 255, "{unknown:?}");
    assert!(
        unknown
            .stderr
            .contains("no instance named 'no-such-instance'"),
        "{unknown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_host_key_is_refused_by_openssh_and_by_the_agent() {
    let o = OpenSsh::start().await;
    let id = o.instance_id("db-primary");
    // Pinned to some other machine's key.
    let impostor =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    std::fs::create_dir_all(o.env.known_hosts().parent().unwrap()).unwrap();
    std::fs::write(o.env.known_hosts(), format!("{id} {impostor}\n")).unwrap();

    let refused = o
        .ssh(&["db-primary.keyless", "echo", "should-not-run"])
        .await;
    assert_eq!(refused.code, 255, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{refused:?}"
    );
    assert!(!refused.stdout.contains("should-not-run"));

    // OpenSSH told not to check: the agent still will not sign for a host that fails its pin.
    let unchecked = o
        .ssh(&[
            "-o",
            "StrictHostKeyChecking=no",
            "db-primary.keyless",
            "echo",
            "should-not-run",
        ])
        .await;
    assert_eq!(unchecked.code, 255, "{unchecked:?}");
    assert!(
        !unchecked.stdout.contains("should-not-run"),
        "{unchecked:?}"
    );
    let store = std::fs::read_to_string(o.env.known_hosts()).unwrap();
    assert_eq!(store.lines().count(), 1, "the pin is unchanged: {store}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_private_key_is_left_on_disk() {
    let o = OpenSsh::start().await;
    let out = o
        .ssh(&[
            "-o",
            "StrictHostKeyChecking=accept-new",
            "db-primary.keyless",
            "true",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    for file in crate::common::files_under(o.env.home.path()) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("PRIVATE KEY"),
            "{} holds a private key",
            file.display()
        );
    }
}

/// In a shared folder (the /tmp fallback without XDG_RUNTIME_DIR) someone else could serve the
/// agent socket first; a key made there would be pushed for their use. The proxy refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_socket_served_by_another_user_is_refused() {
    if !nix_is_root() {
        eprintln!("skipped: serving a socket as another user needs root");
        return;
    }
    let o = OpenSsh::start().await;
    let shared = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let socket = shared.path().join("agent.sock");
    let serve = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen()\nwhile True: s.accept()";
    // setpriv execs python itself (runuser would fork it), so killing the child ends it.
    let mut other = tokio::process::Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            serve,
        ])
        .arg(&socket)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if socket.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(socket.exists(), "the other user's socket is there");
    let id = o.instance_id("db-primary");
    let agent = socket.display().to_string();
    let mut proxy = o.command(crate::common::bin(), &["proxy", "--agent", &agent, &id]);
    proxy.envs(o.vars());
    let out = crate::setup::output(proxy).await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(out.stderr.contains("served by user"), "{out:?}");
    assert_eq!(
        o.env.successful_pushes(),
        0,
        "nothing pushed for a stranger's key"
    );
    other.kill().await.unwrap();
}

fn nix_is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    })
}
