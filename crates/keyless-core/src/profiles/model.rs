//! A saved connection profile and the rules its fields follow.

use super::saved_forward::SavedForward;
use super::target::Target;
use crate::address::Via;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One saved connection. Unset fields fall back to the usual defaults when connecting (the AWS
/// profile and region aws-config picks, `ec2-user`, port 22 or `KEYLESS_SSH_PORT`, private).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Unique, 1–64 characters.
    pub name: String,
    /// A folder for the app's sidebar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// An instance id, or a tag selector such as `Name=web-*` or `Env=prod,Role=api`.
    pub target: String,
    /// A profile of `~/.aws/config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The OS user to log in as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// Seconds after which an EICE tunnel is closed (`maxTunnelDuration`, 1–3600): needed when
    /// an IAM policy allows less than AWS's hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tunnel_duration: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// RFC 3339, set when a connection through this profile succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// Port forwards to run on this profile's connection (files from before they existed load
    /// with none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwards: Vec<SavedForward>,
    /// Reconnect the forwards by themselves, with back-off, when the connection drops.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconnect_forwards: bool,
}

/// More would be a list nobody reads in a sidebar.
pub const FORWARDS_MAX: usize = 32;

pub const NAME_MAX: usize = 64;
pub const NOTES_MAX: usize = 4096;

impl Profile {
    pub fn new(name: impl Into<String>, target: impl Into<String>) -> Self {
        Profile {
            name: name.into(),
            group: None,
            target: target.into(),
            aws_profile: None,
            region: None,
            user: None,
            port: None,
            via: None,
            max_tunnel_duration: None,
            notes: None,
            last_used: None,
            forwards: Vec::new(),
            reconnect_forwards: false,
        }
    }

    /// Every field checked; the error names the profile and the bad value.
    pub fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        let ctx = |e: Error| Error {
            message: format!("profile '{}': {}", self.name, e.message),
            ..e
        };
        if let Some(group) = &self.group {
            label("group", group, NAME_MAX).map_err(ctx)?;
        }
        self.parsed_target().map_err(ctx)?;
        if let Some(p) = &self.aws_profile {
            crate::validate::aws_profile(p).map_err(ctx)?;
        }
        if let Some(r) = &self.region {
            crate::validate::region(r).map_err(ctx)?;
        }
        if let Some(u) = &self.user {
            crate::validate::os_user(u).map_err(ctx)?;
        }
        if let Some(p) = self.port {
            crate::validate::port(u32::from(p)).map_err(ctx)?;
        }
        if let Some(secs) = self.max_tunnel_duration {
            crate::validate::max_tunnel_duration(&secs.to_string()).map_err(ctx)?;
        }
        if let Some(n) = &self.notes {
            if n.chars().count() > NOTES_MAX {
                return Err(ctx(Error::invalid(format!(
                    "the notes are longer than {NOTES_MAX} characters"
                ))));
            }
        }
        if self.forwards.len() > FORWARDS_MAX {
            return Err(ctx(Error::invalid(format!(
                "{} forwards is more than the {FORWARDS_MAX} a profile may keep",
                self.forwards.len()
            ))));
        }
        for f in &self.forwards {
            f.spec().map_err(ctx)?;
        }
        if let Some(t) = &self.last_used {
            if !super::timefmt::looks_rfc3339(t) {
                return Err(ctx(Error::invalid(format!(
                    "last_used '{t}' is not an RFC 3339 time"
                ))
                .with_hint(
                    "Use a time like 2026-01-31T09:30:00Z, or remove the field.",
                )));
            }
        }
        Ok(())
    }

    /// [`Self::max_tunnel_duration`] as a duration.
    pub fn max_tunnel(&self) -> Option<std::time::Duration> {
        (self.max_tunnel_duration).map(|s| std::time::Duration::from_secs(u64::from(s)))
    }

    pub fn parsed_target(&self) -> Result<Target> {
        Target::parse(&self.target)
    }

    /// The same profile without the field that changes on every use.
    pub(crate) fn same_settings(&self, other: &Profile) -> bool {
        Profile {
            last_used: None,
            ..self.clone()
        } == Profile {
            last_used: None,
            ..other.clone()
        }
    }
}

/// Profile names: 1–64 characters, no control characters, no surrounding spaces, and not starting
/// with `@` or `-` (they would read as `ssh @NAME` or as an option).
pub fn validate_name(name: &str) -> Result<()> {
    label("name", name, NAME_MAX)?;
    if name.starts_with(['@', '-']) {
        return Err(Error::invalid(format!(
            "the profile name '{name}' starts with '{}'",
            &name[..1]
        ))
        .with_hint("Start the name with a letter or digit."));
    }
    Ok(())
}

fn label(what: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n == 0 || n > max {
        return Err(Error::invalid(format!(
            "the {what} '{value}' must be 1–{max} characters (it has {n})"
        )));
    }
    if value.trim() != value || value.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "the {what} '{}' has surrounding spaces or control characters",
            value.escape_debug()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_and_errors_name_the_value() {
        let mut p = Profile::new("web prod", "Env=prod,Role=web");
        p.user = Some("ubuntu".into());
        p.region = Some("eu-west-1".into());
        p.port = Some(2222);
        p.via = Some(Via::Public);
        p.validate().unwrap();
        for (edit, needle) in [
            (
                Profile {
                    name: "".into(),
                    ..p.clone()
                },
                "''",
            ),
            (
                Profile {
                    name: "x".repeat(65),
                    ..p.clone()
                },
                "65",
            ),
            (
                Profile {
                    name: "@web".into(),
                    ..p.clone()
                },
                "'@web'",
            ),
            (
                Profile {
                    name: " web".into(),
                    ..p.clone()
                },
                "' web'",
            ),
            (
                Profile {
                    user: Some("a b".into()),
                    ..p.clone()
                },
                "'a b'",
            ),
            (
                Profile {
                    region: Some("mars-1".into()),
                    ..p.clone()
                },
                "'mars-1'",
            ),
            (
                Profile {
                    target: "Env=prod,Role".into(),
                    ..p.clone()
                },
                "Env",
            ),
            (
                Profile {
                    port: Some(0),
                    ..p.clone()
                },
                "0",
            ),
            (
                Profile {
                    group: Some("".into()),
                    ..p.clone()
                },
                "group",
            ),
            (
                Profile {
                    last_used: Some("today".into()),
                    ..p.clone()
                },
                "'today'",
            ),
        ] {
            let e = edit.validate().unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::InvalidInput);
            assert!(e.message.contains(needle), "{needle}: {e:?}");
        }
        assert!(validate_name(&"é".repeat(64)).is_ok());
    }
}
