//! The text of `~/.ssh/keyless.conf`: a `Host` block per saved profile, then the patterns for
//! ad-hoc targets. `Host` blocks do not inherit from one another, so each repeats the lines that
//! make OpenSSH offer only Keyless's key and check host keys against Keyless's store.

use super::settings::SshConfig;
use super::words::{shell_word, ssh_word};
use crate::error::Result;
use crate::profiles::{Profile, Target};

/// The CLI's default login, as for `keyless ssh`.
const DEFAULT_USER: &str = "ec2-user";

const WHY: &str = "\
#
# In every block: IdentityFile none and Keyless's IdentityAgent offer only the one-time key Keyless
# makes for the connection (IdentitiesOnly yes would offer no agent key at all: none matches an
# identity file). OpenSSH writes newly accepted host keys to the first UserKnownHostsFile,
# /dev/null, and reads Keyless's store (pinned by instance id) as the second; Keyless's agent
# records accepted keys itself. UpdateHostKeys no: OpenSSH would replace the first file by rename.
# ForwardAgent no: the Keyless agent never leaves this machine.
";

/// A rendered config and what it left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// The profiles that got a `Host` block.
    pub hosts: Vec<String>,
    pub skipped: Vec<Skipped>,
}

/// A profile whose name OpenSSH cannot match as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: &'static str,
}

impl SshConfig {
    /// The whole file for these profiles, in their order.
    pub fn render(&self, profiles: &[Profile]) -> Result<Rendered> {
        let common = self.common_lines()?;
        let proxy = format!(
            "{} proxy --agent {}",
            shell_word(&self.cli_text()?),
            shell_word(&self.agent_text()?)
        );
        let mut text = format!("{}{WHY}", self.header()?);
        let (mut hosts, mut skipped) = (Vec::new(), Vec::new());
        for p in profiles {
            if let Some(reason) = host_problem(&p.name) {
                text.push_str(&format!("\n# skipped profile {}: {reason}\n", p.name));
                skipped.push(Skipped {
                    name: p.name.clone(),
                    reason,
                });
                continue;
            }
            text.push_str(&format!("\nHost {}\n", p.name));
            text.push_str(&format!(
                "    User {}\n",
                p.user.as_deref().unwrap_or(DEFAULT_USER)
            ));
            if let Some(port) = p.port {
                text.push_str(&format!("    Port {port}\n"));
            }
            if let Ok(Target::InstanceId(id)) = p.parsed_target() {
                // Keyless pins host keys by instance id; OpenSSH looks them up by this name.
                text.push_str(&format!("    HostKeyAlias {id}\n"));
            }
            text.push_str(&format!(
                "    ProxyCommand {proxy} -l '%r' -p '%p' {}\n{common}",
                shell_word(&format!("@{}", p.name))
            ));
            hosts.push(p.name.clone());
        }
        let flags: String = (self.ad_hoc.flags().iter())
            .map(|(flag, value)| format!(" {flag} {}", shell_word(value)))
            .collect();
        text.push_str(&format!(
            "\n# Targets named on the command line: ssh i-0123456789abcdef0, or ssh web.keyless for \
             the Name tag web.\nHost i-* *.keyless\n    User {DEFAULT_USER}\n    ProxyCommand \
             {proxy}{flags} -l '%r' -p '%p' '%n'\n{common}"
        ));
        Ok(Rendered {
            text,
            hosts,
            skipped,
        })
    }

    fn common_lines(&self) -> Result<String> {
        let agent = ssh_word(&self.agent_text()?);
        Ok(format!(
            "    IdentityAgent {agent}\n    IdentityFile none\n    IdentitiesOnly no\n    \
             PreferredAuthentications publickey\n    ForwardAgent no\n    UserKnownHostsFile \
             /dev/null {}\n    UpdateHostKeys no\n    KnownHostsCommand {} proxy-known-hosts \
             --agent {agent} %I %H %t %K\n",
            ssh_word(&self.known_hosts_text()?),
            ssh_word(&self.cli_text()?),
        ))
    }
}

