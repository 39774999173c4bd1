//! Adding IAM Identity Center profiles to the AWS config file as `aws configure sso` does: an
//! `[sso-session NAME]` (sso_start_url, sso_region, sso_registration_scopes) unless one for the
//! start URL is there already, and one `[profile NAME]` per role (sso_session, sso_account_id,
//! sso_role_name, region). The new sections go at the end; every byte before them — comments,
//! odd spacing, sections Keyless does not know — stays as it was. An existing profile is never
//! changed: a name that is taken is refused. The file is backed up first, then replaced
//! atomically with its mode kept (0600 when Keyless creates it).

use super::config_file::{config_path, credentials_path, AwsFiles};
use crate::error::{Error, ErrorKind, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The scope `aws configure sso` registers with (and the only one the portal needs).
pub const SSO_SCOPE: &str = "sso:account:access";

/// An `[sso-session …]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSessionSection {
    pub name: String,
    pub start_url: String,
    pub sso_region: String,
}

/// A `[profile …]` section of an IAM Identity Center role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfileSection {
    pub name: String,
    pub account_id: String,
    pub role_name: String,
    /// The profile's default region (`region = …`).
    pub region: String,
}

/// What [`add_sso_profiles`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConfigWritten {
    /// The file written (the target when the config path is a symbolic link).
    pub path: String,
    /// The copy of the file as it was, when there was one.
    pub backup: Option<String>,
    /// The sso-session the profiles use.
    pub session: String,
    /// False when that sso-session was in the file already (reused, not repeated).
    pub session_added: bool,
    /// The profiles added, in file order.
    pub profiles: Vec<String>,
}

/// Adds `profiles` (and `session` when the file has no sso-session of that name) to the AWS
/// config file the environment names (`AWS_CONFIG_FILE`, else `~/.aws/config`).
pub fn add_sso_profiles(
    session: &SsoSessionSection,
    profiles: &[SsoProfileSection],
) -> Result<ConfigWritten> {
    let path = config_path().ok_or_else(|| {
        Error::new(ErrorKind::Io, "no home directory for ~/.aws/config")
            .with_hint("Set HOME, or AWS_CONFIG_FILE to the AWS config file.")
    })?;
    let credentials = credentials_path()
        .and_then(|p| std::fs::read(p).ok())
        .unwrap_or_default();
    add_sso_profiles_to(&path, &credentials, session, profiles)
}

/// [`add_sso_profiles`] on the file at `path`; `credentials` is the credentials file's text (its
/// profile names are taken too).
pub fn add_sso_profiles_to(
    path: &Path,
    credentials: &[u8],
    session: &SsoSessionSection,
    profiles: &[SsoProfileSection],
) -> Result<ConfigWritten> {
    let path = resolve_link(path)?;
    // A writer that changed the file between our read and our rename would lose its change:
    // read again just before replacing, and start over when it moved (twice at most).
    for _ in 0..3 {
        let before = read(&path)?;
        let edit = render(
            before.as_deref().unwrap_or_default(),
            credentials,
            session,
            profiles,
        )?;
        let backup = match &before {
            Some(text) if !text.is_empty() => Some(backup(&path, text)?),
            _ => None,
        };
        if read(&path)? != before {
            remove_quietly(backup.as_deref());
            continue;
        }
        replace(&path, &edit.text, before.is_some())?;
        return Ok(ConfigWritten {
            path: path.display().to_string(),
            backup: backup.map(|b| b.display().to_string()),
            session: session.name.clone(),
            session_added: edit.session_added,
            profiles: profiles.iter().map(|p| p.name.clone()).collect(),
        });
    }
    Err(Error::new(
        ErrorKind::Io,
        format!(
            "{} kept changing while Keyless wrote to it; nothing was written",
            path.display()
        ),
    )
    .with_hint("Try again once the other program has finished with the file."))
}

/// The new text and whether it gained the sso-session section.
#[derive(Debug)]
pub struct Edit {
    pub text: Vec<u8>,
    pub session_added: bool,
}

