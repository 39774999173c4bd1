//! `<state>/env` (for `source`) plus the AWS config and credentials files it points at, so any
//! AWS SDK or the AWS CLI talks to the lab and only to the lab.

use std::fs;
use std::path::{Path, PathBuf};

use crate::identities::{
    MFA_SERIAL, OPS_MFA_ROLE_ARN, OPS_ROLE_ARN, SSO_READONLY_ROLE, SSO_ROLE_NAME, SSO_START_URL,
};
use crate::{LabError, ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY, STAGING_ACCOUNT_ID};

/// Single-quotes a value for POSIX shells.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

pub fn vars(
    state_dir: &Path,
    endpoint: &str,
    eice_url: &str,
    region: &str,
    ssh_port: u16,
) -> Vec<(String, String)> {
    let aws = state_dir.join("aws");
    [
        ("AWS_ENDPOINT_URL_EC2", endpoint.to_string()),
        (
            "AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT",
            endpoint.to_string(),
        ),
        ("AWS_ENDPOINT_URL_STS", endpoint.to_string()),
        ("AWS_ENDPOINT_URL_SSO", endpoint.to_string()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
        ("AWS_REGION", region.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", aws.join("config").display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            aws.join("credentials").display().to_string(),
        ),
        ("KEYLESS_SSH_PORT", ssh_port.to_string()),
        // Where tunnels open instead of wss://<DnsName> (the client appends /openTunnel?…).
        ("KEYLESS_EICE_ENDPOINT_URL", eice_url.to_string()),
        ("KEYLESS_LAB", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// IAM Identity Center profiles of the lab's `aws/config`: AdminAccess in the main account and
/// in staging through the `lab` sso-session, and ReadOnly in the main account the legacy way
/// (`sso_start_url` in the profile, no sso-session).
pub const SSO_ADMIN_PROFILE: &str = "sso-admin";
pub const SSO_STAGING_PROFILE: &str = "sso-staging";
pub const SSO_LEGACY_PROFILE: &str = "sso-legacy";

/// The lab's `aws/config`: static `default`/`lab`, IAM Identity Center profiles (see above) and
/// assume-role profiles (one needing MFA) on top of `default`. Everything is in the first
/// region except `sso-staging`, which uses the second (the first in a one-region lab).
pub fn config_text(regions: &[String]) -> String {
    let region = regions.first().map(String::as_str).unwrap_or_default();
    let staging_region = regions.get(1).map(String::as_str).unwrap_or(region);
    format!(
        "[default]\nregion = {region}\n\n\
         [profile lab]\nregion = {region}\n\n\
         [sso-session lab]\nsso_start_url = {SSO_START_URL}\nsso_region = {region}\n\
         sso_registration_scopes = sso:account:access\n\n\
         [profile {SSO_ADMIN_PROFILE}]\nsso_session = lab\nsso_account_id = {ACCOUNT_ID}\n\
         sso_role_name = {SSO_ROLE_NAME}\nregion = {region}\n\n\
         [profile {SSO_STAGING_PROFILE}]\nsso_session = lab\nsso_account_id = {STAGING_ACCOUNT_ID}\n\
         sso_role_name = {SSO_ROLE_NAME}\nregion = {staging_region}\n\n\
         [profile {SSO_LEGACY_PROFILE}]\nsso_start_url = {SSO_START_URL}\nsso_region = {region}\n\
         sso_account_id = {ACCOUNT_ID}\nsso_role_name = {SSO_READONLY_ROLE}\nregion = {region}\n\n\
         [profile ops]\nrole_arn = {OPS_ROLE_ARN}\nsource_profile = default\nregion = {region}\n\n\
         [profile ops-mfa]\nrole_arn = {OPS_MFA_ROLE_ARN}\nsource_profile = default\n\
         mfa_serial = {MFA_SERIAL}\nregion = {region}\n"
    )
}

/// Writes the three files; returns the env file's path.
pub fn write(
    state_dir: &Path,
    vars: &[(String, String)],
    regions: &[String],
) -> Result<PathBuf, LabError> {
    let aws = state_dir.join("aws");
    fs::create_dir_all(&aws).map_err(LabError::io("creating aws config dir"))?;
    let config = config_text(regions);
    let creds = format!(
        "[default]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {SECRET_ACCESS_KEY}\n\n\
         [lab]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {SECRET_ACCESS_KEY}\n"
    );
    fs::write(aws.join("config"), config).map_err(LabError::io("writing aws config"))?;
    fs::write(aws.join("credentials"), creds).map_err(LabError::io("writing aws credentials"))?;
    let env: String = vars
        .iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
        .collect();
    let path = state_dir.join("env");
    fs::write(&path, env).map_err(LabError::io("writing env file"))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    /// The keys of one `[section]` of a config text.
    fn section(text: &str, header: &str) -> Vec<(String, String)> {
        let mut lines = text.lines().skip_while(|l| *l != header);
        assert!(lines.next().is_some(), "no {header} in\n{text}");
        lines
            .take_while(|l| !l.starts_with('['))
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sso_profiles_of_both_accounts() {
        let two = super::config_text(&["us-east-1".into(), "eu-west-1".into()]);
        assert_eq!(
            section(&two, "[profile sso-staging]"),
            kv(&[
                ("sso_session", "lab"),
                ("sso_account_id", "210987654321"),
                ("sso_role_name", "AdminAccess"),
                ("region", "eu-west-1"),
            ])
        );
        assert_eq!(
            section(&two, "[profile sso-legacy]"),
            kv(&[
                ("sso_start_url", crate::SSO_START_URL),
                ("sso_region", "us-east-1"),
                ("sso_account_id", "123456789012"),
                ("sso_role_name", "ReadOnly"),
                ("region", "us-east-1"),
            ])
        );
        assert_eq!(
            section(&two, "[profile sso-admin]")[1],
            ("sso_account_id".to_string(), "123456789012".to_string())
        );
        let one = super::config_text(&["ap-south-1".into()]);
        assert_eq!(
            section(&one, "[profile sso-staging]")[3],
            ("region".to_string(), "ap-south-1".to_string())
        );
    }

    #[test]
    fn quotes() {
        assert_eq!(super::shell_quote("a b"), "'a b'");
        assert_eq!(super::shell_quote("it's"), r"'it'\''s'");
    }
}
