//! Every way a connect can fail before the session: one clear line, a hint, exit 255.

mod common;

use common::{Env, Output};

fn assert_fails(out: &Output, needle: &str, hint: &str) {
    assert_eq!(out.code, 255, "{out:?}");
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("keyless: "), "{out:?}");
    assert!(out.stderr.contains(needle), "wanted {needle:?}: {out:?}");
    assert!(out.stderr.contains("  hint: "), "{out:?}");
    assert!(out.stderr.contains(hint), "wanted hint {hint:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_denied_by_instance_arn() {
    let env = Env::start().await;
    let out = env.ssh("restricted", &["true"]).await;
    assert_fails(
        &out,
        "not allowed to push a key",
        "ec2-instance-connect:SendSSHPublicKey",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_denied_for_the_os_user() {
    let env = Env::start().await;
    let out = env.ssh("root@db-primary", &["true"]).await;
    assert_fails(&out, "as 'root'", "ec2:osuser must allow 'root'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_denied_by_source_ip() {
    let env = Env::start().await;
    env.lab.set_source_cidr("10.0.0.0/8");
    let user = env.lab.os_user().to_owned();
    let out = env.ssh(&format!("{user}@db-primary"), &["true"]).await;
    assert_fails(&out, "not allowed to push a key", "aws:SourceIp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_and_unknown_instances() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let stopped = env.ssh(&format!("{user}@batch"), &["true"]).await;
    assert_fails(&stopped, "is stopped, not running", "Start the instance");
    let batch = env.lab.instance_named("batch");
    let stopped_id = env.ssh(&format!("{user}@{}", batch.id), &["true"]).await;
    assert_fails(&stopped_id, "is stopped, not running", "Start the instance");

    let unknown = env
        .ssh(&format!("{user}@i-0123456789abcdef0"), &["true"])
        .await;
    assert_fails(
        &unknown,
        "i-0123456789abcdef0 was not found in us-east-1",
        "--region",
    );

    let no_such_name = env.ssh(&format!("{user}@nothing-here"), &["true"]).await;
    assert_fails(
        &no_such_name,
        "no instance named 'nothing-here'",
        "keyless ls",
    );

    // An instance of the other region, asked for in the default one.
    let eu = env.lab.instance_named("eu-web");
    let wrong_region = env.ssh(&format!("{user}@{}", eu.id), &["true"]).await;
    assert_fails(&wrong_region, "was not found in us-east-1", "--region");
    // By id the push goes out beside the lookup and EC2 Instance Connect refuses it; by name
    // nothing is pushed. Either way the lookup's words are the ones shown (above). A push by id
    // races its lookup: when the lookup's "not found" comes first the push is dropped, maybe
    // before it was sent, so each id was pushed at most once, and never with success.
    let pushes = env.lab.pushes();
    assert!(pushes.iter().all(|p| p.outcome != "Success"), "{pushes:?}");
    let by_id = [batch.id.as_str(), "i-0123456789abcdef0", eu.id.as_str()];
    for id in pushes.iter().map(|p| p.instance_id.as_str()) {
        assert!(
            by_id.contains(&id),
            "pushed to {id}, asked by name only: {pushes:?}"
        );
    }
    assert!(pushes.len() <= by_id.len(), "{pushes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_name_lists_the_candidates() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let out = env.ssh(&format!("{user}@web"), &["true"]).await;
    assert_fails(&out, "matches 2 instances", "instance id");
    for i in env
        .lab
        .instances()
        .iter()
        .filter(|i| i.name.as_deref() == Some("web"))
    {
        assert!(out.stderr.contains(&i.id), "{out:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_then_reported() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let target = format!("{user}@db-primary");
    env.lab.throttle_next_pushes(2);
    let recovered = env.ssh(&target, &["echo", "through"]).await;
    assert_eq!(recovered.code, 0, "{recovered:?}");
    assert_eq!(recovered.stdout.trim(), "through");

    env.lab.throttle_next_pushes(50);
    let out = env.ssh(&target, &["true"]).await;
    assert_fails(&out, "throttling", "Wait a few seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_errors_are_retried_then_reported() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    env.lab.fail_next_pushes(50);
    let out = env.ssh(&format!("{user}@db-primary"), &["true"]).await;
    assert_fails(&out, "EC2 Instance Connect failed", "AWS's side");
    let attempts = env.lab.pushes().len();
    assert!(attempts > 1, "retried: {attempts} attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_the_instance_lacks_names_the_flag_for_the_one_it_has() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    // db-primary has only a private address.
    let target = format!("{user}@db-primary");
    let out = env
        .run(&["ssh", &target, "--via", "public", "--", "true"])
        .await;
    assert_fails(
        &out,
        "has no public IPv4 address",
        "It has a private address",
    );
    assert!(
        out.stderr.contains("  hint: Connect with --via auto."),
        "{out:?}"
    );
    assert!(env.lab.pushes().is_empty(), "no key is pushed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_but_refused_explains_the_checklist() {
    let env = Env::start().await;
    // `ghost` is allowed by the push policy but does not exist on the instance.
    let ghost = env.ssh("ghost@db-primary", &["true"]).await;
    assert_fails(
        &ghost,
        "refused the one-time key for 'ghost'",
        "OS user 'ghost' exists",
    );

    let user = env.lab.os_user().to_owned();
    let no_imds = env.ssh(&format!("{user}@no-imds"), &["true"]).await;
    assert_fails(
        &no_imds,
        "refused the one-time key",
        "metadata service is disabled",
    );
    assert!(
        no_imds.stderr.contains("modify-instance-metadata-options"),
        "{no_imds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_key_is_pushed_again() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    env.lab.expire_next_pushes(1);
    let out = env
        .ssh(&format!("{user}@db-primary"), &["echo", "second-push"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "second-push");
    assert_eq!(
        env.successful_pushes(),
        2,
        "the first key expired, the second worked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_rejected_before_any_request() {
    let env = Env::start().await;
    for (args, needle, hint) in [
        (
            vec!["ssh", "i-0ABCDEF12345"],
            "'i-0ABCDEF12345'",
            "lower-case hex",
        ),
        (vec!["ssh", "bad;user@web"], "'bad;user'", "e.g. ec2-user"),
        (vec!["ssh", "web", "-p", "0"], "port 0", "from 1 to 65535"),
        (vec!["ssh", "web", "-p", "ssh"], "'ssh'", "from 1 to 65535"),
        (
            vec!["ssh", "web", "--region", "us_east_1"],
            "'us_east_1'",
            "look like us-east-1",
        ),
        (
            vec!["ssh", "web", "--via", "carrier-pigeon"],
            "'carrier-pigeon'",
            "private, public, eice or auto",
        ),
        (
            vec!["ssh", "web", "--host-key-policy", "yolo"],
            "'yolo'",
            "ask, accept-new or strict",
        ),
    ] {
        let out = env.run(&args).await;
        assert_fails(&out, needle, hint);
        assert_eq!(env.lab.requests(), vec![], "{args:?} reached AWS");
    }
    assert!(env.lab.pushes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_is_a_network_error() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = env
        .command(&["ssh", &format!("{user}@db-primary"), "--", "true"])
        .env("AWS_ENDPOINT_URL_EC2", &dead)
        .output()
        .await
        .unwrap();
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    };
    assert_fails(&out, "cannot reach AWS", "AWS_ENDPOINT_URL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_never_sends_a_banner_times_out() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let db = env.lab.instance_named("db-primary");
    env.lab.mute_sshd(&db.id).await;
    let target = format!("{user}@db-primary");
    let at = format!("{}:{}", db.private_ip, env.lab.ssh_port());

    let out = env
        .run_with(
            &[
                "ssh",
                &target,
                "--host-key-policy",
                "accept-new",
                "--",
                "true",
            ],
            &[("KEYLESS_TIMEOUT", "2")],
        )
        .await;
    assert_fails(
        &out,
        &format!(
            "timed out after 2 s waiting for the SSH banner and key exchange from {} \
             (db-primary) at {at}",
            db.id
        ),
        "KEYLESS_TIMEOUT",
    );
    assert!(!env.known_hosts().exists(), "no host key was pinned");

    // The flag beats the environment, which is then not even read.
    let out = env
        .run_with(
            &["ssh", &target, "--timeout", "1", "--", "true"],
            &[("KEYLESS_TIMEOUT", "soon")],
        )
        .await;
    assert_fails(
        &out,
        "timed out after 1 s waiting for the SSH banner",
        "KEYLESS_TIMEOUT",
    );

    // A bad value is refused before anything is pushed.
    let pushes = env.lab.pushes().len();
    for (args, vars, needle) in [
        (vec!["--timeout", "0"], vec![], "--timeout '0'"),
        (
            vec![],
            vec![("KEYLESS_TIMEOUT", "soon")],
            "KEYLESS_TIMEOUT 'soon'",
        ),
    ] {
        let mut argv = vec!["ssh", target.as_str()];
        argv.extend(args);
        let out = env.run_with(&argv, &vars).await;
        assert_fails(&out, needle, "whole seconds");
    }
    assert_eq!(env.lab.pushes().len(), pushes);
}
