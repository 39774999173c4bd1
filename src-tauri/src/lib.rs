//! The Keyless desktop app: a thin Tauri shell over keyless-core.

mod app_info;
pub mod bindings;
mod commands;
mod sink;
mod state;

pub use state::AppState;

/// The app with its state and commands, minus the runtime: shared by `run` and the tests.
pub fn builder<R: tauri::Runtime>(state: AppState) -> tauri::Builder<R> {
    tauri::Builder::<R>::new()
        .manage(state)
        // Copy and paste in the terminal: WebKitGTK's own clipboard API refuses reads.
        .plugin(tauri_plugin_clipboard_manager::init())
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_regions,
            commands::list_instances,
            commands::open_session,
            commands::session_input,
            commands::session_resize,
            commands::session_ack,
            commands::session_host_key,
            commands::session_close,
        ])
}

pub fn run() {
    if let Err(e) = builder::<tauri::Wry>(AppState::default()).run(tauri::generate_context!()) {
        eprintln!("keyless-app: {e}");
        std::process::exit(1);
    }
}
