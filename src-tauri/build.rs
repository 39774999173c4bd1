// Generates a permission for each of our commands, so the capability file can allow exactly these.
const COMMANDS: &[&str] = &[
    "app_info",
    "list_regions",
    "list_instances",
    "open_session",
    "output_socket",
    "session_input",
    "session_resize",
    "session_host_key",
    "session_close",
    "connection_status",
    "profiles_list",
    "profile_save",
    "profile_delete",
    "profile_resolve",
    "aws_profiles",
    "whoami",
    "sso_login",
    "sso_login_cancel",
    "sso_logout",
    "mfa_submit",
    "sso_setup_start",
    "sso_setup_cancel",
    "sso_setup_write",
    "start_demo_lab",
    "open_url",
    "forward_start",
    "forward_stop",
    "forward_reconnect",
    "forward_list",
    "files_open",
    "files_close",
    "files_list",
    "files_mkdir",
    "files_rename",
    "files_delete",
    "files_upload",
    "files_upload_dropped",
    "files_download",
    "files_cancel",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
