//! The Files panel's commands through Tauri's own IPC (mock runtime, real ACL), on a real tab to
//! the lab's sshd: the lab's instances run as this user, so their "remote" paths are local ones
//! this test reads and writes directly. (The native pickers are driven by e2e 09-files.)

mod common;

use common::{invoke, start_lab, window};
use serde_json::{json, Value};
use tauri::Manager;

/// Waits (bounded) until `cond` holds; a hang guard, not a timing assertion.
fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Trusts `instance`'s host key in a data dir of this test binary's own.
fn trust_host_key(instance: &keyless_lab::LabInstance) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    std::env::set_var("KEYLESS_DATA_DIR", data.path());
    let line = format!("{} {}\n", instance.id, instance.host_public_key);
    std::fs::write(data.path().join("known_hosts"), line).unwrap();
    data
}

/// sshd logs in as the lab's user (ec2-user when the tests run as root): it must own `path`.
fn hand_to(user: &str, path: &std::path::Path) {
    let mine = std::env::var("USER").unwrap_or_default() == user;
    let status = std::process::Command::new("chown")
        .arg(user)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success() || mine, "chown {user}");
}

#[test]
fn a_tabs_files_browse_change_and_upload_on_its_connection_and_end_with_it() {
    let lab = start_lab();
    let db = lab.instance_named("db-primary");
    let _data = trust_host_key(&db);
    let w = window(&lab);
    invoke(&w, "list_instances", json!({"regions": [db.region]})).unwrap();
    let request = json!({
        "region": db.region, "instance_id": db.id,
        "os_user": lab.os_user(), "port": lab.ssh_port(), "via": "private",
    });
    let id = invoke(
        &w,
        "open_session",
        json!({"request": request, "cols": 80, "rows": 24,
               "events": "__CHANNEL__:1"}),
    )
    .unwrap();
    until("connected", || {
        invoke(&w, "session_input", json!({"id": id, "data": ""})).is_ok()
    });
    let call = |cmd: &str, args: Value| {
        let mut args = args;
        args["session"] = id.clone();
        invoke(&w, cmd, args)
    };

    // Nothing before the panel opens; then its home, on the tab's own connection.
    let closed = call("files_list", json!({"dir": "/"})).unwrap_err();
    assert_eq!(closed["kind"], "invalid_input", "{closed}");
    let home = call("files_open", json!({"notices": "__CHANNEL__:3"})).unwrap();
    assert!(home.as_str().unwrap().starts_with('/'), "{home}");
    let status = invoke(&w, "connection_status", json!({})).unwrap();
    assert_eq!(
        status.as_array().unwrap().len(),
        1,
        "one connection: {status}"
    );
    assert_eq!(status[0]["channels"], 2, "the tab and its files: {status}");
    assert_eq!(lab.pushes().len(), 1, "no key pushed for the files");

    let dir = tempfile::tempdir().unwrap();
    hand_to(lab.os_user(), dir.path());
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    call("files_mkdir", json!({"path": at("new ü")})).unwrap();
    assert!(dir.path().join("new ü").is_dir());
    std::fs::write(dir.path().join("new ü").join("inside.txt"), "x").unwrap();
    let listed = call("files_list", json!({"dir": dir.path()})).unwrap();
    let entry = &listed.as_array().unwrap()[0];
    assert_eq!(
        (&entry["name"], &entry["kind"]),
        (&json!("new ü"), &json!("dir")),
        "{listed}"
    );

    // A folder that holds something goes only when the UI says so.
    let kept = call(
        "files_delete",
        json!({"path": at("new ü"), "recursive": false}),
    )
    .unwrap_err();
    assert!(kept["message"].is_string(), "{kept}");
    assert!(dir.path().join("new ü").join("inside.txt").exists());
    call(
        "files_rename",
        json!({"from": at("new ü"), "to": at("old")}),
    )
    .unwrap();
    assert!(dir.path().join("old").join("inside.txt").exists());
    call(
        "files_delete",
        json!({"path": at("old"), "recursive": true}),
    )
    .unwrap();
    assert!(!dir.path().join("old").exists());
    let bad = call("files_mkdir", json!({"path": ""})).unwrap_err();
    assert_eq!(bad["kind"], "invalid_input", "{bad}");

    // Files dropped onto the window: the backend keeps their paths; the webview names the drop.
    let local = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let source = local.path().join("dropped ü.bin");
    std::fs::write(&source, &bytes).unwrap();
    let state = w.state::<keyless_app_lib::AppState>();
    state.files.dropped(vec![source], 10.0, 10.0);
    let started = call(
        "files_upload_dropped",
        json!({"drop": 1, "dir": dir.path(), "updates": "__CHANNEL__:4"}),
    )
    .unwrap();
    assert_eq!(started["direction"], "upload", "{started}");
    assert_eq!(started["names"], json!(["dropped ü.bin"]), "{started}");
    let arrived = dir.path().join("dropped ü.bin");
    // The real name appears only once the file is whole (written beside it, then renamed).
    until("the dropped file uploaded", || arrived.exists());
    assert_eq!(std::fs::read(&arrived).unwrap(), bytes);
    let again = call(
        "files_upload_dropped",
        json!({"drop": 1, "dir": dir.path(), "updates": "__CHANNEL__:5"}),
    )
    .unwrap_err();
    assert_eq!(
        again["kind"], "invalid_input",
        "a drop uploads once: {again}"
    );

    // Closing the tab ends its files too: nothing holds the connection but the idle pool.
    invoke(&w, "session_close", json!({"id": id})).unwrap();
    assert_eq!(state.files.count(), 0);
    let status = invoke(&w, "connection_status", json!({})).unwrap();
    assert_eq!(status[0]["idle"], true, "{status}");
    let gone = call("files_list", json!({"dir": dir.path()})).unwrap_err();
    assert_eq!(gone["kind"], "invalid_input", "{gone}");
}
