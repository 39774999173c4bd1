//! The `/_lab/…` control routes and the `keyless-lab` binary (up/status/fault/down).

mod common;

use common::*;
use keyless_lab::mini_http;
use keyless_lab::{control, daemon, Fault, Lab, LabInstance, LabOptions};

fn post_fault(lab: &Lab, json: &str) -> mini_http::Response {
    let headers = [("content-type".to_string(), "application/json".to_string())];
    mini_http::request(
        lab.http_addr(),
        "POST",
        "/_lab/fault",
        &headers,
        json.as_bytes(),
    )
    .unwrap()
}

#[tokio::test]
async fn http_control_routes() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let state: Vec<LabInstance> = control::fetch_state(lab.http_addr()).unwrap();
    assert_eq!(state, lab.instances());

    assert_eq!(post_fault(&lab, r#"{"op":"throttle","n":1}"#).status, 200);
    let tmp = tempfile::tempdir().unwrap();
    let (_, ed) = ed25519(tmp.path(), "ed");
    let db = lab.instance_named("db-primary");
    assert_eq!(
        json_error(&push(&lab, "us-east-1", &db.id, lab.os_user(), &ed)),
        "ThrottlingException"
    );

    control::send_fault(lab.http_addr(), &Fault::Stop { id: db.id.clone() }).unwrap();
    assert_eq!(lab.instance_named("db-primary").state, "stopped");
    control::send_fault(lab.http_addr(), &Fault::Start { id: db.id.clone() }).unwrap();
    assert_eq!(lab.instance_named("db-primary").state, "running");
    control::send_fault(
        lab.http_addr(),
        &Fault::DenyRegion {
            region: "eu-west-1".into(),
        },
    )
    .unwrap();
    assert_eq!(
        xml_error_code(&ec2(&lab, "eu-west-1", "DescribeInstances", &[]).text()),
        "UnauthorizedOperation"
    );

    // Bad requests get errors, not a dead server.
    assert_eq!(
        post_fault(&lab, r#"{"op":"stop","id":"i-0000000000000000f"}"#).status,
        404
    );
    assert_eq!(
        post_fault(&lab, r#"{"op":"source-cidr","cidr":"banana"}"#).status,
        400
    );
    assert!(post_fault(&lab, r#"{"op":"explode"}"#).status >= 400);
    assert!(post_fault(&lab, "not json").status >= 400);
    let pushes = mini_http::request(lab.http_addr(), "GET", "/_lab/pushes", &[], b"").unwrap();
    assert_eq!(pushes.status, 200);
    assert_eq!(
        serde_json::from_slice::<Vec<keyless_lab::PushRecord>>(&pushes.body).unwrap(),
        lab.pushes()
    );
}

#[test]
fn binary_up_status_fault_down() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let dir_s = dir.to_string_lossy().into_owned();
    let _guard = DownOnDrop(dir.clone());

    let up = cli(&dir, &["up", "--instances", "4", "--key-ttl-secs", "30"]);
    assert!(
        up.status.success(),
        "up failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let out = stdout(&up);
    assert!(out.contains(&format!("env file: {dir_s}/env")), "{out}");
    assert!(
        out.contains("db-primary") && out.contains("filler-00004") && out.contains("source "),
        "{out}"
    );
    let rec = daemon::running(&dir).expect("lab record");
    // The endpoints table: the main account's endpoint, with its DNS name.
    let endpoints = control::fetch_endpoints(rec.http_addr()).unwrap();
    assert_eq!(endpoints.len(), 2, "{endpoints:?}");
    assert!(
        out.contains(keyless_lab::PRIVATE_DB)
            && out.contains("ENDPOINT")
            && endpoints
                .iter()
                .all(|e| out.contains(&e.id) && out.contains(&e.dns_name)),
        "{out}"
    );

    let again = cli(&dir, &["up"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already running"));

    let status = cli(&dir, &["status"]);
    assert!(status.status.success());
    assert!(stdout(&status).contains(&rec.endpoint));
    let env = cli(&dir, &["env"]);
    assert!(stdout(&env).contains("export KEYLESS_LAB='1'"));

    let instances = control::fetch_state(rec.http_addr()).unwrap();
    let db = instances
        .iter()
        .find(|i| i.name.as_deref() == Some("db-primary"))
        .unwrap();
    let stop = cli(&dir, &["fault", "stop", &db.id]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    let after = control::fetch_state(rec.http_addr()).unwrap();
    assert_eq!(
        after.iter().find(|i| i.id == db.id).unwrap().state,
        "stopped"
    );
    let bad = cli(&dir, &["fault", "stop", "i-0000000000000000f"]);
    assert!(!bad.status.success());
    assert!(cli(&dir, &["fault", "throttle", "2"]).status.success());
    let not_ready = cli(&dir, &["fault", "endpoint-not-ready", "on"]);
    assert!(not_ready.status.success(), "{not_ready:?}");
    let now = control::fetch_endpoints(rec.http_addr()).unwrap();
    assert!(
        now.iter().all(|e| e.state == "create-in-progress"),
        "{now:?}"
    );
    assert!(!cli(&dir, &["fault", "endpoint-not-ready", "maybe"])
        .status
        .success());
    assert!(cli(&dir, &["fault", "close-tunnels"]).status.success());
    assert!(control::fetch_tunnels(rec.http_addr()).unwrap().is_empty());

    // sshds run (their configs live in the state dir) until `down`.
    assert!(!processes_mentioning(&dir_s).is_empty());
    let down = cli(&dir, &["down"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(!pid_alive(rec.pid as i32));
    assert!(
        processes_mentioning(&dir_s).is_empty(),
        "processes left after down"
    );
    assert!(!cli(&dir, &["status"]).status.success());
    assert!(cli(&dir, &["down"]).status.success(), "down is idempotent");
}
