//! The app's commands through Tauri's own IPC (mock runtime, real ACL from the capability file),
//! against the local lab.

mod common;

use common::{invoke, start_lab, window, window_labelled};
use serde_json::json;

#[test]
fn app_info_reports_the_lab_and_its_defaults() {
    let lab = start_lab();
    // Only this test reads these variables.
    std::env::set_var("KEYLESS_LAB", "1");
    std::env::set_var("KEYLESS_REGIONS", "us-east-1, eu-west-1");
    std::env::set_var("KEYLESS_SSH_PORT", lab.ssh_port().to_string());
    let w = window(&lab);
    let info = invoke(&w, "app_info", json!({})).unwrap();
    assert_eq!(info["lab"], true);
    assert_eq!(info["default_regions"], json!(["us-east-1", "eu-west-1"]));
    assert_eq!(info["default_port"], lab.ssh_port());
}

#[test]
fn instances_and_regions_come_from_the_lab() {
    let lab = start_lab();
    let w = window(&lab);
    let regions = invoke(&w, "list_regions", json!({})).unwrap();
    assert_eq!(regions, json!(["eu-west-1", "us-east-1"]));
    let inv = invoke(
        &w,
        "list_instances",
        json!({"regions": ["us-east-1", "eu-west-1"]}),
    )
    .unwrap();
    let ids: Vec<&str> = inv["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap())
        .collect();
    for i in lab.instances() {
        assert!(ids.contains(&i.id.as_str()), "{} missing", i.id);
    }
}

#[test]
fn errors_arrive_as_kind_message_hint_fix() {
    let lab = start_lab();
    let w = window(&lab);
    let bad = invoke(&w, "list_instances", json!({"regions": ["not a region"]})).unwrap_err();
    // The whole shape the UI reads (`ApiError`): these four fields, nothing else.
    let mut fields: Vec<&str> = bad
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.sort();
    assert_eq!(fields, ["fix", "hint", "kind", "message"], "{bad}");
    assert_eq!(bad["kind"], "invalid_input");
    assert!(bad["message"].as_str().unwrap().contains("'not a region'"));
    assert!(bad["hint"].is_string());
    assert!(bad["fix"].is_null(), "{bad}");
    let gone = invoke(&w, "session_input", json!({"id": 99, "data": "ls\n"})).unwrap_err();
    assert_eq!(gone["kind"], "invalid_input");
    assert!(
        invoke(&w, "session_close", json!({"id": 99})).is_ok(),
        "closing twice is harmless"
    );
}

#[test]
fn only_our_commands_and_only_for_the_main_window() {
    let lab = start_lab();
    let w = window(&lab);
    // A core command the capability does not grant.
    let denied = invoke(&w, "plugin:window|close", json!({})).unwrap_err();
    assert!(denied.to_string().contains("not allowed"), "{denied}");
    // Clipboard text is granted (whatever the mock clipboard then answers, it is not an ACL refusal);
    // clearing the clipboard is not.
    if let Err(e) = invoke(&w, "plugin:clipboard-manager|read_text", json!({})) {
        assert!(!e.to_string().contains("not allowed"), "{e}");
    }
    let denied = invoke(&w, "plugin:clipboard-manager|clear", json!({})).unwrap_err();
    assert!(denied.to_string().contains("not allowed"), "{denied}");
    // Our own commands, from a window the capability does not name.
    let other = window_labelled(&lab, "other");
    let denied = invoke(&other, "app_info", json!({})).unwrap_err();
    assert!(denied.to_string().contains("not allowed"), "{denied}");
}

/// Waits (bounded) until `cond` holds; a hang guard, not a timing assertion.
fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn sessions(w: &tauri::WebviewWindow<tauri::test::MockRuntime>) -> usize {
    use tauri::Manager;
    w.state::<keyless_app_lib::AppState>().session_count()
}

/// The invoke arguments of `open_session` around `request`.
fn open_args(request: serde_json::Value) -> serde_json::Value {
    json!({
        "request": request, "cols": 80, "rows": 24,
        "events": "__CHANNEL__:1",
    })
}

#[test]
fn open_session_dials_only_what_aws_reported() {
    let lab = start_lab();
    let w = window(&lab);
    let bait = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    bait.set_nonblocking(true).unwrap();
    let port = bait.local_addr().unwrap().port();
    let region = &lab.regions()[0];

    // The old contract, with an address of the webview's choosing: refused as a whole.
    let old = invoke(
        &w,
        "open_session",
        open_args(json!({
            "instance": {"instance_id": "i-0123456789abcdef9", "private_ip": "127.0.0.1"},
            "os_user": lab.os_user(), "port": port, "via": "private",
        })),
    )
    .unwrap_err();
    assert!(
        old.to_string().contains("unknown field `instance`"),
        "{old}"
    );

    // Bad names are refused before anything starts.
    let bad = invoke(
        &w,
        "open_session",
        open_args(json!({
            "region": region, "instance_id": "127.0.0.1",
            "os_user": lab.os_user(), "port": port, "via": "private",
        })),
    )
    .unwrap_err();
    assert_eq!(bad["kind"], "invalid_input", "{bad}");
    assert_eq!(sessions(&w), 0);

    // An id the backend never listed and AWS does not know: the lookup refuses it. Its key push
    // may go out beside the lookup (by design, issue 12): EC2 Instance Connect refuses it too.
    invoke(
        &w,
        "open_session",
        open_args(json!({
            "region": region, "instance_id": "i-0123456789abcdef9",
            "os_user": lab.os_user(), "port": port, "via": "private",
        })),
    )
    .unwrap();
    until("the failed session is gone", || sessions(&w) == 0);
    assert!(
        matches!(bait.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing may dial the webview's address"
    );
    assert!(
        lab.pushes().iter().all(|p| p.outcome != "Success"),
        "no key accepted for an unknown instance: {:?}",
        lab.pushes()
    );
}

/// Trusts `instance`'s host key in the app's data dir: one dir for every test that opens shells,
/// as they run in parallel and the variable is process-wide.
fn trust_host_key(instance: &keyless_lab::LabInstance) {
    use std::io::Write;
    static DATA: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let data = DATA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("KEYLESS_DATA_DIR", dir.path());
        dir
    });
    let mut known_hosts = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.path().join("known_hosts"))
        .unwrap();
    writeln!(known_hosts, "{} {}", instance.id, instance.host_public_key).unwrap();
}

