//! AWS identity and clients. Everything is built from one `SdkConfig` loaded through aws-config's
//! standard chain, so profiles, SSO, assume-role, env vars and `AWS_ENDPOINT_URL_*` all apply.

use crate::error::{Error, ErrorKind, Fix, Result};
use crate::identity::config_file::{effective_profile, AwsFiles, AwsProfile, ProfileKind};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

/// Throttling and 5xx are retried with jittered exponential backoff by the standard mode.
pub(crate) fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(250))
}

/// Every AWS client's deadlines: to connect, between reads of an answer, and per attempt.
pub(crate) fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(20))
        .operation_attempt_timeout(Duration::from_secs(20))
        .build()
}

/// An unsigned client configuration for IAM Identity Center (SSO-OIDC, the SSO portal) in
/// `region`, with the same retries and deadlines as the EC2 clients.
pub(crate) async fn unsigned_config(region: &str, endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .no_credentials()
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// An error and its sources, by their `Display` only, joined with ": ". Never `Debug`: the SDK's
/// `DisplayErrorContext` appends the whole `Debug` dump (HTTP internals) to what it prints.
pub(crate) fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // Wrappers often repeat their source's words; say each once.
        if !text.is_empty() && parts.last().is_none_or(|l| !l.ends_with(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// A Keyless error some layer of the SDK carries as a source (our credentials provider returns
/// them through aws-config), so it reaches the user as it was made.
pub(crate) fn keyless_error_in(err: &(dyn std::error::Error + 'static)) -> Option<Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(ours) = e.downcast_ref::<Error>() {
            return Some(ours.clone());
        }
        next = e.source();
    }
    None
}

/// Which AWS identity and default region to use. `None` means "what aws-config would pick".
#[derive(Debug, Clone, Default)]
pub struct AwsSelection {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// One endpoint for every service (a VPC endpoint, LocalStack, the lab); `None`: AWS's own,
    /// or whatever `AWS_ENDPOINT_URL*` says.
    pub endpoint_url: Option<String>,
}

/// A loaded AWS configuration, cheap to clone, from which per-region clients are made.
#[derive(Clone, Debug)]
pub struct AwsContext {
    sdk: SdkConfig,
    /// Each VPC's EC2 Instance Connect Endpoints, asked once; clones share them.
    eice_endpoints: crate::eice::EndpointCache,
    /// Which path reached each VPC in this run (clones share it).
    pub(crate) routes: crate::reach::RouteMemory,
}

impl AwsContext {
    /// Loads without any prompt: a profile with `mfa_serial` is an error (see [`Self::load_with`]).
    pub async fn load(selection: &AwsSelection) -> Result<Self> {
        Self::load_with(selection, None).await
    }

    /// Like [`Self::load`]; first checks the profile's kind: an IAM Identity Center profile must
    /// have a usable token (refreshed silently when close to expiry, else a `credentials` error
    /// saying `keyless login --profile P`); a profile with `mfa_serial` asks `mfa` for the code
    /// and assumes the role itself (aws-config cannot).
    pub async fn load_with(
        selection: &AwsSelection,
        mfa: Option<crate::identity::MfaPrompt<'_>>,
    ) -> Result<Self> {
        if let Some(region) = &selection.region {
            crate::validate::region(region)?;
        }
        if let Some((_, p)) = profile_in_use(selection) {
            if p.kind == ProfileKind::AssumeRoleMfa {
                let prompt = mfa.ok_or_else(|| crate::identity::mfa::mfa_needed(&p.name))?;
                let code = prompt(p.mfa_serial.as_deref().unwrap_or_default())?;
                return crate::identity::mfa::assume_role(selection, &p, &code).await;
            }
        }
        Self::load_without_mfa(selection).await
    }

    /// [`Self::load`] minus the MFA step (an `mfa_serial` is left to aws-config, which ignores it).
    /// An IAM Identity Center profile's credentials are fetched at once, so a missing, expired or
    /// revoked sign-in fails here, with the `keyless login` hint, rather than in every call.
    pub(crate) async fn load_without_mfa(selection: &AwsSelection) -> Result<Self> {
        let sso = match profile_in_use(selection) {
            Some((files, p)) if matches!(p.kind, ProfileKind::Sso | ProfileKind::SsoSession) => {
                Some(crate::identity::sso_login::target_of(&files, &p)?)
            }
            _ => None,
        };
        let Some(target) = sso else {
            return Self::load_inner(selection, Credentials::Chain).await;
        };
        if selection.profile.is_none() && env_keys() {
            // AWS_PROFILE names it, yet aws-config's chain takes the keys in the environment.
            crate::identity::sso_login::ensure_fresh(&target, selection.endpoint_url.as_deref())
                .await?;
            return Self::load_inner(selection, Credentials::Chain).await;
        }
        let profile = target.profile.clone();
        let ctx = Self::load_inner(selection, Credentials::Sso(target)).await?;
        if let Some(p) = ctx.sdk.credentials_provider() {
            p.provide_credentials()
                .await
                .map_err(|e| crate::identity::sso_credentials::credentials_error(&profile, &e))?;
        }
        Ok(ctx)
    }

    /// A context with fixed credentials (e.g. from an MFA AssumeRole).
    pub async fn with_credentials(
        selection: &AwsSelection,
        credentials: aws_credential_types::Credentials,
    ) -> Result<Self> {
        Self::load_inner(selection, Credentials::Fixed(credentials)).await
    }

    async fn load_inner(selection: &AwsSelection, credentials: Credentials) -> Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config())
            .timeout_config(timeout_config());
        // A profile named explicitly beats keys in the environment, as in the AWS CLI; so does
        // an IAM Identity Center profile the chain would pick anyway (see `profile_in_use`).
        let sso_profile = match &credentials {
            Credentials::Sso(t) => Some(t.profile.clone()),
            _ => None,
        };
        if let Some(profile) = selection.profile.clone().or(sso_profile) {
            loader = loader.profile_name(&profile);
            // Its STS/SSO clients need a region: the selection's, else the profile's own.
            let region = selection
                .region
                .clone()
                .or_else(|| AwsFiles::load().profile(&profile).and_then(|p| p.region));
            let conf = match region {
                Some(r) => aws_config::provider_config::ProviderConfig::default()
                    .with_region(Some(Region::new(r))),
                None => aws_config::provider_config::ProviderConfig::with_default_region().await,
            };
            let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&conf)
                .profile_name(&profile)
                .build();
            loader = match &credentials {
                Credentials::Sso(t) => loader.credentials_provider(
                    crate::identity::sso_credentials::SsoCredentials::new(
                        t.clone(),
                        selection.endpoint_url.clone(),
                        provider,
                    ),
                ),
                _ => loader.credentials_provider(provider),
            };
        }
        if let Credentials::Fixed(creds) = credentials {
            loader = loader.credentials_provider(creds);
        }
        if let Some(region) = &selection.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &selection.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Ok(AwsContext {
            sdk: loader.load().await,
            eice_endpoints: Default::default(),
            routes: Default::default(),
        })
    }

    pub(crate) fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    pub(crate) fn eice_endpoints(&self) -> &crate::eice::EndpointCache {
        &self.eice_endpoints
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let mut conf = aws_sdk_sts::config::Builder::from(&self.sdk);
        if self.sdk.region().is_none() {
            conf = conf.region(Region::new("us-east-1"));
        }
        aws_sdk_sts::Client::from_conf(conf.build())
    }

    /// The region to use when the caller named none.
    pub fn default_region(&self) -> Result<String> {
        self.sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            Error::new(ErrorKind::AwsConfig, "no AWS region is configured")
                .with_hint(
                    "A region can also come from AWS_REGION or from `region = …` in the \
                         profile's section of ~/.aws/config.",
                )
                .with_fix(Fix::ChooseRegion)
        })
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    pub fn instance_connect(&self, region: &str) -> aws_sdk_ec2instanceconnect::Client {
        let conf = aws_sdk_ec2instanceconnect::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_ec2instanceconnect::Client::from_conf(conf)
    }
}

