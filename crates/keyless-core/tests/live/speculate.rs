//! `connect_target` keeps the lookup off the critical path (real lab, real sshd): the push for
//! an id goes out before `DescribeInstances` answers; a recently seen address that now belongs
//! to another instance is dropped without an alarm or a question; an unpinned key at the right
//! address is asked about once, after the lookup; unknown and stopped ids keep the lookup's
//! errors. The lab's EC2 API latency only widens the window the ordering is checked in.

use super::{aws_for, instance};
use keyless_core::hostkeys::KnownHosts;
use keyless_core::{
    connect_target, connect_target_with, ConnectOptions, ErrorKind, HostKeyPolicy, HostKeyPrompt,
    Instance, TrustDecision, Via,
};
use keyless_lab::{Lab, LabOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PUSH: &str = "AWSEC2InstanceConnectService.SendSSHPublicKey";

async fn slow_lookup_lab() -> Lab {
    Lab::start(LabOptions {
        api_latency: Duration::from_millis(700),
        ..LabOptions::default()
    })
    .await
    .unwrap()
}

/// Asks under `Ask`, counting the questions, and answers `answer`.
fn counting_prompt(answer: TrustDecision) -> (HostKeyPrompt, Arc<AtomicUsize>) {
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    let prompt: HostKeyPrompt = Arc::new(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { answer })
    });
    (prompt, asked)
}

fn options(lab: &Lab, store: &KnownHosts, prompt: Option<HostKeyPrompt>) -> ConnectOptions {
    ConnectOptions {
        os_user: lab.os_user().to_owned(),
        port: lab.ssh_port(),
        via: Via::Private,
        host_key_policy: HostKeyPolicy::Ask,
        known_hosts: store.clone(),
        prompt,
        progress: None,
        timeout: Duration::from_secs(15),
        max_tunnel: None,
        tunnel: keyless_core::eice::TunnelSettings::direct(),
    }
}

/// Pins `name`'s host key in `store` by connecting once.
async fn pin(lab: &Lab, store: &KnownHosts, name: &str) -> Instance {
    let (aws, seen) = instance(lab, name).await;
    let opts = ConnectOptions {
        host_key_policy: HostKeyPolicy::AcceptNew,
        ..options(lab, store, None)
    };
    let c = connect_target(&aws, &seen.region, &seen.instance_id, &opts)
        .await
        .unwrap();
    c.disconnect().await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_id_the_push_goes_out_before_the_lookup_answers() {
    let lab = slow_lookup_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let db = lab.instance_named("db-primary");
    let aws = aws_for(&lab).await;
    let (prompt, asked) = counting_prompt(TrustDecision::Always);
    let before = lab.requests().len();
    let c = connect_target(
        &aws,
        &db.region,
        &db.id,
        &options(&lab, &store, Some(prompt)),
    )
    .await
    .unwrap();
    assert_eq!(c.instance.instance_id, db.id);
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "a new key is asked about once"
    );
    c.disconnect().await;

    let requests = lab.requests().split_off(before);
    let lookup = (requests.iter())
        .find(|r| r.target.is_none())
        .expect("a DescribeInstances request");
    let push = (requests.iter())
        .find(|r| r.target.as_deref() == Some(PUSH))
        .expect("a SendSSHPublicKey request");
    let answered = lookup.answered.expect("the lookup was answered");
    assert!(
        push.at < answered,
        "the push waited for the lookup: {requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_address_now_another_instances_is_dropped_quietly() {
    let lab = slow_lookup_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let db = pin(&lab, &store, "db-primary").await;
    let cafe = lab.instance_named("café-α");
    // The cache says db-primary is where café-α now listens (another machine, another key).
    let stale = Instance {
        private_ip: Some(cafe.private_ip.to_string()),
        ..db.clone()
    };
    let cafe_before = lab.ssh_connections(&cafe.id);
    let db_before = lab.ssh_connections(&db.instance_id);
    let aws = aws_for(&lab).await;
    let (prompt, asked) = counting_prompt(TrustDecision::Reject);
    for target in [db.instance_id.as_str(), "db-primary"] {
        let opts = options(&lab, &store, Some(prompt.clone()));
        let c = connect_target_with(&aws, &db.region, target, Some(&stale), &opts)
            .await
            .unwrap_or_else(|e| panic!("{target}: {e:?}"));
        assert_eq!(c.instance.instance_id, db.instance_id);
        let address = db.private_ip.as_deref().unwrap();
        assert!(c.route_text().starts_with(address), "{}", c.route_text());
        c.disconnect().await;
    }
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "no question for a stale address"
    );
    // Both addresses were dialled each time: the stale one first, the right one after.
    assert_eq!(lab.ssh_connections(&cafe.id) - cafe_before, 2);
    assert_eq!(lab.ssh_connections(&db.instance_id) - db_before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpinned_key_at_the_right_address_is_asked_about_after_the_lookup() {
    let lab = slow_lookup_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let (aws, db) = instance(&lab, "db-primary").await;
    let (prompt, asked) = counting_prompt(TrustDecision::Always);
    let before = lab.ssh_connections(&db.instance_id);
    let opts = options(&lab, &store, Some(prompt));
    let c = connect_target_with(&aws, &db.region, "db-primary", Some(&db), &opts)
        .await
        .unwrap();
    c.disconnect().await;
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    // The speculative connection was the one used: no second dial.
    assert_eq!(lab.ssh_connections(&db.instance_id) - before, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_stopped_ids_keep_the_lookups_errors() {
    let lab = slow_lookup_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let aws = aws_for(&lab).await;
    let opts = options(&lab, &store, None);
    let region = lab.regions()[0].clone();
    let unknown = "i-0123456789abcdef0";
    let Err(e) = connect_target(&aws, &region, unknown, &opts).await else {
        panic!("connected to an unknown instance");
    };
    assert_eq!(e.kind, ErrorKind::InstanceNotFound, "{e:?}");
    assert!(
        e.message
            .contains(&format!("{unknown} was not found in {region}")),
        "{e:?}"
    );
    let batch = lab.instance_named("batch");
    let Err(e) = connect_target(&aws, &region, &batch.id, &opts).await else {
        panic!("connected to a stopped instance");
    };
    assert_eq!(e.kind, ErrorKind::InstanceNotRunning, "{e:?}");
    assert!(e.message.contains("is stopped, not running"), "{e:?}");
    // The early push went out and was refused: the lookup's words win all the same.
    let refused = lab
        .pushes()
        .iter()
        .filter(|p| p.outcome != "Success")
        .count();
    assert_eq!(refused, 2, "{:?}", lab.pushes());
}
