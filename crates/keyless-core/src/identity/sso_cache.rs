//! The IAM Identity Center token cache in the AWS CLI's format:
//! `~/.aws/sso/cache/<sha1 hex of the sso-session name, or of the start URL for legacy
//! profiles>.json`, camelCase keys, times in RFC 3339 UTC. aws-config reads (and refreshes) these
//! files; the AWS CLI and Keyless share them, so one login serves both. A refresh of a token
//! holds the lock file beside it (`<hash>.json.lock`), so Keyless processes take turns.

use crate::error::{Error, ErrorKind, Result};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedToken {
    pub access_token: String,
    /// RFC 3339 UTC, e.g. `2026-11-24T10:00:00Z`.
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
}

/// By hand: the tokens and the client secret never reach a log line or a panic message.
impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| super::REDACTED);
        f.debug_struct("CachedToken")
            .field("access_token", &super::REDACTED)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("client_id", &self.client_id)
            .field("client_secret", &hidden(&self.client_secret))
            .field("registration_expires_at", &self.registration_expires_at)
            .field("region", &self.region)
            .field("start_url", &self.start_url)
            .finish()
    }
}

impl CachedToken {
    pub fn expires(&self) -> Option<SystemTime> {
        parse_time(&self.expires_at)
    }

    pub fn registration_expires(&self) -> Option<SystemTime> {
        self.registration_expires_at.as_deref().and_then(parse_time)
    }
}

/// RFC 3339 in UTC with whole seconds, as the AWS CLI writes it.
pub fn format_time(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

pub fn parse_time(s: &str) -> Option<SystemTime> {
    DateTime::from_str(s, Format::DateTime)
        .ok()
        .and_then(|d| SystemTime::try_from(d).ok())
}

pub fn cache_dir() -> Result<PathBuf> {
    dirs::home_dir()
        .map(|h| h.join(".aws").join("sso").join("cache"))
        .ok_or_else(|| Error::new(ErrorKind::Io, "no home directory for ~/.aws/sso/cache"))
}

/// The cache file of a session name (sso-session) or start URL (legacy profile).
pub fn cache_file(key: &str) -> Result<PathBuf> {
    let hash = hex_lower(&Sha1::digest(key.as_bytes()));
    Ok(cache_dir()?.join(format!("{hash}.json")))
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `None` when there is no file; an error when it is unreadable or not a token.
pub fn read(path: &Path) -> Result<Option<CachedToken>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {e}", path.display()),
            ))
        }
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::new(
            ErrorKind::Credentials,
            format!("the SSO token cache {} is not valid: {e}", path.display()),
        )
    })
}

/// Writes atomically (temp file in the same directory, fsync, rename), mode 0600, directory 0700.
pub fn write(path: &Path, token: &CachedToken) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::new(ErrorKind::Io, "token cache path has no directory"))?;
    let io = |what: &str, e: std::io::Error| {
        Error::new(ErrorKind::Io, format!("{what} {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Only tighten the directory we own; ~/.aws/sso/cache holds secrets.
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let body = serde_json::to_vec_pretty(token)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot encode token: {e}")))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("token"),
        std::process::id()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("cannot write the token cache in", e));
    }
    Ok(())
}

/// How long a refresh waits for another one to finish: longer than a refresh can take (the
/// SSO-OIDC client's attempts and deadlines), so only a stuck holder makes this give up.
pub const LOCK_WAIT: Duration = Duration::from_secs(120);
/// How often a waiting refresh tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(20);

/// Held while a token is refreshed; unlocked when dropped (or when the process ends).
#[derive(Debug)]
pub struct CacheLock {
    _file: std::fs::File,
}

/// Takes the exclusive lock of `path`'s lock file (an advisory `flock`, which also keeps two
/// tasks of one process apart), waiting for another holder at most [`LOCK_WAIT`].
pub async fn lock(path: &Path) -> Result<CacheLock> {
    let lock_path = path.with_extension("json.lock");
    let dir = lock_path
        .parent()
        .ok_or_else(|| Error::new(ErrorKind::Io, "token cache path has no directory"))?;
    let io = |what: &str, e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("{what} {}: {e}", lock_path.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create the directory of", e))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(&lock_path).map_err(|e| io("cannot open", e))?;
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(CacheLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(LOCK_POLL).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "another process has been refreshing the IAM Identity Center sign-in for over {} s (it holds {})",
                        LOCK_WAIT.as_secs(),
                        lock_path.display()
                    ),
                )
                .with_hint("Try again; if it keeps failing, end the Keyless process that hangs."))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock", e)),
        }
    }
}

/// True when a file was removed.
pub fn remove(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("cannot remove {}: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_tokens_and_the_client_secret() {
        let t = CachedToken {
            access_token: "aoaAAAAAGACCESS".into(),
            expires_at: "2026-11-24T10:00:00Z".into(),
            refresh_token: Some("aorAAAAAGREFRESH".into()),
            client_id: Some("client-1".into()),
            client_secret: Some("eyJraWQiOiJrZXkSECRET".into()),
            registration_expires_at: None,
            region: Some("eu-west-1".into()),
            start_url: Some("https://x.awsapps.com/start".into()),
        };
        let shown = format!("{t:?} {t:#?}");
        for secret in [
            "aoaAAAAAGACCESS",
            "aorAAAAAGREFRESH",
            "eyJraWQiOiJrZXkSECRET",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("access_token: \"<redacted>\""), "{shown}");
        assert!(shown.contains("client-1") && shown.contains("2026-11-24T10:00:00Z"));
    }

    #[test]
    fn names_and_times() {
        let p = cache_file("abc").unwrap();
        assert!(p.ends_with(".aws/sso/cache/a9993e364706816aba3e25717850c26c9cd0d89d.json"));
        assert_eq!(
            hex_lower(&Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(format_time(t), "2023-11-14T22:13:20Z");
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(t));
    }
}
