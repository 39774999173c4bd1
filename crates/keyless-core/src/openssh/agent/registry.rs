//! What the agent holds: one record per `keyless proxy`, bound to the `ssh` process it serves.
//! A record's key is made here and never leaves this process; OpenSSH sees only its public half
//! and signatures. The key is dropped (and zeroized by `ssh-key`) after its one signature, after
//! [`KEY_LIFETIME`], or when its proxy goes away, whichever comes first.

use super::peer::ProcessId;
use crate::error::{Error, ErrorKind, Result};
use crate::hostkeys::{HostKeyStatus, KnownHosts};
use russh::keys::signature::Signer;
use russh::keys::ssh_encoding::Encode;
use russh::keys::{Algorithm, PrivateKey, PublicKey};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The same 60 s EC2 Instance Connect gives a pushed key.
pub const KEY_LIFETIME: Duration = crate::push::KEY_LIFETIME;

/// How long `ssh` may wait for its key's push before the agent answers without it.
const READY_WAIT: Duration = Duration::from_secs(30);

pub type RecordId = u32;

struct Record {
    ssh: ProcessId,
    instance_id: String,
    store: KnownHosts,
    /// `None` once used, expired or refused.
    key: Option<PrivateKey>,
    public_blob: Vec<u8>,
    /// The push reached EC2 Instance Connect: the key may be offered.
    ready: bool,
    made: Instant,
}

#[derive(Default)]
pub struct Registry {
    records: Mutex<HashMap<RecordId, Record>>,
    next: Mutex<RecordId>,
    changed: Notify,
}

/// A new record's key, as the proxy pushes it.
pub struct Opened {
    pub id: RecordId,
    pub public_openssh: String,
}

/// What the host-key check made of the key `ssh` says it verified (`session-bind@openssh.com`).
#[derive(Debug, PartialEq, Eq)]
pub enum Bound {
    /// Pinned already, or new and now pinned: OpenSSH accepted it.
    Trusted,
    /// No record for this `ssh`: not ours to judge.
    NotOurs,
    /// Pinned to other keys. The key is withdrawn, so `ssh` cannot log in with it.
    Refused,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RecordId, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn open(&self, ssh: ProcessId, instance_id: &str, store: KnownHosts) -> Result<Opened> {
        crate::validate::instance_id(instance_id)?;
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
            .map_err(|e| Error::new(ErrorKind::Io, format!("could not generate a key: {e}")))?;
        let mut public = key.public_key().clone();
        public.set_comment("");
        let public_openssh = public.to_openssh().map_err(encode_error)?;
        let public_blob = public.to_bytes().map_err(encode_error)?;
        let id = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            *next = next.wrapping_add(1);
            *next
        };
        self.lock().insert(
            id,
            Record {
                ssh,
                instance_id: instance_id.to_owned(),
                store,
                key: Some(key),
                public_blob,
                ready: false,
                made: Instant::now(),
            },
        );
        Ok(Opened { id, public_openssh })
    }

    pub fn ready(&self, id: RecordId) -> bool {
        let found = self.lock().get_mut(&id).map(|r| r.ready = true).is_some();
        self.changed.notify_waiters();
        found
    }

    /// The proxy went away: its records and keys go too.
    pub fn close(&self, ids: &[RecordId]) {
        let mut records = self.lock();
        for id in ids {
            records.remove(id);
        }
        drop(records);
        self.changed.notify_waiters();
    }

    pub fn instance_of(&self, ssh: ProcessId) -> Option<String> {
        let records = self.lock();
        let found = records.values().find(|r| r.ssh == ssh);
        found.map(|r| r.instance_id.clone())
    }

    /// `ssh` verified `key` for its connection. A first key is pinned (what OpenSSH accepts is
    /// written back), a pinned one must match — whatever StrictHostKeyChecking said.
    pub fn bind_host_key(&self, ssh: ProcessId, key: &PublicKey) -> Result<Bound> {
        let (instance_id, store) = {
            let records = self.lock();
            match records.values().find(|r| r.ssh == ssh) {
                Some(r) => (r.instance_id.clone(), r.store.clone()),
                None => return Ok(Bound::NotOurs),
            }
        };
        let status = match store.check(&instance_id, key)? {
            HostKeyStatus::Unknown => match store.trust(&instance_id, key) {
                Ok(()) => HostKeyStatus::Trusted,
                // Another connect pinned a different key first.
                Err(e) if e.kind == ErrorKind::HostKeyChanged => HostKeyStatus::Changed {
                    trusted_fingerprints: vec![],
                },
                Err(e) => return Err(e),
            },
            other => other,
        };
        if status == HostKeyStatus::Trusted {
            return Ok(Bound::Trusted);
        }
        for r in self.lock().values_mut().filter(|r| r.ssh == ssh) {
            r.key = None;
        }
        self.changed.notify_waiters();
        Ok(Bound::Refused)
    }

    /// The public keys offered to `ssh`: its own records' only, once their pushes are done
    /// (waiting for them up to [`READY_WAIT`]).
    pub async fn identities(&self, ssh: ProcessId) -> Vec<(Vec<u8>, String)> {
        let until = tokio::time::Instant::now() + READY_WAIT;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let pending = self.with_live(ssh, |r| !r.ready);
            if !pending || tokio::time::timeout_at(until, notified).await.is_err() {
                break;
            }
        }
        let records = self.lock();
        let offered = records.values().filter(|r| r.ssh == ssh && r.ready);
        offered
            .filter(|r| r.key.is_some() && r.made.elapsed() < KEY_LIFETIME)
            .map(|r| {
                let comment = format!("keyless one-time key for {}", r.instance_id);
                (r.public_blob.clone(), comment)
            })
            .collect()
    }

    fn with_live(&self, ssh: ProcessId, test: impl Fn(&Record) -> bool) -> bool {
        let records = self.lock();
        let mut live = records.values().filter(|r| r.ssh == ssh && r.key.is_some());
        live.any(test)
    }

    /// Signs `data` with the key whose public blob is `blob`, if it is one of `ssh`'s; the key is
    /// dropped right after: it has done its one job.
    pub fn sign(&self, ssh: ProcessId, blob: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        let key = {
            let mut records = self.lock();
            let record = records
                .values_mut()
                .find(|r| r.ssh == ssh && r.ready && r.public_blob == blob)?;
            if record.made.elapsed() >= KEY_LIFETIME {
                record.key = None;
            }
            record.key.take()?
        };
        let signature: russh::keys::ssh_key::Signature = key.try_sign(data).ok()?;
        let mut encoded = Vec::new();
        signature.encode(&mut encoded).ok()?;
        Some(encoded)
    }

    /// Drops keys past their lifetime; true when nothing at all is held.
    pub fn sweep(&self) -> bool {
        let mut records = self.lock();
        for r in records.values_mut() {
            if r.made.elapsed() >= KEY_LIFETIME {
                r.key = None;
            }
        }
        records.is_empty()
    }
}

