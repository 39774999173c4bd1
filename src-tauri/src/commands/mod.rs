//! The commands the UI may invoke: each a few lines over keyless-core.
//! Every AWS-facing command takes `aws_profile` (`null`: the default chain).

pub mod files;
pub mod forwards;
pub mod identity;
pub mod inventory;
pub mod links;
pub mod profiles;
pub mod sessions;
pub mod setup;

pub type Result<T> = std::result::Result<T, keyless_core::Error>;
