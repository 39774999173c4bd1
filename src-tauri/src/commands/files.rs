//! The Files panel: browse the remote side of a terminal session over SFTP, and move files.
//! The webview names only remote paths and a session; local files and folders are picked in a
//! native dialog opened here (or dropped onto the window), so it never names a local path the
//! user did not choose — and it needs no dialog or fs permission of its own.

use super::Result;
use crate::files::{DroppedFiles, TransferDirection, TransferStarted, TransferUpdate};
use crate::state::AppState;
use keyless_core::files::{self, RemoteEntry, TransferOptions};
use keyless_core::{Error, ErrorKind};
use std::path::PathBuf;
use tauri::ipc::Channel;
use tauri::{Manager, Runtime, State, WebviewWindow};
use tauri_plugin_dialog::{DialogExt, FilePath};

/// Opens session `session`'s Files session on its connection; the remote home folder.
/// `notices` hears of files dropped onto the window.
#[tauri::command]
pub async fn files_open(
    state: State<'_, AppState>,
    session: u32,
    notices: Channel<DroppedFiles>,
) -> Result<String> {
    let lease = state.get(session)?.share_connection().ok_or_else(|| {
        Error::new(ErrorKind::ConnectionLost, "the session is not connected")
            .with_hint("Reconnect the tab, then open its files again.")
    })?;
    let fs = lease.open_sftp().await?;
    let home = fs.home().await?;
    state.files.insert(session, fs, lease, notices);
    Ok(home)
}

#[tauri::command]
pub fn files_close(state: State<'_, AppState>, session: u32) {
    state.files.close(session);
}

#[tauri::command]
pub async fn files_list(
    state: State<'_, AppState>,
    session: u32,
    dir: String,
) -> Result<Vec<RemoteEntry>> {
    let files = state.files.get(session)?;
    files.fs.list(remote_path(&dir)?).await
}

#[tauri::command]
pub async fn files_mkdir(state: State<'_, AppState>, session: u32, path: String) -> Result<()> {
    let files = state.files.get(session)?;
    files.fs.mkdir(remote_path(&path)?).await
}

#[tauri::command]
pub async fn files_rename(
    state: State<'_, AppState>,
    session: u32,
    from: String,
    to: String,
) -> Result<()> {
    let files = state.files.get(session)?;
    files
        .fs
        .rename(remote_path(&from)?, remote_path(&to)?)
        .await
}

/// Removes a file, link or empty folder; a folder with everything in it only with `recursive`
/// (which the UI sends only after the user confirmed deleting that folder).
#[tauri::command]
pub async fn files_delete(
    state: State<'_, AppState>,
    session: u32,
    path: String,
    recursive: bool,
) -> Result<()> {
    let files = state.files.get(session)?;
    let path = remote_path(&path)?;
    if recursive {
        files.fs.remove_tree(path).await
    } else {
        files.fs.remove(path).await
    }
}

/// Asks for local files in a native dialog and uploads them into remote folder `dir`;
/// `null` when the user cancelled the dialog.
#[tauri::command]
pub async fn files_upload<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    session: u32,
    dir: String,
    updates: Channel<TransferUpdate>,
) -> Result<Option<TransferStarted>> {
    let files = state.files.get(session)?;
    remote_path(&dir)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(&window)
        .set_title(format!(
            "Upload to {}",
            keyless_core::terminal_text::escape(&dir)
        ))
        .pick_files(move |picked| {
            let _ = tx.send(picked);
        });
    let Some(picked) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let local = local_paths(picked)?;
    Ok(Some(upload(&state, files, local, dir, updates)))
}

/// Uploads what was dropped onto the window (drop `drop`, as the notice said) into `dir`.
#[tauri::command]
pub fn files_upload_dropped(
    state: State<'_, AppState>,
    session: u32,
    drop: u32,
    dir: String,
    updates: Channel<TransferUpdate>,
) -> Result<TransferStarted> {
    let files = state.files.get(session)?;
    remote_path(&dir)?;
    let local = state.files.take_dropped(drop)?;
    Ok(upload(&state, files, local, dir, updates))
}

/// Asks for a local folder in a native dialog and downloads `paths` (files or folders) into it;
/// `null` when the user cancelled the dialog.
#[tauri::command]
pub async fn files_download<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    session: u32,
    paths: Vec<String>,
    updates: Channel<TransferUpdate>,
) -> Result<Option<TransferStarted>> {
    let files = state.files.get(session)?;
    if paths.is_empty() {
        return Err(Error::invalid("nothing to download: no remote path given"));
    }
    for p in &paths {
        remote_path(p)?;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = window
        .dialog()
        .file()
        .set_parent(&window)
        .set_title("Download to folder");
    // Open in a folder (Downloads, else home), not GTK's "Recent" view: there, nothing can be
    // chosen until the user browses somewhere first.
    let start = (window.path().download_dir())
        .or_else(|_| window.path().home_dir())
        .ok()
        .filter(|d| d.is_dir());
    if let Some(dir) = start {
        dialog = dialog.set_directory(dir);
    }
    dialog.pick_folder(move |picked| {
        let _ = tx.send(picked);
    });
    let Some(picked) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let dest = local_paths(vec![picked])?.remove(0);
    let names = paths.iter().map(|p| remote_name(p)).collect();
    let fs = files.fs.clone();
    let shown = dest.to_string_lossy().into_owned();
    let started = state.files.start(
        files,
        TransferDirection::Download,
        names,
        shown,
        updates,
        move |sink| async move { files::download(&fs, &paths, &dest, &options(), sink).await },
    );
    Ok(Some(started))
}

/// Stops transfer `transfer`; harmless when it already ended.
#[tauri::command]
pub fn files_cancel(state: State<'_, AppState>, session: u32, transfer: u32) -> Result<()> {
    state.files.get(session)?.cancel(transfer);
    Ok(())
}

fn upload(
    state: &AppState,
    files: std::sync::Arc<crate::files::FilesSession>,
    local: Vec<PathBuf>,
    dir: String,
    updates: Channel<TransferUpdate>,
) -> TransferStarted {
    let names = local
        .iter()
        .map(|p| crate::files::display_name(p))
        .collect();
    let fs = files.fs.clone();
    let dest = dir.clone();
    state.files.start(
        files,
        TransferDirection::Upload,
        names,
        dir,
        updates,
        move |sink| async move { files::upload(&fs, &local, &dest, &options(), sink).await },
    )
}

/// Folders go whole, links stay links; modes and times are the new files' own (as a file
/// manager copies).
fn options() -> TransferOptions {
    TransferOptions {
        recursive: true,
        preserve: false,
        resume: false,
    }
}

/// A remote path as the webview sent it: something, and no NUL (which SFTP cannot carry).
fn remote_path(path: &str) -> Result<&str> {
    if path.is_empty() || path.contains('\0') {
        return Err(Error::invalid(format!(
            "not a remote path: {:?}",
            keyless_core::terminal_text::escape(path)
        )));
    }
    Ok(path)
}

fn remote_name(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// The dialog's answer as local paths (on desktop always paths; a URL would be a platform
/// this app does not run on).
fn local_paths(picked: Vec<FilePath>) -> Result<Vec<PathBuf>> {
    picked
        .into_iter()
        .map(|p| {
            p.into_path().map_err(|e| {
                Error::new(ErrorKind::Io, format!("the dialog gave no local path: {e}"))
            })
        })
        .collect()
}
