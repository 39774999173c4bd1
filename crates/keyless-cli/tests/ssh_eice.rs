//! Reaching instances through the lab's EC2 Instance Connect Endpoint: `--via eice`, `--via
//! auto` (direct when it answers, the tunnel otherwise), every refusal the endpoint can give, a
//! tunnel the endpoint closes mid-session, and `keyless tunnel` serving OpenSSH.

mod common;

use common::{Env, Output};
use keyless_lab::TunnelOutcome;
use std::time::Duration;

fn user_at(env: &Env, name: &str) -> String {
    format!("{}@{name}", env.lab.os_user())
}

/// Opened tunnels to `name`'s instance, as the lab's endpoint saw them.
fn tunnels_to(env: &Env, name: &str) -> usize {
    let id = env.lab.instance_named(name).id;
    env.lab
        .tunnels()
        .iter()
        .filter(|t| t.instance_id.as_deref() == Some(&id) && t.outcome == TunnelOutcome::Opened)
        .count()
}

fn assert_fails(out: &Output, needle: &str, hint: &str) {
    assert_eq!(out.code, 255, "{out:?}");
    assert!(out.stderr.starts_with("keyless: "), "{out:?}");
    assert!(out.stderr.contains(needle), "wanted {needle:?}: {out:?}");
    assert!(out.stderr.contains(hint), "wanted hint {hint:?}: {out:?}");
}

