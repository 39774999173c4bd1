//! scp's rules for where sources land: an existing directory as the destination receives each
//! source inside it under its own name; otherwise the destination is the new name, which only
//! works for one source.

use crate::error::{Error, Result};

/// Where the source named `name` goes.
pub(super) fn target<'a>(dest: &str, dest_is_dir: bool, name: &'a str) -> Target<'a> {
    if dest_is_dir {
        Target::Inside(name)
    } else {
        Target::Itself(dest.to_owned())
    }
}

pub(super) enum Target<'a> {
    /// `dest/name`.
    Inside(&'a str),
    /// `dest` itself.
    Itself(String),
}

/// Refuses what cannot work before anything is copied.
pub(super) fn check(
    sources: usize,
    dest: &str,
    dest_is_dir: bool,
    dest_exists: bool,
) -> Result<()> {
    if sources == 0 {
        return Err(Error::invalid("nothing to copy: no source was given"));
    }
    if sources > 1 && !dest_is_dir {
        let why = if dest_exists {
            "is not a directory"
        } else {
            "does not exist"
        };
        return Err(Error::invalid(format!(
            "cannot copy {sources} sources to {}: it {why}",
            crate::terminal_text::escape(dest)
        ))
        .with_hint("Several sources go into an existing directory; create it first."));
    }
    if !dest_is_dir && dest.ends_with('/') {
        return Err(Error::invalid(format!(
            "{} is not an existing directory",
            crate::terminal_text::escape(dest)
        ))
        .with_hint("Create the directory first, or leave out the trailing '/'."));
    }
    Ok(())
}

/// A name from a directory listing that cannot be used as one path component (a hostile server
/// could send `../x` or `a/b` to write outside the destination).
pub(super) fn unsafe_name(name: &str) -> bool {
    name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_sources_need_an_existing_directory() {
        assert!(check(1, "new-name", false, false).is_ok());
        assert!(check(2, "dir", true, true).is_ok());
        let e = check(2, "file", false, true).unwrap_err();
        assert!(e.message.contains("is not a directory"), "{}", e.message);
        let e = check(2, "nope", false, false).unwrap_err();
        assert!(e.message.contains("does not exist"), "{}", e.message);
        assert!(check(1, "nope/", false, false).is_err());
        assert!(check(0, "d", true, true).is_err());
        assert!(matches!(target("d", true, "x"), Target::Inside("x")));
        assert!(matches!(target("f", false, "x"), Target::Itself(f) if f == "f"));
    }

    #[test]
    fn names_that_climb_or_nest_are_unsafe() {
        for bad in ["", ".", "..", "../x", "a/b", "x\0"] {
            assert!(unsafe_name(bad), "{bad:?}");
        }
        for ok in ["a b", "café", ".hidden", "..x"] {
            assert!(!unsafe_name(ok), "{ok}");
        }
    }
}