fn env_keys() -> bool {
    std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|v| !v.is_empty())
}

/// Where a context's credentials come from.
enum Credentials {
    /// aws-config's chain (or the named profile's provider).
    Chain,
    /// An IAM Identity Center profile, through [`crate::identity::sso_credentials`].
    Sso(crate::identity::sso_login::SsoTarget),
    /// Fixed keys (an MFA AssumeRole's).
    Fixed(aws_credential_types::Credentials),
}

/// The profile of the config files whose credentials will be used, when it matters: keys in the
/// environment win over the default profile (aws-config's chain), so the profile counts only
/// when it was chosen (selection or `AWS_PROFILE`) or no keys are in the environment.
fn profile_in_use(selection: &AwsSelection) -> Option<(AwsFiles, AwsProfile)> {
    let chosen = selection.profile.is_some()
        || std::env::var_os("AWS_PROFILE").is_some_and(|v| !v.is_empty());
    if !chosen && env_keys() {
        return None;
    }
    let files = AwsFiles::load();
    let p = files.profile(&effective_profile(selection.profile.as_deref()))?;
    Some((files, p))
}

/// The AWS error code and message of a failed call, or the transport failure in plain words.
pub(crate) struct AwsFailure {
    pub code: Option<String>,
    pub message: String,
    /// True when no answer came back at all (DNS, refused, timeout).
    pub unreachable: bool,
    /// A Keyless error the SDK passed on (e.g. "the sign-in is no longer valid" from our
    /// credentials provider): the error of the call, whatever the call was.
    pub ours: Option<Error>,
}

