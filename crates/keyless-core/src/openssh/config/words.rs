//! How values are written into the generated config so that OpenSSH and the shell read back
//! exactly them. OpenSSH expands `%` tokens in every directive a path goes into, hands
//! ProxyCommand to the shell, and splits the other directives itself with double quotes (and
//! backslash escapes only since 8.7): a path that would need an escape is refused, never written
//! in a way some OpenSSH reads differently.

use crate::error::{Error, Result};
use std::path::Path;

/// One shell word for ProxyCommand: single-quoted (a `'` as `'\''`), `%` doubled.
pub(super) fn shell_word(text: &str) -> String {
    format!("'{}'", text.replace('%', "%%").replace('\'', r"'\''"))
}

/// One word of a directive OpenSSH splits itself: double-quoted, `%` doubled. Only for text that
/// [`config_path`] accepted.
pub(super) fn ssh_word(text: &str) -> String {
    format!("\"{}\"", text.replace('%', "%%"))
}

/// `path` as text the config can hold: absolute, UTF-8, without `"`, `\`, `${` (OpenSSH expands
/// environment variables in it) or control characters. `what` names it in the error, `hint` says
/// how to get another path.
pub(super) fn config_path(what: &str, path: &Path, hint: &str) -> Result<String> {
    let refuse = |why: &str| {
        Error::invalid(format!(
            "the {what} path {} {why}, which an OpenSSH config cannot hold",
            path.display().to_string().escape_debug()
        ))
        .with_hint(hint.to_owned())
    };
    let text = path.to_str().ok_or_else(|| refuse("is not UTF-8"))?;
    if !path.is_absolute() {
        return Err(refuse("is not absolute"));
    }
    if text.contains('"') {
        return Err(refuse("contains '\"'"));
    }
    if text.contains('\\') {
        return Err(refuse("contains '\\'"));
    }
    if text.contains("${") {
        return Err(refuse("contains '${'"));
    }
    if text.chars().any(char::is_control) {
        return Err(refuse("contains a newline or control character"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_quotes_and_percent_tokens() {
        assert_eq!(shell_word("/usr/bin/keyless"), "'/usr/bin/keyless'");
        assert_eq!(shell_word("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(shell_word("/x/%d/$HOME`id`"), "'/x/%%d/$HOME`id`'");
    }

    #[test]
    fn openssh_words_double_percent() {
        assert_eq!(ssh_word("/run/a b/'q'/%h"), "\"/run/a b/'q'/%%h\"");
    }

    #[test]
    fn paths_openssh_cannot_hold_are_refused_with_the_reason() {
        let ok = config_path("agent socket", Path::new("/run/a b/#x/it's"), "h").unwrap();
        assert_eq!(ok, "/run/a b/#x/it's");
        for (bad, why) in [
            ("/a\"b", "'\"'"),
            ("/a\\b", "'\\'"),
            ("/a/${HOME}", "'${'"),
            ("/a\nb", "newline"),
            ("relative/sock", "not absolute"),
        ] {
            let e =
                config_path("agent socket", Path::new(bad), "Set XDG_RUNTIME_DIR.").unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::InvalidInput);
            assert!(
                e.message.contains("agent socket") && e.message.contains(why),
                "{e:?}"
            );
            assert_eq!(e.hint.as_deref(), Some("Set XDG_RUNTIME_DIR."));
        }
    }
}
