//! Saved connection profiles: a name for "this instance (or tag selector), this AWS profile and
//! region, this user, port and address", kept in one human-readable TOML file.
//!
//! - [`model`]: the profile and its checks.
//! - [`target`]: instance id or tag selector (`Env=prod,Role=api`, `*`/`?` wildcards).
//! - [`store`]: the file: atomic, locked read-modify-write; a broken file is kept, never replaced.
//! - [`transfer`]: JSON export and import merged by name.
//! - [`resolve`]: a profile's target to one running instance.
//! - [`SavedForward`]: a port forward kept with a profile.

pub mod model;
pub mod resolve;
mod saved_forward;
pub mod store;
pub mod target;
mod timefmt;
pub mod transfer;

pub use model::Profile;
pub use resolve::{
    ambiguous_error, find_candidates, profile_candidates, resolve_profile_target,
    running_candidates,
};
pub use saved_forward::SavedForward;
pub use store::{ProfileStore, SCHEMA_VERSION};
pub use target::Target;
pub(crate) use timefmt::file_stamp;
pub use timefmt::{format_rfc3339, now_rfc3339};
pub use transfer::{ImportReport, Rejected};

#[cfg(test)]
mod tests;
