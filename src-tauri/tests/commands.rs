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
fn errors_arrive_as_kind_message_hint() {
    let lab = start_lab();
    let w = window(&lab);
    let bad = invoke(&w, "list_instances", json!({"regions": ["not a region"]})).unwrap_err();
    assert_eq!(bad["kind"], "invalid_input");
    assert!(bad["message"].as_str().unwrap().contains("'not a region'"));
    assert!(bad["hint"].is_string());
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
