//! The app through Tauri's own IPC (mock runtime, real ACL from the capability file), pointed at
//! a local lab.
#![allow(dead_code)] // each test file uses its own share

use keyless_app_lib::AppState;
use keyless_core::AwsSelection;
use keyless_lab::{Lab, LabOptions};
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::Manager;
use tauri::WebviewWindow;

pub fn start_lab() -> Lab {
    keyless_lab::use_lab_credentials_in_process();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lab = rt.block_on(Lab::start(LabOptions::default())).unwrap();
    std::mem::forget(rt); // the lab serves from its own thread; the runtime only started it
    lab
}

pub fn window(lab: &Lab) -> WebviewWindow<MockRuntime> {
    window_labelled(lab, "main")
}

/// The app with its real config and capability file, pointed at `lab`, and one window.
pub fn window_labelled(lab: &Lab, label: &str) -> WebviewWindow<MockRuntime> {
    let state = AppState::new(AwsSelection {
        profile: None,
        region: Some(lab.regions()[0].clone()),
        endpoint_url: Some(lab.endpoint()),
    });
    let app = keyless_app_lib::builder::<MockRuntime>(state)
        .build(tauri::generate_context!("tauri.conf.json", test = true))
        .expect("app builds");
    tauri::WebviewWindowBuilder::new(&app, label, Default::default())
        .build()
        .expect("window")
}

pub fn invoke(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: w.app_handle().invoke_key().to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}
