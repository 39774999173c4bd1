//! OpenSSH's KnownHostsCommand for the generated config. `ssh web.keyless` looks its host key up
//! under the name `web.keyless`, which Keyless's store (keyed by instance id) cannot know; the
//! proxy told the agent which instance this `ssh` reaches, so the keys pinned for that instance are
//! printed under the name OpenSSH asked about. Nothing pinned, or no proxy of ours: nothing
//! printed, and OpenSSH's StrictHostKeyChecking decides.

use super::agent::AgentClient;
use crate::error::{Error, Result};
use crate::hostkeys::{fingerprint, HostKeyStatus, KnownHosts};
use russh::keys::PublicKey;
use std::path::Path;

/// What to tell OpenSSH, and what to tell the user.
#[derive(Default)]
pub struct Answer {
    /// `known_hosts` lines (`HOST type base64`).
    pub lines: Vec<String>,
    /// The offered key is not the pinned one: Keyless's explanation (with `keyless known-hosts
    /// forget`), shown before OpenSSH's own warning, whose advice names files that do not exist.
    pub changed: Option<Error>,
}

/// For the instance the calling `ssh` connects to. `offered` is OpenSSH's `%t %K` when it has
/// the server's key (not when it only asks which key types to prefer).
pub async fn answer(
    socket: &Path,
    host: &str,
    offered: Option<&str>,
    store: &KnownHosts,
) -> Result<Answer> {
    // No agent listening: no proxy of ours is running for this ssh.
    let Ok(mut agent) = AgentClient::connect(socket).await else {
        return Ok(Answer::default());
    };
    let Some(instance_id) = agent.instance_of_my_ssh().await? else {
        return Ok(Answer::default());
    };
    let mut answer = Answer::default();
    for mut key in store.keys_for(&instance_id)? {
        key.set_comment("");
        if let Ok(text) = key.to_openssh() {
            answer.lines.push(format!("{host} {text}"));
        }
    }
    if let Some(key) = offered.and_then(|k| PublicKey::from_openssh(k).ok()) {
        if let HostKeyStatus::Changed {
            trusted_fingerprints,
        } = store.check(&instance_id, &key)?
        {
            answer.changed = Some(crate::hostkeys::changed_error(
                &instance_id,
                &fingerprint(&key),
                &trusted_fingerprints,
            ));
        }
    }
    Ok(answer)
}
