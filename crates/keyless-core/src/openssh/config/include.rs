//! The one line `~/.ssh/config` needs, as text: found in any spelling OpenSSH accepts, added at
//! the very top, taken out again. At the top because an `Include` inside a `Host` or `Match`
//! block applies only there, and OpenSSH keeps the first value of each option: our blocks must
//! come before the user's `Host *`.

/// What `--install` puts above the user's first line.
pub(super) const BLOCK: &str = "\
# Added by keyless ssh-config --install (--uninstall removes it). Keep it first: OpenSSH uses
# the first value it reads, and an Include inside a Host block applies only to that block.
Include ~/.ssh/keyless.conf
";

/// `text` with our Include on top, or None when a line already includes `keyless.conf`
/// (`absolute` is its full path). The user's bytes follow unchanged.
pub(super) fn add(text: &str, absolute: &str) -> Option<String> {
    if text.lines().any(|l| includes_ours(l, absolute).is_some()) {
        return None;
    }
    let gap = if text.is_empty() { "" } else { "\n" };
    Some(format!("{BLOCK}{gap}{text}"))
}

/// `text` without our Include: the block `add` wrote, and any other `Include` line that names
/// only `keyless.conf` (moved by hand). A line that names other files too is left: OpenSSH skips
/// an included file that does not exist. None when nothing changes.
pub(super) fn remove(text: &str, absolute: &str) -> Option<String> {
    let rest = (text.strip_prefix(&format!("{BLOCK}\n")))
        .or_else(|| text.strip_prefix(BLOCK))
        .unwrap_or(text);
    let kept: String = (rest.split_inclusive('\n'))
        .filter(|l| includes_ours(l, absolute) != Some(true))
        .collect();
    (kept != text).then_some(kept)
}

/// For an `Include` line that names `keyless.conf`: whether that is all it names. None for any
/// other line.
fn includes_ours(line: &str, absolute: &str) -> Option<bool> {
    let line = line.trim_start();
    let end = line.find(|c: char| c.is_whitespace() || c == '=')?;
    if !line[..end].eq_ignore_ascii_case("include") {
        return None;
    }
    let args = words(
        line[end..]
            .trim_start()
            .strip_prefix('=')
            .unwrap_or(&line[end..]),
    );
    let ours = |a: &String| ["keyless.conf", "~/.ssh/keyless.conf", absolute].contains(&a.as_str());
    args.iter().any(ours).then(|| args.iter().all(ours))
}

/// The arguments of a config line as OpenSSH splits them: whitespace, `"…"` or `'…'` quotes, a
/// word starting with `#` ends the line.
fn words(text: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            None if c == '#' && !in_word => break,
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABS: &str = "/home/u/.ssh/keyless.conf";

    #[test]
    fn every_spelling_of_our_include_counts_as_installed() {
        for line in [
            "Include ~/.ssh/keyless.conf",
            "include keyless.conf",
            "  INCLUDE=/home/u/.ssh/keyless.conf",
            "Include = \"keyless.conf\"",
            "Include other.conf '~/.ssh/keyless.conf' # ours",
            "\tInclude\t~/.ssh/keyless.conf\r",
        ] {
            let text = format!("Host a\n  User b\n{line}\n");
            assert_eq!(add(&text, ABS), None, "{line}");
        }
        for line in [
            "# Include keyless.conf",
            "Include keyless.conf.d",
            "Include other.conf # keyless.conf",
            "IncludeX keyless.conf",
            "Host keyless.conf",
        ] {
            assert!(add(&format!("{line}\n"), ABS).is_some(), "{line}");
        }
    }

    #[test]
    fn the_include_goes_on_top_and_the_users_bytes_follow() {
        let user = "# mine\r\nHost *\n    User me\n\n\n";
        let added = add(user, ABS).unwrap();
        assert_eq!(added, format!("{BLOCK}\n{user}"));
        assert_eq!(add(&added, ABS), None);
        assert_eq!(remove(&added, ABS).as_deref(), Some(user));
        assert_eq!(add("", ABS).as_deref(), Some(BLOCK));
        assert_eq!(remove(BLOCK, ABS).as_deref(), Some(""));
    }

    #[test]
    fn remove_takes_moved_lines_and_leaves_shared_ones() {
        let text = "Host *\n  User me\nInclude=keyless.conf\nInclude other.conf keyless.conf\n";
        assert_eq!(
            remove(text, ABS).as_deref(),
            Some("Host *\n  User me\nInclude other.conf keyless.conf\n")
        );
        assert_eq!(remove("Host *\n", ABS), None);
    }

    #[test]
    fn words_split_like_openssh() {
        assert_eq!(words(" a \"b c\" 'd#' e#f #g h"), ["a", "b c", "d#", "e#f"]);
    }
}
