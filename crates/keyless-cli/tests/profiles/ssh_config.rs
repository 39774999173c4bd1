//! `keyless ssh-config --install` in a private HOME, read back by the system's own OpenSSH parser
//! (`ssh -G`: configuration only, no network) as plain `ssh`, scp and VS Code would read it.

use super::Home;
use crate::common::Output;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A HOME with the Keyless folders and the runtime folder where the OpenSSH config names them:
/// a space, a quote and a `%` in the data folder prove how each is written.
struct Setup {
    h: Home,
    data: PathBuf,
    runtime: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let h = Home::new();
        let data = h.dir.path().join("data 'q' %h");
        let runtime = h.dir.path().join("run time");
        Setup { h, data, runtime }
    }

    fn ssh_dir(&self) -> PathBuf {
        self.h.dir.path().join(".ssh")
    }

    fn keyless(&self, args: &[&str]) -> Output {
        let out = (self.h.command(args))
            .env("KEYLESS_CONFIG_DIR", self.h.dir.path().join("cfg"))
            .env("KEYLESS_DATA_DIR", &self.data)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .output()
            .unwrap();
        let out = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_eq!(out.code, 0, "keyless {args:?}: {out:?}");
        out
    }

    /// What OpenSSH makes of `~/.ssh/config` for `host`: option → values, as `ssh -G` prints them.
    fn ssh_g(&self, host: &str) -> HashMap<String, Vec<String>> {
        let out = std::process::Command::new("ssh")
            .arg("-G")
            .arg("-F")
            .arg(self.ssh_dir().join("config"))
            .arg(host)
            .env_clear()
            .env("HOME", self.h.dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("OpenSSH's ssh is installed");
        assert!(out.status.success(), "ssh -G {host}: {out:?}");
        let mut options: HashMap<String, Vec<String>> = HashMap::new();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            options.entry(key.into()).or_default().push(value.into());
        }
        options
    }
}

fn one<'a>(options: &'a HashMap<String, Vec<String>>, key: &str) -> &'a str {
    match options.get(key).map(Vec::as_slice) {
        Some([value]) => value,
        other => panic!("{key}: {other:?}"),
    }
}

