//! Writing files in `~/.ssh` so that OpenSSH never reads half of one: a temp file in the same
//! folder, fsynced, renamed over the old one, the folder fsynced. Modes are set when the file is
//! created, so no other user ever sees the content under looser permissions.

use crate::error::{Error, ErrorKind, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `path` with `bytes`, the new file having `mode`.
pub(super) fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = parent(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.keyless-tmp-{}-{}",
        name.unwrap_or_default(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = create_new(&tmp, mode)?;
        // The umask may have narrowed the mode; a kept mode (of ~/.ssh/config) must stay as it was.
        #[cfg(unix)]
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error("write", path, e)
    })
}

/// A new file at `path` (never an existing one) holding `bytes`, mode 0600.
pub(super) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    (|| -> std::io::Result<()> {
        let mut f = create_new(path, 0o600)?;
        f.write_all(bytes)?;
        f.sync_all()
    })()
    .map_err(|e| io_error("write", path, e))
}

/// `path`'s mode, to keep it when the file is replaced.
pub(super) fn mode_of(path: &Path) -> Result<u32> {
    let meta = fs::metadata(path).map_err(|e| io_error("read", path, e))?;
    #[cfg(unix)]
    return Ok(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777);
    #[cfg(not(unix))]
    Ok(0o600)
}

/// Creates `dir` with mode 0700 when it does not exist.
pub(super) fn ensure_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| io_error("create", dir, e))
}

/// Where a change to `path` must be written: its target when it is a symbolic link, so that a
/// dotfile manager's link stays a link.
pub(super) fn through_links(path: &Path) -> Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("{} is a link that cannot be followed: {e}", path.display()),
            )
            .with_hint("Point the link at an existing file, or remove it.")
        }),
        _ => Ok(path.to_path_buf()),
    }
}

/// `path`'s content; None when there is no such file.
pub(super) fn read(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "{} is not UTF-8 text; Keyless leaves it alone",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", path, e)),
    }
}

pub(super) fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn create_new(path: &Path, mode: u32) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    options.open(path)
}
