//! SendSSHPublicKey over raw signed requests: validation order, fault switches, the seed's
//! policy, instance checks, and what the keys endpoint then serves to sshd.

mod common;

use std::time::{Duration, Instant};

use common::*;
use keyless_lab::mini_http;
use keyless_lab::{fingerprint_of_line, Lab, LabOptions};

fn code(r: &mini_http::Response) -> (u16, String) {
    (r.status, json_error(r))
}

/// What sshd's AuthorizedKeysCommand would get for this key.
fn served(lab: &Lab, id: &str, user: &str, line: &str) -> String {
    let fp = fingerprint_of_line(line).unwrap();
    let q = form(&[("user", user), ("fp", &fp)]);
    let r = mini_http::request(
        lab.http_addr(),
        "GET",
        &format!("/_lab/keys/{id}?{q}"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    r.text()
}

#[tokio::test]
async fn push_success_and_keys_endpoint() {
    let lab = Lab::start(LabOptions {
        key_ttl: Duration::from_secs(2),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, line) = ed25519(tmp.path(), "a");
    let (_, other) = ed25519(tmp.path(), "b");
    let db = lab.instance_named("db-primary");
    let user = lab.os_user().to_string();

    let r = push(&lab, "us-east-1", &db.id, &user, &line);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["Success"], true);
    assert_eq!(v["RequestId"].as_str().unwrap().len(), 36);

    assert_eq!(served(&lab, &db.id, &user, &line), format!("{line}\n"));
    assert_eq!(
        served(&lab, &db.id, &user, &other),
        "",
        "only the key with the offered fingerprint"
    );
    assert_eq!(
        served(&lab, &db.id, "ghost", &line),
        "",
        "only for the pushed user"
    );
    let web = lab
        .instances()
        .into_iter()
        .find(|i| i.name.as_deref() == Some("web"))
        .unwrap();
    assert_eq!(
        served(&lab, &web.id, &user, &line),
        "",
        "only for the pushed instance"
    );

    // Several keys can be active for one user.
    assert_eq!(push(&lab, "us-east-1", &db.id, &user, &other).status, 200);
    assert_eq!(served(&lab, &db.id, &user, &other), format!("{other}\n"));
    assert_eq!(served(&lab, &db.id, &user, &line), format!("{line}\n"));

    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(served(&lab, &db.id, &user, &line), "", "gone after the TTL");

    let pushes = lab.pushes();
    assert_eq!(pushes.len(), 2);
    assert_eq!(
        (pushes[0].instance_id.as_str(), pushes[0].outcome.as_str()),
        (db.id.as_str(), "Success")
    );
    assert_eq!(pushes[0].key, line);
    assert_eq!(pushes[0].user, user);
}

#[tokio::test]
async fn invalid_arguments() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, ed) = ed25519(tmp.path(), "ed");
    let (_, ecdsa) = keygen(tmp.path(), "ec", &["-t", "ecdsa"]);
    let (_, rsa1024) = keygen(tmp.path(), "r1", &["-t", "rsa", "-b", "1024"]);
    let (_, rsa2048) = keygen(tmp.path(), "r2", &["-t", "rsa", "-b", "2048"]);
    let db = lab.instance_named("db-primary").id;
    let user = lab.os_user().to_string();
    let invalid = (400, "InvalidArgsException".to_string());

    assert_eq!(code(&push(&lab, "us-east-1", &db, &user, &ecdsa)), invalid);
    assert_eq!(
        code(&push(&lab, "us-east-1", &db, &user, &rsa1024)),
        invalid
    );
    assert_eq!(
        code(&push(&lab, "us-east-1", &db, &user, "ssh-ed25519 AAAA")),
        invalid
    );
    assert_eq!(
        code(&push(&lab, "us-east-1", "i-XYZ0000000", &user, &ed)),
        invalid
    );
    assert_eq!(
        code(&push(&lab, "us-east-1", "i-0123", &user, &ed)),
        invalid
    );
    assert_eq!(
        code(&push(&lab, "us-east-1", &db, &"u".repeat(33), &ed)),
        invalid
    );
    assert_eq!(code(&push(&lab, "us-east-1", &db, "", &ed)), invalid);
    let missing = push_raw(
        &lab,
        "us-east-1",
        r#"{"InstanceId":"i-0123456789abcdef0"}"#,
        &lab_creds(),
    );
    assert_eq!(code(&missing), invalid);
    let garbage = push_raw(&lab, "us-east-1", "{not json", &lab_creds());
    assert_eq!(code(&garbage), (400, "SerializationException".to_string()));
    assert_eq!(push(&lab, "us-east-1", &db, &user, &rsa2048).status, 200);
    assert_eq!(push(&lab, "us-east-1", &db, &user, &ed).status, 200);

    // Field checks come before the fault switches: the throttle is not consumed.
    lab.throttle_next_pushes(1);
    assert_eq!(code(&push(&lab, "us-east-1", &db, &user, &ecdsa)), invalid);
    assert_eq!(
        code(&push(&lab, "us-east-1", &db, &user, &ed)),
        (400, "ThrottlingException".to_string())
    );
    assert!(lab
        .pushes()
        .iter()
        .any(|p| p.outcome == "InvalidArgsException"));
}

