//! IAM Identity Center sign-in (OAuth 2.0 device authorization, RFC 8628, through SSO-OIDC):
//! RegisterClient → StartDeviceAuthorization → the user approves in a browser → CreateToken,
//! polled at `interval`, +5 s on `slow_down`, until approved or expired. The token goes to the
//! AWS CLI's cache file, which aws-config then reads. Also: silent refresh, one at a time.

use super::config_file::{effective_profile, AwsFiles, AwsProfile, ProfileKind};
use super::sso_cache::{self, format_time, CachedToken};
use crate::error::{Error, ErrorKind, Fix, Result};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Refresh when less than this is left (aws-config uses 5 minutes too).
pub const REFRESH_WINDOW: Duration = Duration::from_secs(5 * 60);
/// RFC 8628 §3.5: add 5 seconds to the interval on `slow_down`.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Where a profile signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoTarget {
    pub profile: String,
    /// The sso-session name; `None` for a legacy profile.
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    pub cache_file: PathBuf,
}

/// What the user must see to approve the sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    /// The URL with the code filled in (open this one in the browser when present).
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
}

impl DeviceCode {
    pub fn url(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }
}

#[derive(Debug, Clone)]
pub struct SsoLogin {
    pub cache_file: PathBuf,
    pub expires_at: String,
}

/// The error every "no usable token" case gives: kind `credentials`, fix: sign in with `profile`.
pub fn login_needed(profile: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::Credentials,
        format!("IAM Identity Center sign-in for profile '{profile}' {why}"),
    )
    .with_fix(Fix::SsoLogin {
        aws_profile: profile.to_owned(),
    })
}

/// IAM Identity Center refused a token the cache file still calls valid (revoked, signed out
/// elsewhere, ended on the server): the same kind and fix as a missing sign-in.
pub fn sign_in_invalid(profile: &str) -> Error {
    Error::new(
        ErrorKind::Credentials,
        format!("the IAM Identity Center sign-in for {profile} is no longer valid"),
    )
    .with_fix(Fix::SsoLogin {
        aws_profile: profile.to_owned(),
    })
}

/// Resolves the profile (named, `AWS_PROFILE` or `default`) to its SSO settings.
pub fn target(files: &AwsFiles, profile: Option<&str>) -> Result<SsoTarget> {
    let name = effective_profile(profile);
    let p = files.profile(&name).ok_or_else(|| {
        Error::new(
            ErrorKind::AwsConfig,
            format!("no AWS profile named '{name}'"),
        )
        .with_hint("The profiles are the `[profile …]` sections of ~/.aws/config.")
    })?;
    target_of(files, &p)
}

pub fn target_of(files: &AwsFiles, p: &AwsProfile) -> Result<SsoTarget> {
    let section = &files.profiles[&p.name];
    let not_sso = || {
        Error::new(
            ErrorKind::AwsConfig,
            format!("AWS profile '{}' does not use IAM Identity Center", p.name),
        )
        .with_hint(
            "Only profiles with `sso_session` or `sso_start_url` sign in to IAM Identity Center.",
        )
    };
    let missing = |what: &str| {
        Error::new(
            ErrorKind::AwsConfig,
            format!("AWS profile '{}' has no {what}", p.name),
        )
    };
    match p.kind {
        ProfileKind::SsoSession => {
            let session = p.sso_session.clone().unwrap_or_default();
            let s = files.sso_sessions.get(&session).ok_or_else(|| {
                Error::new(
                    ErrorKind::AwsConfig,
                    format!("profile '{}' names sso-session '{session}', which ~/.aws/config does not define", p.name),
                )
            })?;
            let start_url = s
                .get("sso_start_url")
                .cloned()
                .ok_or_else(|| missing("sso_start_url in its sso-session"))?;
            let region = s
                .get("sso_region")
                .cloned()
                .ok_or_else(|| missing("sso_region in its sso-session"))?;
            let scopes = s
                .get("sso_registration_scopes")
                .map(|v| {
                    v.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_else(|| vec!["sso:account:access".to_string()]);
            Ok(SsoTarget {
                profile: p.name.clone(),
                cache_file: sso_cache::cache_file(&session)?,
                session: Some(session),
                start_url,
                region,
                scopes,
            })
        }
        ProfileKind::Sso => {
            let start_url = section.get("sso_start_url").cloned().ok_or_else(not_sso)?;
            let region = section
                .get("sso_region")
                .cloned()
                .ok_or_else(|| missing("sso_region"))?;
            Ok(SsoTarget {
                profile: p.name.clone(),
                cache_file: sso_cache::cache_file(&start_url)?,
                session: None,
                start_url,
                region,
                scopes: Vec::new(),
            })
        }
        _ => Err(not_sso()),
    }
}

async fn oidc_client(region: &str, endpoint_url: Option<&str>) -> aws_sdk_ssooidc::Client {
    aws_sdk_ssooidc::Client::new(&crate::aws::unsigned_config(region, endpoint_url).await)
}

fn oidc_error<E, R>(what: &str, e: &SdkError<E, R>) -> (Option<String>, Error)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let SdkError::ServiceError(s) = e {
        let code = s.err().code().map(str::to_string);
        let msg = s.err().message().unwrap_or("no message").to_string();
        let kind = match code.as_deref() {
            Some("AccessDeniedException") => ErrorKind::AccessDenied,
            Some("InvalidGrantException" | "ExpiredTokenException" | "InvalidClientException") => {
                ErrorKind::Credentials
            }
            _ => ErrorKind::Service,
        };
        let text = format!("{what}: {}: {msg}", code.as_deref().unwrap_or("error"));
        return (code, Error::new(kind, text));
    }
    let unreachable = matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_));
    let kind = if unreachable {
        ErrorKind::Network
    } else {
        ErrorKind::Service
    };
    (
        None,
        Error::new(kind, format!("{what}: {}", crate::aws::error_text(e)))
            .with_hint("Check the network and any AWS_ENDPOINT_URL_SSO_OIDC setting."),
    )
}

