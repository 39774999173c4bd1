//! Tabs sharing one pooled connection, against the lab's real sshd: one key push for many tabs,
//! each shell on its own channel, the idle timeout, a dropped link, and keys that must not share.

use super::{aws_for, instance, request_for, start_in, Recorder};
use keyless_core::hostkeys::KnownHosts;
use keyless_core::{
    AwsContext, ConnectionPool, ErrorKind, Instance, LiveEvent, LiveSession, PoolEntry,
    TrustDecision,
};
use keyless_lab::Lab;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Short, so the test sees a connection close after its last tab; the app uses 10 min.
const IDLE: Duration = Duration::from_secs(1);

/// A listed instance and a trust store that already knows its host key (no question).
pub(super) struct Target {
    pub(super) aws: AwsContext,
    pub(super) instance: Instance,
    pub(super) store: KnownHosts,
    _dir: tempfile::TempDir,
}

pub(super) async fn target(lab: &Lab, name: &str) -> Target {
    let (aws, instance) = instance(lab, name).await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let key = lab.instance_named(name).host_public_key;
    store
        .trust(
            &instance.instance_id,
            &russh::keys::PublicKey::from_openssh(&key).unwrap(),
        )
        .unwrap();
    Target {
        aws,
        instance,
        store,
        _dir: dir,
    }
}

pub(super) struct Tab {
    pub(super) live: Arc<LiveSession>,
    pub(super) rec: Arc<Recorder>,
}

impl Tab {
    pub(super) fn open(lab: &Lab, pool: &ConnectionPool, t: &Target) -> Tab {
        let rec = Arc::new(Recorder::default());
        let request = request_for(lab, &t.instance.region, &t.instance.instance_id);
        let live = start_in(
            pool,
            t.aws.clone(),
            request,
            Some(t.instance.clone()),
            &t.store,
            &rec,
        );
        Tab { live, rec }
    }

    pub(super) async fn connected(&self) -> u32 {
        self.rec
            .wait_for("connected", |r| {
                r.has(|e| matches!(e, LiveEvent::Connected { .. }))
            })
            .await;
        self.rec
            .events
            .lock()
            .unwrap()
            .iter()
            .find_map(|e| match e {
                LiveEvent::Connected { shared, .. } => Some(*shared),
                _ => None,
            })
            .unwrap()
    }

    fn steps(&self) -> usize {
        self.rec
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, LiveEvent::Step { .. }))
            .count()
    }

    /// Runs a command the shell must compute, so an echoed command line never matches.
    async fn runs(&self, n: u32) {
        self.live
            .send(format!("echo result=$(({n}*1000+1))\n").as_bytes())
            .unwrap();
        let want = format!("result={}", n * 1000 + 1);
        self.rec.wait_for(&want, |r| r.text().contains(&want)).await;
    }

    async fn lost(&self) -> keyless_core::Error {
        self.rec
            .wait_for("lost", |r| r.has(|e| matches!(e, LiveEvent::Lost { .. })))
            .await;
        self.rec
            .events
            .lock()
            .unwrap()
            .iter()
            .find_map(|e| match e {
                LiveEvent::Lost { error } => Some(error.clone()),
                _ => None,
            })
            .unwrap()
    }
}

fn pushes_to(lab: &Lab, instance_id: &str) -> usize {
    lab.pushes()
        .iter()
        .filter(|p| p.instance_id == instance_id)
        .count()
}