#[tokio::test]
async fn fault_switches() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, ed) = ed25519(tmp.path(), "ed");
    let db = lab.instance_named("db-primary").id;
    let user = lab.os_user().to_string();

    lab.throttle_next_pushes(2);
    lab.fail_next_pushes(1);
    assert_eq!(
        code(&push(&lab, "us-east-1", &db, &user, &ed)),
        (400, "ThrottlingException".into())
    );
    assert_eq!(
        code(&push(&lab, "us-east-1", &db, &user, &ed)),
        (400, "ThrottlingException".into())
    );
    assert_eq!(
        code(&push(&lab, "us-east-1", &db, &user, &ed)),
        (500, "ServiceException".into())
    );
    assert_eq!(push(&lab, "us-east-1", &db, &user, &ed).status, 200);

    lab.expire_next_pushes(1);
    let (_, k2) = ed25519(tmp.path(), "k2");
    assert_eq!(push(&lab, "us-east-1", &db, &user, &k2).status, 200);
    assert_eq!(
        served(&lab, &db, &user, &k2),
        "",
        "expired push is never served"
    );
    assert_eq!(push(&lab, "us-east-1", &db, &user, &k2).status, 200);
    assert_eq!(served(&lab, &db, &user, &k2), format!("{k2}\n"));

    let outcomes: Vec<String> = lab.pushes().into_iter().map(|p| p.outcome).collect();
    assert_eq!(
        outcomes,
        [
            "ThrottlingException",
            "ThrottlingException",
            "ServiceException",
            "Success",
            "Success",
            "Success"
        ]
    );
}

#[tokio::test]
async fn policy() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, ed) = ed25519(tmp.path(), "ed");
    let db = lab.instance_named("db-primary").id;
    let user = lab.os_user().to_string();
    let denied = (400, "AccessDeniedException".to_string());

    let restricted = lab.instance_named("restricted").id;
    let r = push(&lab, "us-east-1", &restricted, &user, &ed);
    assert_eq!(code(&r), denied);
    let msg = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["Message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "User: arn:aws:iam::123456789012:user/lab-admin is not authorized to perform: \
             ec2-instance-connect:SendSSHPublicKey on resource: arn:aws:ec2:us-east-1:123456789012:instance/{restricted} \
             because no identity-based policy allows the ec2-instance-connect:SendSSHPublicKey action"
        )
    );
    assert_eq!(code(&push(&lab, "us-east-1", &db, "root", &ed)), denied);
    assert_eq!(
        push(&lab, "us-east-1", &db, "ghost", &ed).status,
        200,
        "ghost is allowed by IAM"
    );

    lab.set_source_cidr("10.0.0.0/8");
    assert_eq!(code(&push(&lab, "us-east-1", &db, &user, &ed)), denied);
    lab.set_source_cidr("127.0.0.1/32");
    assert_eq!(push(&lab, "us-east-1", &db, &user, &ed).status, 200);

    lab.deny_user(&user);
    assert_eq!(code(&push(&lab, "us-east-1", &db, &user, &ed)), denied);
}

