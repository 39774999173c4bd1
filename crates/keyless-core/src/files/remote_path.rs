//! Remote paths as SFTP spells them: `/`-separated text, whatever this machine's separator is.

/// `dir/name`, without doubling a `/`; an empty `dir` is the working directory.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.to_owned()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The last component: `a/b/` → `b`, `/` → `/`, `` → `.`.
pub fn file_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// Everything before the last component: `a/b` → `a`, `/b` → `/`, `b` → `` (the working dir).
pub fn parent(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => "/",
        Some(i) => &trimmed[..i],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_file_name_and_parent_follow_sftp_paths() {
        assert_eq!(join("/srv", "a b"), "/srv/a b");
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("", "x"), "x");
        assert_eq!(join(".", "x"), "x");
        assert_eq!(file_name("/var/log/syslog"), "syslog");
        assert_eq!(file_name("logs/"), "logs");
        assert_eq!(file_name("/"), "/");
        assert_eq!(file_name(""), ".");
        assert_eq!(parent("/var/log"), "/var");
        assert_eq!(parent("/var"), "/");
        assert_eq!(parent("x"), "");
        assert_eq!(parent("a/b/"), "a");
    }
}
