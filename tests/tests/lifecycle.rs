//! Starting and stopping labs: catalogue, addresses, env file, sshd processes and their cleanup.

mod common;

use std::collections::HashSet;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;
use keyless_lab::{Lab, LabOptions};

fn port_open(ip: std::net::Ipv4Addr, port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from((ip, port)), Duration::from_secs(1)).is_ok()
}

#[tokio::test]
async fn catalogue_env_and_addresses() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let all = lab.instances();
    assert_eq!(all.len(), 12);
    let us: Vec<_> = all.iter().filter(|i| i.region == "us-east-1").collect();
    assert_eq!(us.len(), 10);
    assert_eq!(
        all.iter()
            .filter(|i| i.name.as_deref() == Some("web"))
            .count(),
        2
    );
    assert_eq!(all.iter().filter(|i| i.name.is_none()).count(), 1);
    assert_eq!(
        all.iter().filter(|i| i.name.as_deref() == Some("")).count(),
        1
    );
    for name in [
        "db-primary",
        "café-α",
        "batch",
        "no-imds",
        "restricted",
        "eu-web",
        "eu-stopped",
    ] {
        lab.instance_named(name);
    }
    assert_eq!(lab.instance_named("batch").state, "stopped");
    assert_eq!(lab.instance_named("eu-stopped").region, "eu-west-1");
    assert!(!lab.instance_named("no-imds").metadata_http_endpoint_enabled);

    // Ids, private addresses in one 127.A.B.0/24, public ones in the next /24.
    let ids: HashSet<_> = all.iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids.len(), 12);
    for i in &all {
        assert!(i.id.starts_with("i-0") && i.id.len() == 19, "{}", i.id);
        assert!(
            i.host_public_key.starts_with("ssh-ed25519 "),
            "{}",
            i.host_public_key
        );
        assert!(i.host_key_sha256.starts_with("SHA256:"));
        assert_eq!(i.ssh_port, lab.ssh_port());
    }
    let net = |ip: std::net::Ipv4Addr| [ip.octets()[0], ip.octets()[1], ip.octets()[2]];
    let private: HashSet<_> = all.iter().map(|i| net(i.private_ip)).collect();
    assert_eq!(private.len(), 1);
    let web_public = all.iter().find_map(|i| i.public_ip).unwrap();
    let p = net(all[0].private_ip);
    assert_eq!(net(web_public), [p[0], p[1], p[2] + 1]);

    // Every running instance has a listening sshd on each of its addresses; stopped ones none.
    // private-db's sshd listens only behind the endpoint (a third /24), never on its private IP.
    for i in &all {
        let running = i.state == "running";
        let behind = i.behind_endpoint_ip;
        assert_eq!(
            behind.is_some(),
            i.name.as_deref() == Some(keyless_lab::PRIVATE_DB)
        );
        assert_eq!(
            port_open(i.private_ip, lab.ssh_port()),
            running && behind.is_none(),
            "{:?}",
            i.name
        );
        if let Some(ip) = behind {
            assert_eq!(net(ip), [p[0], p[1], p[2] + 2]);
            assert!(port_open(ip, lab.ssh_port()));
        }
        if let Some(ip) = i.public_ip {
            assert_eq!(port_open(ip, lab.ssh_port()), running);
        }
    }

    // The env file.
    let env = lab.env();
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("AWS_ENDPOINT_URL_EC2"), lab.endpoint());
    assert_eq!(get("AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT"), lab.endpoint());
    assert_eq!(get("AWS_ENDPOINT_URL_STS"), lab.endpoint());
    assert_eq!(get("AWS_ACCESS_KEY_ID"), "AKIALABKEYLESS000001");
    assert_eq!(get("AWS_REGION"), "us-east-1");
    assert_eq!(get("AWS_EC2_METADATA_DISABLED"), "true");
    assert_eq!(get("KEYLESS_SSH_PORT"), lab.ssh_port().to_string());
    assert_eq!(get("KEYLESS_LAB"), "1");
    assert_eq!(get("KEYLESS_EICE_ENDPOINT_URL"), lab.eice_url());
    let text = std::fs::read_to_string(lab.env_file()).unwrap();
    assert!(text.contains(&format!(
        "export AWS_ENDPOINT_URL_EC2='{}'\n",
        lab.endpoint()
    )));
    let creds = std::fs::read_to_string(get("AWS_SHARED_CREDENTIALS_FILE")).unwrap();
    assert!(creds.contains("[lab]") && creds.contains("[default]"));
    let config = std::fs::read_to_string(get("AWS_CONFIG_FILE")).unwrap();
    assert!(config.contains("[profile lab]\nregion = us-east-1"));
    assert!(lab.endpoint().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn drop_kills_every_sshd_and_session() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let state_dir = lab.state_dir().to_string_lossy().into_owned();
    assert_eq!(
        sshd_listeners_settled(&state_dir, running_count(&lab)),
        running_count(&lab)
    );

    // An open session: sshd's per-connection child setsid()s, so it is not in the listener's group.
    let tmp = tempfile::tempdir().unwrap();
    let (key, line) = ed25519(tmp.path(), "id");
    let db = lab.instance_named("db-primary");
    assert_eq!(
        push(&lab, "us-east-1", &db.id, lab.os_user(), &line).status,
        200
    );
    let mut session = ssh_command(
        &key,
        lab.ssh_port(),
        lab.os_user(),
        &db.private_ip.to_string(),
        "echo $$; exec sleep 120",
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let shell_pid = read_pid(&mut session);
    assert!(pid_alive(shell_pid));

    drop(lab);
    assert!(
        processes_mentioning(&state_dir).is_empty(),
        "sshd left behind"
    );
    assert!(!pid_alive(shell_pid), "session left behind");
    assert!(
        !std::path::Path::new(&state_dir).exists(),
        "temp state dir not removed"
    );
    let _ = session.wait();
}

/// First stdout line of a remote `echo $$`.
pub fn read_pid(child: &mut std::process::Child) -> i32 {
    use std::io::BufRead;
    let out = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(out).read_line(&mut line).unwrap();
    line.trim()
        .parse()
        .unwrap_or_else(|_| panic!("no pid from the session: {line:?}"))
}

#[test]
fn panic_while_lab_runs_still_cleans_up() {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let lab = Lab::start(LabOptions::default()).await.unwrap();
            tx.send(lab.state_dir().to_string_lossy().into_owned())
                .unwrap();
            panic!("test body fails while the lab runs");
        })
    })
    .join();
    assert!(result.is_err());
    let state_dir = rx.recv().unwrap();
    assert!(processes_mentioning(&state_dir).is_empty());
}

