//! How failures reach the user: one `keyless: …` line, `  hint: …` lines, and an exit code. The
//! core's hint says what to do in words for any front end; its `fix` is said here as this CLI's
//! commands and flags. Messages carry AWS's words and Name tags, so they are escaped for the
//! terminal here.

use keyless_core::terminal_text::escape_lines;
use keyless_core::{Error, Fix};
use std::io::IsTerminal;

/// A failure with the exit code it ends the process with.
pub struct Failure {
    pub error: Error,
    pub code: i32,
}

impl Failure {
    /// Bad input or configuration, found before any request.
    pub fn usage(error: Error) -> Self {
        Failure { error, code: 2 }
    }

    pub fn runtime(error: Error) -> Self {
        Failure { error, code: 1 }
    }

    /// `ssh` failures: 255, like OpenSSH, so scripts can tell them from the remote exit status.
    pub fn ssh(error: Error) -> Self {
        Failure { error, code: 255 }
    }
}

pub fn print_error(error: &Error) {
    eprintln!("keyless: {}", escape_lines(&error.message));
    for line in hints(error) {
        eprintln!("  hint: {}", escape_lines(&line));
    }
}

/// The core's hint, then how to do its fix with this CLI: each piece of advice once.
pub fn hints(error: &Error) -> Vec<String> {
    error
        .hint
        .clone()
        .into_iter()
        .chain(error.fix.as_ref().map(fix_text))
        .collect()
}

/// A fix as the commands and flags of `keyless` (and the AWS CLI where it is the tool).
fn fix_text(fix: &Fix) -> String {
    match fix {
        Fix::SsoLogin { aws_profile } if aws_profile == "default" => {
            "Run `keyless login` (or `aws sso login`) to sign in again.".to_owned()
        }
        Fix::SsoLogin { aws_profile } => format!(
            "Run `keyless login --profile {aws_profile}` (or `aws sso login --profile \
             {aws_profile}`) to sign in again."
        ),
        Fix::MfaCode { aws_profile } => format!(
            "Run the command in a terminal, where Keyless asks for the code of profile \
             '{aws_profile}' (or use a profile without mfa_serial)."
        ),
        Fix::ChooseRegion => "Name the region with --region (e.g. --region eu-west-1); \
                              `keyless ls --region REGION` shows what this profile sees there."
            .to_owned(),
        Fix::StartInstance => {
            "Start the instance (or wait until it is running), then connect again.".to_owned()
        }
        Fix::TrustHostKey => {
            "Then connect with --host-key-policy accept-new, or interactively, to trust it."
                .to_owned()
        }
        Fix::ForgetHostKey { instance_id } => {
            format!("Only then run `keyless known-hosts forget {instance_id}` and connect again.")
        }
        Fix::UseAddress { via } => format!("Connect with --via {via}."),
    }
}

/// Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org).
pub fn color_enabled(stream: impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_core::{ErrorKind, Via};

    #[test]
    fn the_hint_comes_first_then_the_fix_as_flags() {
        let e = Error::new(ErrorKind::NoAddress, "no public address")
            .with_hint("It has a private address.")
            .with_fix(Fix::UseAddress { via: Via::Private });
        assert_eq!(
            hints(&e),
            ["It has a private address.", "Connect with --via private."]
        );
        let e = Error::new(ErrorKind::Credentials, "signed out").with_fix(Fix::SsoLogin {
            aws_profile: "default".into(),
        });
        assert_eq!(
            hints(&e),
            ["Run `keyless login` (or `aws sso login`) to sign in again."]
        );
        assert!(hints(&Error::invalid("bad")).is_empty());
    }
}
