//! The GUI's live session against the lab (real sshd): lifecycle events, the host-key question,
//! flow control under a flood with no byte lost, a changed key, a dropped link; and tabs sharing
//! one pooled connection (`live/pool.rs`); SFTP browsing and transfers (`live/files.rs`); a saved
//! forward on that connection (`live/forward.rs`); connecting before the lookup answers
//! (`live/speculate.rs`).

#[path = "live/eice.rs"]
mod eice;
#[path = "live/files.rs"]
mod files;
#[path = "live/forward.rs"]
mod forward;
#[path = "live/pool.rs"]
mod pool;
#[path = "live/speculate.rs"]
mod speculate;

use keyless_core::hostkeys::KnownHosts;
use keyless_core::{
    AwsContext, AwsSelection, ConnectRequest, ConnectionPool, ErrorKind, ExitInfo, Fix, Instance,
    InstanceFilter, LiveEvent, LiveSession, LiveSink, LiveStart, PtySize, TrustDecision, Via,
};
use keyless_lab::{Lab, LabOptions};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn aws_for(lab: &Lab) -> AwsContext {
    keyless_lab::use_lab_credentials_in_process();
    AwsContext::load(&AwsSelection {
        profile: None,
        region: Some(lab.regions()[0].clone()),
        endpoint_url: Some(lab.endpoint()),
    })
    .await
    .unwrap()
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<LiveEvent>>,
    output: Mutex<Vec<u8>>,
}

impl LiveSink for Recorder {
    fn event(&self, event: LiveEvent) {
        self.events.lock().unwrap().push(event);
    }
    fn output(&self, chunk: Vec<u8>) {
        assert!(chunk.len() <= keyless_core::live::CHUNK_MAX);
        self.output.lock().unwrap().extend_from_slice(&chunk);
    }
}

impl Recorder {
    async fn wait_for(&self, what: &str, pred: impl Fn(&Recorder) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !pred(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; events: {:?}; output: {:?}",
                self.events.lock().unwrap(),
                String::from_utf8_lossy(&self.output.lock().unwrap())
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    fn has(&self, pred: impl Fn(&LiveEvent) -> bool) -> bool {
        self.events.lock().unwrap().iter().any(pred)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }
}

async fn instance(lab: &Lab, name: &str) -> (AwsContext, Instance) {
    let aws = aws_for(lab).await;
    let inv = keyless_core::list_instances(&aws, lab.regions(), &InstanceFilter::default()).await;
    let i = inv
        .instances
        .into_iter()
        .find(|i| i.name.as_deref() == Some(name))
        .unwrap();
    (aws, i)
}

fn request_for(lab: &Lab, region: &str, instance_id: &str) -> ConnectRequest {
    ConnectRequest {
        region: region.to_owned(),
        instance_id: instance_id.to_owned(),
        os_user: lab.os_user().to_owned(),
        port: lab.ssh_port(),
        via: Via::Private,
    }
}

/// Starts a session to an instance the caller listed (as the app does from its inventory).
fn start(
    lab: &Lab,
    aws: AwsContext,
    instance: Instance,
    store: &KnownHosts,
    rec: &Arc<Recorder>,
) -> Arc<LiveSession> {
    let request = request_for(lab, &instance.region, &instance.instance_id);
    start_request(aws, request, Some(instance), store, rec)
}

fn start_request(
    aws: AwsContext,
    request: ConnectRequest,
    known: Option<Instance>,
    store: &KnownHosts,
    rec: &Arc<Recorder>,
) -> Arc<LiveSession> {
    // A pool of its own: nothing shared with other tests' sessions.
    start_in(&ConnectionPool::default(), aws, request, known, store, rec)
}

/// Starts a session that takes its connection from `pool`.
fn start_in(
    pool: &ConnectionPool,
    aws: AwsContext,
    request: ConnectRequest,
    known: Option<Instance>,
    store: &KnownHosts,
    rec: &Arc<Recorder>,
) -> Arc<LiveSession> {
    let direct = keyless_core::eice::TunnelSettings::direct();
    start_with(pool, aws, request, known, store, rec, direct)
}

/// `start_in` with tunnels going to `tunnel`'s endpoint (the lab's).
fn start_with(
    pool: &ConnectionPool,
    aws: AwsContext,
    request: ConnectRequest,
    known: Option<Instance>,
    store: &KnownHosts,
    rec: &Arc<Recorder>,
    tunnel: keyless_core::eice::TunnelSettings,
) -> Arc<LiveSession> {
    request.validate().unwrap();
    LiveSession::start(
        LiveStart {
            aws,
            pool: pool.clone(),
            aws_profile: None,
            request,
            known,
            size: PtySize {
                cols: 100,
                rows: 30,
            },
            known_hosts: store.clone(),
            tunnel,
            max_tunnel: None,
        },
        rec.clone(),
    )
}

/// Starts a session to the named lab instance with a fresh trust store, answers the host-key
/// question with `decision`, and waits until the shell is up.
async fn connected(lab: &Lab, name: &str, decision: TrustDecision) -> Connected {
    let (aws, instance) = instance(lab, name).await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let rec = Arc::new(Recorder::default());
    let live = start(lab, aws, instance.clone(), &store, &rec);
    rec.wait_for("the host key question", |r| {
        r.has(|e| matches!(e, LiveEvent::HostKeyUnknown { .. }))
    })
    .await;
    live.answer_host_key(&asked_fingerprint(&rec), decision)
        .unwrap();
    rec.wait_for("connected", |r| {
        r.has(|e| matches!(e, LiveEvent::Connected { .. }))
    })
    .await;
    Connected {
        live,
        rec,
        store,
        instance,
        _dir: dir,
    }
}

fn asked_fingerprint(rec: &Recorder) -> String {
    rec.events
        .lock()
        .unwrap()
        .iter()
        .find_map(|e| match e {
            LiveEvent::HostKeyUnknown { fingerprint, .. } => Some(fingerprint.clone()),
            _ => None,
        })
        .expect("a host key question")
}

struct Connected {
    live: Arc<LiveSession>,
    rec: Arc<Recorder>,
    store: KnownHosts,
    instance: Instance,
    _dir: tempfile::TempDir,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_asks_about_the_host_key_runs_and_ends() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let c = connected(&lab, "db-primary", TrustDecision::Always).await;
    let (live, rec, store, db) = (&c.live, &c.rec, &c.store, &c.instance);
    // Every step was reported, in a sensible order.
    let steps: Vec<String> = rec
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Step { step, .. } => Some(format!("{step:?}")),
            _ => None,
        })
        .collect();
    for s in ["Key", "Push", "Handshake", "Authenticate"] {
        assert!(steps.contains(&s.to_string()), "{steps:?}");
    }
    assert_eq!(steps.last().map(String::as_str), Some("Authenticate"));
    assert_eq!(
        store.keys_for(&db.instance_id).unwrap().len(),
        1,
        "trusted and remembered"
    );

