//! The shared AWS config and credentials files, read the way the AWS CLI reads them: sections
//! `[default]`, `[profile NAME]`, `[sso-session NAME]` in the config file, `[NAME]` in the
//! credentials file, `key = value` lines, `#`/`;` comments. Only what Keyless needs to know which
//! kind of identity a profile is; aws-config does the real credential resolution.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One section's keys (lower-cased names).
pub type Section = BTreeMap<String, String>;

#[derive(Default, Clone)]
pub struct AwsFiles {
    /// Profiles of both files, credentials-file keys merged over config-file ones.
    pub profiles: BTreeMap<String, Section>,
    pub sso_sessions: BTreeMap<String, Section>,
    /// Profiles that have keys in the credentials file.
    pub in_credentials: Vec<String>,
}

/// Keys whose values are credentials: never shown by `Debug`.
const SECRET_KEYS: [&str; 3] = [
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// By hand: the parsed files hold `aws_secret_access_key` and session tokens, which must not
/// reach a log line or a panic message.
impl std::fmt::Debug for AwsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |sections: &BTreeMap<String, Section>| -> BTreeMap<String, Section> {
            sections
                .iter()
                .map(|(name, keys)| {
                    let keys = keys
                        .iter()
                        .map(|(k, v)| {
                            let v = if SECRET_KEYS.contains(&k.as_str()) {
                                super::REDACTED.to_owned()
                            } else {
                                v.clone()
                            };
                            (k.clone(), v)
                        })
                        .collect();
                    (name.clone(), keys)
                })
                .collect()
        };
        f.debug_struct("AwsFiles")
            .field("profiles", &shown(&self.profiles))
            .field("sso_sessions", &shown(&self.sso_sessions))
            .field("in_credentials", &self.in_credentials)
            .finish()
    }
}

/// How a profile gets its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// `aws_access_key_id` in the profile.
    Static,
    /// IAM Identity Center through an `[sso-session]`.
    SsoSession,
    /// Legacy IAM Identity Center (`sso_start_url` in the profile).
    Sso,
    AssumeRole,
    /// Assume-role with `mfa_serial`: Keyless asks for the code.
    AssumeRoleMfa,
    WebIdentity,
    CredentialProcess,
    /// Only settings (region…): credentials come from the environment or the instance.
    Other,
}

/// A profile as a picker shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AwsProfile {
    pub name: String,
    pub kind: ProfileKind,
    pub region: Option<String>,
    /// For SSO profiles: the sso-session name, account and role.
    pub sso_session: Option<String>,
    pub sso_account_id: Option<String>,
    pub sso_role_name: Option<String>,
    /// For assume-role profiles.
    pub role_arn: Option<String>,
    pub source_profile: Option<String>,
    pub mfa_serial: Option<String>,
}

fn env_path(var: &str, default: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => dirs::home_dir().map(|h| h.join(".aws").join(default)),
    }
}

pub fn config_path() -> Option<PathBuf> {
    env_path("AWS_CONFIG_FILE", "config")
}

