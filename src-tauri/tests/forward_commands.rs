//! Saved port forwards through the app's IPC, against the lab's real sshd: named by profile and
//! index (the host comes from the store), a taken port refused, an unknown host key sent to a
//! terminal tab, then — once the key is trusted — bytes through the forward, and stop.
//! One test per file: it points the process's environment at its own directories.

mod common;

use common::{invoke, start_lab, window};
use serde_json::{json, Value};
use std::io::{Read, Write};

/// Waits (bounded) until `cond` yields a value; a hang guard, not a timing assertion.
fn until<T>(what: &str, cond: impl Fn() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn echo_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut s);
            });
        }
    });
    port
}

fn only_forward(w: &tauri::WebviewWindow<tauri::test::MockRuntime>) -> Value {
    let list = invoke(w, "forward_list", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    list[0].clone()
}

#[test]
fn saved_forwards_start_by_profile_and_index_and_carry_bytes() {
    let lab = start_lab();
    let config = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::env::set_var("KEYLESS_CONFIG_DIR", config.path());
    std::env::set_var("KEYLESS_DATA_DIR", data.path());
    let w = window(&lab);
    let db = lab.instance_named("db-primary");
    let echo = echo_server();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    let profile = json!({
        "name": "db", "target": db.id, "region": db.region, "user": lab.os_user(),
        "forwards": [
            {"local_port": 0, "host": "127.0.0.1", "port": echo},
            {"local_port": taken_port, "host": "127.0.0.1", "port": echo},
        ],
    });
    invoke(&w, "profile_save", json!({"profile": profile})).unwrap();
    let request = json!({
        "region": db.region, "instance_id": db.id, "os_user": lab.os_user(),
        "port": lab.ssh_port(), "via": "private",
    });
    let start = |index: u32| {
        invoke(
            &w,
            "forward_start",
            json!({"profile": "db", "index": index, "request": request, "events": "__CHANNEL__:1"}),
        )
    };

    let e = start(2).unwrap_err();
    assert_eq!(e["kind"], "invalid_input", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("'db' has no forward 3"),
        "{e}"
    );
    let e = start(1).unwrap_err();
    assert_eq!(e["kind"], "io", "{e}");
    assert!(
        (e["message"].as_str().unwrap())
            .contains(&format!("cannot listen on 127.0.0.1:{taken_port}")),
        "{e}"
    );
    assert!(
        lab.pushes().is_empty(),
        "nothing connected for a taken port"
    );

    // No tab has trusted the key and a forward asks nobody: it says where to go.
    let id = start(0).unwrap();
    let lost = until("the forward to stop on the unknown key", || {
        let f = only_forward(&w);
        (f["status"]["state"] == "lost").then_some(f)
    });
    assert_eq!(lost["id"], id);
    assert_eq!(lost["profile"], "db");
    assert_eq!(
        lost["status"]["last_error"]["kind"], "host_key_unknown",
        "{lost}"
    );
    let hint = lost["status"]["last_error"]["hint"].as_str().unwrap();
    assert!(hint.contains("Open a terminal tab"), "{hint}");
    let e = start(0).unwrap_err();
    assert!(
        e["message"].as_str().unwrap().contains("already running"),
        "{e}"
    );

    // The key trusted (as a tab would), a reconnect listens and carries bytes.
    let key: Vec<&str> = db.host_public_key.split_whitespace().collect();
    std::fs::write(
        data.path().join("known_hosts"),
        format!("{} {} {}\n", db.id, key[0], key[1]),
    )
    .unwrap();
    invoke(&w, "forward_reconnect", json!({"id": id})).unwrap();
    let address = until("listening", || {
        let f = only_forward(&w);
        (f["status"]["state"] == "listening")
            .then(|| f["status"]["local_address"].as_str().unwrap().to_owned())
    });
    let mut s = std::net::TcpStream::connect(&address).unwrap();
    s.write_all(b"through the app's forward").unwrap();
    let mut back = [0u8; 25];
    s.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"through the app's forward");
    drop(s);
    until("the connection counted", || {
        let f = only_forward(&w);
        (f["status"]["total"] == 1 && f["status"]["active"] == 0).then_some(())
    });

    invoke(&w, "forward_stop", json!({"id": id})).unwrap();
    assert_eq!(invoke(&w, "forward_list", json!({})).unwrap(), json!([]));
    until("the port released", || {
        std::net::TcpStream::connect(&address)
            .is_err()
            .then_some(())
    });
}
