//! What a directory listing or a stat says about one remote file, in the shape the CLI prints and
//! the app's Files panel shows.

use russh_sftp::protocol::{FileAttributes, FileType};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A device, FIFO or socket: listed, never transferred.
    Other,
}

/// One file, directory or link on the instance.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RemoteEntry {
    /// The last path component, as the server spelled it.
    pub name: String,
    /// The full remote path (the listed directory joined with `name`).
    pub path: String,
    pub kind: EntryKind,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: u64,
    /// Unix seconds; `None` when the server did not say.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub modified: Option<u64>,
    /// Permission bits and the file type bits (`st_mode`), 0 when the server did not say.
    pub mode: u32,
    /// Unix seconds of the last access, for copies that keep times (not shown, not sent).
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub accessed: Option<u64>,
}

impl RemoteEntry {
    pub(crate) fn new(name: String, path: String, attrs: &FileAttributes) -> RemoteEntry {
        RemoteEntry {
            name,
            path,
            kind: kind_of(attrs),
            size: attrs.size.unwrap_or(0),
            modified: attrs.mtime.map(u64::from),
            mode: attrs.permissions.unwrap_or(0),
            accessed: attrs.atime.map(u64::from),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }
}

fn kind_of(attrs: &FileAttributes) -> EntryKind {
    match attrs.permissions.map(FileType::from) {
        Some(FileType::File) => EntryKind::File,
        Some(FileType::Dir) => EntryKind::Dir,
        Some(FileType::Symlink) => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}
