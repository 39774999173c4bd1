//! OpenSSH public key lines: what SendSSHPublicKey accepts and the fingerprint sshd's `%f` uses.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};

/// `SHA256:` + unpadded base64 of SHA-256 of the key blob, as sshd's `%f` and `ssh-keygen -l`.
pub fn fingerprint_of_line(line: &str) -> Option<String> {
    let blob = blob_of(line)?;
    Some(format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(Sha256::digest(&blob))
    ))
}

fn blob_of(line: &str) -> Option<Vec<u8>> {
    let b64 = line.split_whitespace().nth(1)?;
    STANDARD.decode(b64).ok()
}

/// Reads SSH wire-format strings (u32 length + bytes) from a key blob.
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn string(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let s = self.0.get(4..4 + len)?;
        self.0 = &self.0[4 + len..];
        Some(s)
    }
}

/// Bits of an SSH mpint (leading zero bytes do not count).
fn mpint_bits(m: &[u8]) -> usize {
    let m = &m[m.iter().take_while(|b| **b == 0).count()..];
    m.first()
        .map_or(0, |top| m.len() * 8 - top.leading_zeros() as usize)
}

/// Checks a key the way EC2 Instance Connect does: Ed25519, or RSA of 2048 or 4096 bits,
/// 80–4096 characters. Returns the reason in AWS-ish words on failure.
pub fn validate_push_key(line: &str) -> Result<(), String> {
    let len = line.chars().count();
    if !(80..=4096).contains(&len) {
        return Err(format!(
            "SSHPublicKey must be between 80 and 4096 characters long, got {len}"
        ));
    }
    let algo = line.split_whitespace().next().unwrap_or("");
    if algo != "ssh-ed25519" && algo != "ssh-rsa" {
        return Err("Unsupported key type: only ssh-rsa and ssh-ed25519 keys are supported".into());
    }
    let blob = blob_of(line).ok_or("The SSHPublicKey is not a valid OpenSSH public key")?;
    let mut w = Wire(&blob);
    let bad = || "The SSHPublicKey is not a valid OpenSSH public key".to_string();
    if w.string().ok_or_else(bad)? != algo.as_bytes() {
        return Err(bad());
    }
    if algo == "ssh-ed25519" {
        return match w.string() {
            Some(k) if k.len() == 32 && w.0.is_empty() => Ok(()),
            _ => Err(bad()),
        };
    }
    let _e = w.string().ok_or_else(bad)?;
    let bits = mpint_bits(w.string().ok_or_else(bad)?);
    if bits == 2048 || bits == 4096 {
        Ok(())
    } else {
        Err(format!(
            "RSA keys must be 2048 or 4096 bits long, got {bits}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // From `ssh-keygen -t ed25519`; its `ssh-keygen -lf` fingerprint.
    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMLNutKj9VqC4EZWaaatd6Xaggr1lhZ8qNRFICuIU97";
    const ED_FP: &str = "SHA256:fv3Q1JtNycvdzdSknGoM4E8PgAZpILEoD9k1b1VkY0A";

    #[test]
    fn ed25519() {
        assert_eq!(ED.len(), 80);
        assert!(validate_push_key(ED).is_ok());
        assert!(validate_push_key(&format!("{ED} user@host")).is_ok());
        assert_eq!(fingerprint_of_line(ED).as_deref(), Some(ED_FP));
    }

    #[test]
    fn rejects() {
        assert!(validate_push_key("ssh-ed25519 AAAA").is_err());
        let ecdsa = format!("ecdsa-sha2-nistp256 {}", "A".repeat(100));
        assert!(validate_push_key(&ecdsa).is_err());
        let garbage = format!("ssh-ed25519 {}", "A".repeat(100));
        assert!(validate_push_key(&garbage).is_err());
    }
}
