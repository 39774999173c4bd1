//! The credentials of an IAM Identity Center profile, as every Keyless client gets them:
//! aws-config's profile provider (GetRoleCredentials with the cached token), behind two checks
//! of ours. Before each fetch the token is refreshed under the cache file's lock when it is close
//! to expiry, so aws-config never races another Keyless process over a rotating refresh token.
//! And a token the portal refuses (revoked, or ended on the server while the file still looks
//! valid) becomes the same `credentials` error as a missing sign-in, not the SDK's error chain.

use super::sso_login::{self, SsoTarget};
use crate::error::{Error, ErrorKind};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials;
use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Fetched role credentials are reused while they have this much left (as aws-config's cache).
const REUSE_MARGIN: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
pub(crate) struct SsoCredentials<P> {
    target: SsoTarget,
    endpoint_url: Option<String>,
    inner: P,
    /// The last credentials fetched: the load-time check and the first call share one fetch.
    last: Mutex<Option<Credentials>>,
}

impl<P: ProvideCredentials> SsoCredentials<P> {
    pub(crate) fn new(target: SsoTarget, endpoint_url: Option<String>, inner: P) -> Self {
        SsoCredentials {
            target,
            endpoint_url,
            inner,
            last: Mutex::new(None),
        }
    }

    fn reusable(&self) -> Option<Credentials> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.as_ref()
            .filter(|c| {
                c.expiry()
                    .is_some_and(|e| e > SystemTime::now() + REUSE_MARGIN)
            })
            .cloned()
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        if let Some(c) = self.reusable() {
            return Ok(c);
        }
        sso_login::ensure_fresh(&self.target, self.endpoint_url.as_deref())
            .await
            .map_err(CredentialsError::provider_error)?;
        let creds = self.inner.provide_credentials().await.map_err(|e| {
            if portal_refused_token(&e) {
                CredentialsError::provider_error(sso_login::sign_in_invalid(&self.target.profile))
            } else {
                e
            }
        })?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(creds.clone());
        Ok(creds)
    }
}

impl<P: ProvideCredentials> ProvideCredentials for SsoCredentials<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.fetch())
    }
}

/// True when the portal's GetRoleCredentials answered UnauthorizedException: the token in the
/// cache is not (or no longer) a sign-in IAM Identity Center knows.
fn portal_refused_token(err: &CredentialsError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if e.downcast_ref::<GetRoleCredentialsError>()
            .is_some_and(GetRoleCredentialsError::is_unauthorized_exception)
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// A failed fetch as a Keyless error: ours as it was made, else the chain in plain words.
pub(crate) fn credentials_error(profile: &str, err: &CredentialsError) -> Error {
    if let Some(ours) = crate::aws::keyless_error_in(err) {
        return ours;
    }
    let unreachable = matches!(err, CredentialsError::ProviderTimedOut(_)) || {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
        let mut found = false;
        while let Some(e) = next {
            found |= e
                .downcast_ref::<aws_smithy_runtime_api::client::result::ConnectorError>()
                .is_some_and(|c| c.is_io() || c.is_timeout());
            next = e.source();
        }
        found
    };
    let text = crate::aws::error_text(err);
    if unreachable {
        return Error::new(
            ErrorKind::Network,
            format!("getting the credentials of AWS profile '{profile}': cannot reach IAM Identity Center ({text})"),
        )
        .with_hint("Check the network, proxy, and any AWS_ENDPOINT_URL_SSO setting.");
    }
    Error::new(
        ErrorKind::Credentials,
        format!("getting the credentials of AWS profile '{profile}': {text}"),
    )
}
