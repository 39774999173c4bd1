//! The Keyless desktop app: a thin Tauri shell over keyless-core.

mod app_info;
pub mod bindings;
mod commands;
mod files;
mod forwards;
mod navigation;
mod output_socket;
mod sink;
mod state;
mod webkit;

pub use state::AppState;

/// The app with its state and commands, minus the runtime: shared by `run` and the tests.
pub fn builder<R: tauri::Runtime>(state: AppState) -> tauri::Builder<R> {
    use commands::{forwards, identity, inventory, links, profiles, sessions, setup};
    use tauri::Manager;
    tauri::Builder::<R>::new()
        .manage(state)
        // Copy and paste in the terminal: WebKitGTK's own clipboard API refuses reads.
        .plugin(tauri_plugin_clipboard_manager::init())
        // The window stays on the app's own pages; links go to the browser via open_url.
        .plugin(navigation::guard())
        // The Files panel's native pickers, opened by the backend only: the capability grants the
        // webview none of the dialog plugin's commands (see commands/files.rs).
        .plugin(tauri_plugin_dialog::init())
        // Files dropped onto the window stay here; the Files panels hear their names.
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, position }) =
                event
            {
                let at = position.to_logical::<f64>(window.scale_factor().unwrap_or(1.0));
                let files = &window.state::<AppState>().files;
                files.dropped(paths.clone(), at.x, at.y);
            }
        })
        .invoke_handler(tauri::generate_handler![
            inventory::app_info,
            inventory::list_regions,
            inventory::list_instances,
            sessions::open_session,
            sessions::output_socket,
            sessions::session_input,
            sessions::session_resize,
            sessions::session_host_key,
            sessions::session_close,
            sessions::connection_status,
            profiles::profiles_list,
            profiles::profile_save,
            profiles::profile_delete,
            profiles::profile_resolve,
            identity::aws_profiles,
            identity::whoami,
            identity::sso_login,
            identity::sso_login_cancel,
            identity::sso_logout,
            identity::mfa_submit,
            setup::sso_setup_start,
            setup::sso_setup_cancel,
            setup::sso_setup_write,
            setup::start_demo_lab,
            links::open_url,
            forwards::forward_start,
            forwards::forward_stop,
            forwards::forward_reconnect,
            forwards::forward_list,
            commands::files::files_open,
            commands::files::files_close,
            commands::files::files_list,
            commands::files::files_mkdir,
            commands::files::files_rename,
            commands::files::files_delete,
            commands::files::files_upload,
            commands::files::files_upload_dropped,
            commands::files::files_download,
            commands::files::files_cancel,
        ])
}

/// Serves terminal output to the page (docs/ipc.md, "Output and flow control"). Without it the
/// `output_socket` command says why and each tab shows its output as stopped.
pub fn start_output_socket<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    use tauri::Manager;
    let outputs = state::SessionOutputs(app.clone());
    let dev_url = navigation::dev_url(app.config());
    match output_socket::OutputSocket::start(outputs, dev_url, |serve| {
        tauri::async_runtime::spawn(serve);
    }) {
        Ok(socket) => {
            app.manage(socket);
        }
        Err(e) => eprintln!("keyless-app: the terminal output socket did not start: {e}"),
    }
}

pub fn run() {
    let compositing = webkit::before_start();
    // SSO tokens and MFA credentials live in this process for the whole run.
    if let Err(e) = keyless_core::harden::harden_process() {
        eprintln!("keyless-app: warning: could not keep secrets out of core dumps: {e}");
    }
    let app = builder::<tauri::Wry>(AppState::new(Default::default())).setup(move |app| {
        use tauri::Manager;
        if let Some(window) = app.get_webview_window("main") {
            webkit::tune(&window, compositing);
        }
        start_output_socket(app.handle());
        Ok(())
    });
    if let Err(e) = app.run(tauri::generate_context!()) {
        eprintln!("keyless-app: {e}");
        std::process::exit(1);
    }
}
