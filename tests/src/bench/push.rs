//! The floor's own key: a throwaway Ed25519 key from `ssh-keygen`, pushed with a signed
//! SendSSHPublicKey request by the real SDK client (built from the lab's env variables).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_ec2instanceconnect::config::{self, BehaviorVersion, Credentials, Region};
use aws_sdk_ec2instanceconnect::Client;

use super::env::var;

pub struct FloorKey {
    pub private: PathBuf,
    /// `ssh-ed25519 AAAA…`, without the comment (what the AWS tools push).
    pub public_line: String,
}

impl FloorKey {
    /// OpenSSH's options with this key, as a user would run it right after a push: IdentitiesOnly
    /// and LogLevel only keep it from trying other keys and from printing "Permanently added".
    pub fn openssh_options(&self) -> Vec<String> {
        let key = self.private.display().to_string();
        [
            "-i",
            &key,
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
        ]
        .map(String::from)
        .to_vec()
    }
}

/// `ssh-keygen -t ed25519 -N '' -f <dir>/floor_key`.
pub fn generate_key(dir: &Path) -> Result<FloorKey, String> {
    let private = dir.join("floor_key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
        .arg(&private)
        .output()
        .map_err(|e| format!("ssh-keygen: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let public = std::fs::read_to_string(private.with_extension("pub"))
        .map_err(|e| format!("reading the public key: {e}"))?;
    let public_line = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(FloorKey {
        private,
        public_line,
    })
}

/// An EIC client configured from the lab's variables, as an app would configure it from the
/// environment (explicitly here: setting env vars in a threaded process is racy).
pub fn eic_client(vars: &[(String, String)]) -> Result<Client, String> {
    let get = |k: &str| var(vars, k).ok_or_else(|| format!("the lab env has no {k}"));
    let creds = Credentials::new(
        get("AWS_ACCESS_KEY_ID")?,
        get("AWS_SECRET_ACCESS_KEY")?,
        None,
        None,
        "keyless-lab",
    );
    let conf = config::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(get("AWS_REGION")?.to_string()))
        .credentials_provider(creds)
        .endpoint_url(get("AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT")?)
        // A failed push must show, not be retried into the timing.
        .retry_config(config::retry::RetryConfig::disabled())
        .build();
    Ok(Client::from_conf(conf))
}

/// Keeps the floor key usable: pushes lapse after 60 s on AWS (and in the lab).
pub struct Pusher {
    client: Client,
    instance_id: String,
    os_user: String,
    key_line: String,
    last: Option<Instant>,
}

/// Re-push this long after the last push, well inside the 60 s key lifetime.
const REFRESH_AFTER: Duration = Duration::from_secs(40);

impl Pusher {
    pub fn new(client: Client, instance_id: &str, os_user: &str, key: &FloorKey) -> Pusher {
        Pusher {
            client,
            instance_id: instance_id.into(),
            os_user: os_user.into(),
            key_line: key.public_line.clone(),
            last: None,
        }
    }

    /// One SendSSHPublicKey call; returns how long it took.
    pub async fn push(&mut self) -> Result<Duration, String> {
        let t = Instant::now();
        let reply = self
            .client
            .send_ssh_public_key()
            .instance_id(&self.instance_id)
            .instance_os_user(&self.os_user)
            .ssh_public_key(&self.key_line)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "SendSSHPublicKey: {}",
                    aws_sdk_ec2instanceconnect::error::DisplayErrorContext(e)
                )
            })?;
        let took = t.elapsed();
        if !reply.success() {
            return Err("SendSSHPublicKey answered Success=false".into());
        }
        self.last = Some(Instant::now());
        Ok(took)
    }

    /// Pushes (untimed) when the last push is about to lapse.
    pub async fn ensure_fresh(&mut self) -> Result<(), String> {
        match self.last {
            Some(t) if t.elapsed() < REFRESH_AFTER => Ok(()),
            _ => self.push().await.map(drop),
        }
    }

    pub fn key_line(&self) -> &str {
        &self.key_line
    }
}
