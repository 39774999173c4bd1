//! OpenSSH's own client against the lab's real sshd: a push makes a login work, for the TTL
//! only, only for that key; sessions outlive the key; kill_sshd takes sessions down.

mod common;

use std::io::BufRead;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use keyless_lab::{Lab, LabOptions};

fn ok(out: &std::process::Output) -> bool {
    out.status.success()
}

/// Starts `ssh … 'echo $$; exec sleep 120'` and returns it with the remote shell's pid.
fn open_session(lab: &Lab, key: &std::path::Path, ip: &str) -> (Child, i32) {
    let mut child = ssh_command(
        key,
        lab.ssh_port(),
        lab.os_user(),
        ip,
        "echo $$; exec sleep 120",
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("session did not start: {line:?}"));
    (child, pid)
}

fn wait_exit(child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[tokio::test]
async fn push_then_login_until_ttl() {
    let lab = Lab::start(LabOptions {
        key_ttl: Duration::from_secs(4),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (key, line) = ed25519(tmp.path(), "id");
    let (wrong_key, _) = ed25519(tmp.path(), "wrong");
    let db = lab.instance_named("db-primary");
    let ip = db.private_ip.to_string();
    let (port, user) = (lab.ssh_port(), lab.os_user().to_string());

    assert!(
        !ok(&ssh(&key, port, &user, &ip, "true")),
        "no push, no login"
    );
    assert_eq!(push(&lab, "us-east-1", &db.id, &user, &line).status, 200);
    let out = ssh(&key, port, &user, &ip, "id -un");
    assert!(
        ok(&out),
        "login after push: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), user);
    assert!(
        !ok(&ssh(&wrong_key, port, &user, &ip, "true")),
        "another key is refused"
    );

    // A session opened within the TTL outlives it.
    let (mut session, shell) = open_session(&lab, &key, &ip);
    std::thread::sleep(Duration::from_millis(4300));
    let out = ssh(&key, port, &user, &ip, "true");
    assert!(!ok(&out), "login after the TTL must fail");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"));
    assert!(pid_alive(shell), "established session survives key expiry");
    assert!(session.try_wait().unwrap().is_none());
    let _ = session.kill();
    let _ = session.wait();

    // A fresh push works again.
    assert_eq!(push(&lab, "us-east-1", &db.id, &user, &line).status, 200);
    assert!(ok(&ssh(&key, port, &user, &ip, "true")));
}

#[tokio::test]
async fn public_address_rsa_key_and_pinned_host_key() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (key, line) = keygen(tmp.path(), "rsa", &["-t", "rsa", "-b", "2048"]);
    let web = lab
        .instances()
        .into_iter()
        .find(|i| i.public_ip.is_some() && i.region == "us-east-1")
        .unwrap();
    let (port, user) = (lab.ssh_port(), lab.os_user().to_string());
    assert_eq!(push(&lab, "us-east-1", &web.id, &user, &line).status, 200);
    let public = web.public_ip.unwrap().to_string();
    assert!(
        ok(&ssh(&key, port, &user, &public, "true")),
        "login on the public address"
    );

    // The reported host key is the one sshd presents.
    let known = tmp.path().join("known_hosts");
    let host = if port == 22 {
        public.clone()
    } else {
        format!("[{public}]:{port}")
    };
    std::fs::write(&known, format!("{host} {}\n", web.host_public_key)).unwrap();
    let strict = |known: &std::path::Path| {
        ssh_command_checked(&key, port, &user, &public, "true", Some(known))
            .output()
            .unwrap()
    };
    assert!(ok(&strict(&known)), "pinned host key accepted");
    lab.rekey(&web.id).await;
    assert!(
        !ok(&strict(&known)),
        "after rekey the pinned key no longer matches"
    );
}

#[tokio::test]
async fn push_fine_login_refused() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (key, line) = ed25519(tmp.path(), "id");
    let port = lab.ssh_port();
    let db = lab.instance_named("db-primary");
    let ip = db.private_ip.to_string();

    // IAM allows `ghost`, the machine has no such user.
    assert_eq!(push(&lab, "us-east-1", &db.id, "ghost", &line).status, 200);
    assert!(!ok(&ssh(&key, port, "ghost", &ip, "true")));

    // IMDS disabled: the instance cannot fetch the key.
    let no_imds = lab.instance_named("no-imds");
    assert_eq!(
        push(&lab, "us-east-1", &no_imds.id, lab.os_user(), &line).status,
        200
    );
    assert!(!ok(&ssh(
        &key,
        port,
        lab.os_user(),
        &no_imds.private_ip.to_string(),
        "true"
    )));

    // `expire`: success reply, key never served.
    lab.expire_next_pushes(1);
    assert_eq!(
        push(&lab, "us-east-1", &db.id, lab.os_user(), &line).status,
        200
    );
    assert!(!ok(&ssh(&key, port, lab.os_user(), &ip, "true")));
    assert_eq!(
        push(&lab, "us-east-1", &db.id, lab.os_user(), &line).status,
        200
    );
    assert!(ok(&ssh(&key, port, lab.os_user(), &ip, "true")));
}

#[tokio::test]
async fn kill_sshd_kills_live_sessions() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (key, line) = ed25519(tmp.path(), "id");
    let db = lab.instance_named("db-primary");
    let ip = db.private_ip.to_string();
    assert_eq!(
        push(&lab, "us-east-1", &db.id, lab.os_user(), &line).status,
        200
    );
    let (mut s1, shell1) = open_session(&lab, &key, &ip);
    let (mut s2, shell2) = open_session(&lab, &key, &ip);
    assert!(pid_alive(shell1) && pid_alive(shell2));

    lab.kill_sshd(&db.id).await;
    assert!(
        !pid_alive(shell1) && !pid_alive(shell2),
        "sessions killed with their sshd"
    );
    assert!(
        wait_exit(&mut s1, Duration::from_secs(10)) && wait_exit(&mut s2, Duration::from_secs(10))
    );
    assert_eq!(lab.instance_named("db-primary").state, "running");
    assert!(
        !ok(&ssh(&key, lab.ssh_port(), lab.os_user(), &ip, "true")),
        "sshd is down"
    );

    lab.restart_sshd(&db.id).await;
    assert!(ok(&ssh(&key, lab.ssh_port(), lab.os_user(), &ip, "true")));

    // stop_instance does the same to sessions.
    let (mut s3, shell3) = open_session(&lab, &key, &ip);
    lab.stop_instance(&db.id).await;
    assert!(!pid_alive(shell3));
    assert!(wait_exit(&mut s3, Duration::from_secs(10)));
}
