//! `-L`, `-R` and `-D` against the lab's real sshd: bytes carried exactly, a SOCKS proxy curl
//! uses, ports that are taken failing clearly, and a profile's saved forwards.

use crate::common::{free_port, Env};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// An echo server on loopback (next to the lab's sshd, so "on the instance" and "here" alike).
async fn echo_server() -> u16 {
    let service = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = service.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = service.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

/// A minimal HTTP server answering every request with `body`.
async fn http_server(body: &'static str) -> u16 {
    let service = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = service.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = service.accept().await {
            tokio::spawn(async move {
                let mut s = BufReader::new(s);
                let mut line = String::new();
                // The request head ends with an empty line.
                while s.read_line(&mut line).await.unwrap_or(0) > 0 {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.get_mut().write_all(reply.as_bytes()).await;
            });
        }
    });
    port
}

/// Starts `keyless ssh -N ARGS…` and returns it once it says it forwards, with what it said.
async fn forwarding(env: &Env, args: &[&str]) -> (tokio::process::Child, String) {
    let mut all = vec!["ssh", "-N", "--host-key-policy", "accept-new"];
    all.extend_from_slice(args);
    let mut child = env.command(&all).spawn().unwrap();
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
    // Later lines (refusals) must not block the child on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
    (child, said)
}