fn encode_error(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("could not encode a key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::signature::Verifier;
    use russh::keys::ssh_encoding::Decode;
    use std::sync::Arc;

    fn ssh(pid: u32) -> ProcessId {
        ProcessId { pid, started: 7 }
    }

    fn store() -> (tempfile::TempDir, KnownHosts) {
        let dir = tempfile::tempdir().unwrap();
        let store = KnownHosts::at(dir.path().join("known_hosts"));
        (dir, store)
    }

    #[tokio::test]
    async fn each_ssh_sees_only_its_own_key_and_only_once_pushed() {
        let (_d, store) = store();
        let reg = Arc::new(Registry::default());
        let a = reg
            .open(ssh(10), "i-0123456789abcdef0", store.clone())
            .unwrap();
        let b = reg.open(ssh(11), "i-0fedcba9876543210", store).unwrap();
        reg.ready(b.id);
        let waiting = tokio::spawn({
            let reg = reg.clone();
            async move { reg.identities(ssh(10)).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "answered before the push was done");
        reg.ready(a.id);
        let ids = waiting.await.unwrap();
        assert_eq!(ids.len(), 1);
        let blob_a = PublicKey::from_openssh(&a.public_openssh)
            .unwrap()
            .to_bytes()
            .unwrap();
        assert_eq!(ids[0].0, blob_a);
        // Same pid, other start time: a reused pid is someone else.
        let reused = ProcessId {
            pid: 10,
            started: 8,
        };
        assert!(reg.identities(reused).await.is_empty());
        assert!(reg.sign(ssh(11), &blob_a, b"data").is_none());
    }

    #[tokio::test]
    async fn a_key_signs_once_then_is_gone() {
        let (_d, store) = store();
        let reg = Registry::default();
        let a = reg.open(ssh(10), "i-0123456789abcdef0", store).unwrap();
        reg.ready(a.id);
        let public = PublicKey::from_openssh(&a.public_openssh).unwrap();
        let blob = public.to_bytes().unwrap();
        let sig = reg.sign(ssh(10), &blob, b"session").unwrap();
        let sig = russh::keys::ssh_key::Signature::decode(&mut &sig[..]).unwrap();
        public.key_data().verify(b"session", &sig).unwrap();
        assert!(reg.sign(ssh(10), &blob, b"again").is_none());
        assert!(reg.identities(ssh(10)).await.is_empty());
    }

    #[tokio::test]
    async fn accepted_host_keys_are_pinned_and_changed_ones_withdraw_the_key() {
        let (_d, store) = store();
        let reg = Registry::default();
        let host = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        let other = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        let a = reg
            .open(ssh(10), "i-0123456789abcdef0", store.clone())
            .unwrap();
        reg.ready(a.id);
        assert_eq!(
            reg.bind_host_key(ssh(10), host.public_key()).unwrap(),
            Bound::Trusted
        );
        assert_eq!(store.keys_for("i-0123456789abcdef0").unwrap().len(), 1);
        assert_eq!(
            reg.bind_host_key(ssh(99), other.public_key()).unwrap(),
            Bound::NotOurs
        );
        let b = reg.open(ssh(12), "i-0123456789abcdef0", store).unwrap();
        reg.ready(b.id);
        assert_eq!(
            reg.bind_host_key(ssh(12), other.public_key()).unwrap(),
            Bound::Refused
        );
        assert!(reg.identities(ssh(12)).await.is_empty());
        reg.close(&[a.id, b.id]);
        assert!(reg.sweep());
    }
}
