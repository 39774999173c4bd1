//! AWS identity and clients. Everything is built from one `SdkConfig` loaded through aws-config's
//! standard chain, so profiles, SSO, assume-role, env vars and `AWS_ENDPOINT_URL_*` all apply.

use crate::error::{Error, ErrorKind, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

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
}

impl AwsContext {
    pub async fn load(selection: &AwsSelection) -> Result<Self> {
        if let Some(region) = &selection.region {
            crate::validate::region(region)?;
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // Throttling and 5xx are retried with jittered exponential backoff by the standard mode.
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(250)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .build(),
            );
        if let Some(profile) = &selection.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &selection.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &selection.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Ok(AwsContext {
            sdk: loader.load().await,
        })
    }

    /// The region to use when the caller named none.
    pub fn default_region(&self) -> Result<String> {
        self.sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| {
                Error::new(ErrorKind::AwsConfig, "no AWS region is configured").with_hint(
                    "Pass --region, set AWS_REGION, or add `region = …` to the profile in ~/.aws/config.",
                )
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

/// The AWS error code and message of a failed call, or the transport failure in plain words.
pub(crate) struct AwsFailure {
    pub code: Option<String>,
    pub message: String,
    /// True when no answer came back at all (DNS, refused, timeout).
    pub unreachable: bool,
}

impl AwsFailure {
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                AwsFailure {
                    code: e.code().map(str::to_owned),
                    message: e.message().unwrap_or("no message").to_owned(),
                    unreachable: false,
                }
            }
            SdkError::TimeoutError(_) => AwsFailure {
                code: None,
                message: "the request timed out".into(),
                unreachable: true,
            },
            SdkError::DispatchFailure(d) => AwsFailure {
                code: None,
                message: DisplayErrorContext(err).to_string(),
                unreachable: d.is_io() || d.is_timeout(),
            },
            other => AwsFailure {
                code: None,
                message: DisplayErrorContext(other).to_string(),
                unreachable: false,
            },
        }
    }

    /// The failures every AWS call shares: credentials, transport, unexpected service errors.
    pub fn into_generic_error(self, what: &str) -> Error {
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
                "Your AWS credentials are missing, expired or not valid. Sign in again \
                 (aws sso login / aws configure) or pick another --profile.",
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
