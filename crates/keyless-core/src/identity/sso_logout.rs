//! Signing out of IAM Identity Center as `aws sso logout` does, for one sign-in: the portal's
//! `Logout` ends the session on the server, then the files the sign-in left go — the token cache
//! and the role credentials the AWS CLI fetched with it (`~/.aws/cli/cache`). Otherwise the AWS
//! CLI, the second client of the same sign-in, keeps working after Keyless signed out.

use super::config_file::AwsFiles;
use super::sso_cache::{self, hex_lower};
use super::sso_login::{target, target_of, SsoTarget};
use crate::error::{Error, ErrorKind, Result};
use serde::Serialize;
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};

/// What signing out did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignOut {
    /// The sign-in: `sso-session 'NAME'`, or the start URL of a legacy profile.
    pub sign_in: String,
    /// The files removed: the token cache first, then cached role credentials.
    pub removed: Vec<String>,
    /// What the user is told (the CLI prints it, the app shows it).
    pub message: String,
    /// Set when IAM Identity Center could not be told: the session lives on there until it
    /// expires, though nothing on this machine can use it any more.
    pub warning: Option<String>,
}

/// The AWS CLI's role-credential cache, where `aws sso` keeps what GetRoleCredentials returned.
pub fn cli_cache_dir() -> Result<PathBuf> {
    dirs::home_dir()
        .map(|h| h.join(".aws").join("cli").join("cache"))
        .ok_or_else(|| Error::new(ErrorKind::Io, "no home directory for ~/.aws/cli/cache"))
}