/// The file's bytes with the new sections appended; refuses a taken profile name, a session name
/// used for another start URL, and names that would not read back as written.
pub fn render(
    existing: &[u8],
    credentials: &[u8],
    session: &SsoSessionSection,
    profiles: &[SsoProfileSection],
) -> Result<Edit> {
    if profiles.is_empty() {
        return Err(
            Error::invalid("no role was chosen, so there is no profile to add")
                .with_hint("Choose at least one account and role."),
        );
    }
    check_session(session)?;
    let files = AwsFiles::parse(
        &String::from_utf8_lossy(existing),
        &String::from_utf8_lossy(credentials),
    );
    let session_added = match files.sso_sessions.get(&session.name) {
        None => true,
        Some(keys)
            if keys
                .get("sso_start_url")
                .map(|u| same_url(u, &session.start_url))
                == Some(true) =>
        {
            false
        }
        Some(_) => {
            return Err(Error::invalid(format!(
                "the AWS config file already has an sso-session '{}' for another start URL",
                session.name
            ))
            .with_hint("Choose another sso-session name."))
        }
    };
    let mut seen: Vec<&str> = Vec::new();
    for p in profiles {
        check_profile(p)?;
        if files.profiles.contains_key(&p.name) || seen.contains(&p.name.as_str()) {
            return Err(Error::invalid(format!(
                "an AWS profile named '{}' exists already",
                p.name
            ))
            .with_hint("Choose another profile name: Keyless does not change existing profiles."));
        }
        seen.push(&p.name);
    }

    // New lines follow the file's own line ends.
    let nl: &[u8] = if existing.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = existing.to_vec();
    let mut section = |header: String, keys: &[(&str, &str)]| {
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.extend_from_slice(nl);
        }
        // One blank line between the old text and each new section.
        if !out.is_empty() && !out.ends_with(&[nl, nl].concat()) {
            out.extend_from_slice(nl);
        }
        out.extend_from_slice(format!("[{header}]").as_bytes());
        out.extend_from_slice(nl);
        for (k, v) in keys {
            out.extend_from_slice(format!("{k} = {v}").as_bytes());
            out.extend_from_slice(nl);
        }
    };
    if session_added {
        section(
            format!("sso-session {}", session.name),
            &[
                ("sso_start_url", &session.start_url),
                ("sso_region", &session.sso_region),
                ("sso_registration_scopes", SSO_SCOPE),
            ],
        );
    }
    for p in profiles {
        let header = if p.name == "default" {
            "default".to_string()
        } else {
            format!("profile {}", p.name)
        };
        section(
            header,
            &[
                ("sso_session", &session.name),
                ("sso_account_id", &p.account_id),
                ("sso_role_name", &p.role_name),
                ("region", &p.region),
            ],
        );
    }
    Ok(Edit {
        text: out,
        session_added,
    })
}

/// Start URLs compare as the AWS CLI writes them, bar a trailing slash.
pub(crate) fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// Profile and sso-session names: 1–128 letters, digits and `-_.@+=,` — nothing the INI reader
/// of the AWS CLI or Keyless would split, strip or take for a comment.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@+=,".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{}' is not a valid {what} name",
            name.escape_debug()
        ))
        .with_hint("Use up to 128 letters, digits and - _ . @ + = , (no spaces)."))
    }
}

/// `https://…` with a host, and nothing a config line could not hold.
pub fn check_start_url(url: &str) -> Result<()> {
    let bad = || {
        Err(Error::invalid(format!(
            "'{}' is not an IAM Identity Center start URL",
            url.escape_debug()
        ))
        .with_hint("It is the https:// address of your AWS access portal, e.g. https://my-org.awsapps.com/start."))
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "https" && u.host().is_some() => Ok(()),
        _ => bad(),
    }
}

fn check_session(s: &SsoSessionSection) -> Result<()> {
    check_name("sso-session", &s.name)?;
    check_start_url(&s.start_url)?;
    crate::validate::region(&s.sso_region)
}

/// Twelve digits, as AWS account ids are.
pub fn check_account_id(id: &str) -> Result<()> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(
            Error::invalid(format!("'{}' is not an AWS account id", id.escape_debug()))
                .with_hint("Account ids are 12 digits."),
        )
    }
}

/// IAM role (permission set) names: 1–64 of letters, digits and `+=,.@_-`.
pub fn check_role_name(role: &str) -> Result<()> {
    let ok = (1..=64).contains(&role.len())
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{}' is not a role name",
            role.escape_debug()
        )))
    }
}

fn check_profile(p: &SsoProfileSection) -> Result<()> {
    check_name("profile", &p.name)?;
    check_account_id(&p.account_id)?;
    check_role_name(&p.role_name)?;
    crate::validate::region(&p.region)
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

/// A config path that is a symbolic link (dotfile managers) is written through: its target is
/// replaced, the link stays.
fn resolve_link(path: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| io_error(path, "follow the link", e))
        }
        _ => Ok(path.to_path_buf()),
    }
}

/// `None` when there is no file yet.
fn read(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, "read", e)),
    }
}

