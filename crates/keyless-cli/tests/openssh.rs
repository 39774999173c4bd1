//! Plain OpenSSH — the system's `ssh`, `scp`, `sftp`, `rsync`, Ansible and VS Code Remote-SSH's
//! connection — reaching lab instances through the generated config: `keyless proxy` as
//! ProxyCommand, the one-time key through Keyless's agent, host keys checked by OpenSSH against
//! Keyless's store.

#[path = "openssh/ansible.rs"]
mod ansible;
#[path = "openssh/clients.rs"]
mod clients;
mod common;
#[path = "openssh/concurrency.rs"]
mod concurrency;
#[path = "openssh/failures.rs"]
mod failures;
#[path = "openssh/setup.rs"]
mod setup;
#[path = "openssh/vscode.rs"]
mod vscode;
