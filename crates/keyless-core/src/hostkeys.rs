//! Host-key trust, pinned by **instance id** (EC2 reuses IP addresses, so an IP-keyed file would
//! either warn falsely or trust the wrong machine). One text file, one `instance-id type base64`
//! line per trusted key, written atomically under a lock so concurrent Keyless processes never lose
//! an entry.

use crate::error::{Error, ErrorKind, Fix, Result};
use crate::paths;
use russh::keys::{HashAlg, PublicKey};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What to do with a key seen for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// Ask the user (the CLI on a TTY, the app always).
    Ask,
    /// Trust on first use and remember it.
    AcceptNew,
    /// Only keys already trusted.
    Strict,
}

impl FromStr for HostKeyPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ask" => Ok(HostKeyPolicy::Ask),
            "accept-new" => Ok(HostKeyPolicy::AcceptNew),
            "strict" => Ok(HostKeyPolicy::Strict),
            other => Err(
                Error::invalid(format!("'{other}' is not a host key policy"))
                    .with_hint("Use ask, accept-new or strict."),
            ),
        }
    }
}

/// The answer to "do you trust this new key?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TrustDecision {
    /// Trust and remember.
    Always,
    /// Trust for this connection only.
    Once,
    Reject,
}

/// A key seen for the first time, as shown to the user.
#[derive(Debug, Clone, Serialize)]
pub struct UnknownHostKey {
    pub instance_id: String,
    pub algorithm: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    Trusted,
    Unknown,
    /// The instance is pinned to other keys: possible impersonation, or a rebuilt instance.
    Changed {
        trusted_fingerprints: Vec<String>,
    },
}

pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[derive(Debug, Clone)]
pub struct KnownHosts {
    path: PathBuf,
}

impl KnownHosts {
    /// The store in Keyless's data directory (`$KEYLESS_DATA_DIR` or `$XDG_DATA_HOME/keyless`).
    pub fn open_default() -> Result<Self> {
        Ok(Self::at(paths::data_dir()?.join("known_hosts")))
    }

    pub fn at(path: impl Into<PathBuf>) -> Self {
        KnownHosts { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn check(&self, instance_id: &str, offered: &PublicKey) -> Result<HostKeyStatus> {
        let pinned = self.keys_for(instance_id)?;
        if pinned.is_empty() {
            return Ok(HostKeyStatus::Unknown);
        }
        if pinned.iter().any(|k| k.key_data() == offered.key_data()) {
            return Ok(HostKeyStatus::Trusted);
        }
        Ok(HostKeyStatus::Changed {
            trusted_fingerprints: pinned.iter().map(fingerprint).collect(),
        })
    }

    pub fn keys_for(&self, instance_id: &str) -> Result<Vec<PublicKey>> {
        pinned_in(&self.read()?, instance_id, &self.path)
    }

    /// Remembers `key` for the instance. Checked again under the store's lock, so two first
    /// connects that saw different keys cannot both pin theirs: the second gets `host_key_changed`.
    /// Replaces nothing: a changed key must be forgotten first.
    pub fn trust(&self, instance_id: &str, key: &PublicKey) -> Result<()> {
        crate::validate::instance_id(instance_id)?;
        let mut public = key.clone();
        public.set_comment("");
        let line = format!(
            "{instance_id} {}\n",
            public
                .to_openssh()
                .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?
        );
        self.rewrite(|text| {
            let pinned = pinned_in(text, instance_id, &self.path)?;
            if pinned.iter().any(|k| k.key_data() == key.key_data()) {
                return Ok(());
            }
            if !pinned.is_empty() {
                let trusted: Vec<String> = pinned.iter().map(fingerprint).collect();
                return Err(changed_error(instance_id, &fingerprint(key), &trusted));
            }
            text.push_str(&line);
            Ok(())
        })
    }

    /// Forgets every key of an instance (after the user confirmed a rebuilt instance).
    pub fn forget(&self, instance_id: &str) -> Result<()> {
        self.rewrite(|text| {
            *text = text
                .lines()
                .filter(|l| parse_line(l).map(|(id, _)| id) != Some(instance_id))
                .map(|l| format!("{l}\n"))
                .collect();
            Ok(())
        })
    }

    fn read(&self) -> Result<String> {
        match fs::read_to_string(&self.path) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {e}", self.path.display()),
            )),
        }
    }

    /// Read-modify-write under an exclusive lock, replacing the file atomically (temp, fsync, rename).
    fn rewrite(&self, edit: impl FnOnce(&mut String) -> Result<()>) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))?;
        lock.lock()?;
        let mut text = self.read()?;
        if text.is_empty() {
            text.push_str("# Keyless trusted host keys: <instance-id> <key type> <key>\n");
        }
        // Nothing is written when the edit refuses; the lock is released on drop.
        edit(&mut text)?;
        let tmp = self
            .path
            .with_extension(format!("tmp.{}", std::process::id()));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        lock.unlock()?;
        Ok(())
    }
}

