//! `<state>/env` (for `source`) plus the AWS config and credentials files it points at, so any
//! AWS SDK or the AWS CLI talks to the lab and only to the lab.

use std::fs;
use std::path::{Path, PathBuf};

use crate::identities::{MFA_SERIAL, OPS_MFA_ROLE_ARN, OPS_ROLE_ARN, SSO_ROLE_NAME, SSO_START_URL};
use crate::{LabError, ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY};

/// Single-quotes a value for POSIX shells.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

pub fn vars(
    state_dir: &Path,
    endpoint: &str,
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
        ("KEYLESS_LAB", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The lab's `aws/config`: static `default`/`lab`, an IAM Identity Center profile through the
/// `lab` sso-session, and assume-role profiles (one needing MFA) on top of `default`.
pub fn config_text(region: &str) -> String {
    format!(
        "[default]\nregion = {region}\n\n\
         [profile lab]\nregion = {region}\n\n\
         [sso-session lab]\nsso_start_url = {SSO_START_URL}\nsso_region = {region}\n\
         sso_registration_scopes = sso:account:access\n\n\
         [profile sso-admin]\nsso_session = lab\nsso_account_id = {ACCOUNT_ID}\n\
         sso_role_name = {SSO_ROLE_NAME}\nregion = {region}\n\n\
         [profile ops]\nrole_arn = {OPS_ROLE_ARN}\nsource_profile = default\nregion = {region}\n\n\
         [profile ops-mfa]\nrole_arn = {OPS_MFA_ROLE_ARN}\nsource_profile = default\n\
         mfa_serial = {MFA_SERIAL}\nregion = {region}\n"
    )
}

/// Writes the three files; returns the env file's path.
pub fn write(
    state_dir: &Path,
    vars: &[(String, String)],
    region: &str,
) -> Result<PathBuf, LabError> {
    let aws = state_dir.join("aws");
    fs::create_dir_all(&aws).map_err(LabError::io("creating aws config dir"))?;
    let config = config_text(region);
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
    #[test]
    fn quotes() {
        assert_eq!(super::shell_quote("a b"), "'a b'");
        assert_eq!(super::shell_quote("it's"), r"'it'\''s'");
    }
}