#[tokio::test]
async fn two_labs_side_by_side() {
    let (a, b) = tokio::join!(
        Lab::start(LabOptions::default()),
        Lab::start(LabOptions::default())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.endpoint(), b.endpoint());
    let a_ips: HashSet<_> = a.instances().iter().map(|i| i.private_ip).collect();
    assert!(b.instances().iter().all(|i| !a_ips.contains(&i.private_ip)));
    // Temp state dirs: every lab is a new random world (no identity to reuse).
    assert_eq!(*b.identity(), keyless_lab::IdentityStatus::Created);
    let a_ids: HashSet<_> = a.all_instances().into_iter().map(|i| i.id).collect();
    assert!(b.all_instances().iter().all(|i| !a_ids.contains(&i.id)));
    let dir_a = a.state_dir().to_string_lossy().into_owned();
    let dir_b = b.state_dir().to_string_lossy().into_owned();
    a.shutdown().await;
    assert!(processes_mentioning(&dir_a).is_empty());
    assert_eq!(
        sshd_listeners_settled(&dir_b, running_count(&b)),
        running_count(&b)
    );
    drop(b);
    assert!(processes_mentioning(&dir_b).is_empty());
}

#[tokio::test]
async fn stop_start_kill_restart_rekey() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let port = lab.ssh_port();
    let db = lab.instance_named("db-primary");

    lab.stop_instance(&db.id).await;
    let now = lab.instance_named("db-primary");
    assert_eq!(now.state, "stopped");
    assert!(!port_open(db.private_ip, port));

    lab.start_instance(&db.id).await;
    let now = lab.instance_named("db-primary");
    assert_eq!(now.state, "running");
    assert_eq!(
        now.host_public_key, db.host_public_key,
        "same host key across stop/start"
    );
    assert!(port_open(db.private_ip, port));

    lab.kill_sshd(&db.id).await;
    assert_eq!(lab.instance_named("db-primary").state, "running");
    assert!(!port_open(db.private_ip, port));
    lab.restart_sshd(&db.id).await;
    assert!(port_open(db.private_ip, port));

    lab.rekey(&db.id).await;
    let now = lab.instance_named("db-primary");
    assert_ne!(now.host_public_key, db.host_public_key);
    assert_ne!(now.host_key_sha256, db.host_key_sha256);
    assert!(port_open(db.private_ip, port));

    // A stopped instance starts with its own (pre-generated) key.
    let batch = lab.instance_named("batch");
    lab.start_instance(&batch.id).await;
    assert!(port_open(batch.private_ip, port));
    assert_eq!(
        lab.instance_named("batch").host_public_key,
        batch.host_public_key
    );
    let dir = lab.state_dir().to_string_lossy().into_owned();
    assert_eq!(
        sshd_listeners_settled(&dir, running_count(&lab)),
        running_count(&lab)
    );
}

