//! Assume-role profiles with `mfa_serial`, which aws-config does not support
//! (awslabs/aws-sdk-rust#527): Keyless asks for the code and calls STS AssumeRole itself with
//! the source profile's credentials.

use super::config_file::AwsProfile;
use crate::aws::{AwsContext, AwsSelection};
use crate::error::{Error, ErrorKind, Fix, Result};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::SystemTime;

/// Asks the user for the current code of the MFA device (its ARN is the argument).
pub type MfaPrompt<'a> = &'a (dyn Fn(&str) -> Result<String> + Send + Sync);

/// The error when a profile needs a code and nobody can type one.
pub fn mfa_needed(profile: &str) -> Error {
    Error::new(
        ErrorKind::Credentials,
        format!("AWS profile '{profile}' needs an MFA code (mfa_serial) to assume its role"),
    )
    .with_fix(Fix::MfaCode {
        aws_profile: profile.to_owned(),
    })
}

/// AssumeRole with `SerialNumber` + `TokenCode`; the context then uses those credentials.
pub async fn assume_role(
    selection: &AwsSelection,
    profile: &AwsProfile,
    code: &str,
) -> Result<AwsContext> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("an MFA code is 6 digits"));
    }
    let (Some(role_arn), Some(serial)) = (&profile.role_arn, &profile.mfa_serial) else {
        return Err(Error::new(
            ErrorKind::AwsConfig,
            format!("AWS profile '{}' has no role_arn/mfa_serial", profile.name),
        ));
    };
    let source = profile.source_profile.clone().ok_or_else(|| {
        Error::new(
            ErrorKind::AwsConfig,
            format!(
                "AWS profile '{}' has mfa_serial but no source_profile (credential_source is not supported with MFA)",
                profile.name
            ),
        )
    })?;
    let region = selection.region.clone().or_else(|| profile.region.clone());
    let base_sel = AwsSelection {
        profile: Some(source),
        region: region.clone(),
        endpoint_url: selection.endpoint_url.clone(),
    };
    // The source may be SSO (checked) but not MFA again (one code per command).
    let base = AwsContext::load_without_mfa(&base_sel).await?;
    let session = format!(
        "keyless-{}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    );
    let out = base
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .serial_number(serial)
        .token_code(code)
        .send()
        .await
        .map_err(|e| assume_error(&profile.name, role_arn, &e))?;
    let c = out.credentials().ok_or_else(|| {
        Error::new(
            ErrorKind::Service,
            "AssumeRole answered without credentials",
        )
    })?;
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "keyless-mfa",
    );
    AwsContext::with_credentials(
        &AwsSelection {
            profile: None,
            region,
            endpoint_url: selection.endpoint_url.clone(),
        },
        creds,
    )
    .await
}

fn assume_error<E, R>(profile: &str, role_arn: &str, e: &SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let SdkError::ServiceError(s) = e {
        let code = s.err().code().unwrap_or("error");
        let msg = s.err().message().unwrap_or("no message");
        if code == "AccessDenied" {
            return Error::new(
                ErrorKind::AccessDenied,
                format!("AssumeRole {role_arn} with MFA was denied: {msg}"),
            )
            .with_hint(format!(
                "Check the code (it changes every 30 s) and the mfa_serial of profile '{profile}'."
            ));
        }
    }
    crate::aws::AwsFailure::from_sdk(e).into_generic_error(&format!("AssumeRole {role_arn}"))
}