async fn ssh_via(env: &Env, via: &str, name: &str, extra: &[&str]) -> Output {
    let target = user_at(env, name);
    let mut args = vec![
        "ssh",
        "-v",
        "--via",
        via,
        &target,
        "--host-key-policy",
        "accept-new",
    ];
    args.extend_from_slice(extra);
    args.extend(["--", "echo", "ok"]);
    env.run(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eice_reaches_an_instance_nothing_else_can() {
    let env = Env::start().await;
    let endpoint = env.lab.endpoints()[0].id.clone();

    let out = ssh_via(&env, "eice", "private-db", &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "ok\n", "{out:?}");
    assert!(
        out.stderr.contains(&format!("via EICE {endpoint}")),
        "-v names the endpoint: {out:?}"
    );
    assert!(out.stderr.contains("Tunnel took"), "{out:?}");
    assert_eq!(tunnels_to(&env, "private-db"), 1);

    // Directly, the private address refuses: nothing listens there.
    let direct = ssh_via(&env, "private", "private-db", &[]).await;
    assert_fails(&direct, "cannot reach", "Instance Connect Endpoint");
    assert_eq!(
        tunnels_to(&env, "private-db"),
        1,
        "no tunnel for --via private"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_tunnels_only_where_direct_fails() {
    let env = Env::start().await;
    let out = ssh_via(&env, "auto", "private-db", &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("via EICE"), "{out:?}");
    assert_eq!(tunnels_to(&env, "private-db"), 1);

    // db-primary answers directly within the head start: no tunnel is opened at all.
    let out = ssh_via(&env, "auto", "db-primary", &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("via EICE"), "{out:?}");
    assert_eq!(tunnels_to(&env, "db-primary"), 0, "{:?}", env.lab.tunnels());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refusal_is_explained() {
    let env = Env::start().await;

    env.lab.deny_open_tunnel(true);
    let out = ssh_via(&env, "eice", "private-db", &[]).await;
    assert_fails(&out, "OpenTunnel", "remotePort");
    for key in ["privateIpAddress", "maxTunnelDuration"] {
        assert!(out.stderr.contains(key), "hint names {key}: {out:?}");
    }
    env.lab.deny_open_tunnel(false);

    env.lab.set_tunnel_cap_reached(true);
    let out = ssh_via(&env, "eice", "private-db", &[]).await;
    assert_fails(&out, "20", "everyone using its VPC");
    env.lab.set_tunnel_cap_reached(false);

    env.lab.set_endpoint_not_ready(true);
    let out = ssh_via(&env, "eice", "private-db", &[]).await;
    assert_fails(&out, "create-in-progress", "ready");
    env.lab.set_endpoint_not_ready(false);

    // Region 2's VPC has no endpoint.
    let out = ssh_via(&env, "eice", "eu-web", &["--region", "eu-west-1"]).await;
    assert_fails(
        &out,
        "no EC2 Instance Connect Endpoint",
        "create-instance-connect-endpoint",
    );

    // The endpoint forwards only to 22 and 3389.
    let out = ssh_via(&env, "eice", "private-db", &["-p", "2222"]).await;
    assert_fails(&out, "22 or 3389", "");

    let out = ssh_via(&env, "eice", "private-db", &["--max-tunnel-duration", "0"]).await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(out.stderr.contains("not a tunnel duration"), "{out:?}");

    // After all of that, it still works.
    let out = ssh_via(&env, "eice", "private-db", &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
}

/// `keyless ssh --via eice private-db` running a long command, once its first output is in.
async fn long_session(env: &Env) -> tokio::process::Child {
    use tokio::io::AsyncReadExt;
    let target = user_at(env, "private-db");
    let mut child = env
        .command(&[
            "ssh",
            "--via",
            "eice",
            &target,
            "--host-key-policy",
            "accept-new",
            "--",
            "echo",
            "up;",
            "sleep",
            "60",
        ])
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 3];
    tokio::time::timeout(Duration::from_secs(30), stdout.read_exact(&mut first))
        .await
        .expect("the command starts")
        .unwrap();
    assert_eq!(&first, b"up\n");
    child
}

/// How `child` ended once the endpoint did something to its tunnel: exit code and stderr.
async fn ending(child: tokio::process::Child) -> (Option<i32>, String) {
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("keyless ends when the tunnel does")
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tunnel_closed_by_the_endpoint_says_so() {
    let env = Env::start().await;
    let child = long_session(&env).await;
    env.lab.close_open_tunnels().await;
    let (code, stderr) = ending(child).await;
    assert_eq!(code, Some(255), "{stderr}");
    assert!(stderr.contains("tunnel"), "{stderr}");
    assert!(stderr.contains("closed by the endpoint"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_frame_from_the_endpoint_ends_the_session_with_its_text() {
    let env = Env::start().await;
    let child = long_session(&env).await;
    env.lab.send_text_on_open_tunnels().await;
    let (code, stderr) = ending(child).await;
    assert_eq!(code, Some(255), "{stderr}");
    assert!(stderr.contains("text"), "{stderr}");
}

/// `keyless tunnel` gives each OpenSSH connection its own tunnel; two at once both log in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_tunnel_serves_two_openssh_connections_at_once() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let env = Env::start().await;
    let inst = env.lab.instance_named("private-db");
    let mut child = env.command(&["tunnel", "private-db"]).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let local = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the local address is printed")
        .unwrap()
        .expect("a line");
    let (host, port) = local.rsplit_once(':').expect("host:port");
    assert_eq!(host, "127.0.0.1");

    // OpenSSH with a key of its own (this test's, in a temp dir), pushed the usual way.
    let key = common::openssh_key(&env);
    common::push_key(&env, &inst.id, &key.public).await;
    let known = env.tmpdir().join("tunnel_known_hosts");
    std::fs::write(
        &known,
        format!("[127.0.0.1]:{port} {}\n", inst.host_public_key),
    )
    .unwrap();
    let login = |n: u32| {
        let mut cmd = tokio::process::Command::new("ssh");
        cmd.args([
            "-F",
            "/dev/null",
            "-i",
            &key.private.display().to_string(),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            &format!("UserKnownHostsFile={}", known.display()),
            "-p",
            port,
            &format!("{}@127.0.0.1", env.lab.os_user()),
            &format!("echo tab{n}; sleep 1"),
        ])
        .kill_on_drop(true);
        cmd.output()
    };
    let (a, b) = tokio::join!(login(1), login(2));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(String::from_utf8_lossy(&a.stdout), "tab1\n");
    assert_eq!(String::from_utf8_lossy(&b.stdout), "tab2\n");
    assert_eq!(
        tunnels_to(&env, "private-db"),
        2,
        "one tunnel per connection"
    );
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_tunnel_refuses_ports_an_endpoint_cannot_reach() {
    let env = Env::start().await;
    let out = env
        .run(&["tunnel", "private-db", "--remote-port", "8080"])
        .await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(out.stderr.contains("22 or 3389"), "{out:?}");
    let out = env
        .run(&["tunnel", "eu-web", "--region", "eu-west-1"])
        .await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(
        out.stderr.contains("no EC2 Instance Connect Endpoint"),
        "{out:?}"
    );
}

/// `--max-tunnel-duration`, and a saved profile's, reach the endpoint as `maxTunnelDuration`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tunnel_duration_from_the_flag_or_the_profile_is_sent() {
    let env = Env::start().await;
    let id = env.lab.instance_named("private-db").id;
    let durations = |env: &Env| -> Vec<Option<u64>> {
        env.lab
            .tunnels()
            .iter()
            .filter(|t| t.outcome == TunnelOutcome::Opened)
            .map(|t| t.max_duration_secs)
            .collect()
    };
    let out = ssh_via(
        &env,
        "eice",
        "private-db",
        &["--max-tunnel-duration", "900"],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(durations(&env), [Some(900)]);

    let user = env.lab.os_user().to_owned();
    let add = env
        .run(&[
            "profile",
            "add",
            "pdb",
            "--target",
            &id,
            "--user",
            &user,
            "--via",
            "eice",
            "--max-tunnel-duration",
            "1200",
        ])
        .await;
    assert_eq!(add.code, 0, "{add:?}");
    let show = env.run(&["profile", "show", "pdb"]).await;
    assert!(show.stdout.contains("1200 s"), "{show:?}");
    let out = env
        .run(&[
            "ssh",
            "@pdb",
            "--host-key-policy",
            "accept-new",
            "--",
            "true",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(durations(&env), [Some(900), Some(1200)]);

    let bad = env
        .run(&["profile", "edit", "pdb", "--max-tunnel-duration", "7200"])
        .await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("not a tunnel duration"), "{bad:?}");
}
