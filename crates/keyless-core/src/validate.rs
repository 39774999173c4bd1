//! Input checks that run before any network call, so a typo costs nothing and the error names the
//! bad value. The rules follow the EC2 Instance Connect API model (see shared/eic-facts.md).

use crate::error::{Error, Result};

/// `^i-[a-f0-9]+$`, 10–32 characters, as SendSSHPublicKey requires.
pub fn instance_id(id: &str) -> Result<()> {
    let hex = id.strip_prefix("i-").unwrap_or("");
    let ok = (10..=32).contains(&id.len())
        && !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("'{id}' is not an instance id"))
            .with_hint("Instance ids look like i-0123456789abcdef0 (lower-case hex)."))
    }
}

/// True when `target` has the shape of an instance id rather than a Name tag.
pub fn looks_like_instance_id(target: &str) -> bool {
    instance_id(target).is_ok()
}

/// OS user names: 1–32 characters of letters, digits, `.`, `_`, `-`, not starting with `-`.
pub fn os_user(user: &str) -> Result<()> {
    let ok = (1..=32).contains(&user.len())
        && !user.starts_with('-')
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(
            Error::invalid(format!("'{user}' is not a valid OS user name"))
                .with_hint("Use 1–32 letters, digits, '.', '_' or '-', e.g. ec2-user or ubuntu."),
        )
    }
}

/// AWS profile names as `~/.aws/config` can hold them: 1–128 characters, no whitespace, control
/// character or `]` (it would end the `[profile NAME]` header).
pub fn aws_profile(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ']');
    if ok {
        Ok(())
    } else {
        Err(
            Error::invalid(format!("'{name}' is not an AWS profile name"))
                .with_hint("Use a profile name of ~/.aws/config, without spaces."),
        )
    }
}

/// Ports 1–65535.
pub fn port(port: u32) -> Result<u16> {
    match u16::try_from(port) {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(Error::invalid(format!("port {port} is out of range"))
            .with_hint("Ports go from 1 to 65535.")),
    }
}

/// AWS region names: `xx-word(-word)*-N`, e.g. `us-east-1`, `us-gov-west-1`.
/// `maxTunnelDuration` in whole seconds, 1 to 3600 (AWS's own limit is one hour).
pub fn max_tunnel_duration(text: &str) -> Result<std::time::Duration> {
    match text.trim().parse::<u64>() {
        Ok(secs) if (1..=3600).contains(&secs) => Ok(std::time::Duration::from_secs(secs)),
        _ => Err(Error::invalid(format!(
            "'{}' is not a tunnel duration",
            text.escape_debug()
        ))
        .with_hint("Give whole seconds from 1 to 3600 (EICE tunnels last at most one hour).")),
    }
}

pub fn region(region: &str) -> Result<()> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(())
    } else {
        Err(
            Error::invalid(format!("'{region}' is not an AWS region name"))
                .with_hint("Region names look like us-east-1 or eu-west-1."),
        )
    }
}

/// A name or id to connect to: an instance id is checked fully; a Name tag only for emptiness.
pub fn target(target: &str) -> Result<()> {
    if target.trim().is_empty() {
        return Err(Error::invalid("the target is empty")
            .with_hint("Give an instance id (i-0123…) or the instance's Name tag."));
    }
    if target.starts_with("i-") && target[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        // Looks meant as an id: insist on the exact rule so "i-ABC" gets a clear message.
        return instance_id(target);
    }
    Ok(())
}

/// Splits `USER@TARGET`; the user is optional.
pub fn split_user_target(spec: &str) -> (Option<&str>, &str) {
    match spec.rsplit_once('@') {
        Some((user, target)) => (Some(user), target),
        None => (None, spec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids() {
        assert!(instance_id("i-0123456789abcdef0").is_ok());
        assert!(instance_id("i-12345678").is_ok());
        for bad in [
            "",
            "i-",
            "i-123",
            "i-0123456789ABCDEF0",
            "x-0123456789",
            "i-0123456789abcdefg",
        ] {
            let e = instance_id(bad).unwrap_err();
            assert!(e.message.contains(&format!("'{bad}'")), "{e:?}");
        }
        assert!(instance_id(&format!("i-{}", "a".repeat(31))).is_err());
    }

    #[test]
    fn targets_distinguish_ids_from_names() {
        assert!(target("web").is_ok());
        assert!(target("café-α").is_ok());
        assert!(target("i-am-a-name").is_ok());
        assert!(target("i-0123456789abcdef0").is_ok());
        assert_eq!(
            target("i-0ABC123456").unwrap_err().kind,
            crate::ErrorKind::InvalidInput
        );
        assert!(target("  ").is_err());
        assert!(looks_like_instance_id("i-0123456789abcdef0"));
        assert!(!looks_like_instance_id("web"));
    }

    #[test]
    fn users_ports_regions() {
        assert!(os_user("ec2-user").is_ok());
        assert!(os_user("ubuntu").is_ok());
        assert!(os_user("").is_err());
        assert!(os_user("-rf").is_err());
        assert!(os_user("a b").is_err());
        assert!(os_user("x;rm").is_err());
        assert!(os_user(&"u".repeat(33)).is_err());
        assert_eq!(port(22).unwrap(), 22);
        assert!(port(0).is_err());
        assert!(port(65536).unwrap_err().message.contains("65536"));
        for ok in ["us-east-1", "eu-west-1", "us-gov-west-1", "ap-southeast-2"] {
            assert!(region(ok).is_ok(), "{ok}");
        }
        for bad in ["", "us-east", "US-EAST-1", "useast1", "us--1", "us-east-x"] {
            assert!(region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aws_profile_names() {
        assert!(aws_profile("corp-admin").is_ok());
        assert!(aws_profile("it's").is_ok());
        for bad in ["", "a b", "x]", "t\tab", &"p".repeat(129)] {
            let e = aws_profile(bad).unwrap_err();
            assert!(e.message.contains("is not an AWS profile name"), "{e:?}");
        }
    }

    #[test]
    fn user_target_split() {
        assert_eq!(split_user_target("ubuntu@web"), (Some("ubuntu"), "web"));
        assert_eq!(split_user_target("web"), (None, "web"));
        assert_eq!(split_user_target("@web"), (Some(""), "web"));
    }
}
