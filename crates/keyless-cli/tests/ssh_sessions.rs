//! Real sessions on real sshd: commands and exit status, host-key trust, dropped connections,
//! and what is left on disk afterwards.

mod common;
#[path = "ssh_sessions/forwards.rs"]
mod forwards;

use common::{files_under, Env};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_returns_its_output_and_exit_status() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let ok = env
        .ssh(
            &format!("{user}@db-primary"),
            &["echo", "hello", "from", "$(hostname)"],
        )
        .await;
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.starts_with("hello from "), "{ok:?}");

    let failing = env
        .ssh(&format!("{user}@db-primary"), &["echo oops >&2; exit 3"])
        .await;
    assert_eq!(failing.code, 3, "{failing:?}");
    assert_eq!(failing.stderr.trim(), "oops");

    // By instance id, a non-ASCII name, and an instance with no Name tag.
    let cafe = env.lab.instance_named("café-α");
    for target in [cafe.id.clone(), "café-α".to_owned()] {
        let out = env.ssh(&format!("{user}@{target}"), &["whoami"]).await;
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout.trim(), user);
    }
    let unnamed = env
        .lab
        .instances()
        .into_iter()
        .find(|i| i.name.is_none() && i.state == "running")
        .unwrap();
    let out = env.ssh(&format!("{user}@{}", unnamed.id), &["true"]).await;
    assert_eq!(out.code, 0, "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_and_auto_addresses() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let eu = env.lab.instance_named("eu-web");
    // `SSH_CONNECTION` names the server address the session came in on.
    for (via, ip) in [
        ("private", eu.private_ip.to_string()),
        ("public", eu.public_ip.unwrap().to_string()),
        ("auto", eu.public_ip.unwrap().to_string()),
    ] {
        let out = env
            .run(&[
                "ssh",
                &format!("{user}@eu-web"),
                "--region",
                "eu-west-1",
                "--via",
                via,
                "--host-key-policy",
                "accept-new",
                "--",
                "echo $SSH_CONNECTION",
            ])
            .await;
        assert_eq!(out.code, 0, "{via}: {out:?}");
        assert!(out.stdout.contains(&format!(" {ip} ")), "{via}: {out:?}");
    }
    let private_only = env
        .run(&[
            "ssh",
            &format!("{user}@db-primary"),
            "--via",
            "public",
            "--",
            "true",
        ])
        .await;
    assert_eq!(private_only.code, 255);
    assert!(
        private_only.stderr.contains("has no public IPv4 address"),
        "{private_only:?}"
    );
    assert!(
        private_only.stderr.contains("--via auto"),
        "{private_only:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_keys_are_pinned_and_a_changed_key_is_refused() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let db = env.lab.instance_named("db-primary");
    let target = format!("{user}@db-primary");

    // Without a terminal, an unknown key fails and names the flag.
    let strict = env.run(&["ssh", &target, "--", "true"]).await;
    assert_eq!(strict.code, 255, "{strict:?}");
    assert!(strict.stderr.contains(&db.host_key_sha256), "{strict:?}");
    assert!(
        strict.stderr.contains("--host-key-policy accept-new"),
        "{strict:?}"
    );

    let first = env.ssh(&target, &["true"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let pinned = std::fs::read_to_string(env.known_hosts()).unwrap();
    let key: Vec<&str> = db.host_public_key.split_whitespace().take(2).collect();
    assert!(
        pinned.contains(&format!("{} {}", db.id, key.join(" "))),
        "{pinned}"
    );
    // Trusted now: strict works too.
    let again = env
        .run(&["ssh", &target, "--host-key-policy", "strict", "--", "true"])
        .await;
    assert_eq!(again.code, 0, "{again:?}");

    env.lab.rekey(&db.id).await;
    let new_fp = env.lab.instance_named("db-primary").host_key_sha256;
    let marker = env.tmpdir().join("ran");
    let changed = env.ssh(&target, &["touch", marker.to_str().unwrap()]).await;
    assert_eq!(changed.code, 255, "{changed:?}");
    assert!(changed.stderr.contains("HOST KEY CHANGED"), "{changed:?}");
    assert!(changed.stderr.contains(&db.host_key_sha256), "{changed:?}");
    assert!(changed.stderr.contains(&new_fp), "{changed:?}");
    assert!(!marker.exists(), "nothing ran on the impersonated host");
    // The hint says why, then how to go on with this CLI.
    let how = format!(
        "  hint: Only then run `keyless known-hosts forget {}` and connect again.",
        db.id
    );
    assert!(changed.stderr.contains(&how), "{changed:?}");

    // After verifying out of band, the user forgets the old key and connects.
    let forget = env.run(&["known-hosts", "forget", &db.id]).await;
    assert_eq!(forget.code, 0, "{forget:?}");
    assert_eq!(env.ssh(&target, &["true"]).await.code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_sshd_mid_session_is_a_clear_error() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let db = env.lab.instance_named("db-primary");
    let mut child = env
        .command(&[
            "ssh",
            &format!("{user}@db-primary"),
            "--host-key-policy",
            "accept-new",
            "--",
            "echo started; sleep 60",
        ])
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.as_deref(), Some("started"));
    env.lab.kill_sshd(&db.id).await;
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("keyless notices the dead connection")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(255), "{stderr}");
    assert!(stderr.contains("connection to"), "{stderr}");
    assert!(stderr.contains("was lost"), "{stderr}");
    assert!(stderr.contains("Reconnect"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_private_key_reaches_the_disk() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let out = env.ssh(&format!("{user}@db-primary"), &["true"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let pushed = env.lab.pushes()[0].key.clone();
    let blob = pushed.split_whitespace().nth(1).unwrap().to_owned();

    let files = files_under(env.home.path());
    assert!(
        files.iter().any(|f| f.ends_with("known_hosts")),
        "the scan sees what keyless wrote: {files:?}"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PRIVATE KEY"), "{f:?}");
        assert!(!text.contains("openssh-key-v1"), "{f:?}");
        assert!(!text.contains(&blob), "the one-time key appears in {f:?}");
    }
}

/// Proxies one TCP connection from `listener` to `upstream` and returns when (by the shared
/// clock) the client's SSH_MSG_NEWKEYS went through: the end of its key exchange, the last
/// packet in plaintext. The upstream connection waits until `push_arrived()`, so the key
/// exchange can only run while a push is on its way.
async fn proxy_ssh(
    listener: tokio::net::TcpListener,
    upstream: std::net::SocketAddr,
    push_arrived: impl Fn() -> bool,
) -> std::time::SystemTime {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (client, _) = listener.accept().await.unwrap();
    let mut waited = 0;
    while !push_arrived() {
        assert!(
            waited < 2000,
            "no key push reached the lab while the SSH connection was open: the push does not \
             overlap the handshake"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let down = async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    let up = async move {
        let (mut seen, mut newkeys) = (Vec::new(), None);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = match cr.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if sw.write_all(&chunk[..n]).await.is_err() {
                break;
            }
            if newkeys.is_none() {
                seen.extend_from_slice(&chunk[..n]);
                if sent_newkeys(&seen) {
                    newkeys = Some(std::time::SystemTime::now());
                }
            }
        }
        let _ = sw.shutdown().await;
        newkeys.expect("the client finished a key exchange")
    };
    tokio::join!(down, up).1
}

/// Whether the client's plaintext stream (version line, then binary packets without MAC, RFC
/// 4253 §4.2, §6) holds SSH_MSG_NEWKEYS (21).
fn sent_newkeys(stream: &[u8]) -> bool {
    let Some(eol) = stream.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let mut at = eol + 1;
    while let Some(head) = stream.get(at..at + 6) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if head[5] == 21 {
            return true;
        }
        at += 4 + len;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_push_overlaps_the_handshake() {
    // A slow SendSSHPublicKey (as on AWS, where it is the slowest step) leaves room to see the
    // order; the assertions are about order only.
    let env = Env::with(keyless_lab::LabOptions {
        eic_latency: Duration::from_secs(3),
        ..Default::default()
    })
    .await;
    let user = env.lab.os_user().to_owned();
    let db = env.lab.instance_named("db-primary");
    // A port of our own on the instance's address, in front of its sshd (`-p` dials it).
    let listener = tokio::net::TcpListener::bind((db.private_ip, 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let upstream = std::net::SocketAddr::from((db.private_ip, env.lab.ssh_port()));
    let push_arrived = || {
        env.lab.requests().iter().any(|r| {
            r.target
                .as_deref()
                .is_some_and(|t| t.ends_with(".SendSSHPublicKey"))
        })
    };
    let target = format!("{user}@db-primary");
    let args = [
        "ssh",
        &target,
        "-p",
        &port,
        "--via",
        "private",
        "--host-key-policy",
        "accept-new",
        "--",
        "echo",
        "overlapped",
    ];
    let (newkeys, out) = tokio::join!(proxy_ssh(listener, upstream, push_arrived), env.run(&args));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "overlapped");
    let pushes = env.lab.pushes();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].outcome, "Success");
    // The key exchange started after the push arrived (the proxy waited for it) and finished
    // before the lab answered it.
    assert!(
        newkeys < pushes[0].at,
        "the key exchange ended after the push was answered: {newkeys:?} vs {:?}",
        pushes[0].at
    );
}

/// `-N -L`: two local connections at once reach a service next to the instance's sshd through
/// the one SSH connection (one key push); a taken local port fails before any push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_forwards_carry_connections_over_the_one_ssh_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    // The service behind the instance: an echo server sshd can reach (the lab's sshd is local).
    let service = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service_port = service.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = service.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let local_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let spec = format!("{local_port}:127.0.0.1:{service_port}");
    let target = format!("{user}@db-primary");
    let mut child = env
        .command(&[
            "ssh",
            "-N",
            "-L",
            &spec,
            &target,
            "--host-key-policy",
            "accept-new",
        ])
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = String::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            said.push_str(&line);
            said.push('\n');
            if line.contains("Ctrl+C ends the forwarding") {
                return;
            }
        }
        panic!("keyless ended before forwarding:\n{said}");
    })
    .await
    .expect("the forward starts");
    assert!(
        said.contains(&format!(
            "forwarding 127.0.0.1:{local_port} → 127.0.0.1:{service_port}"
        )),
        "{said}"
    );
    let round_trip = |n: u32| async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", local_port))
            .await
            .unwrap();
        let msg = format!("through the forward {n}\n");
        s.write_all(msg.as_bytes()).await.unwrap();
        let mut back = vec![0u8; msg.len()];
        s.read_exact(&mut back).await.unwrap();
        assert_eq!(String::from_utf8(back).unwrap(), msg);
    };
    tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(round_trip(1), round_trip(2));
    })
    .await
    .expect("both forwarded connections answer");
    assert_eq!(
        env.successful_pushes(),
        1,
        "one key for every forwarded connection"
    );
    child.kill().await.unwrap();

    // The local port is taken: a clear error naming it, before any key is pushed.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = env
        .run(&["ssh", "-N", "-L", &format!("{port}:127.0.0.1:1"), &target])
        .await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{out:?}"
    );
    assert!(
        out.stderr.contains(&format!("Is port {port} taken")),
        "{out:?}"
    );
    assert_eq!(
        env.successful_pushes(),
        1,
        "no key pushed for a forward that cannot listen"
    );

    let out = env.run(&["ssh", "-N", &target]).await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(out.stderr.contains("-N forwards ports only"), "{out:?}");
    let out = env.run(&["ssh", "-L", "1:h", &target]).await;
    assert!(out.stderr.contains("is not a forward"), "{out:?}");
}

