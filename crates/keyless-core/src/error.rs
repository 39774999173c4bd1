//! One error type for everything the core does: a stable `kind` that callers switch on (the CLI
//! picks exit codes, the app picks dialogs), a plain `message`, and a `hint` that says what to try.

use serde::Serialize;
use std::fmt;

/// Stable error kinds. Their snake_case names are part of the CLI's JSON and the app's IPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
}

/// An error with what happened and what to do about it. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "ApiError"))]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
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