impl AwsFailure {
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        if let Some(ours) = keyless_error_in(err) {
            return AwsFailure {
                code: None,
                message: ours.message.clone(),
                unreachable: false,
                ours: Some(ours),
            };
        }
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                AwsFailure {
                    code: e.code().map(str::to_owned),
                    message: e.message().unwrap_or("no message").to_owned(),
                    unreachable: false,
                    ours: None,
                }
            }
            SdkError::TimeoutError(_) => AwsFailure {
                code: None,
                message: "the request timed out".into(),
                unreachable: true,
                ours: None,
            },
            SdkError::DispatchFailure(d) => AwsFailure {
                code: None,
                message: error_text(err),
                unreachable: d.is_io() || d.is_timeout(),
                ours: None,
            },
            other => AwsFailure {
                code: None,
                message: error_text(other),
                unreachable: false,
                ours: None,
            },
        }
    }

    /// A failed `DescribeInstances` in `region`: not allowed there, region not enabled, or the
    /// failures every call shares.
    pub fn into_lookup_error(self, region: &str) -> Error {
        if let Some(ours) = self.ours {
            return ours;
        }
        match self.code.as_deref() {
            Some("UnauthorizedOperation") => Error::new(
                ErrorKind::AccessDenied,
                format!(
                    "not allowed to look up instances in {region}: {}",
                    self.message
                ),
            )
            .with_hint("Your IAM policy needs ec2:DescribeInstances in this region."),
            Some("OptInRequired") => Error::new(
                ErrorKind::AwsConfig,
                format!("region {region} is not enabled for this account"),
            )
            .with_hint("Enable the region in the AWS console, or choose another region.")
            .with_fix(Fix::ChooseRegion),
            _ => self.into_generic_error("looking up the instance"),
        }
    }

    /// The failures every AWS call shares: credentials, transport, unexpected service errors.
    pub fn into_generic_error(self, what: &str) -> Error {
        if let Some(ours) = self.ours {
            return ours;
        }
        let text = self.message.clone();
        if self.unreachable {
            return Error::new(
                ErrorKind::Network,
                format!("{what}: cannot reach AWS ({text})"),
            )
            .with_hint("Check the network, proxy, and any AWS_ENDPOINT_URL_* setting.");
        }
        let code = self.code.as_deref().unwrap_or("");
        let lower = text.to_ascii_lowercase();
        if is_credentials_code(code) || (code.is_empty() && lower.contains("credential")) {
            return Error::new(ErrorKind::Credentials, format!("{what}: {text}")).with_hint(
                "Your AWS credentials are missing, expired or not valid: sign in again, or \
                 choose another AWS profile.",
            );
        }
        if code.is_empty() {
            Error::new(ErrorKind::Service, format!("{what}: {text}"))
        } else {
            Error::new(ErrorKind::Service, format!("{what}: {code}: {text}"))
        }
    }
}

fn is_credentials_code(code: &str) -> bool {
    matches!(
        code,
        "AuthFailure"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "RequestExpired"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
    )
}