#[tokio::test]
async fn filler_instances() {
    let opts = LabOptions {
        extra_instances: 300,
        ..LabOptions::default()
    };
    let lab = Lab::start(opts).await.unwrap();
    let all = lab.instances();
    assert_eq!(all.len(), 312);
    let filler: Vec<_> = all
        .iter()
        .filter(|i| i.name.as_deref().is_some_and(|n| n.starts_with("filler-")))
        .collect();
    assert_eq!(filler.len(), 300);
    assert!(filler.iter().all(|i| i.state == "stopped"));
    assert_eq!(
        filler.iter().filter(|i| i.region == "us-east-1").count(),
        150
    );
    let ips: HashSet<_> = all.iter().map(|i| i.private_ip).collect();
    assert_eq!(ips.len(), 312, "private addresses are unique");
    // Filler past the first /24 spills beyond the private, public and behind-the-endpoint /24s.
    let p = all[0].private_ip.octets();
    let behind = lab
        .instance_named(keyless_lab::PRIVATE_DB)
        .behind_endpoint_ip
        .unwrap();
    assert!(all
        .iter()
        .all(|i| i.private_ip.octets()[2] != p[2] + 1
            && i.private_ip.octets()[2] != behind.octets()[2]));
    // Filler can be started like any instance.
    let last = filler.last().unwrap();
    lab.start_instance(&last.id).await;
    assert!(port_open(last.private_ip, lab.ssh_port()));
}

/// The first line sshd sends on a new connection.
fn banner(ip: std::net::Ipv4Addr, port: u16) -> String {
    use std::io::BufRead;
    let s = TcpStream::connect(SocketAddr::from((ip, port))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut line = String::new();
    std::io::BufReader::new(s).read_line(&mut line).unwrap();
    line
}

#[tokio::test]
async fn mute_sshd_keeps_the_port_open_without_sshd_until_restart() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let port = lab.ssh_port();
    let db = lab.instance_named("db-primary");
    let dir = lab.state_dir().to_string_lossy().into_owned();
    let running = running_count(&lab);
    assert_eq!(sshd_listeners_settled(&dir, running), running);

    lab.mute_sshd(&db.id).await;
    assert_eq!(lab.instance_named("db-primary").state, "running");
    // TCP still connects, but no sshd is behind it.
    assert!(port_open(db.private_ip, port));
    assert_eq!(sshd_listeners_settled(&dir, running - 1), running - 1);

    // Restarting brings the real sshd back on the same port.
    lab.restart_sshd(&db.id).await;
    assert!(banner(db.private_ip, port).starts_with("SSH-2.0-"));
    assert_eq!(sshd_listeners_settled(&dir, running), running);

    // A muted port closes with the instance.
    lab.mute_sshd(&db.id).await;
    lab.stop_instance(&db.id).await;
    assert!(!port_open(db.private_ip, port));
}
