//! One error type for everything the core does: a stable `kind` that callers switch on (the CLI
//! picks exit codes, the app picks dialogs), a plain `message`, a `hint` that says what to try in
//! words that fit every front end, and a `fix`: the next step as data, which the CLI renders as
//! its commands and flags and the app as a button or words about its own UI. Nobody parses text.

use crate::address::Via;
use serde::Serialize;
use std::fmt;

/// Stable error kinds. Their snake_case names are part of the CLI's JSON and the app's IPC.
/// `ErrorKind::all()` lists them (the app's bindings export that list to the UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::VariantArray)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad input caught before any network call.
    InvalidInput,
    /// No region, unreadable AWS config, unknown profile.
    AwsConfig,
    /// No credentials, expired credentials, or the endpoint refused them.
    Credentials,
    /// IAM said no.
    AccessDenied,
    InstanceNotFound,
    /// Stopped, stopping, terminated…
    InstanceNotRunning,
    /// Pending or otherwise not reachable by EC2 Instance Connect right now.
    InstanceUnavailable,
    /// A name matched several instances.
    AmbiguousTarget,
    /// The chosen address (private/public) does not exist on the instance.
    NoAddress,
    Throttled,
    /// AWS answered with an error of its own (5xx, unexpected reply).
    Service,
    /// Could not reach an endpoint or the instance.
    Network,
    /// The instance's VPC has no EC2 Instance Connect Endpoint to tunnel through.
    NoEndpoint,
    /// The VPC's EC2 Instance Connect Endpoint exists but is not usable (being created, deleted,
    /// or failed).
    EndpointNotReady,
    /// The endpoint refused the tunnel's parameters: a port other than 22/3389, an address outside
    /// its VPC, a duration it does not allow.
    TunnelRefused,
    /// IAM denies `ec2-instance-connect:OpenTunnel` for this endpoint, port, address or duration.
    TunnelDenied,
    /// The endpoint's concurrent connections (shared by the whole VPC) are all in use.
    TunnelLimit,
    /// The tunnel ended during a session: the endpoint closed it, or its maximum duration passed.
    TunnelClosed,
    /// The instance's host key is not trusted yet and the policy forbids asking.
    HostKeyUnknown,
    /// The instance presents a different host key from the one trusted.
    HostKeyChanged,
    /// The user declined to trust the host key.
    HostKeyRejected,
    /// The key was pushed but the instance refused it.
    AuthFailed,
    /// The SSH connection dropped during a session.
    ConnectionLost,
    /// Input was refused: too much is already waiting for the remote side to read it.
    InputBacklog,
    /// The server took longer than the deadline for a phase of the connect (the message says
    /// which phase and which address).
    Timeout,
    /// Any other SSH protocol failure.
    Ssh,
    /// Local file or terminal trouble.
    Io,
    /// A file or directory named for a transfer or a file operation does not exist.
    FileNotFound,
    /// The file system refused a file operation (a read-only directory, another user's file).
    FilePermissionDenied,
    /// The SFTP server refused an operation for another reason; the message carries its words.
    Sftp,
}

/// The step that gets past an error, for a front end to offer: *what* to do. How to do it is the
/// front end's: `keyless login --profile P` in the CLI, a Sign in button in the app. A variant
/// exists only because some front end acts on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fix {
    /// Sign in to IAM Identity Center with this AWS profile (for a role chain: the SSO profile
    /// it starts from).
    SsoLogin { aws_profile: String },
    /// Give the current code of the MFA device of this assume-role profile.
    MfaCode { aws_profile: String },
    /// Name the AWS region to use, or look in another one.
    ChooseRegion,
    /// Start the instance, wait until it runs, connect again.
    StartInstance,
    /// Verify the host key the instance presents now; if it is genuine, trust it for later.
    TrustHostKey,
    /// Verify the instance's new host key out of band, then forget the trusted one and connect
    /// again (the trust store never replaces a key on its own).
    ForgetHostKey { instance_id: String },
    /// Connect through this address of the instance instead.
    UseAddress { via: Via },
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub fn all() -> &'static [ErrorKind] {
        <ErrorKind as strum::VariantArray>::VARIANTS
    }
}

/// An error with what happened and what to do about it. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "ApiError"))]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Advice in words that fit any front end: no CLI flags, no app buttons.
    pub hint: Option<String>,
    /// The next step as data; the hint never repeats it.
    pub fix: Option<Fix>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            fix: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ipc_shape_carries_the_fix_as_tagged_data() {
        let e = Error::new(ErrorKind::Credentials, "signed out").with_fix(Fix::SsoLogin {
            aws_profile: "sso-admin".into(),
        });
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "kind": "credentials",
                "message": "signed out",
                "hint": null,
                "fix": { "type": "sso_login", "aws_profile": "sso-admin" },
            })
        );
        let e = Error::new(ErrorKind::NoAddress, "no public address")
            .with_fix(Fix::UseAddress { via: Via::Private });
        assert_eq!(
            serde_json::to_value(&e).unwrap()["fix"],
            serde_json::json!({ "type": "use_address", "via": "private" })
        );
    }
}
