//! How failures reach the user: one `keyless: …` line, one `  hint: …` line, and an exit code.
//! Messages carry AWS's words and Name tags, so they are escaped for the terminal here.

use keyless_core::terminal_text::escape_lines;
use keyless_core::Error;
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
    if let Some(hint) = &error.hint {
        eprintln!("  hint: {}", escape_lines(hint));
    }
}

/// Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org).
pub fn color_enabled(stream: impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
