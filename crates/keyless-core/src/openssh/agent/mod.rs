//! Keyless's ssh-agent: it makes each `keyless proxy`'s one-time key, offers it only to the
//! `ssh` process that proxy serves, signs once, and forgets it. Nothing is written to disk.

mod client;
mod ext;
mod peer;
mod registry;
mod server;
mod wire;

pub use client::{AgentClient, AgentKey};
pub use peer::ProcessId;
pub use registry::KEY_LIFETIME;
pub use server::{serve, AgentOptions, IDLE_EXIT};