/// Pseudo-random bytes, the same for the same seed.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sends `data` through `port` and reads the echo at the same time; returns what came back.
async fn echo_through(port: u16, data: Vec<u8>) -> Vec<u8> {
    let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let len = data.len();
    let writer = tokio::spawn(async move {
        w.write_all(&data).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut back = Vec::with_capacity(len);
    r.read_to_end(&mut back).await.unwrap();
    writer.await.unwrap();
    back
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_forward_carries_ten_megabytes_each_way_for_two_clients_at_once() {
    let env = Env::start().await;
    let echo = echo_server().await;
    let local = free_port();
    let target = format!("{}@db-primary", env.lab.os_user());
    let spec = format!("{local}:127.0.0.1:{echo}");
    let (mut child, _) = forwarding(&env, &["-L", &spec, &target]).await;
    const SIZE: usize = 10 * 1024 * 1024;
    let (a, b) = (pattern(1, SIZE), pattern(2, SIZE));
    let (back_a, back_b) = tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(
            echo_through(local, a.clone()),
            echo_through(local, b.clone())
        )
    })
    .await
    .expect("both transfers finish");
    assert!(
        back_a == a,
        "client 1 got {} bytes, not its own back",
        back_a.len()
    );
    assert!(
        back_b == b,
        "client 2 got {} bytes, not its own back",
        back_b.len()
    );
    assert_eq!(env.successful_pushes(), 1, "one key for both connections");
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socks_proxy_serves_curl_by_name_and_by_address() {
    let env = Env::start().await;
    let web = http_server("hello through socks").await;
    let socks = free_port();
    let target = format!("{}@db-primary", env.lab.os_user());
    let (mut child, said) = forwarding(&env, &["-D", &socks.to_string(), &target]).await;
    assert!(
        said.contains(&format!("SOCKS5 proxy on 127.0.0.1:{socks}")),
        "{said}"
    );
    let proxy = format!("127.0.0.1:{socks}");
    let curl = |args: Vec<String>| async move {
        let out = tokio::process::Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "30"])
            .args(&args)
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .output()
            .await
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The name is resolved on the instance (sshd's side), as --socks5-hostname asks.
    let by_name = curl(vec![
        "--socks5-hostname".into(),
        proxy.clone(),
        format!("http://localhost:{web}/"),
    ])
    .await;
    assert_eq!(by_name.0, Some(0), "{by_name:?}");
    assert_eq!(by_name.1, "hello through socks");
    let by_address = curl(vec![
        "--socks5".into(),
        proxy.clone(),
        format!("http://127.0.0.1:{web}/"),
    ])
    .await;
    assert_eq!(by_address.0, Some(0), "{by_address:?}");
    assert_eq!(by_address.1, "hello through socks");
    // Nothing listens there: curl hears a SOCKS refusal, and the proxy keeps serving.
    let closed = free_port();
    let refused = curl(vec![
        "--socks5-hostname".into(),
        proxy.clone(),
        format!("http://127.0.0.1:{closed}/"),
    ])
    .await;
    assert_ne!(refused.0, Some(0), "{refused:?}");
    assert!(refused.2.to_lowercase().contains("socks"), "{refused:?}");
    let again = curl(vec![
        "--socks5-hostname".into(),
        proxy,
        format!("http://localhost:{web}/"),
    ])
    .await;
    assert_eq!(again.1, "hello through socks", "{again:?}");
    assert_eq!(env.successful_pushes(), 1);
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_forward_brings_the_instances_connections_back_here() {
    let env = Env::start().await;
    let echo = echo_server().await;
    let target = format!("{}@db-primary", env.lab.os_user());
    let fixed = free_port();
    let fixed_spec = format!("{fixed}:127.0.0.1:{echo}");
    let any_spec = format!("0:localhost:{echo}");
    let (mut child, said) = forwarding(&env, &["-R", &fixed_spec, "-R", &any_spec, &target]).await;
    assert!(
        said.contains(&format!(
            "forwarding 127.0.0.1:{fixed} on the instance → 127.0.0.1:{echo} here"
        )),
        "{said}"
    );
    // sshd chose the second port and keyless says which.
    let chosen: u16 = said
        .lines()
        .filter(|l| l.contains(&format!("→ localhost:{echo} here")))
        .find_map(|l| {
            l.split("127.0.0.1:")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no chosen port in:\n{said}"));
    assert_ne!(chosen, 0);
    for port in [fixed, chosen] {
        // The lab's sshd listens on this machine's loopback: "the instance" is here too.
        let data = pattern(u64::from(port), 256 * 1024);
        let back = tokio::time::timeout(Duration::from_secs(30), echo_through(port, data.clone()))
            .await
            .expect("the echo comes back");
        assert!(back == data, "port {port}: {} bytes came back", back.len());
    }
    assert_eq!(env.successful_pushes(), 1);
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_ports_fail_clearly_for_socks_and_remote_forwards() {
    let env = Env::start().await;
    let target = format!("{}@db-primary", env.lab.os_user());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();

    // -D: the local port, before any key push.
    let out = env
        .run(&["ssh", "-N", "-D", &port.to_string(), &target])
        .await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "cannot listen on 127.0.0.1:{port} for the SOCKS proxy"
        )),
        "{out:?}"
    );
    assert!(
        out.stderr.contains(&format!("Is port {port} taken")),
        "{out:?}"
    );
    assert_eq!(env.successful_pushes(), 0, "no key pushed");

    // -R: the port is the instance's, so sshd there says no once connected.
    let spec = format!("{port}:127.0.0.1:1");
    let out = env
        .run(&[
            "ssh",
            "-N",
            "-R",
            &spec,
            &target,
            "--host-key-policy",
            "accept-new",
        ])
        .await;
    assert_eq!(out.code, 255, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "the instance refused to listen on 127.0.0.1:{port} for the remote forward"
        )),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains(&format!("Is port {port} taken on the instance?")),
        "{out:?}"
    );
    for bad in [vec!["-D", "x"], vec!["-R", "1:h"]] {
        let mut args = vec!["ssh", "-N"];
        args.extend(bad);
        args.push(&target);
        let out = env.run(&args).await;
        assert_eq!(out.code, 255, "{out:?}");
        assert!(out.stderr.contains("is not a forward"), "{out:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_keeps_forwards_and_ssh_n_runs_them() {
    let env = Env::start().await;
    let echo = echo_server().await;
    let local = free_port();
    let spec = format!("{local}:127.0.0.1:{echo}");
    let user = env.lab.os_user().to_owned();
    let out = env
        .run(&[
            "profile",
            "add",
            "db",
            "--target",
            "db-primary",
            "--user",
            &user,
            "--forward",
            &spec,
            "--forward",
            "15432:db.internal:5432",
            "--reconnect-forwards",
            "true",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let show = env.run(&["profile", "show", "db"]).await;
    assert!(
        show.stdout.contains(&format!("forwards:    {spec}")),
        "{show:?}"
    );
    assert!(show.stdout.contains("15432:db.internal:5432"), "{show:?}");
    assert!(show.stdout.contains("forwards by itself"), "{show:?}");

    let (mut child, said) = forwarding(&env, &["@db"]).await;
    assert!(
        said.contains(&format!("forwarding 127.0.0.1:{local}")),
        "{said}"
    );
    let back = echo_through(local, b"saved".to_vec()).await;
    assert_eq!(back, b"saved");
    child.kill().await.unwrap();

    let out = env
        .run(&[
            "profile",
            "edit",
            "db",
            "--clear-forwards",
            "--forward",
            "1:h:2",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let show = env.run(&["profile", "show", "db"]).await;
    assert!(show.stdout.contains("forwards:    1:h:2"), "{show:?}");
    assert!(!show.stdout.contains("15432"), "{show:?}");
    let out = env
        .run(&["profile", "edit", "db", "--forward", "1:h h:2"])
        .await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("is not a forward"), "{out:?}");
}