pub fn credentials_path() -> Option<PathBuf> {
    env_path("AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

/// `(section header, keys)` in file order.
fn parse_ini(text: &str) -> Vec<(String, Section)> {
    let mut out: Vec<(String, Section)> = Vec::new();
    let mut last_key: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(h) = trimmed.strip_prefix('[') {
            let name = h.trim_end_matches(']').trim().to_string();
            out.push((name, Section::new()));
            last_key = None;
            continue;
        }
        let Some((_, section)) = out.last_mut() else {
            continue;
        };
        // Indented lines continue the previous key (sub-properties such as `s3 =`).
        if line.starts_with(char::is_whitespace) && last_key.is_some() {
            continue;
        }
        if let Some((k, v)) = trimmed.split_once('=') {
            let key = k.trim().to_ascii_lowercase();
            section.insert(key.clone(), v.trim().to_string());
            last_key = Some(key);
        }
    }
    out
}

impl AwsFiles {
    /// Reads the files the environment points at (missing files are empty).
    pub fn load() -> AwsFiles {
        let read = |p: Option<PathBuf>| {
            p.and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default()
        };
        AwsFiles::parse(&read(config_path()), &read(credentials_path()))
    }

    pub fn parse(config: &str, credentials: &str) -> AwsFiles {
        let mut files = AwsFiles::default();
        for (header, keys) in parse_ini(config) {
            let (name, is_session) = if header == "default" {
                ("default".to_string(), false)
            } else if let Some(n) = header.strip_prefix("profile ") {
                (n.trim().to_string(), false)
            } else if let Some(n) = header.strip_prefix("sso-session ") {
                (n.trim().to_string(), true)
            } else {
                continue; // `[services …]` and unknown sections
            };
            let map = if is_session {
                &mut files.sso_sessions
            } else {
                &mut files.profiles
            };
            map.entry(name).or_default().extend(keys);
        }
        for (name, keys) in parse_ini(credentials) {
            let name = name.trim().to_string();
            if !files.in_credentials.contains(&name) {
                files.in_credentials.push(name.clone());
            }
            files.profiles.entry(name).or_default().extend(keys);
        }
        files
    }

    pub fn profile(&self, name: &str) -> Option<AwsProfile> {
        let s = self.profiles.get(name)?;
        let get = |k: &str| s.get(k).cloned().filter(|v| !v.is_empty());
        let kind = if get("role_arn").is_some() {
            if get("web_identity_token_file").is_some() {
                ProfileKind::WebIdentity
            } else if get("mfa_serial").is_some() {
                ProfileKind::AssumeRoleMfa
            } else {
                ProfileKind::AssumeRole
            }
        } else if get("sso_session").is_some() {
            ProfileKind::SsoSession
        } else if get("sso_start_url").is_some() {
            ProfileKind::Sso
        } else if get("credential_process").is_some() {
            ProfileKind::CredentialProcess
        } else if get("aws_access_key_id").is_some() {
            ProfileKind::Static
        } else {
            ProfileKind::Other
        };
        Some(AwsProfile {
            name: name.to_string(),
            kind,
            region: get("region"),
            sso_session: get("sso_session"),
            sso_account_id: get("sso_account_id"),
            sso_role_name: get("sso_role_name"),
            role_arn: get("role_arn"),
            source_profile: get("source_profile"),
            mfa_serial: get("mfa_serial"),
        })
    }

    /// Every profile, `default` first, then by name.
    pub fn list(&self) -> Vec<AwsProfile> {
        let mut v: Vec<AwsProfile> = self
            .profiles
            .keys()
            .filter_map(|n| self.profile(n))
            .collect();
        v.sort_by_key(|p| (p.name != "default", p.name.clone()));
        v
    }
}

/// The profiles of the AWS config and credentials files, with their kind and region.
pub fn list_profiles() -> Vec<AwsProfile> {
    AwsFiles::load().list()
}

/// Variables that give aws-config credentials (or a profile) without any profile in the files.
const IDENTITY_VARS: [&str; 5] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// True when no AWS identity is configured at all: no profile in either file that brings
/// credentials (a `[default]` with only a region does not) and none of the variables that do.
/// (An EC2 instance role cannot be told apart without asking the metadata service, so a first-run
/// view offers to carry on anyway.)
pub fn setup_needed() -> bool {
    let env = IDENTITY_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    !env && AwsFiles::load()
        .list()
        .iter()
        .all(|p| p.kind == ProfileKind::Other)
}

/// The profile aws-config would use: the named one, else `AWS_PROFILE`, else `default`.
pub fn effective_profile(named: Option<&str>) -> String {
    named
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "default".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_regions() {
        let config = "[default]\nregion = us-east-1\n\n[profile sso]\nsso_session = corp\n\
                      sso_account_id = 1\nsso_role_name = Admin\nregion = eu-west-1\n\
                      [sso-session corp]\nsso_start_url = https://x/start\nsso_region = us-east-1\n\
                      [profile legacy]\nsso_start_url = https://x/start\n\
                      [profile ops]\nrole_arn = arn:r\nsource_profile = default\n\
                      [profile mfa]\nrole_arn = arn:r\nsource_profile = default\nmfa_serial = arn:m\n\
                      [profile proc]\ncredential_process = /bin/true\n\
                      [profile s3]\ns3 =\n  max_concurrent_requests = 2\n# c\n";
        let creds = "[default]\naws_access_key_id = A\naws_secret_access_key = B\n[keys]\naws_access_key_id = C\n";
        let f = AwsFiles::parse(config, creds);
        let kinds: Vec<(String, ProfileKind)> =
            f.list().into_iter().map(|p| (p.name, p.kind)).collect();
        assert_eq!(kinds[0], ("default".into(), ProfileKind::Static));
        let kind = |n: &str| kinds.iter().find(|(k, _)| k == n).unwrap().1;
        assert_eq!(kind("sso"), ProfileKind::SsoSession);
        assert_eq!(kind("legacy"), ProfileKind::Sso);
        assert_eq!(kind("ops"), ProfileKind::AssumeRole);
        assert_eq!(kind("mfa"), ProfileKind::AssumeRoleMfa);
        assert_eq!(kind("proc"), ProfileKind::CredentialProcess);
        assert_eq!(kind("keys"), ProfileKind::Static);
        assert_eq!(kind("s3"), ProfileKind::Other);
        assert_eq!(
            f.profile("sso").unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(f.sso_sessions["corp"]["sso_region"], "us-east-1");
    }

    #[test]
    fn debug_hides_secret_keys_and_session_tokens() {
        let creds = "[default]\naws_access_key_id = AKIAEXAMPLE\n\
                     aws_secret_access_key = wJalrXUtnFEMI/SECRET\n\
                     aws_session_token = FwoGZXIvSESSION\naws_security_token = IQoJSECURITY\n";
        let f = AwsFiles::parse("[default]\nregion = us-east-1\n", creds);
        assert_eq!(
            f.profiles["default"]["aws_secret_access_key"],
            "wJalrXUtnFEMI/SECRET"
        );
        let shown = format!("{f:?} {f:#?}");
        for secret in ["wJalrXUtnFEMI/SECRET", "FwoGZXIvSESSION", "IQoJSECURITY"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("\"aws_secret_access_key\": \"<redacted>\""),
            "{shown}"
        );
        assert!(
            shown.contains("AKIAEXAMPLE") && shown.contains("us-east-1"),
            "{shown}"
        );
    }
}
