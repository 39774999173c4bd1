//! Extension names on the agent socket: OpenSSH's `session-bind` (the host key `ssh` verified,
//! sent before it asks for keys) and Keyless's own requests.

pub const SESSION_BIND: &str = "session-bind@openssh.com";
/// Proxy → agent: make a key for the `ssh` that runs me, for this instance. Fields: instance id,
/// host-key store path. Answer: record id, `ssh-ed25519 …` public key.
pub const OPEN: &str = "open@keyless.dev";
/// Proxy → agent: the key was pushed; offer it. Field: record id.
pub const READY: &str = "ready@keyless.dev";
/// KnownHostsCommand → agent: which instance is the `ssh` that runs me connecting to? Answer:
/// instance id.
pub const INSTANCE: &str = "instance@keyless.dev";