#[test]
fn sessions_that_end_leave_the_backend() {
    let lab = start_lab();
    let db = lab.instance_named("db-primary");
    // A trusted host key, so each connect runs through without a question.
    trust_host_key(&db);
    let w = window(&lab);
    invoke(&w, "list_instances", json!({"regions": [db.region]})).unwrap();
    let request = json!({
        "region": db.region, "instance_id": db.id,
        "os_user": lab.os_user(), "port": lab.ssh_port(), "via": "private",
    });
    let connected = |id: &serde_json::Value| {
        // Input is taken once the shell is up.
        invoke(&w, "session_input", json!({"id": id, "data": ""})).is_ok()
    };
    for attempt in 0..10 {
        let id = invoke(&w, "open_session", open_args(request.clone())).unwrap();
        until("connected", || connected(&id));
        assert_eq!(sessions(&w), 1, "attempt {attempt}");
        invoke(&w, "session_input", json!({"id": id, "data": "exit\n"})).unwrap();
        until("the ended session is gone", || sessions(&w) == 0);
    }
    let id = invoke(&w, "open_session", open_args(request)).unwrap();
    until("connected", || connected(&id));
    assert_eq!(sessions(&w), 1, "after ten reconnects, one session");
    invoke(&w, "session_close", json!({"id": id})).unwrap();
    assert_eq!(sessions(&w), 0);
}