/// `keyless ls` and connects keep a cache of recent addresses that `keyless ssh` dials before its
/// lookup answers; an entry pointing at another instance's address is dropped without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_cached_address_still_reaches_the_right_instance_quietly() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let db = env.lab.instance_named("db-primary");
    let cafe = env.lab.instance_named("café-α");
    // Pins db-primary's host key.
    let first = env.ssh(&format!("{user}@{}", db.id), &["true"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let listed = env.run(&["ls", "--json"]).await;
    assert_eq!(listed.code, 0, "{listed:?}");
    let cache = env.home.path().join(".cache/keyless/recent-addresses.json");
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).expect("ls wrote the cache")).unwrap();
    let entries = file["entries"].as_array_mut().unwrap();
    let entry = (entries.iter_mut())
        .find(|e| e["instance_id"] == db.id.as_str())
        .expect("db-primary is cached");
    // Now café-α's address: another machine with another host key.
    entry["private_ip"] = cafe.private_ip.to_string().into();
    std::fs::write(&cache, serde_json::to_vec(&file).unwrap()).unwrap();

    let cafe_before = env.lab.ssh_connections(&cafe.id);
    for target in [db.id.as_str(), "db-primary"] {
        let out = env
            .run(&[
                "ssh",
                &format!("{user}@{target}"),
                "--host-key-policy",
                "strict",
                "-v",
                "--",
                "true",
            ])
            .await;
        assert_eq!(out.code, 0, "{out:?}");
        assert!(!out.stderr.contains("host key"), "{out:?}");
        let route = format!("connected to {}", db.private_ip);
        assert!(out.stderr.contains(&route), "{out:?}");
    }
    // The stale address was tried once (the first connect put the right one back in the cache).
    assert_eq!(env.lab.ssh_connections(&cafe.id) - cafe_before, 1);
}