/// The keys `text` (the file's content) pins for an instance; `path` names the file in errors.
fn pinned_in(text: &str, instance_id: &str, path: &Path) -> Result<Vec<PublicKey>> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some((id, key)) = parse_line(line) else {
            continue;
        };
        if id != instance_id {
            continue;
        }
        keys.push(PublicKey::from_openssh(key).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("{}:{}: unreadable host key: {e}", path.display(), n + 1),
            )
            .with_hint("Fix or delete that line; Keyless will ask about the key again.")
        })?);
    }
    Ok(keys)
}

/// The refusal when an instance presents a key other than the one(s) pinned for it.
pub(crate) fn changed_error(instance_id: &str, offered: &str, trusted: &[String]) -> Error {
    Error::new(
        ErrorKind::HostKeyChanged,
        format!(
            "HOST KEY CHANGED for {instance_id}: it presented {offered}, but Keyless trusts {}. \
             Refusing to connect.",
            trusted.join(", ")
        ),
    )
    .with_hint(
        "Someone may be impersonating the instance, or it was rebuilt. Verify the new key out of \
         band (e.g. the instance's console output) before trusting it.",
    )
    .with_fix(Fix::ForgetHostKey {
        instance_id: instance_id.to_owned(),
    })
}

fn parse_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    line.split_once(' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::{Algorithm, PrivateKey};

    fn key() -> PublicKey {
        PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
            .unwrap()
            .public_key()
            .clone()
    }

    #[test]
    fn unknown_then_trusted_then_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = KnownHosts::at(dir.path().join("sub/known_hosts"));
        let (a, b) = (key(), key());
        let id = "i-0123456789abcdef0";
        assert_eq!(store.check(id, &a).unwrap(), HostKeyStatus::Unknown);
        store.trust(id, &a).unwrap();
        store.trust(id, &a).unwrap(); // idempotent
        assert_eq!(store.check(id, &a).unwrap(), HostKeyStatus::Trusted);
        assert_eq!(
            store.check(id, &b).unwrap(),
            HostKeyStatus::Changed {
                trusted_fingerprints: vec![fingerprint(&a)]
            }
        );
        // Pinned by instance id: another instance with the same key is still unknown.
        assert_eq!(
            store.check("i-0fedcba9876543210", &a).unwrap(),
            HostKeyStatus::Unknown
        );
        store.forget(id).unwrap();
        assert_eq!(store.check(id, &b).unwrap(), HostKeyStatus::Unknown);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let store = KnownHosts::at(&path);
                std::thread::spawn(move || {
                    let id = format!("i-0{n:016x}");
                    store.trust(&id, &key()).unwrap();
                    id
                })
            })
            .collect();
        let ids: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let store = KnownHosts::at(&path);
        for id in ids {
            assert_eq!(store.keys_for(&id).unwrap().len(), 1, "{id}");
        }
    }

    #[test]
    fn two_first_connects_with_different_keys_pin_only_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let id = "i-0123456789abcdef0";
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (store, barrier) = (KnownHosts::at(&path), barrier.clone());
                std::thread::spawn(move || {
                    let key = key();
                    // Both saw "unknown" before either answered the prompt.
                    assert_eq!(store.check(id, &key).unwrap(), HostKeyStatus::Unknown);
                    barrier.wait();
                    (key.clone(), store.trust(id, &key))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let pinned: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        let refused: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
        assert_eq!((pinned.len(), refused.len()), (1, 1), "{results:?}");
        let error = refused[0].1.as_ref().unwrap_err();
        assert_eq!(error.kind, ErrorKind::HostKeyChanged, "{error:?}");
        assert!(
            error.message.contains(&fingerprint(&pinned[0].0)),
            "{error:?}"
        );
        let store = KnownHosts::at(&path);
        assert_eq!(store.keys_for(id).unwrap(), vec![pinned[0].0.clone()]);
    }

    #[test]
    fn a_broken_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        fs::write(
            &path,
            "# c\ni-0123456789abcdef0 ssh-ed25519 AAAAnotbase64!!\n",
        )
        .unwrap();
        let e = KnownHosts::at(&path)
            .keys_for("i-0123456789abcdef0")
            .unwrap_err();
        assert!(e.message.contains(":2:"), "{e:?}");
    }
}