#[test]
fn two_tabs_to_one_instance_share_one_connection() {
    let lab = start_lab();
    let db = lab.instance_named("db-primary");
    trust_host_key(&db);
    let w = window(&lab);
    invoke(&w, "list_instances", json!({"regions": [db.region]})).unwrap();
    let request = json!({
        "region": db.region, "instance_id": db.id,
        "os_user": lab.os_user(), "port": lab.ssh_port(), "via": "private",
    });
    let connected =
        |id: &serde_json::Value| invoke(&w, "session_input", json!({"id": id, "data": ""})).is_ok();
    assert_eq!(
        invoke(&w, "connection_status", json!({})).unwrap(),
        json!([])
    );
    let first = invoke(&w, "open_session", open_args(request.clone())).unwrap();
    until("the first tab connected", || connected(&first));
    let second = invoke(&w, "open_session", open_args(request)).unwrap();
    until("the second tab connected", || connected(&second));
    let pushes = lab
        .pushes()
        .iter()
        .filter(|p| p.instance_id == db.id)
        .count();
    assert_eq!(pushes, 1, "one key push for both tabs");
    let status = invoke(&w, "connection_status", json!({})).unwrap();
    let entry = &status.as_array().unwrap()[..];
    assert_eq!(entry.len(), 1, "{status}");
    assert_eq!(entry[0]["instance_id"], db.id.as_str());
    assert_eq!(entry[0]["aws_profile"], serde_json::Value::Null);
    assert_eq!(entry[0]["channels"], 2, "{status}");
    assert_eq!(entry[0]["idle"], false, "{status}");
    // A closed tab is off the connection by the time session_close returns.
    invoke(&w, "session_close", json!({"id": first})).unwrap();
    let status = invoke(&w, "connection_status", json!({})).unwrap();
    assert_eq!(status[0]["channels"], 1, "{status}");
    invoke(&w, "session_close", json!({"id": second})).unwrap();
    let status = invoke(&w, "connection_status", json!({})).unwrap();
    assert_eq!(status[0]["idle"], true, "kept for the next tab: {status}");
}

#[test]
fn open_url_opens_only_http_links() {
    // Nothing here may start a real browser.
    std::env::set_var("KEYLESS_NO_BROWSER", "1");
    let lab = start_lab();
    let w = window(&lab);
    for bad in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "-https://x.example",
        "smb://host/share",
    ] {
        let e = invoke(&w, "open_url", json!({ "url": bad })).unwrap_err();
        assert_eq!(e["kind"], "invalid_input", "{bad}: {e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("not opened in the browser"),
            "{bad}: {e}"
        );
    }
    assert!(invoke(
        &w,
        "open_url",
        json!({ "url": "https://docs.aws.amazon.com/" })
    )
    .is_ok());
}

#[test]
fn the_first_run_commands_refuse_what_was_not_set_up() {
    let lab = start_lab();
    let w = window(&lab);
    // The lab's keys are in this process's environment: an identity is configured.
    let profiles = invoke(&w, "aws_profiles", json!({})).unwrap();
    assert_eq!(profiles["setup_needed"], false, "{profiles}");

    // Before any network call: a start URL that is not https, a region that is none.
    for (url, region) in [
        ("http://my-org.awsapps.com/start", "us-east-1"),
        ("https://my-org.awsapps.com/start", "mars-1"),
    ] {
        let e = invoke(
            &w,
            "sso_setup_start",
            json!({ "startUrl": url, "ssoRegion": region, "prompt": "__CHANNEL__:1" }),
        )
        .unwrap_err();
        assert_eq!(e["kind"], "invalid_input", "{url} {region}: {e}");
    }
    assert_eq!(invoke(&w, "sso_setup_cancel", json!({})).unwrap(), false);

    // Profiles are written only for a portal this backend signed in to and listed.
    let choices = json!({
        "roles": [{ "account_id": "123456789012", "role_name": "AdminAccess", "profile_name": "x" }],
        "region": "us-east-1",
    });
    let e = invoke(&w, "sso_setup_write", json!({ "choices": choices })).unwrap_err();
    assert_eq!(e["kind"], "invalid_input", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("no AWS access portal"),
        "{e}"
    );
    let mut extra = choices.clone();
    extra["start_url"] = json!("https://evil.example/start");
    assert!(invoke(&w, "sso_setup_write", json!({ "choices": extra })).is_err());

    // The run script did not start this app: there is no lab to offer.
    let info = invoke(&w, "app_info", json!({})).unwrap();
    assert_eq!(info["offer_lab"], false);
    let e = invoke(&w, "start_demo_lab", json!({})).unwrap_err();
    assert_eq!(e["kind"], "invalid_input", "{e}");
}
