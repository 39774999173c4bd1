//! Copies between this machine and the instance, scp-style: files, several sources into a
//! directory, trees (`recursive`, symlinks kept as links), modes and times (`preserve`).
//!
//! Each file is written to a fixed temporary name beside its destination ([`part_name`]) and
//! renamed over the real name only when every byte has arrived, so an interrupted copy never
//! leaves a truncated file under the real name, and `resume` continues from the temporary file's
//! length. Reads and writes are pipelined: many requests in flight, so a link's round trip does
//! not stall every chunk. Dropping the future cancels; the temporary file stays for a resume.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

mod download;
mod plan;
mod progress;
mod upload;

pub use download::download;
pub use upload::upload;

/// How to copy; all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TransferOptions {
    /// Copy directories with everything below them; symlinks inside are recreated as links.
    pub recursive: bool,
    /// Keep each file's mode and its modification and access times.
    pub preserve: bool,
    /// Continue a partial copy from its temporary file instead of starting over.
    pub resume: bool,
}

/// What a transfer reports while it runs. `file` numbers the files of one transfer from 0.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TransferEvent {
    /// A file's copy begins: `path` is its source, `dest` where it arrives, `size` its length.
    FileStarted {
        file: u32,
        path: String,
        dest: String,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        size: u64,
    },
    /// `bytes` of the file are at the destination so far (a resumed copy starts above 0). At
    /// most about every 100 ms per file.
    Progress {
        file: u32,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        bytes: u64,
    },
    /// The file is complete under its real name.
    FileDone { file: u32 },
    /// The file did not arrive; the others go on (unless the connection is gone).
    FileFailed { file: u32, error: Error },
}

/// Receives every [`TransferEvent`]; called on the transfer's task, so it must be quick.
pub type TransferSink = Arc<dyn Fn(TransferEvent) + Send + Sync>;

/// What a finished transfer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TransferReport {
    /// Files (and links) that arrived whole.
    pub files: u32,
    /// Bytes copied by this run (not counting what a resume found already there).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    /// Files that did not arrive.
    pub failed: u32,
}

/// The temporary name a file is written under until it is complete: `.NAME.keyless-part` in the
/// same directory (so the final rename stays on one file system). Fixed, so a resume finds it.
pub fn part_name(name: &str) -> String {
    format!(".{name}.keyless-part")
}

/// Errors that end the whole transfer rather than one file: the link is gone.
fn is_fatal(e: &Error) -> bool {
    matches!(
        e.kind,
        crate::ErrorKind::ConnectionLost | crate::ErrorKind::Timeout
    )
}
