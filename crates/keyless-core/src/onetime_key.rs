//! The one-time Ed25519 key of a single connection. It lives only in memory: there is no method
//! that serialises the private half, `Debug` prints only the fingerprint, and `ssh-key` zeroizes
//! the secret bytes when the last reference is dropped.

use crate::error::{Error, ErrorKind, Result};
use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg};
use std::fmt;
use std::sync::Arc;

pub struct OneTimeKey {
    key: Arc<PrivateKey>,
}

impl OneTimeKey {
    pub fn generate() -> Result<Self> {
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
            .map_err(|e| Error::new(ErrorKind::Io, format!("could not generate a key: {e}")))?;
        Ok(OneTimeKey { key: Arc::new(key) })
    }

    /// `ssh-ed25519 AAAA…` without a comment: exactly what SendSSHPublicKey takes (80 chars).
    pub fn public_openssh(&self) -> String {
        let mut public = self.key.public_key().clone();
        public.set_comment("");
        public
            .to_openssh()
            .expect("encoding an Ed25519 public key cannot fail")
    }

    /// `SHA256:…`, the form sshd passes to AuthorizedKeysCommand as `%f`.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// What russh signs the authentication request with. Shares the same in-memory key.
    pub(crate) fn for_auth(&self) -> PrivateKeyWithHashAlg {
        PrivateKeyWithHashAlg::new(self.key.clone(), None)
    }
}

impl fmt::Debug for OneTimeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OneTimeKey({})", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_line_is_what_eic_accepts() {
        let key = OneTimeKey::generate().unwrap();
        let line = key.public_openssh();
        assert!(line.starts_with("ssh-ed25519 AAAA"), "{line}");
        assert_eq!(line.len(), 80, "{line}");
        assert!(key.fingerprint().starts_with("SHA256:"));
    }

    #[test]
    fn every_key_is_new_and_debug_hides_the_secret() {
        let a = OneTimeKey::generate().unwrap();
        let b = OneTimeKey::generate().unwrap();
        assert_ne!(a.public_openssh(), b.public_openssh());
        let shown = format!("{a:?}");
        assert_eq!(shown, format!("OneTimeKey({})", a.fingerprint()));
        assert!(!shown.contains("PRIVATE"));
    }
}