#[test]
fn install_is_read_by_openssh_kept_current_by_profile_commands_and_uninstalled() {
    let s = Setup::new();
    fs::create_dir(s.ssh_dir()).unwrap();
    let config = s.ssh_dir().join("config");
    let user = "# my own settings\nHost *\n    User someone-else\n    Port 2200\n";
    fs::write(&config, user).unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
    s.keyless(&[
        "profile",
        "add",
        "web-prod",
        "--target",
        "i-0123456789abcdef0",
        "--user",
        "ubuntu",
        "-p",
        "2222",
    ]);

    let first = s.keyless(&["ssh-config", "--install", "--region", "eu-west-1"]);
    assert!(first.stderr.contains("keyless: wrote "), "{first:?}");
    assert!(
        first
            .stderr
            .contains("added `Include ~/.ssh/keyless.conf` on top of"),
        "{first:?}"
    );
    let again = s.keyless(&["ssh-config", "--install", "--region", "eu-west-1"]);
    assert!(again.stderr.contains("is up to date"), "{again:?}");
    assert!(again.stderr.contains("already includes it"), "{again:?}");
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.ends_with(&format!("\n{user}")), "{text}");
    let includes = text.lines().filter(|l| l.starts_with("Include "));
    assert_eq!(includes.count(), 1, "{text}");
    assert!(text.starts_with("# Added by keyless ssh-config"), "{text}");
    assert_eq!(
        fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let backups: Vec<_> = (fs::read_dir(s.ssh_dir()).unwrap().flatten())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("config.keyless-backup-")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(fs::read_to_string(backups[0].path()).unwrap(), user);

    // A profile added later gets its block without another --install.
    let added = s.keyless(&["profile", "add", "lab", "--target", "Env=lab,Role=web"]);
    assert!(added.stderr.contains("keyless: updated "), "{added:?}");
    let conf = fs::read_to_string(s.ssh_dir().join("keyless.conf")).unwrap();
    assert!(conf.contains("\nHost lab\n"), "{conf}");

    let cli = fs::canonicalize(crate::common::bin()).unwrap();
    let cli = cli.to_str().unwrap();
    let sock = s.runtime.join("keyless/agent.sock");
    let sock = sock.to_str().unwrap();
    let known_hosts = format!("/dev/null {}/known_hosts", s.data.display());
    let known_hosts_command = format!("\"{cli}\" proxy-known-hosts --agent \"{sock}\" %I %H %t %K");
    let keyless_only = |o: &HashMap<String, Vec<String>>| {
        assert_eq!(one(o, "identityagent"), sock);
        assert_eq!(one(o, "identityfile"), "none");
        assert_eq!(one(o, "identitiesonly"), "no");
        assert_eq!(one(o, "preferredauthentications"), "publickey");
        assert_eq!(one(o, "forwardagent"), "no");
        assert_eq!(one(o, "updatehostkeys"), "false");
        assert_eq!(one(o, "userknownhostsfile"), known_hosts);
        assert_eq!(one(o, "knownhostscommand"), known_hosts_command);
    };

    let web = s.ssh_g("web-prod");
    assert_eq!(one(&web, "user"), "ubuntu");
    assert_eq!(one(&web, "port"), "2222");
    assert_eq!(one(&web, "hostkeyalias"), "i-0123456789abcdef0");
    assert_eq!(
        one(&web, "proxycommand"),
        format!("'{cli}' proxy --agent '{sock}' -l '%r' -p '%p' '@web-prod'")
    );
    keyless_only(&web);

    let lab = s.ssh_g("lab");
    assert_eq!(
        one(&lab, "user"),
        "ec2-user",
        "ours come before the user's Host *"
    );
    assert_eq!(one(&lab, "port"), "2200", "no Port of its own: the user's");
    assert!(!lab.contains_key("hostkeyalias"), "{lab:?}");
    assert!(one(&lab, "proxycommand").ends_with(" '@lab'"), "{lab:?}");
    keyless_only(&lab);

    for ad_hoc in ["lab-web.keyless", "i-0123456789abcdef0"] {
        let o = s.ssh_g(ad_hoc);
        assert_eq!(one(&o, "user"), "ec2-user");
        assert!(!o.contains_key("hostkeyalias"), "{o:?}");
        assert_eq!(
            one(&o, "proxycommand"),
            format!("'{cli}' proxy --agent '{sock}' --region 'eu-west-1' -l '%r' -p '%p' '%n'")
        );
        keyless_only(&o);
    }

    // Edits and removals reach OpenSSH too.
    s.keyless(&["profile", "edit", "web-prod", "-p", "2022"]);
    assert_eq!(one(&s.ssh_g("web-prod"), "port"), "2022");
    s.keyless(&["profile", "rm", "lab"]);
    assert_eq!(one(&s.ssh_g("lab"), "user"), "someone-else");

    let out = s.keyless(&["ssh-config", "--uninstall"]);
    assert!(out.stderr.contains("removed the Include"), "{out:?}");
    assert_eq!(fs::read_to_string(&config).unwrap(), user);
    assert!(!s.ssh_dir().join("keyless.conf").exists());
    let plain = s.ssh_g("web-prod");
    assert_eq!(one(&plain, "user"), "someone-else");
    assert!(!plain.contains_key("proxycommand"), "{plain:?}");
}

#[test]
fn printing_needs_no_install_and_bad_flags_are_refused() {
    let s = Setup::new();
    s.keyless(&["profile", "add", "two words", "--target", "web"]);
    let out = s.keyless(&["ssh-config", "--profile", "work", "--via", "eice"]);
    assert!(out.stdout.contains("\nHost i-* *.keyless\n"), "{out:?}");
    assert!(
        out.stdout.contains(" --profile 'work' --via 'eice' -l "),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("\n# skipped profile two words: "),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("skipped profile 'two words'"),
        "{out:?}"
    );
    assert!(!s.ssh_dir().exists(), "printing writes nothing");

    let bad = s.h.run(&["ssh-config", "--install", "--via", "sideways"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("'sideways'"), "{bad:?}");
    assert!(!s.ssh_dir().exists());
    let help = s.h.run(&["ssh-config", "--help"]);
    assert!(
        help.stdout.contains("keyless ssh-config --install"),
        "{help:?}"
    );
}