    live.send(b"stty size; echo answer=$((6*7))\n").unwrap();
    rec.wait_for("the answer", |r| r.text().contains("answer=42"))
        .await;
    assert!(
        rec.text().contains("30 100"),
        "PTY at the requested size: {}",
        rec.text()
    );
    live.resize(PtySize {
        cols: 132,
        rows: 43,
    })
    .unwrap();
    live.send(b"echo size=$(stty size)\n").unwrap();
    rec.wait_for("the new size", |r| r.text().contains("size=43 132"))
        .await;

    live.send(b"exit 5\n").unwrap();
    rec.wait_for("the end", |r| {
        r.has(|e| {
            matches!(
                e,
                LiveEvent::Ended {
                    exit: ExitInfo::Status { status: 5 }
                }
            )
        })
    })
    .await;
    assert!(live.send(b"x").is_err(), "no input after the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_waits_for_the_viewer_and_loses_nothing() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let c = connected(&lab, "db-primary", TrustDecision::Once).await;
    let (live, rec) = (&c.live, &c.rec);

    // 8 MB of 'x' then a marker; the viewer acknowledges nothing at first.
    const TOTAL: usize = 8 * 1024 * 1024;
    live.send(
        format!("stty -echo; echo BEGIN-$((1+1)); head -c {TOTAL} /dev/zero | tr '\\0' x; echo; echo END-$((40+2))-FLOOD\n")
            .as_bytes(),
    )
    .unwrap();
    // Wait until output stops growing: the backend must have paused.
    let mut last = 0;
    let mut still = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while still < 10 {
        assert!(
            Instant::now() < deadline,
            "output never settled; {last} bytes so far"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = rec.output.lock().unwrap().len();
        still = if now == last && now > 0 { still + 1 } else { 0 };
        last = now;
    }
    let paused_at = live.unacked();
    assert!(
        paused_at <= keyless_core::live::FLOW_HIGH + keyless_core::live::CHUNK_MAX,
        "stopped reading with {paused_at} bytes unacknowledged"
    );
    assert!(!rec.text().contains("END-42-FLOOD"));

    // Now the viewer catches up, acknowledging as it goes.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut acked = 0;
    while !rec.text().contains("END-42-FLOOD") {
        let seen = rec.output.lock().unwrap().len();
        live.ack(seen - acked);
        acked = seen;
        assert!(Instant::now() < deadline, "the flood never finished");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Count between markers the shell computes, so the echoed command line never counts.
    let text = rec.text();
    let flood = &text[text.find("BEGIN-2").unwrap()..text.find("END-42-FLOOD").unwrap()];
    let xs = flood.bytes().filter(|b| *b == b'x').count();
    assert_eq!(xs, TOTAL, "every byte arrived exactly once");
    live.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_host_key_fails_without_asking() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let (aws, cafe) = instance(&lab, "café-α").await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    // Pin some other key for this instance: what the lab presents is now a "changed" key.
    let other = keyless_core::OneTimeKey::generate()
        .unwrap()
        .public_openssh();
    store
        .trust(
            &cafe.instance_id,
            &russh::keys::PublicKey::from_openssh(&other).unwrap(),
        )
        .unwrap();
    let rec = Arc::new(Recorder::default());
    let forget = Some(Fix::ForgetHostKey {
        instance_id: cafe.instance_id.clone(),
    });
    let _live = start(&lab, aws, cafe, &store, &rec);
    rec.wait_for("the refusal", |r| {
        r.has(|e| {
            matches!(e, LiveEvent::Failed { error }
                if error.kind == ErrorKind::HostKeyChanged && error.fix == forget)
        })
    })
    .await;
    assert!(!rec.has(|e| matches!(
        e,
        LiveEvent::HostKeyUnknown { .. } | LiveEvent::Connected { .. }
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_during_the_question_connects_nothing() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let (aws, db) = instance(&lab, "db-primary").await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let rec = Arc::new(Recorder::default());
    let live = start(&lab, aws, db.clone(), &store, &rec);
    rec.wait_for("the host key question", |r| {
        r.has(|e| matches!(e, LiveEvent::HostKeyUnknown { .. }))
    })
    .await;
    live.close();
    rec.wait_for("the failure", |r| {
        r.has(|e| matches!(e, LiveEvent::Failed { .. }))
    })
    .await;
    assert!(!rec.has(|e| matches!(e, LiveEvent::Connected { .. })));
    assert!(
        store.keys_for(&db.instance_id).unwrap().is_empty(),
        "nothing trusted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sshd_is_reported_as_lost() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let c = connected(&lab, "eu-web", TrustDecision::Once).await;
    let (rec, eu) = (&c.rec, &c.instance);
    lab.kill_sshd(&eu.instance_id).await;
    rec.wait_for("lost", |r| {
        r.has(|e| matches!(e, LiveEvent::Lost { error } if error.kind == ErrorKind::ConnectionLost))
    })
    .await;
    lab.restart_sshd(&eu.instance_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystrokes_arrive_in_the_order_they_were_sent() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let c = connected(&lab, "db-primary", TrustDecision::Once).await;
    // One byte per call, as a fast typist's keystrokes arrive from the UI.
    let text: String = (0..400)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    for b in format!("echo {text} | tr a-z A-Z\n").bytes() {
        c.live.send(&[b]).unwrap();
    }
    let upper = text.to_uppercase();
    c.rec
        .wait_for("the line back, in order", |r| r.text().contains(&upper))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_not_listed_is_looked_up_by_id_and_an_unknown_one_is_never_dialled() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let db = lab.instance_named("db-primary");
    let aws = aws_for(&lab).await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let rec = Arc::new(Recorder::default());
    let live = start_request(
        aws.clone(),
        request_for(&lab, &db.region, &db.id),
        None,
        &store,
        &rec,
    );
    rec.wait_for("the host key question", |r| {
        r.has(|e| matches!(e, LiveEvent::HostKeyUnknown { .. }))
    })
    .await;
    assert!(rec.has(|e| matches!(
        e,
        LiveEvent::Step {
            step: keyless_core::Step::Resolve,
            ..
        }
    )));
    live.close();

    // An id AWS does not know: refused by the lookup, and by EC2 Instance Connect the key push
    // that went out beside it; nothing dialled.
    let rec = Arc::new(Recorder::default());
    let unknown = request_for(&lab, &db.region, "i-0123456789abcdef9");
    let pushes_before = lab.pushes().len();
    let _live = start_request(aws, unknown, None, &store, &rec);
    rec.wait_for("the refusal", |r| {
        r.has(|e| matches!(e, LiveEvent::Failed { error } if error.kind == ErrorKind::InstanceNotFound))
    })
    .await;
    let pushes = lab.pushes().split_off(pushes_before);
    assert!(pushes.iter().all(|p| p.outcome != "Success"), "{pushes:?}");
    assert!(!rec.has(|e| matches!(
        e,
        LiveEvent::Step {
            step: keyless_core::Step::Handshake,
            ..
        }
    )));
}

#[test]
fn a_request_is_checked_before_anything_happens() {
    let ok = ConnectRequest {
        region: "us-east-1".into(),
        instance_id: "i-0123456789abcdef0".into(),
        os_user: "ec2-user".into(),
        port: 22,
        via: Via::Private,
    };
    ok.validate().unwrap();
    let bad = [
        ConnectRequest {
            region: "us-east-1; rm".into(),
            ..ok.clone()
        },
        ConnectRequest {
            instance_id: "10.0.0.5".into(),
            ..ok.clone()
        },
        ConnectRequest {
            os_user: "-oProxyCommand=x".into(),
            ..ok.clone()
        },
        ConnectRequest {
            port: 0,
            ..ok.clone()
        },
    ];
    for request in bad {
        let e = request.validate().unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{request:?}: {e:?}");
    }
    // The webview cannot hand over an address: the old shape is refused outright.
    let with_address = serde_json::json!({
        "instance": {"instance_id": "i-0123456789abcdef0", "private_ip": "127.0.0.1"},
        "region": "us-east-1", "instance_id": "i-0123456789abcdef0",
        "os_user": "ec2-user", "port": 22, "via": "private"
    });
    let refused = serde_json::from_value::<ConnectRequest>(with_address).unwrap_err();
    assert!(
        refused.to_string().contains("unknown field `instance`"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_key_answer_must_name_the_key_that_was_asked_about() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let (aws, db) = instance(&lab, "db-primary").await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let rec = Arc::new(Recorder::default());
    let live = start(&lab, aws, db.clone(), &store, &rec);
    assert_eq!(
        live.answer_host_key("SHA256:whatever", TrustDecision::Always)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput,
        "no question yet"
    );
    rec.wait_for("the host key question", |r| {
        r.has(|e| matches!(e, LiveEvent::HostKeyUnknown { .. }))
    })
    .await;
    let e = live
        .answer_host_key("SHA256:someOtherKey", TrustDecision::Always)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e:?}");
    assert!(store.keys_for(&db.instance_id).unwrap().is_empty());
    // The question is still open for the right answer.
    live.answer_host_key(&asked_fingerprint(&rec), TrustDecision::Always)
        .unwrap();
    rec.wait_for("connected", |r| {
        r.has(|e| matches!(e, LiveEvent::Connected { .. }))
    })
    .await;
    assert_eq!(store.keys_for(&db.instance_id).unwrap().len(), 1);
    live.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_the_remote_side_does_not_read_is_bounded() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let c = connected(&lab, "db-primary", TrustDecision::Once).await;
    // The remote side stops reading its terminal; the SSH window and the queue fill up.
    c.live.send(b"stty raw -echo; sleep 600\n").unwrap();
    let chunk = vec![b'x'; 1024 * 1024];
    let mut accepted = 0;
    let refusal = loop {
        match c.live.send(&chunk) {
            Ok(()) => accepted += chunk.len(),
            Err(e) => break e,
        }
        assert!(
            accepted <= 64 * 1024 * 1024,
            "never refused after {accepted} bytes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refusal.kind, ErrorKind::InputBacklog, "{refusal:?}");
    assert!(refusal.message.contains("MiB"), "{refusal:?}");
    // Still connected: a refusal loses the paste, not the session.
    assert!(!c
        .rec
        .has(|e| matches!(e, LiveEvent::Lost { .. } | LiveEvent::Ended { .. })));
    c.live.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_never_speaks_fails_the_tab_with_a_timeout_naming_the_phase() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let (aws, db) = instance(&lab, "db-primary").await;
    lab.mute_sshd(&db.instance_id).await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let rec = Arc::new(Recorder::default());
    let _live = start(&lab, aws, db.clone(), &store, &rec);
    // The app's deadline (15 s unless KEYLESS_TIMEOUT says otherwise) fires well before this waits
    // out; before deadlines existed the tab kept connecting forever.
    rec.wait_for("the connect to fail", |r| {
        r.has(|e| matches!(e, LiveEvent::Failed { .. }))
    })
    .await;
    let error = rec
        .events
        .lock()
        .unwrap()
        .iter()
        .find_map(|e| match e {
            LiveEvent::Failed { error } => Some(error.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(error.kind, ErrorKind::Timeout, "{error:?}");
    let at = format!("{}:{}", db.private_ip.as_deref().unwrap(), lab.ssh_port());
    assert!(error.message.starts_with("timed out after "), "{error:?}");
    assert!(
        error.message.ends_with(&format!(
            " s waiting for the SSH banner and key exchange from {} at {at}",
            db.label()
        )),
        "{error:?}"
    );
    assert!(!rec.has(|e| matches!(
        e,
        LiveEvent::HostKeyUnknown { .. } | LiveEvent::Connected { .. }
    )));
}