fn secs(n: i64) -> Duration {
    Duration::from_secs(n.max(0) as u64)
}

/// The whole device flow for `profile`. `on_code` is called once, as soon as the user has
/// something to approve (print it, open the browser); then this polls until approved.
pub async fn login(
    profile: Option<&str>,
    endpoint_url: Option<&str>,
    on_code: impl FnOnce(&DeviceCode),
) -> Result<SsoLogin> {
    let files = AwsFiles::load();
    let t = target(&files, profile)?;
    sign_in(&t, endpoint_url, on_code).await
}

/// The device flow for a sign-in that need not be in the config file yet (a new sso-session
/// being set up): the token lands in `t.cache_file`.
pub async fn sign_in(
    t: &SsoTarget,
    endpoint_url: Option<&str>,
    on_code: impl FnOnce(&DeviceCode),
) -> Result<SsoLogin> {
    let client = oidc_client(&t.region, endpoint_url).await;

    // Reuse the client registration the cache holds while it is valid (as the AWS CLI does).
    let cached = sso_cache::read(&t.cache_file).ok().flatten();
    let now = SystemTime::now();
    let reusable = cached.as_ref().and_then(|c| {
        let valid = c
            .registration_expires()
            .is_some_and(|e| e > now + Duration::from_secs(3600));
        match (&c.client_id, &c.client_secret, valid) {
            (Some(id), Some(secret), true) => Some((
                id.clone(),
                secret.clone(),
                c.registration_expires_at.clone().unwrap_or_default(),
            )),
            _ => None,
        }
    });
    let (client_id, client_secret, registration_expires_at) = match reusable {
        Some(r) => r,
        None => {
            let mut req = client
                .register_client()
                .client_name(format!("keyless-{}", now_secs()))
                .client_type("public");
            if t.session.is_some() {
                for s in &t.scopes {
                    req = req.scopes(s);
                }
                req = req
                    .grant_types("urn:ietf:params:oauth:grant-type:device_code")
                    .grant_types("refresh_token");
            }
            let out = req
                .send()
                .await
                .map_err(|e| oidc_error("RegisterClient", &e).1)?;
            let expires = SystemTime::UNIX_EPOCH + secs(out.client_secret_expires_at());
            (
                out.client_id().unwrap_or_default().to_string(),
                out.client_secret().unwrap_or_default().to_string(),
                format_time(expires),
            )
        }
    };

    let auth = client
        .start_device_authorization()
        .client_id(&client_id)
        .client_secret(&client_secret)
        .start_url(&t.start_url)
        .send()
        .await
        .map_err(|e| oidc_error("StartDeviceAuthorization", &e).1)?;
    let device_code = auth.device_code().unwrap_or_default().to_string();
    let code = DeviceCode {
        user_code: auth.user_code().unwrap_or_default().to_string(),
        verification_uri: auth.verification_uri().unwrap_or_default().to_string(),
        verification_uri_complete: auth.verification_uri_complete().map(str::to_string),
        expires_in: secs(auth.expires_in() as i64),
    };
    on_code(&code);

    let mut interval = secs(auth.interval() as i64).max(Duration::from_secs(1));
    let deadline = tokio::time::Instant::now() + code.expires_in.max(Duration::from_secs(1));
    let token = loop {
        tokio::time::sleep(interval).await;
        if tokio::time::Instant::now() > deadline {
            return Err(Error::new(
                ErrorKind::Credentials,
                "the sign-in was not approved before the code expired",
            )
            .with_fix(Fix::SsoLogin {
                aws_profile: t.profile.clone(),
            }));
        }
        let res = client
            .create_token()
            .client_id(&client_id)
            .client_secret(&client_secret)
            .grant_type("urn:ietf:params:oauth:grant-type:device_code")
            .device_code(&device_code)
            .send()
            .await;
        match res {
            Ok(out) => break out,
            Err(e) => {
                let (code, err) = oidc_error("CreateToken", &e);
                match code.as_deref() {
                    Some("AuthorizationPendingException") => continue,
                    Some("SlowDownException") => interval += SLOW_DOWN_STEP,
                    Some("ExpiredTokenException") => {
                        return Err(Error::new(
                            ErrorKind::Credentials,
                            "the sign-in was not approved before the code expired",
                        )
                        .with_fix(Fix::SsoLogin {
                            aws_profile: t.profile.clone(),
                        }))
                    }
                    Some("AccessDeniedException") => {
                        return Err(Error::new(
                            ErrorKind::AccessDenied,
                            "the sign-in was denied in the browser",
                        ))
                    }
                    _ => return Err(err),
                }
            }
        }
    };
    let expires_at = format_time(SystemTime::now() + secs(token.expires_in() as i64));
    let cached = CachedToken {
        access_token: token.access_token().unwrap_or_default().to_string(),
        expires_at: expires_at.clone(),
        refresh_token: token.refresh_token().map(str::to_string),
        client_id: Some(client_id),
        client_secret: Some(client_secret),
        registration_expires_at: Some(registration_expires_at),
        region: Some(t.region.clone()),
        start_url: Some(t.start_url.clone()),
    };
    sso_cache::write(&t.cache_file, &cached)?;
    Ok(SsoLogin {
        cache_file: t.cache_file.clone(),
        expires_at,
    })
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// True when the token has more than [`REFRESH_WINDOW`] left: nothing to refresh.
fn fresh(token: &CachedToken, now: SystemTime) -> bool {
    token.expires().is_some_and(|e| e > now + REFRESH_WINDOW)
}

/// Exchanges the refresh token for a new access token and rewrites the cache file — under the
/// cache file's lock, after reading it again: refresh tokens rotate, so of two refreshes with
/// the same one, the second would be refused. A token someone refreshed meanwhile is used as is.
pub async fn refresh(t: &SsoTarget, endpoint_url: Option<&str>) -> Result<CachedToken> {
    let _lock = sso_cache::lock(&t.cache_file).await?;
    let cached = sso_cache::read(&t.cache_file)?
        .ok_or_else(|| login_needed(&t.profile, "has not been done (no cached token)"))?;
    if fresh(&cached, SystemTime::now()) {
        return Ok(cached);
    }
    let (Some(refresh_token), Some(client_id), Some(client_secret)) = (
        cached.refresh_token.clone(),
        cached.client_id.clone(),
        cached.client_secret.clone(),
    ) else {
        return Err(login_needed(
            &t.profile,
            "cannot be refreshed (no refresh token)",
        ));
    };
    let client = oidc_client(&t.region, endpoint_url).await;
    let out = client
        .create_token()
        .client_id(&client_id)
        .client_secret(&client_secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh_token)
        .send()
        .await
        .map_err(|e| {
            let (code, err) = oidc_error("CreateToken (refresh)", &e);
            match code.as_deref() {
                // The refresh token or the client is not (or no longer) valid: sign in again.
                Some(
                    "InvalidGrantException"
                    | "ExpiredTokenException"
                    | "InvalidClientException"
                    | "UnauthorizedClientException",
                ) => sign_in_invalid(&t.profile),
                _ => err,
            }
        })?;
    let new = CachedToken {
        access_token: out.access_token().unwrap_or_default().to_string(),
        expires_at: format_time(SystemTime::now() + secs(out.expires_in() as i64)),
        refresh_token: out
            .refresh_token()
            .map(str::to_string)
            .or(Some(refresh_token)),
        ..cached
    };
    sso_cache::write(&t.cache_file, &new)?;
    Ok(new)
}

/// Before using an SSO profile: a missing or expired token is a `credentials` error whose hint
/// says `keyless login --profile P`; a token close to expiry is refreshed silently when it can be.
pub async fn ensure_fresh(t: &SsoTarget, endpoint_url: Option<&str>) -> Result<()> {
    let cached = sso_cache::read(&t.cache_file)?
        .ok_or_else(|| login_needed(&t.profile, "has not been done (no cached token)"))?;
    let now = SystemTime::now();
    if fresh(&cached, now) {
        return Ok(());
    }
    let expires = cached.expires().unwrap_or(SystemTime::UNIX_EPOCH);
    let refreshable = cached.refresh_token.is_some()
        && cached.client_id.is_some()
        && cached.registration_expires().is_none_or(|e| e > now);
    if refreshable {
        match refresh(t, endpoint_url).await {
            Ok(_) => return Ok(()),
            Err(e) if expires <= now => return Err(e),
            // Still valid for a few minutes: use it, refresh next time.
            Err(_) => return Ok(()),
        }
    }
    if expires <= now {
        return Err(login_needed(&t.profile, "has expired"));
    }
    Ok(())
}

/// The cached token of the profile, if any (for "signed in until …" displays).
pub fn cached_token(profile: Option<&str>) -> Result<Option<CachedToken>> {
    let files = AwsFiles::load();
    let t = target(&files, profile)?;
    sso_cache::read(&t.cache_file)
}