#[tokio::test]
async fn instance_checks() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, ed) = ed25519(tmp.path(), "ed");
    let user = lab.os_user().to_string();
    let not_found = (400, "EC2InstanceNotFoundException".to_string());

    let batch = lab.instance_named("batch").id;
    assert_eq!(
        code(&push(&lab, "us-east-1", &batch, &user, &ed)),
        (400, "EC2InstanceStateInvalidException".into())
    );
    assert_eq!(
        code(&push(&lab, "us-east-1", "i-0123456789abcdef0", &user, &ed)),
        not_found
    );
    let eu_web = lab.instance_named("eu-web").id;
    assert_eq!(
        code(&push(&lab, "us-east-1", &eu_web, &user, &ed)),
        not_found
    );
    assert_eq!(push(&lab, "eu-west-1", &eu_web, &user, &ed).status, 200);
    assert_eq!(
        code(&push(&lab, "ap-south-1", &eu_web, &user, &ed)),
        not_found,
        "region outside the lab"
    );

    // IMDS off: the push succeeds, nothing is ever served.
    let no_imds = lab.instance_named("no-imds").id;
    assert_eq!(push(&lab, "us-east-1", &no_imds, &user, &ed).status, 200);
    assert_eq!(served(&lab, &no_imds, &user, &ed), "");

    // A stopped-then-started instance accepts pushes again.
    lab.stop_instance(&no_imds).await;
    assert_eq!(
        code(&push(&lab, "us-east-1", &no_imds, &user, &ed)).1,
        "EC2InstanceStateInvalidException"
    );
    lab.start_instance(&no_imds).await;
    assert_eq!(push(&lab, "us-east-1", &no_imds, &user, &ed).status, 200);

    // AvailabilityZone, when given, must match.
    let db = lab.instance_named("db-primary");
    let body = |az: &str| {
        serde_json::json!({ "InstanceId": db.id, "InstanceOSUser": user, "SSHPublicKey": ed, "AvailabilityZone": az })
            .to_string()
    };
    assert_eq!(
        push_raw(&lab, "us-east-1", &body(&db.az), &lab_creds()).status,
        200
    );
    assert_eq!(
        code(&push_raw(
            &lab,
            "us-east-1",
            &body("us-east-1f"),
            &lab_creds()
        ))
        .1,
        "InvalidArgsException"
    );
}

#[tokio::test]
async fn authentication_errors() {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, ed) = ed25519(tmp.path(), "ed");
    let db = lab.instance_named("db-primary").id;
    let body = serde_json::json!({ "InstanceId": db, "InstanceOSUser": lab.os_user(), "SSHPublicKey": ed }).to_string();
    let bad_sig = push_raw(
        &lab,
        "us-east-1",
        &body,
        &Creds {
            secret: "nope",
            ..lab_creds()
        },
    );
    assert_eq!(code(&bad_sig), (403, "InvalidSignatureException".into()));
    let unknown = push_raw(
        &lab,
        "us-east-1",
        &body,
        &Creds {
            access_key: "AKIAUNKNOWN000000000",
            ..lab_creds()
        },
    );
    assert_eq!(code(&unknown).1, "UnrecognizedClientException");
    assert!(
        lab.pushes().is_empty(),
        "unauthenticated calls are not push attempts"
    );
}

#[tokio::test]
async fn latency_is_applied() {
    let lab = Lab::start(LabOptions {
        eic_latency: Duration::from_millis(600),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, ed) = ed25519(tmp.path(), "ed");
    let db = lab.instance_named("db-primary").id;
    let t = Instant::now();
    assert_eq!(push(&lab, "us-east-1", &db, lab.os_user(), &ed).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(600));
}
