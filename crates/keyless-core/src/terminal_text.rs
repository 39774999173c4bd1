//! Untrusted text made safe to print on a terminal.
//!
//! Name tags and tag values belong to whoever holds `ec2:CreateTags`; AWS error messages, STS
//! answers and the SSO verification URL come from the network. Printed raw, an `ESC ] 0 ;` sequence
//! retitles the window, a CSI sequence moves the cursor or hides text, and U+202E turns
//! `web-prod` into something else on screen. Like OpenSSH's `strnvis`, every such character is
//! shown *visibly* (`\x1b`, `\u202e`) so the user sees that something odd is in the text, rather
//! than silently dropped. JSON output does not need this: JSON escapes control characters itself.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every C0 control (newline and tab included), DEL, C1 control and Unicode bidi
/// control written as a visible escape: `\x1b`, `\x7f`, `\u009b`, `\u202e`. Text without any comes
/// back borrowed.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// Like [`escape`], but a `\n` stays a line break: for messages Keyless itself composes over
/// several lines (a list of candidates) with untrusted parts inside. Each line is still escaped,
/// so a `\r` cannot rewrite the line it is on.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

/// True for a character that must not reach a terminal as itself.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The bidi formatting characters of UAX #9 (embeddings, overrides, isolates, their terminators)
/// and the implicit marks (LRM, RLM, ALM): each can reorder what is shown around it.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

fn escape_with(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let needs = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_returned_unchanged_and_borrowed() {
        for s in [
            "web-prod",
            "café-α",
            "数据库",
            "a\\x1b literal backslash",
            "",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(t) if t == s), "{s}");
        }
    }

    #[test]
    fn an_osc_title_sequence_is_shown_not_sent() {
        assert_eq!(
            escape("web\x1b]0;pwned\x07-prod"),
            "web\\x1b]0;pwned\\x07-prod"
        );
    }

    #[test]
    fn c0_del_and_c1_controls_are_escaped() {
        assert_eq!(escape("a\tb\r\nc\x7f\0"), "a\\x09b\\x0d\\x0ac\\x7f\\x00");
        // U+009B is a one-character CSI for terminals that read C1 controls.
        assert_eq!(escape("x\u{9b}31m\u{85}"), "x\\u009b31m\\u0085");
    }

    #[test]
    fn bidi_overrides_isolates_and_marks_are_escaped() {
        assert_eq!(escape("web\u{202e}dorp"), "web\\u202edorp");
        let all = "\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{200f}\u{61c}";
        let escaped = escape(all);
        assert_eq!(
            escaped,
            "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"
        );
        assert!(!escaped.chars().any(is_unsafe));
    }

    #[test]
    fn escape_lines_keeps_line_breaks_only() {
        assert_eq!(
            escape_lines("matches:\n  i-1  web\x1b[2J\r\n  i-2  db"),
            "matches:\n  i-1  web\\x1b[2J\\x0d\n  i-2  db"
        );
        assert!(matches!(escape_lines("a\nb"), Cow::Borrowed(_)));
    }
}
