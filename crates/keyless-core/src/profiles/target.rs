//! What a profile connects to: an instance id, or a tag selector resolved at connect time.
//!
//! Selector syntax: `KEY=VALUE[,KEY=VALUE…]`, every pair must match (AND); `*` matches any run of
//! characters and `?` one character, as in EC2's own filters. A bare word (`web`) means `Name=web`.

use crate::error::{Error, Result};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    InstanceId(String),
    Tags(Vec<(String, String)>),
}

impl Target {
    pub fn parse(text: &str) -> Result<Target> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::invalid("the target is empty").with_hint(
                "Give an instance id (i-0123…) or a tag selector such as Name=web-* or \
                 Env=prod,Role=api.",
            ));
        }
        if !text.contains('=') {
            crate::validate::target(text)?;
            if crate::validate::looks_like_instance_id(text) {
                return Ok(Target::InstanceId(text.to_owned()));
            }
            if text.contains(',') {
                return Err(bad_selector(text, "a bare name cannot contain ','"));
            }
            return Ok(Target::Tags(vec![("Name".into(), text.to_owned())]));
        }
        let mut tags = Vec::new();
        for part in text.split(',') {
            let Some((key, value)) = part.split_once('=') else {
                return Err(bad_selector(text, &format!("'{part}' is not KEY=VALUE")));
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                return Err(bad_selector(text, &format!("'{part}' has no tag key")));
            }
            if key.len() > 128 || value.len() > 256 {
                return Err(bad_selector(
                    text,
                    "tag keys are at most 128 characters, values 256",
                ));
            }
            if tags.iter().any(|(k, _): &(String, String)| k == key) {
                return Err(bad_selector(
                    text,
                    &format!("the tag '{key}' appears twice"),
                ));
            }
            tags.push((key.to_owned(), value.to_owned()));
        }
        Ok(Target::Tags(tags))
    }

    /// True when every tag pair matches (wildcards in the values).
    pub fn matches_tags(&self, tags: &std::collections::BTreeMap<String, String>) -> bool {
        match self {
            Target::InstanceId(_) => false,
            Target::Tags(wanted) => wanted
                .iter()
                .all(|(k, pattern)| tags.get(k).is_some_and(|v| glob_match(pattern, v))),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::InstanceId(id) => f.write_str(id),
            Target::Tags(tags) => {
                let parts: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

fn bad_selector(text: &str, why: &str) -> Error {
    Error::invalid(format!("'{text}' is not a valid target: {why}")).with_hint(
        "Use an instance id (i-0123456789abcdef0), a name (web), or tags: Name=web-* or \
         Env=prod,Role=api.",
    )
}

/// EC2 filter wildcards: `*` any run (also empty), `?` exactly one character. Case-sensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_names_and_selectors() {
        assert_eq!(
            Target::parse("i-0123456789abcdef0").unwrap(),
            Target::InstanceId("i-0123456789abcdef0".into())
        );
        assert_eq!(
            Target::parse("web").unwrap(),
            Target::Tags(vec![("Name".into(), "web".into())])
        );
        assert_eq!(
            Target::parse("Env=prod, Role=api").unwrap().to_string(),
            "Env=prod,Role=api"
        );
        assert_eq!(Target::parse("Name=").unwrap().to_string(), "Name=");
        for bad in [
            "",
            "=x",
            "Env=prod,Role",
            "Env=a,Env=b",
            "i-0ABC123456",
            "a,b",
        ] {
            let e = Target::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::InvalidInput, "{bad}");
        }
        assert!(Target::parse("Env=prod,Role")
            .unwrap_err()
            .message
            .contains("'Role'"));
    }

    #[test]
    fn wildcards_follow_ec2() {
        assert!(glob_match("web-*", "web-1"));
        assert!(glob_match("web-*", "web-"));
        assert!(!glob_match("web-*", "web"));
        assert!(glob_match("w?b", "web"));
        assert!(!glob_match("w?b", "wb"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("Web", "web"));
        assert!(glob_match("caf?-α", "café-α"));
        let tags = [
            ("Env".to_string(), "prod".to_string()),
            ("Role".into(), "db".into()),
        ]
        .into_iter()
        .collect();
        assert!(Target::parse("Env=prod,Role=d*")
            .unwrap()
            .matches_tags(&tags));
        assert!(!Target::parse("Env=prod,Role=web")
            .unwrap()
            .matches_tags(&tags));
        assert!(!Target::parse("Owner=*").unwrap().matches_tags(&tags));
    }
}
