//! App sessions through the lab's EC2 Instance Connect Endpoint: `auto` reaches `private-db`
//! (nothing listens on its private address) through the tunnel, the connected event names the
//! endpoint and the hour AWS allows, a second tab rides the same tunnel, and a tunnel the endpoint
//! closes ends each tab saying so.

use super::{aws_for, start_with, Recorder};
use keyless_core::eice::TunnelSettings;
use keyless_core::hostkeys::KnownHosts;
use keyless_core::{
    ConnectRequest, ConnectionPool, ErrorKind, Instance, InstanceFilter, LiveEvent, LiveSession,
    Via,
};
use keyless_lab::{Lab, LabOptions, TunnelOutcome};
use std::sync::Arc;

struct Tab {
    live: Arc<LiveSession>,
    rec: Arc<Recorder>,
}

fn open(
    lab: &Lab,
    pool: &ConnectionPool,
    aws: &keyless_core::AwsContext,
    inst: &Instance,
    store: &KnownHosts,
) -> Tab {
    let rec = Arc::new(Recorder::default());
    let request = ConnectRequest {
        region: inst.region.clone(),
        instance_id: inst.instance_id.clone(),
        os_user: lab.os_user().to_owned(),
        port: lab.ssh_port(),
        via: Via::Auto,
    };
    let tunnel = TunnelSettings::direct().with_endpoint_url(lab.eice_url());
    let live = start_with(
        pool,
        aws.clone(),
        request,
        Some(inst.clone()),
        store,
        &rec,
        tunnel,
    );
    Tab { live, rec }
}

impl Tab {
    /// (endpoint_id, tunnel_left_ms, shared) of the connected event.
    async fn connected(&self) -> (Option<String>, Option<u32>, u32) {
        self.rec
            .wait_for("connected", |r| {
                r.has(|e| matches!(e, LiveEvent::Connected { .. }))
            })
            .await;
        let events = self.rec.events.lock().unwrap();
        events
            .iter()
            .find_map(|e| match e {
                LiveEvent::Connected {
                    endpoint_id,
                    tunnel_left_ms,
                    shared,
                    ..
                } => Some((endpoint_id.clone(), *tunnel_left_ms, *shared)),
                _ => None,
            })
            .unwrap()
    }

    async fn runs(&self, n: u32) {
        self.live
            .send(format!("echo result=$(({n}*1000+7))\n").as_bytes())
            .unwrap();
        let want = format!("result={}", n * 1000 + 7);
        self.rec.wait_for(&want, |r| r.text().contains(&want)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_tunnels_to_private_db_and_a_second_tab_rides_the_same_tunnel() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let aws = aws_for(&lab).await;
    let inv = keyless_core::list_instances(&aws, lab.regions(), &InstanceFilter::default()).await;
    let inst = inv
        .instances
        .into_iter()
        .find(|i| i.name.as_deref() == Some(keyless_lab::PRIVATE_DB))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = KnownHosts::at(dir.path().join("known_hosts"));
    let host_key = lab.instance_named(keyless_lab::PRIVATE_DB).host_public_key;
    store
        .trust(
            &inst.instance_id,
            &russh::keys::PublicKey::from_openssh(&host_key).unwrap(),
        )
        .unwrap();
    let pool = ConnectionPool::default();
    let endpoint = lab.endpoints()[0].id.clone();

    let first = open(&lab, &pool, &aws, &inst, &store);
    let (via, left, shared) = first.connected().await;
    assert_eq!(via.as_deref(), Some(endpoint.as_str()));
    let left = left.expect("a tunnelled connection says how long it has");
    assert!((3_590_000..=3_600_000).contains(&left), "{left}");
    assert_eq!(shared, 1);
    assert!(first.rec.has(|e| matches!(
        e,
        LiveEvent::Step {
            step: keyless_core::Step::Tunnel,
            ..
        }
    )));
    first.runs(1).await;

    let second = open(&lab, &pool, &aws, &inst, &store);
    let (via, _, shared) = second.connected().await;
    assert_eq!(via.as_deref(), Some(endpoint.as_str()));
    assert_eq!(shared, 2);
    second.runs(2).await;
    first.runs(3).await;

    let opened = lab
        .tunnels()
        .iter()
        .filter(|t| t.outcome == TunnelOutcome::Opened)
        .count();
    assert_eq!(opened, 1, "one tunnel for both tabs: {:?}", lab.tunnels());
    assert_eq!(lab.ssh_connections(&inst.instance_id), 1);
    assert_eq!(
        lab.pushes()
            .iter()
            .filter(|p| p.outcome == "Success")
            .count(),
        1
    );

    // The endpoint ends the tunnel: both tabs are lost, saying the endpoint closed it.
    lab.close_open_tunnels().await;
    for tab in [&first, &second] {
        tab.rec
            .wait_for("lost", |r| r.has(|e| matches!(e, LiveEvent::Lost { .. })))
            .await;
        let events = tab.rec.events.lock().unwrap();
        let error = events
            .iter()
            .find_map(|e| match e {
                LiveEvent::Lost { error } => Some(error.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(error.kind, ErrorKind::TunnelClosed, "{error:?}");
        assert!(
            error.message.contains("closed by the endpoint"),
            "{error:?}"
        );
    }
}