/// The file botocore's `SSOCredentialFetcher` caches a role's credentials in: the SHA-1 of
/// `json.dumps({"accountId", "roleName", "sessionName" | "startUrl"}, sort_keys=True,
/// separators=(',', ':'))`, which escapes every non-ASCII character as `\uXXXX`.
pub fn cli_cache_key(account_id: &str, role_name: &str, t: &SsoTarget) -> String {
    let mut args = std::collections::BTreeMap::new();
    args.insert("accountId", account_id);
    args.insert("roleName", role_name);
    match &t.session {
        Some(s) => args.insert("sessionName", s.as_str()),
        None => args.insert("startUrl", t.start_url.as_str()),
    };
    let json = serde_json::to_string(&args).unwrap_or_default();
    let mut ascii = String::with_capacity(json.len());
    for c in json.chars() {
        if (c as u32) < 0x7f {
            ascii.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                ascii.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    hex_lower(&Sha1::digest(ascii.as_bytes()))
}

/// The AWS CLI's cached role credentials of every profile that signs in with `t`'s sign-in.
fn cli_cache_files(files: &AwsFiles, t: &SsoTarget) -> Result<Vec<PathBuf>> {
    let dir = cli_cache_dir()?;
    let mut out = Vec::new();
    for p in files.list() {
        let Ok(other) = target_of(files, &p) else {
            continue;
        };
        if other.cache_file != t.cache_file {
            continue;
        }
        if let (Some(account), Some(role)) = (&p.sso_account_id, &p.sso_role_name) {
            let file = dir.join(format!("{}.json", cli_cache_key(account, role, t)));
            if !out.contains(&file) {
                out.push(file);
            }
        }
    }
    Ok(out)
}

/// True for a credential cache file written from an SSO sign-in, as `aws sso logout` decides
/// (`"ProviderType": "sso"`); assume-role caches and anything unreadable are left alone.
fn is_sso_credentials(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("ProviderType").and_then(|t| t.as_str()) == Some("sso"))
}

/// How the portal took the Logout.
enum Portal {
    /// The session ended, or the token was no longer one it knew (nothing left to end).
    Ended,
    /// It could not be told: why.
    NotTold(String),
}

async fn portal_logout(
    t: &SsoTarget,
    token: &sso_cache::CachedToken,
    endpoint_url: Option<&str>,
) -> Portal {
    let region = token.region.as_deref().unwrap_or(&t.region);
    let client = aws_sdk_sso::Client::new(&crate::aws::unsigned_config(region, endpoint_url).await);
    match client
        .logout()
        .access_token(&token.access_token)
        .send()
        .await
    {
        Ok(_) => Portal::Ended,
        // Expired, revoked or already signed out: as `aws sso logout`, nothing more to do.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_unauthorized_exception()) =>
        {
            Portal::Ended
        }
        Err(e) => Portal::NotTold(crate::aws::AwsFailure::from_sdk(&e).message),
    }
}

/// Signs the profile's sign-in out: the portal's Logout with the cached token (when there is
/// one), then the AWS CLI's cached role credentials of that sign-in, then the token cache file.
/// Local files go even when the portal cannot be reached; `warning` then says so.
pub async fn logout(profile: Option<&str>, endpoint_url: Option<&str>) -> Result<SignOut> {
    let files = AwsFiles::load();
    let t = target(&files, profile)?;
    let sign_in = match &t.session {
        Some(s) => format!("sso-session '{s}'"),
        None => t.start_url.clone(),
    };
    // An unreadable token file is still removed; there is just no token to end on the server.
    let token = sso_cache::read(&t.cache_file).ok().flatten();
    let warning = match &token {
        Some(tok) => match portal_logout(&t, tok, endpoint_url).await {
            Portal::Ended => None,
            Portal::NotTold(why) => Some(format!(
                "IAM Identity Center could not be told to end the sign-in ({why}); it stays valid there until it expires, but nothing on this machine holds it any more."
            )),
        },
        None => None,
    };
    let mut roles = Vec::new();
    for file in cli_cache_files(&files, &t)? {
        if is_sso_credentials(&file) && sso_cache::remove(&file)? {
            roles.push(file.display().to_string());
        }
    }
    let token_removed = sso_cache::remove(&t.cache_file)?;
    let message = summary(&sign_in, token_removed, roles.len());
    let mut removed = Vec::new();
    if token_removed {
        removed.push(t.cache_file.display().to_string());
    }
    removed.extend(roles);
    Ok(SignOut {
        sign_in,
        removed,
        message,
        warning,
    })
}

fn summary(sign_in: &str, token: bool, roles: usize) -> String {
    let mut what = Vec::new();
    if token {
        what.push("the sign-in token".to_string());
    }
    match roles {
        0 => {}
        1 => what.push("the AWS CLI's cached credentials of 1 role".to_string()),
        n => what.push(format!("the AWS CLI's cached credentials of {n} roles")),
    }
    if what.is_empty() {
        format!("Not signed in to {sign_in}: nothing to remove.")
    } else {
        format!("Signed out of {sign_in}: removed {}.", what.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(session: Option<&str>, start_url: &str) -> SsoTarget {
        SsoTarget {
            profile: "p".into(),
            session: session.map(str::to_string),
            start_url: start_url.into(),
            region: "us-east-1".into(),
            scopes: Vec::new(),
            cache_file: PathBuf::from("/nonexistent/x.json"),
        }
    }

    #[test]
    fn cache_keys_are_botocores() {
        // The hashes python3 prints for json.dumps(args, sort_keys=True, separators=(",", ":")).
        assert_eq!(
            cli_cache_key("123456789012", "AdminAccess", &target(Some("lab"), "x")),
            "c8b0a63b035a9ab4789cb8360c440121c38ddc41"
        );
        assert_eq!(
            cli_cache_key(
                "123456789012",
                "ReadOnly",
                &target(None, "https://d-1.awsapps.com/start")
            ),
            "204c22206c302e2ead0284b069b6f9e82caede81"
        );
        // Non-ASCII and DEL as json.dumps writes them: UTF-16 units, lower-case hex.
        assert_eq!(
            cli_cache_key("1", "r", &target(Some("é😀\u{7f}"), "x")),
            "16d3f0e84f6c71048947d0cbb562379e7161d011"
        );
    }

    #[test]
    fn summaries() {
        assert_eq!(
            summary("sso-session 'lab'", true, 2),
            "Signed out of sso-session 'lab': removed the sign-in token and the AWS CLI's cached credentials of 2 roles."
        );
        assert_eq!(
            summary("sso-session 'lab'", false, 1),
            "Signed out of sso-session 'lab': removed the AWS CLI's cached credentials of 1 role."
        );
        assert_eq!(
            summary("https://x/start", false, 0),
            "Not signed in to https://x/start: nothing to remove."
        );
    }
}
