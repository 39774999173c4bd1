//! A lab started again in the same state dir is the same world, as real instances are: ids,
//! names, addresses, launch times and sshd host keys survive (`<state>/identity`). Other
//! options, an unusable identity or `up --fresh` give a new world; temp-dir labs stay random.

mod common;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use keyless_lab::{control, daemon, IdentityStatus, Lab, LabInstance, LabOptions};

fn in_dir(dir: &Path) -> LabOptions {
    LabOptions {
        state_dir: Some(dir.to_path_buf()),
        ..LabOptions::default()
    }
}

fn one_region(dir: &Path) -> LabOptions {
    LabOptions {
        regions: vec!["us-east-1".into()],
        ..in_dir(dir)
    }
}

/// Every account's instances, minus the port (not part of the identity).
fn world(instances: Vec<LabInstance>) -> Vec<LabInstance> {
    instances
        .into_iter()
        .map(|mut i| {
            i.ssh_port = 0;
            i
        })
        .collect()
}

fn ids(lab: &Lab) -> HashSet<String> {
    lab.all_instances().into_iter().map(|i| i.id).collect()
}

/// (instanceId, launchTime) as DescribeInstances reports them, in both regions.
fn launch_times(lab: &Lab) -> Vec<(String, String)> {
    ["us-east-1", "eu-west-1"]
        .iter()
        .flat_map(|r| {
            let xml = ec2(lab, r, "DescribeInstances", &[]).text();
            xml_values(&xml, "instanceId")
                .into_iter()
                .zip(xml_values(&xml, "launchTime"))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn replaced(lab: &Lab) -> String {
    match lab.identity() {
        IdentityStatus::Replaced(why) => why.clone(),
        other => panic!("expected a replaced identity, got {other:?}"),
    }
}

#[tokio::test]
async fn same_state_dir_same_world_and_host_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let dir_s = dir.to_string_lossy().into_owned();

    let lab = Lab::start(in_dir(&dir)).await.unwrap();
    assert_eq!(*lab.identity(), IdentityStatus::Created);
    let before = world(lab.all_instances());
    let launched = launch_times(&lab);
    assert_eq!(launched.len(), 12);
    let endpoints = lab.endpoints();
    assert_eq!(endpoints.len(), 2, "{endpoints:?}");
    let port = lab.ssh_port();
    lab.shutdown().await;
    assert!(processes_mentioning(&dir_s).is_empty(), "sshd left behind");

    // What is kept, and only readable by us.
    let identity = dir.join("identity");
    assert_eq!(mode(&identity), 0o700);
    assert_eq!(mode(&identity.join("lab.json")), 0o600);
    let db = before
        .iter()
        .find(|i| i.name.as_deref() == Some("db-primary"))
        .unwrap();
    assert_eq!(
        mode(&identity.join(&db.id).join("ssh_host_ed25519_key")),
        0o600
    );

    let lab = Lab::start(in_dir(&dir)).await.unwrap();
    assert_eq!(*lab.identity(), IdentityStatus::Reused);
    assert_eq!(world(lab.all_instances()), before);
    assert_eq!(launch_times(&lab), launched);
    assert_eq!(
        lab.endpoints(),
        endpoints,
        "endpoint ids are part of the identity"
    );
    assert_eq!(
        lab.ssh_port(),
        port,
        "the SSH port is kept while it is free"
    );

    // OpenSSH, checking strictly against the host key pinned in the first run, logs in.
    let keys = tempfile::tempdir().unwrap();
    let (key, line) = ed25519(keys.path(), "id");
    let user = lab.os_user().to_string();
    assert_eq!(push(&lab, "us-east-1", &db.id, &user, &line).status, 200);
    let ip = db.private_ip.to_string();
    // known_hosts names a host on port 22 by its address alone.
    let host = match lab.ssh_port() {
        22 => ip.clone(),
        p => format!("[{ip}]:{p}"),
    };
    let pinned = keys.path().join("known_hosts");
    std::fs::write(&pinned, format!("{host} {}\n", db.host_public_key)).unwrap();
    let out = ssh_command_checked(
        &key,
        lab.ssh_port(),
        &user,
        &ip,
        "echo same-host",
        Some(&pinned),
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "same-host");
    // The check is real: another pinned key is refused.
    let (_, other) = ed25519(keys.path(), "other");
    let wrong = keys.path().join("wrong_hosts");
    std::fs::write(&wrong, format!("{host} {other}\n")).unwrap();
    assert_eq!(push(&lab, "us-east-1", &db.id, &user, &line).status, 200);
    let out = ssh_command_checked(&key, lab.ssh_port(), &user, &ip, "true", Some(&wrong))
        .output()
        .unwrap();
    assert!(!out.status.success());

    drop(lab);
    assert!(processes_mentioning(&dir_s).is_empty(), "sshd left behind");
    assert!(
        dir.join("identity/lab.json").exists(),
        "kept after the lab stops"
    );
}

#[tokio::test]
async fn other_options_or_an_unusable_identity_give_a_fresh_world() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let identity = dir.join("identity");

    let lab = Lab::start(in_dir(&dir)).await.unwrap();
    let first = ids(&lab);
    lab.shutdown().await;

    // Other regions: a new world, whose identity replaces the old one (host keys included).
    let lab = Lab::start(one_region(&dir)).await.unwrap();
    assert!(replaced(&lab).contains("--regions us-east-1,eu-west-1"));
    let second = ids(&lab);
    assert!(second.is_disjoint(&first));
    assert!(first.iter().all(|id| !identity.join(id).exists()));
    lab.shutdown().await;
    let lab = Lab::start(one_region(&dir)).await.unwrap();
    assert_eq!(*lab.identity(), IdentityStatus::Reused);
    assert_eq!(ids(&lab), second);
    lab.shutdown().await;

    // More inventory is another world too.
    let lab = Lab::start(LabOptions {
        extra_instances: 3,
        ..one_region(&dir)
    })
    .await
    .unwrap();
    assert!(replaced(&lab).contains("--instances 0"));
    let third = ids(&lab);
    assert!(third.is_disjoint(&second));
    lab.shutdown().await;

    // A corrupt file: a fresh world and a reason, no panic.
    std::fs::write(identity.join("lab.json"), "{ not json").unwrap();
    let lab = Lab::start(in_dir(&dir)).await.unwrap();
    assert!(
        replaced(&lab).contains("unreadable"),
        "{:?}",
        lab.identity()
    );
    let fourth = ids(&lab);
    assert!(fourth.is_disjoint(&third));
    lab.shutdown().await;

    // Valid JSON whose id would escape the state dir.
    let text = std::fs::read_to_string(identity.join("lab.json")).unwrap();
    let some_id = fourth.iter().next().unwrap();
    std::fs::write(
        identity.join("lab.json"),
        text.replace(some_id.as_str(), "../../escape"),
    )
    .unwrap();
    let lab = Lab::start(in_dir(&dir)).await.unwrap();
    assert!(replaced(&lab).contains("invalid"), "{:?}", lab.identity());
    assert!(ids(&lab).is_disjoint(&fourth));
    lab.shutdown().await;

    // Forgetting it on purpose.
    keyless_lab::forget_identity(&dir).unwrap();
    assert!(!identity.exists());
    let lab = Lab::start(in_dir(&dir)).await.unwrap();
    assert_eq!(*lab.identity(), IdentityStatus::Created);
    drop(lab);
    assert!(processes_mentioning(&dir.to_string_lossy()).is_empty());
}

/// (id, private address, host key) of every instance of a running background lab.
fn cli_world(dir: &Path) -> Vec<(String, String, String)> {
    let rec = daemon::running(dir).expect("lab record");
    control::fetch_state_of(rec.http_addr(), "all")
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.private_ip.to_string(), i.host_public_key))
        .collect()
}

#[test]
fn binary_down_keeps_the_identity_and_up_fresh_forgets_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let _guard = DownOnDrop(dir.clone());
    let up = |args: &[&str]| {
        let o = cli(&dir, &[&["up"], args].concat());
        assert!(
            o.status.success(),
            "up failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    let down = || assert!(cli(&dir, &["down"]).status.success());

    up(&[]);
    let first = cli_world(&dir);
    down();
    let again = up(&[]);
    assert!(
        stdout(&again).contains("identity: reused"),
        "{}",
        stdout(&again)
    );
    assert_eq!(cli_world(&dir), first);
    down();

    let fresh = up(&["--fresh"]);
    assert!(
        stdout(&fresh).contains("identity: new"),
        "{}",
        stdout(&fresh)
    );
    let new: HashSet<String> = cli_world(&dir).into_iter().map(|(id, ..)| id).collect();
    assert!(first.iter().all(|(id, ..)| !new.contains(id)));
    down();

    // Other options: a fresh world, and `up` says so on stderr.
    let other = up(&["--regions", "eu-west-1"]);
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(err.contains("started a fresh lab"), "{err}");
    down();
    assert!(processes_mentioning(&dir.to_string_lossy()).is_empty());
}
