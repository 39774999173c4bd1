//! SFTP failures as Keyless errors: the server's status becomes a kind the front ends switch on
//! (not found, permission denied, connection lost), and its words — untrusted text from the
//! instance — are escaped before they are put in a message.

use crate::error::{Error, ErrorKind};
use crate::terminal_text::escape;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;

/// The error for `what` (e.g. "open") on remote `path` failing with `e`.
pub(crate) fn remote(what: &str, path: &str, e: SftpError) -> Error {
    let path = escape(path);
    match e {
        SftpError::Status(status) => {
            let said = escape(&status.error_message);
            let said = if said.trim().is_empty() {
                status.status_code.to_string()
            } else {
                said.into_owned()
            };
            let message = format!("cannot {what} {path} on the instance: {said}");
            match status.status_code {
                StatusCode::NoSuchFile => Error::new(ErrorKind::FileNotFound, message)
                    .with_hint("Check the path: relative paths start in the login user's home."),
                StatusCode::PermissionDenied => {
                    Error::new(ErrorKind::FilePermissionDenied, message).with_hint(
                        "The login user may not do this there: the directory may be read-only or \
                         belong to another user. Pick a place the user may write to, or change \
                         the mode or owner on the instance.",
                    )
                }
                StatusCode::OpUnsupported => Error::new(ErrorKind::Sftp, message)
                    .with_hint("The SFTP server on the instance does not support this operation."),
                StatusCode::NoConnection | StatusCode::ConnectionLost => lost(path.as_ref()),
                _ => Error::new(ErrorKind::Sftp, message),
            }
        }
        SftpError::Timeout => Error::new(
            ErrorKind::Timeout,
            format!("the SFTP server did not answer in time ({what} {path})"),
        )
        .with_hint("The instance or the link is overloaded; try again."),
        // The request map is cleared when the channel's reader ends: the link is gone.
        SftpError::IO(_) | SftpError::UnexpectedBehavior(_) => lost(path.as_ref()),
        SftpError::Limited(why) => Error::new(
            ErrorKind::Sftp,
            format!("cannot {what} {path}: {}", escape(&why)),
        ),
        SftpError::UnexpectedPacket => Error::new(
            ErrorKind::Sftp,
            format!("cannot {what} {path}: the SFTP server sent an unexpected reply"),
        ),
    }
}

/// The SFTP channel ended under an operation.
pub(crate) fn lost(path: &str) -> Error {
    Error::new(
        ErrorKind::ConnectionLost,
        format!("the SFTP session ended during the transfer of {path}: the connection was lost"),
    )
    .with_hint(
        "sshd on the instance stopped or the network dropped. Connect again (a fresh key is \
         pushed); an interrupted copy can continue where it stopped with resume.",
    )
}

/// A local file operation failing.
pub(crate) fn local(what: &str, path: &std::path::Path, e: std::io::Error) -> Error {
    let shown = escape(&path.to_string_lossy()).into_owned();
    let message = format!("cannot {what} {shown}: {e}");
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::new(ErrorKind::FileNotFound, message),
        std::io::ErrorKind::PermissionDenied => {
            Error::new(ErrorKind::FilePermissionDenied, message)
                .with_hint("Pick a local place you may read or write, or change its mode.")
        }
        _ => Error::new(ErrorKind::Io, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh_sftp::protocol::Status;

    fn status(code: StatusCode, text: &str) -> SftpError {
        SftpError::Status(Status {
            id: 1,
            status_code: code,
            error_message: text.into(),
            language_tag: "en".into(),
        })
    }

    #[test]
    fn the_servers_words_are_kept_escaped_and_the_kind_follows_the_status() {
        let e = remote(
            "create",
            "/srv/ro/x",
            status(StatusCode::PermissionDenied, "Permission denied\x1b[2J"),
        );
        assert_eq!(e.kind, ErrorKind::FilePermissionDenied);
        assert_eq!(
            e.message,
            "cannot create /srv/ro/x on the instance: Permission denied\\x1b[2J"
        );
        assert!(e.hint.unwrap().contains("read-only"));
        let e = remote("open", "/nope", status(StatusCode::NoSuchFile, ""));
        assert_eq!(e.kind, ErrorKind::FileNotFound);
        assert!(e.message.ends_with("No such file"), "{}", e.message);
        let e = remote(
            "read",
            "a",
            SftpError::UnexpectedBehavior("sender dropped".into()),
        );
        assert_eq!(e.kind, ErrorKind::ConnectionLost);
    }
}
