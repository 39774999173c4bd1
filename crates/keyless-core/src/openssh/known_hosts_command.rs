//! OpenSSH's KnownHostsCommand for the generated config. `ssh web.keyless` looks its host key up
//! under the name `web.keyless`, which Keyless's store (keyed by instance id) cannot know; the
//! proxy told the agent which instance this `ssh` reaches, so the keys pinned for that instance are
//! printed under the name OpenSSH asked about. Nothing pinned, or no proxy of ours: nothing
//! printed, and OpenSSH's StrictHostKeyChecking decides.

use super::agent::AgentClient;
use crate::error::Result;
use crate::hostkeys::KnownHosts;
use std::path::Path;

/// `known_hosts` lines (`HOST type base64`) for the instance the calling `ssh` connects to.
pub async fn lines(socket: &Path, host: &str, store: &KnownHosts) -> Result<Vec<String>> {
    // No agent listening: no proxy of ours is running for this ssh.
    let Ok(mut agent) = AgentClient::connect(socket).await else {
        return Ok(Vec::new());
    };
    let Some(instance_id) = agent.instance_of_my_ssh().await? else {
        return Ok(Vec::new());
    };
    let mut lines = Vec::new();
    for key in store.keys_for(&instance_id)? {
        let mut key = key;
        key.set_comment("");
        if let Ok(text) = key.to_openssh() {
            lines.push(format!("{host} {text}"));
        }
    }
    Ok(lines)
}