/// Why `ssh NAME` could not reach a `Host NAME` block, if it could not. Profile names may hold
/// almost anything (see `profiles::model::validate_name`); OpenSSH's host patterns may not.
fn host_problem(name: &str) -> Option<&'static str> {
    if name.chars().any(char::is_whitespace) {
        Some("OpenSSH splits host patterns at spaces")
    } else if name.contains(['*', '?']) {
        Some("'*' and '?' are wildcards in OpenSSH host patterns")
    } else if name.contains(['!', ',']) {
        Some("'!' and ',' negate and separate OpenSSH host patterns")
    } else if name.contains('#') {
        Some("'#' starts a comment in an OpenSSH config")
    } else if name.contains('@') {
        Some("ssh reads NAME@HOST as a user and a host")
    } else if name.starts_with('=') {
        Some("OpenSSH reads a leading '=' as the keyword's separator")
    } else if name.contains(|c| "'\"`$\\;&<>|(){}".contains(c)) {
        Some("ssh refuses host names with quotes or shell characters")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::settings::{sample, AdHoc};
    use super::*;

    fn block<'a>(text: &'a str, host: &str) -> &'a str {
        let start = text
            .find(&format!("\nHost {host}\n"))
            .unwrap_or_else(|| panic!("no Host {host} in\n{text}"));
        let rest = &text[start + 1..];
        let end = rest.find("\n\n").map_or(rest.len(), |e| e + 1);
        &rest[..end]
    }

    const COMMON: &str = "    IdentityAgent \"/run/user/1000/keyless/agent.sock\"
    IdentityFile none
    IdentitiesOnly no
    PreferredAuthentications publickey
    ForwardAgent no
    UserKnownHostsFile /dev/null \"/home/u/.local/share/it's %%d/known_hosts\"
    UpdateHostKeys no
    KnownHostsCommand \"/opt/key less/bin/keyless\" proxy-known-hosts --agent \"/run/user/1000/keyless/agent.sock\" %I %H %t %K
";

    #[test]
    fn a_profile_block_carries_its_user_port_alias_and_name() {
        let mut web = Profile::new("web-prod", "i-0123456789abcdef0");
        web.user = Some("ubuntu".into());
        web.port = Some(2222);
        let out = sample().render(&[web]).unwrap();
        assert_eq!(
            block(&out.text, "web-prod"),
            format!(
                "Host web-prod
    User ubuntu
    Port 2222
    HostKeyAlias i-0123456789abcdef0
    ProxyCommand '/opt/key less/bin/keyless' proxy --agent '/run/user/1000/keyless/agent.sock' -l '%r' -p '%p' '@web-prod'
{COMMON}"
            )
        );
        assert_eq!(out.hosts, ["web-prod"]);
        assert!(out.text.starts_with(super::super::settings::GENERATED));
    }

    #[test]
    fn a_selector_profile_has_no_alias_port_or_user_of_its_own() {
        let out = (sample().render(&[Profile::new("api", "Env=prod,Role=api")])).unwrap();
        let api = block(&out.text, "api");
        assert!(
            api.starts_with("Host api\n    User ec2-user\n    ProxyCommand "),
            "{api}"
        );
        assert!(
            !api.contains("Port") && !api.contains("HostKeyAlias"),
            "{api}"
        );
    }

    #[test]
    fn the_ad_hoc_block_bakes_in_the_flags_in_order() {
        let out = sample().render(&[]).unwrap();
        assert_eq!(
            block(&out.text, "i-* *.keyless"),
            format!(
                "Host i-* *.keyless
    User ec2-user
    ProxyCommand '/opt/key less/bin/keyless' proxy --agent '/run/user/1000/keyless/agent.sock' --region 'eu-west-1' --profile 'work'\\''s' --via 'eice' -l '%r' -p '%p' '%n'
{COMMON}"
            )
        );
        let bare = SshConfig {
            ad_hoc: AdHoc::default(),
            ..sample()
        };
        let text = bare.render(&[]).unwrap().text;
        assert!(
            text.contains("agent.sock' -l '%r' -p '%p' '%n'\n"),
            "{text}"
        );
    }

    #[test]
    fn names_openssh_cannot_match_are_skipped_with_a_comment() {
        let names = [
            "web prod", "web*", "a,b", "!web", "x#y", "u@h", "=x", "a$b", "it's", "ok.%d",
        ];
        let profiles: Vec<Profile> = names.iter().map(|n| Profile::new(*n, "web")).collect();
        let out = sample().render(&profiles).unwrap();
        assert_eq!(out.hosts, ["ok.%d"]);
        assert_eq!(out.skipped.len(), names.len() - 1);
        assert!(
            out.text
                .contains("\n# skipped profile web prod: OpenSSH splits host patterns at spaces\n"),
            "{}",
            out.text
        );
        assert!(out.text.contains("-p '%p' '@ok.%%d'\n"), "{}", out.text);
        assert_eq!(out.text.matches("\nHost ").count(), 2);
    }

    #[test]
    fn a_path_openssh_cannot_hold_fails_the_render() {
        let odd = SshConfig {
            agent_socket: "/run/\"x\"/agent.sock".into(),
            ..sample()
        };
        let e = odd.render(&[]).unwrap_err();
        assert!(e.message.contains("agent socket"), "{e:?}");
        assert!(e.hint.unwrap().contains("XDG_RUNTIME_DIR"));
    }
}
