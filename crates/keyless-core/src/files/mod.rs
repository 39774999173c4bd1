//! Files on the instance over SFTP, on the same one-time-key connection as its shells: browsing
//! ([`RemoteFs`]: list, stat, mkdir, rename, remove, chmod) and pipelined transfers ([`upload`],
//! [`download`]) that write to a temporary name beside the destination and rename it into place
//! only when it is complete, so an interrupted copy never leaves a truncated file under the real
//! name and `resume` can continue it by offset.
//!
//! Remote paths are the server's: `/`-separated text, relative ones resolved from the login
//! user's home directory (the SFTP server's working directory).

mod entry;
mod errors;
mod remote_fs;
pub mod remote_path;
mod transfer;

pub use entry::{EntryKind, RemoteEntry};
pub use remote_fs::RemoteFs;
pub use transfer::{
    download, part_name, upload, TransferEvent, TransferOptions, TransferReport, TransferSink,
};