/// Waits (bounded) until the pool's status satisfies `pred`; a hang guard, not a timing check.
async fn pool_until(pool: &ConnectionPool, what: &str, pred: impl Fn(&[PoolEntry]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = pool.status();
        if pred(&status) {
            return;
        }
        assert!(Instant::now() < deadline, "never: {what}; pool: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn channels(status: &[PoolEntry]) -> Vec<u32> {
    status.iter().map(|e| e.channels).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_tab_shares_the_connection_without_a_push_and_it_closes_after_the_last() {
    let lab = Lab::start(Default::default()).await.unwrap();
    let db = target(&lab, "db-primary").await;
    let id = &db.instance.instance_id;
    let pool = ConnectionPool::new(IDLE);

    let first = Tab::open(&lab, &pool, &db);
    assert_eq!(first.connected().await, 1);
    let second = Tab::open(&lab, &pool, &db);
    assert_eq!(second.connected().await, 2, "two tabs on one connection");
    assert_eq!(pushes_to(&lab, id), 1, "one key push for both tabs");
    assert!(first.steps() >= 3, "the first tab connected");
    assert_eq!(second.steps(), 0, "the second: no key, push or handshake");
    let status = pool.status();
    assert_eq!(channels(&status), [2], "{status:?}");
    assert_eq!(&status[0].key.instance_id, id);
    assert!(!status[0].idle);

    // Both shells work at once, each on its own channel.
    first.live.send(b"sleep 1; echo first=$((1+1))\n").unwrap();
    second.runs(2).await;
    first
        .rec
        .wait_for("the first tab's answer", |r| r.text().contains("first=2"))
        .await;
    assert!(
        !second.rec.text().contains("first=2"),
        "output stays on its tab"
    );

    // Closing one releases its hold at once and leaves the other working.
    first.live.close();
    assert_eq!(channels(&pool.status()), [1]);
    second.runs(3).await;

    // After the last, the connection waits out the idle timeout, then goes.
    second.live.close();
    pool_until(&pool, "idle", |s| s.len() == 1 && s[0].idle).await;
    pool_until(&pool, "closed after the idle timeout", |s| s.is_empty()).await;
    assert_eq!(pushes_to(&lab, id), 1);

    // The next tab builds a new connection.
    let third = Tab::open(&lab, &pool, &db);
    assert_eq!(third.connected().await, 1);
    assert_eq!(pushes_to(&lab, id), 2);
    third.live.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_opened_while_idle_keeps_the_connection() {
    let lab = Lab::start(Default::default()).await.unwrap();
    let db = target(&lab, "db-primary").await;
    // Long enough that the second tab surely comes inside it.
    let pool = ConnectionPool::new(Duration::from_secs(30));
    let first = Tab::open(&lab, &pool, &db);
    first.connected().await;
    first.live.close();
    pool_until(&pool, "idle", |s| s.len() == 1 && s[0].idle).await;
    let second = Tab::open(&lab, &pool, &db);
    assert_eq!(second.connected().await, 1);
    assert_eq!(second.steps(), 0, "reused the idle connection");
    assert_eq!(pushes_to(&lab, &db.instance.instance_id), 1);
    second.runs(4).await;
    second.live.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_loses_every_tab_and_reconnects_build_one_new_connection() {
    let lab = Lab::start(Default::default()).await.unwrap();
    let eu = target(&lab, "eu-web").await;
    let id = &eu.instance.instance_id;
    let pool = ConnectionPool::new(IDLE);
    let (a, b) = (Tab::open(&lab, &pool, &eu), Tab::open(&lab, &pool, &eu));
    a.connected().await;
    b.connected().await;
    assert_eq!(pushes_to(&lab, id), 1);

    lab.kill_sshd(id).await;
    let (lost_a, lost_b) = (a.lost().await, b.lost().await);
    assert_eq!(lost_a.kind, ErrorKind::ConnectionLost, "{lost_a:?}");
    assert_eq!(lost_a, lost_b, "one drop, one reason for every tab");
    pool_until(&pool, "the dropped connection gone", |s| s.is_empty()).await;
    lab.restart_sshd(id).await;

    // Reconnect on one tab builds one new connection; the other's Reconnect reuses it.
    let a2 = Tab::open(&lab, &pool, &eu);
    assert_eq!(a2.connected().await, 1);
    let b2 = Tab::open(&lab, &pool, &eu);
    assert_eq!(b2.connected().await, 2);
    assert_eq!(b2.steps(), 0);
    assert_eq!(pushes_to(&lab, id), 2, "one more push for both reconnects");
    a2.runs(5).await;
    b2.runs(6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_opened_together_wait_for_one_connect() {
    let lab = Lab::start(Default::default()).await.unwrap();
    let db = target(&lab, "db-primary").await;
    let pool = ConnectionPool::new(IDLE);
    let tabs: Vec<Tab> = (0..3).map(|_| Tab::open(&lab, &pool, &db)).collect();
    let mut shared = Vec::new();
    for tab in &tabs {
        shared.push(tab.connected().await);
    }
    assert_eq!(pushes_to(&lab, &db.instance.instance_id), 1, "one connect");
    let connecting: Vec<usize> = tabs.iter().map(Tab::steps).filter(|&n| n > 0).collect();
    assert_eq!(connecting.len(), 1, "one tab ran the connect");
    assert!(shared.contains(&3), "{shared:?}");
    assert_eq!(channels(&pool.status()), [3]);
    for (n, tab) in tabs.iter().enumerate() {
        tab.runs(10 + n as u32).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_tab_asks_its_own_host_key_question_when_the_asking_tab_closes() {
    let lab = Lab::start(Default::default()).await.unwrap();
    let (aws, db) = instance(&lab, "db-primary").await;
    let dir = tempfile::tempdir().unwrap();
    let empty = KnownHosts::at(dir.path().join("known_hosts"));
    let t = Target {
        aws,
        instance: db,
        store: empty,
        _dir: dir,
    };
    let pool = ConnectionPool::new(IDLE);
    let asking = Tab::open(&lab, &pool, &t);
    asking
        .rec
        .wait_for("the question", |r| {
            r.has(|e| matches!(e, LiveEvent::HostKeyUnknown { .. }))
        })
        .await;
    let waiting = Tab::open(&lab, &pool, &t);
    // The question belongs to the tab that started the connect: the second one waits.
    asking.live.close();
    waiting
        .rec
        .wait_for("its own question", |r| {
            r.has(|e| matches!(e, LiveEvent::HostKeyUnknown { .. }))
        })
        .await;
    let fingerprint = waiting
        .rec
        .events
        .lock()
        .unwrap()
        .iter()
        .find_map(|e| match e {
            LiveEvent::HostKeyUnknown { fingerprint, .. } => Some(fingerprint.clone()),
            _ => None,
        })
        .unwrap();
    waiting
        .live
        .answer_host_key(&fingerprint, TrustDecision::Once)
        .unwrap();
    assert_eq!(waiting.connected().await, 1);
    assert!(asking.rec.has(|e| matches!(e, LiveEvent::Failed { .. })));
    waiting.runs(7).await;

    // "Connect once" trusted the key for that tab only: another tab asks for itself, no sharing.
    let third = Tab::open(&lab, &pool, &t);
    third
        .rec
        .wait_for("a question of its own", |r| {
            r.has(|e| matches!(e, LiveEvent::HostKeyUnknown { .. }))
        })
        .await;
    third.live.close();
    waiting.runs(8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_os_user_or_port_gets_a_connection_of_its_own() {
    let lab = Lab::start(Default::default()).await.unwrap();
    let db = target(&lab, "db-primary").await;
    let id = db.instance.instance_id.clone();
    let pool = ConnectionPool::new(IDLE);
    let tab = Tab::open(&lab, &pool, &db);
    tab.connected().await;
    assert_eq!(pushes_to(&lab, &id), 1);

    let aws = aws_for(&lab).await;
    let base = request_for(&lab, &db.instance.region, &id);
    // "ghost" may receive a key in the lab but has no account on the instance; port 1: nothing.
    let other_user = keyless_core::ConnectRequest {
        os_user: "ghost".into(),
        ..base.clone()
    };
    let other_port = keyless_core::ConnectRequest { port: 1, ..base };
    for request in [other_user, other_port] {
        let before = pushes_to(&lab, &id);
        let rec = Arc::new(Recorder::default());
        let _live = start_in(
            &pool,
            aws.clone(),
            request.clone(),
            Some(db.instance.clone()),
            &db.store,
            &rec,
        );
        rec.wait_for("its own connect to fail", |r| {
            r.has(|e| matches!(e, LiveEvent::Failed { .. }))
        })
        .await;
        assert!(
            rec.has(|e| matches!(
                e,
                LiveEvent::Step {
                    step: keyless_core::Step::Push,
                    ..
                }
            )),
            "{request:?} pushed its own key"
        );
        // (A refused key is pushed once more: the first may have expired on the way.)
        assert!(pushes_to(&lab, &id) > before, "{request:?}");
    }
    assert_eq!(
        channels(&pool.status()),
        [1],
        "the first tab's connection only"
    );
    tab.runs(8).await;
}
