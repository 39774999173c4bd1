//! Pieces of `keyless-bench`. Compiled into that binary only (via `#[path]`), so the lab library
//! stays what LAB-SPEC.md describes.

pub mod connect;
pub mod delay_line;
pub mod eice;
pub mod eice_report;
pub mod env;
pub mod forward;
pub mod listing;
pub mod lookup;
pub mod measure;
pub mod openssh;
pub mod push;
pub mod report;
pub mod stats;
pub mod transfer;
pub mod transfer_report;
