//! A managed (saved) forward on the pooled connection, against the lab's real sshd: it shares a
//! tab's connection (one key push), carries bytes, shows Lost when sshd dies, reconnects with a
//! fresh push when asked, and fails clearly on a taken port or an unknown host key.

use super::pool::{target, Tab, Target};
use super::request_for;
use keyless_core::forward::{
    ForwardState, ForwardStatus, ManagedForward, ManagedForwardStart, StatusSink,
};
use keyless_core::hostkeys::KnownHosts;
use keyless_core::{ConnectionPool, ErrorKind};
use keyless_lab::{Lab, LabOptions};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every status the forward reported, in order.
#[derive(Default)]
struct Statuses(Mutex<Vec<ForwardStatus>>);

impl Statuses {
    fn sink(self: &Arc<Self>) -> StatusSink {
        let me = self.clone();
        Arc::new(move |s| me.0.lock().unwrap().push(s))
    }

    /// Waits until a status after the first `after` ones matches.
    async fn wait_for(
        &self,
        after: usize,
        what: &str,
        pred: impl Fn(&ForwardStatus) -> bool,
    ) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            {
                let seen = self.0.lock().unwrap();
                if let Some(at) = seen.iter().skip(after).position(&pred) {
                    return after + at + 1;
                }
                assert!(
                    Instant::now() < deadline,
                    "timed out waiting for {what}: {seen:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn echo_server() -> u16 {
    let service = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
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

async fn round_trip(address: &str, message: &[u8]) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(address).await.unwrap();
    s.write_all(message).await.unwrap();
    let mut back = vec![0u8; message.len()];
    tokio::time::timeout(Duration::from_secs(30), s.read_exact(&mut back))
        .await
        .expect("the echo comes back")
        .unwrap();
    back
}

fn start_for(
    lab: &Lab,
    pool: &ConnectionPool,
    t: &Target,
    store: &KnownHosts,
    spec: &str,
) -> ManagedForwardStart {
    ManagedForwardStart {
        aws: t.aws.clone(),
        pool: pool.clone(),
        aws_profile: None,
        request: request_for(lab, &t.instance.region, &t.instance.instance_id),
        known: Some(t.instance.clone()),
        known_hosts: store.clone(),
        tunnel: keyless_core::eice::TunnelSettings::direct(),
        max_tunnel: None,
        spec: spec.parse().unwrap(),
        prompt: None,
        auto_reconnect: false,
    }
}

fn successful_pushes(lab: &Lab) -> usize {
    lab.pushes()
        .iter()
        .filter(|p| p.outcome == "Success")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_forward_shares_the_tabs_connection_survives_loss_and_reconnects() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let t = target(&lab, "db-primary").await;
    let pool = ConnectionPool::default();
    let tab = Tab::open(&lab, &pool, &t);
    tab.connected().await;
    let echo = echo_server().await;

    let statuses = Arc::new(Statuses::default());
    let spec = format!("127.0.0.1:0:127.0.0.1:{echo}");
    let forward =
        ManagedForward::start(start_for(&lab, &pool, &t, &t.store, &spec), statuses.sink())
            .await
            .unwrap();
    let seen = statuses
        .wait_for(0, "listening", |s| s.state == ForwardState::Listening)
        .await;
    let address = forward.status().local_address;
    assert_eq!(forward.status().target, format!("127.0.0.1:{echo}"));
    assert_eq!(
        round_trip(&address, b"through the pool").await,
        b"through the pool"
    );
    assert_eq!(
        successful_pushes(&lab),
        1,
        "the forward reused the tab's connection"
    );
    let entry = pool.status().pop().unwrap();
    assert_eq!(
        entry.channels, 2,
        "the tab and the forward hold the one connection"
    );
    let seen = statuses
        .wait_for(seen, "the connection counted", |s| {
            s.stats.total == 1 && s.stats.active == 0
        })
        .await;
    let stats = forward.status().stats;
    assert_eq!((stats.sent, stats.received), (16, 16), "{stats:?}");

    // sshd goes away: the forward says so and keeps its port.
    lab.kill_sshd(&t.instance.instance_id).await;
    let seen = statuses
        .wait_for(seen, "lost", |s| {
            s.state == ForwardState::Lost
                && s.last_error
                    .as_ref()
                    .is_some_and(|e| e.kind == ErrorKind::ConnectionLost)
        })
        .await;
    assert_eq!(forward.status().local_address, address, "the port is kept");

    // Reconnect: a new connection, so a fresh key push.
    lab.restart_sshd(&t.instance.instance_id).await;
    forward.reconnect();
    let seen = statuses
        .wait_for(seen, "listening again", |s| {
            s.state == ForwardState::Listening
        })
        .await;
    assert_eq!(
        round_trip(&address, b"after the reconnect").await,
        b"after the reconnect"
    );
    assert_eq!(successful_pushes(&lab), 2);
    assert_eq!(forward.status().stats.total, 2);

    forward.stop();
    statuses
        .wait_for(seen, "stopped", |s| s.state == ForwardState::Stopped)
        .await;
    tab.live.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_forward_on_a_taken_port_or_an_unknown_host_key_fails_clearly() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let t = target(&lab, "db-primary").await;
    let pool = ConnectionPool::default();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let statuses = Arc::new(Statuses::default());
    let spec = format!("{port}:127.0.0.1:5432");
    let e = ManagedForward::start(start_for(&lab, &pool, &t, &t.store, &spec), statuses.sink())
        .await
        .err()
        .expect("a taken port is refused");
    assert!(
        e.message
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{e:?}"
    );
    assert!(e.hint.unwrap().contains(&format!("Is port {port} taken")));
    assert!(lab.pushes().is_empty(), "nothing connected for it");

    // No tab asked about the key yet and the forward has nobody to ask: it says where to go.
    let dir = tempfile::tempdir().unwrap();
    let empty = KnownHosts::at(dir.path().join("known_hosts"));
    let forward = ManagedForward::start(
        start_for(&lab, &pool, &t, &empty, "127.0.0.1:0:127.0.0.1:5432"),
        statuses.sink(),
    )
    .await
    .unwrap();
    statuses
        .wait_for(0, "the refusal", |s| {
            s.state == ForwardState::Lost
                && s.last_error.as_ref().is_some_and(|e| {
                    e.kind == ErrorKind::HostKeyUnknown
                        && e.hint
                            .as_deref()
                            .is_some_and(|h| h.contains("Open a terminal tab"))
                })
        })
        .await;
    assert!(empty.keys_for(&t.instance.instance_id).unwrap().is_empty());
    forward.stop();
}