fn mode_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn open_new(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    opts.open(path)
}

/// `config.keyless-backup-20261124T100000Z` beside the file (with `-2`, `-3`… when a backup of
/// the same second exists), with the file's mode.
fn backup(path: &Path, text: &[u8]) -> Result<PathBuf> {
    let stamp: String = super::sso_cache::format_time(std::time::SystemTime::now())
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".into());
    let mode = mode_of(path).unwrap_or(0o600);
    for n in 1..100 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let candidate = path.with_file_name(format!("{name}.keyless-backup-{stamp}{suffix}"));
        match open_new(&candidate, mode) {
            Ok(mut f) => {
                let written = f.write_all(text).and_then(|()| f.sync_all());
                if let Err(e) = written {
                    remove_quietly(Some(&candidate));
                    return Err(io_error(&candidate, "write the backup", e));
                }
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(&candidate, "create the backup", e)),
        }
    }
    Err(Error::new(
        ErrorKind::Io,
        format!("cannot find a free backup name beside {}", path.display()),
    ))
}

fn remove_quietly(path: Option<&Path>) {
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
    }
}

/// Temp file in the same directory (so the rename is atomic), fsync, rename, fsync the directory.
/// The file keeps its mode; a new one (and a new `~/.aws`) is private to the user.
fn replace(path: &Path, text: &[u8], existed: bool) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        create_private_dir(dir)?;
    }
    let mode = if existed { mode_of(path) } else { None }.unwrap_or(0o600);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".into());
    let tmp = dir.join(format!(".{name}.keyless-{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> std::io::Result<()> {
        let mut f = open_new(&tmp, mode)?;
        // The umask narrowed the mode at creation; say it again.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        f.write_all(text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        remove_quietly(Some(&tmp));
        return Err(io_error(path, "write", e));
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| io_error(dir, "create", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SsoSessionSection {
        SsoSessionSection {
            name: "my-org".into(),
            start_url: "https://my-org.awsapps.com/start".into(),
            sso_region: "eu-west-1".into(),
        }
    }

    fn profile(name: &str, account: &str, role: &str) -> SsoProfileSection {
        SsoProfileSection {
            name: name.into(),
            account_id: account.into(),
            role_name: role.into(),
            region: "eu-central-1".into(),
        }
    }

    fn text(e: &Edit) -> &str {
        std::str::from_utf8(&e.text).unwrap()
    }

    #[test]
    fn appends_the_session_and_profiles_after_the_untouched_text() {
        let old = "# my settings\n[default]\nregion = us-east-1 ; trailing\n\n\n[profile x]\n  output=json";
        let e = render(
            old.as_bytes(),
            b"",
            &session(),
            &[
                profile("AdminAccess-111111111111", "111111111111", "AdminAccess"),
                profile("default-2", "222222222222", "ReadOnly"),
            ],
        )
        .unwrap();
        assert!(e.session_added);
        assert_eq!(
            text(&e),
            format!(
                "{old}\n\n[sso-session my-org]\nsso_start_url = https://my-org.awsapps.com/start\n\
                 sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n\
                 [profile AdminAccess-111111111111]\nsso_session = my-org\nsso_account_id = 111111111111\n\
                 sso_role_name = AdminAccess\nregion = eu-central-1\n\n\
                 [profile default-2]\nsso_session = my-org\nsso_account_id = 222222222222\n\
                 sso_role_name = ReadOnly\nregion = eu-central-1\n"
            )
        );
    }

    #[test]
    fn an_empty_file_gets_no_leading_blank_line_and_default_is_its_own_header() {
        let e = render(
            b"",
            b"",
            &session(),
            &[profile("default", "111111111111", "A")],
        )
        .unwrap();
        assert!(
            text(&e).starts_with("[sso-session my-org]\n"),
            "{}",
            text(&e)
        );
        assert!(text(&e).contains("\n\n[default]\nsso_session = my-org\n"));
    }

    #[test]
    fn the_session_of_the_same_start_url_is_reused() {
        let old = "[sso-session my-org]\nsso_start_url = https://my-org.awsapps.com/start/\nsso_region = eu-west-1\n";
        let e = render(
            old.as_bytes(),
            b"",
            &session(),
            &[profile("p", "111111111111", "A")],
        )
        .unwrap();
        assert!(!e.session_added);
        assert_eq!(text(&e).matches("[sso-session").count(), 1);
        assert!(text(&e).starts_with(old));
    }

    #[test]
    fn refusals() {
        let old = b"[profile taken]\nregion = us-east-1\n[sso-session my-org]\nsso_start_url = https://other/start\n";
        let one = [profile("new", "111111111111", "A")];
        let err = |e: Error| (e.kind, e.message);
        // A session name of another portal.
        let e = render(old, b"", &session(), &one).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("another start URL"), "{}", e.message);
        let ok_session = SsoSessionSection {
            name: "corp".into(),
            ..session()
        };
        // A taken name, in either file, or twice in one request.
        let e = render(
            old,
            b"",
            &ok_session,
            &[profile("taken", "111111111111", "A")],
        )
        .unwrap_err();
        assert!(err(e).1.contains("'taken' exists already"));
        let e = render(
            old,
            b"[keys]\naws_access_key_id = A\n",
            &ok_session,
            &[profile("keys", "111111111111", "A")],
        )
        .unwrap_err();
        assert!(err(e).1.contains("'keys' exists already"));
        let e = render(
            old,
            b"",
            &ok_session,
            &[
                profile("twice", "111111111111", "A"),
                profile("twice", "222222222222", "B"),
            ],
        )
        .unwrap_err();
        assert!(err(e).1.contains("'twice' exists already"));
        // Names and values that would not read back as written.
        for bad in ["a b", "x]\n[profile evil", "", "semi;colon", "#hash"] {
            let e =
                render(old, b"", &ok_session, &[profile(bad, "111111111111", "A")]).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad:?}");
        }
        assert!(render(old, b"", &ok_session, &[profile("p", "12345", "A")]).is_err());
        assert!(render(
            old,
            b"",
            &ok_session,
            &[profile("p", "111111111111", "A\nB")]
        )
        .is_err());
        let mut p = profile("p", "111111111111", "A");
        p.region = "moon-1".into();
        assert!(render(old, b"", &ok_session, &[p]).is_err());
        for url in [
            "http://my-org.awsapps.com/start",
            "https://x/start\n[x]",
            "my-org",
            "",
        ] {
            let s = SsoSessionSection {
                start_url: url.into(),
                ..ok_session.clone()
            };
            assert!(render(old, b"", &s, &one).is_err(), "{url:?}");
        }
        assert!(render(old, b"", &ok_session, &[]).is_err());
    }

    #[test]
    fn crlf_files_get_crlf_lines_and_other_bytes_stay() {
        let old = b"[default]\r\nregion = us-east-1\r\n# caf\xe9\r\n";
        let e = render(old, b"", &session(), &[profile("p", "111111111111", "A")]).unwrap();
        assert!(e.text.starts_with(old));
        let tail = &e.text[old.len()..];
        assert!(tail.starts_with(b"\r\n[sso-session my-org]\r\n"));
        assert!(!tail.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
    }

    #[cfg(unix)]
    #[test]
    fn writes_atomically_with_a_backup_and_the_mode_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

        // A new file under a new ~/.aws: 0600 in a 0700 directory, and no backup.
        let path = dir.path().join("aws").join("config");
        let w = add_sso_profiles_to(&path, b"", &session(), &[profile("a", "111111111111", "A")])
            .unwrap();
        assert_eq!(w.backup, None);
        assert!(w.session_added);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);

        // An existing 0640 file keeps 0640; its old text is in the backup, byte for byte.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let before = std::fs::read(&path).unwrap();
        let w = add_sso_profiles_to(&path, b"", &session(), &[profile("b", "111111111111", "B")])
            .unwrap();
        assert!(!w.session_added);
        let backup = PathBuf::from(w.backup.unwrap());
        assert_eq!(std::fs::read(&backup).unwrap(), before);
        assert_eq!(mode(&backup), 0o640);
        assert_eq!(mode(&path), 0o640);
        let after = std::fs::read(&path).unwrap();
        assert!(after.starts_with(&before));

        // A refusal writes nothing at all, not even a backup.
        let files = std::fs::read_dir(dir.path().join("aws")).unwrap().count();
        assert!(
            add_sso_profiles_to(&path, b"", &session(), &[profile("b", "111111111111", "B")])
                .is_err()
        );
        assert_eq!(std::fs::read(&path).unwrap(), after);
        assert_eq!(
            std::fs::read_dir(dir.path().join("aws")).unwrap().count(),
            files
        );

        // Through a symbolic link: the target changes, the link stays a link.
        let link = dir.path().join("link-config");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let w = add_sso_profiles_to(&link, b"", &session(), &[profile("c", "111111111111", "C")])
            .unwrap();
        assert_eq!(
            PathBuf::from(&w.path),
            std::fs::canonicalize(&path).unwrap()
        );
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("[profile c]"));
    }
}
