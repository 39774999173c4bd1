//! AWS identities: the profiles of the AWS config files, who you are (`sts:GetCallerIdentity`),
//! IAM Identity Center sign-in in the AWS CLI's token cache, setting IAM Identity Center up from
//! nothing (profiles written to the config file), and MFA for assume-role profiles.

pub mod browser;
pub mod config_file;
pub mod config_writer;
pub mod mfa;
pub mod sso_cache;
pub(crate) mod sso_credentials;
pub mod sso_login;
pub mod sso_logout;
pub mod sso_setup;

pub use browser::{check_url, open_url, sign_in_page_warning};
pub use config_file::{list_profiles, setup_needed, AwsProfile, ProfileKind};
pub use config_writer::ConfigWritten;
pub use mfa::MfaPrompt;
pub use sso_login::{login, DeviceCode, SsoLogin};
pub use sso_logout::{logout, SignOut};
pub use sso_setup::{Portal, PortalAccount, PortalRole, RoleChoice, SetupChoices};

/// What a secret-bearing type's `Debug` shows in place of a token, key or secret.
pub(crate) const REDACTED: &str = "<redacted>";

use crate::aws::{AwsContext, AwsFailure};
use crate::error::Result;
use aws_credential_types::provider::ProvideCredentials;
use serde::Serialize;

/// The answer of `sts:GetCallerIdentity`, plus when the credentials expire (if they do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
    /// RFC 3339 UTC; `None` for long-term keys.
    pub expires_at: Option<String>,
}

pub async fn whoami(aws: &AwsContext) -> Result<CallerIdentity> {
    let expires_at = match aws.sdk().credentials_provider() {
        Some(p) => p
            .provide_credentials()
            .await
            .ok()
            .and_then(|c| c.expiry())
            .map(sso_cache::format_time),
        None => None,
    };
    let out = aws
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsFailure::from_sdk(&e).into_generic_error("GetCallerIdentity"))?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
        expires_at,
    })
}
