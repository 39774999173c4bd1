//! The profiles file: `$XDG_CONFIG_HOME/keyless/profiles.toml` (or `$KEYLESS_CONFIG_DIR`).
//!
//! Every change is a read-modify-write under an exclusive lock (`profiles.toml.lock`), written to a
//! temp file in the same directory, fsynced, renamed over the old file, and the directory fsynced:
//! a crash leaves the old or the new file, never half of one, and two processes writing at once
//! both keep their change. A file that does not parse (or breaks a rule) is copied aside as
//! `profiles.toml.broken-<time>`, reported with its line and column, and never written over: every
//! change is refused until it is fixed.

use super::model::Profile;
use super::timefmt;
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

pub const SCHEMA_VERSION: i64 = 1;
pub const FILE_NAME: &str = "profiles.toml";

const HEADER: &str = "# Keyless saved connection profiles (`keyless profile --help`).\n\
# Hand edits are fine; keep schema_version. Keyless rewrites this file and does not keep comments.\n\n";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    schema_version: i64,
    #[serde(default, rename = "profile")]
    profiles: Vec<Profile>,
}

#[derive(Debug, Clone)]
pub struct ProfileStore {
    path: PathBuf,
}

impl ProfileStore {
    /// `profiles.toml` in Keyless's config directory.
    pub fn open_default() -> Result<Self> {
        Ok(Self::at(crate::paths::config_dir()?.join(FILE_NAME)))
    }

    pub fn at(path: impl Into<PathBuf>) -> Self {
        ProfileStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every profile, by group (ungrouped first) then name.
    pub fn list(&self) -> Result<Vec<Profile>> {
        let mut profiles = self.load()?;
        profiles.sort_by(|a, b| {
            (a.group.as_deref().unwrap_or(""), a.name.to_lowercase())
                .cmp(&(b.group.as_deref().unwrap_or(""), b.name.to_lowercase()))
        });
        Ok(profiles)
    }

    pub fn get(&self, name: &str) -> Result<Profile> {
        self.load()?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| not_found(name))
    }

    pub fn add(&self, profile: Profile) -> Result<()> {
        profile.validate()?;
        self.rewrite(|profiles| {
            if profiles.iter().any(|p| p.name == profile.name) {
                return Err(Error::invalid(format!(
                    "a profile named '{}' already exists",
                    profile.name
                ))
                .with_hint("Pick another name, or edit the profile that has it."));
            }
            profiles.push(profile);
            Ok(())
        })
    }

    /// Replaces the profile called `name` (the new one may carry another name: a rename).
    pub fn update(&self, name: &str, profile: Profile) -> Result<()> {
        profile.validate()?;
        self.rewrite(|profiles| {
            if profile.name != name && profiles.iter().any(|p| p.name == profile.name) {
                return Err(Error::invalid(format!(
                    "cannot rename '{name}' to '{}': that name is taken",
                    profile.name
                )));
            }
            let slot = profiles
                .iter_mut()
                .find(|p| p.name == name)
                .ok_or_else(|| not_found(name))?;
            *slot = profile;
            Ok(())
        })
    }

    /// Removes a profile and returns it (the app keeps it for undo).
    pub fn remove(&self, name: &str) -> Result<Profile> {
        self.rewrite(|profiles| {
            let i = profiles
                .iter()
                .position(|p| p.name == name)
                .ok_or_else(|| not_found(name))?;
            Ok(profiles.remove(i))
        })
    }

    /// Records a successful connection: `last_used` becomes now.
    pub fn mark_used(&self, name: &str) -> Result<String> {
        let now = timefmt::now_rfc3339();
        self.rewrite(|profiles| {
            let p = profiles
                .iter_mut()
                .find(|p| p.name == name)
                .ok_or_else(|| not_found(name))?;
            p.last_used = Some(now.clone());
            Ok(now)
        })
    }

    /// The profiles in file order. No file yet: none.
    pub(crate) fn load(&self) -> Result<Vec<Profile>> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("cannot read {}: {e}", self.path.display()),
                ))
            }
        };
        match parse(&bytes) {
            Ok(profiles) => Ok(profiles),
            Err(Problem::Future(v)) => Err(Error::new(
                ErrorKind::Io,
                format!(
                    "{} has schema_version {v}, made by a newer Keyless; this one reads version \
                     {SCHEMA_VERSION}",
                    self.path.display()
                ),
            )
            .with_hint("Upgrade Keyless. The file is left as it is.")),
            Err(Problem::Broken { at, message }) => {
                let backup = self.keep_aside(&bytes);
                let place = match at {
                    Some((line, col)) => format!("{}:{line}:{col}", self.path.display()),
                    None => self.path.display().to_string(),
                };
                let kept = match backup {
                    Ok(b) => format!("A copy is kept as {}. ", b.display()),
                    Err(e) => format!("(Could not keep a copy: {e}.) "),
                };
                Err(
                    Error::new(ErrorKind::Io, format!("{place}: {message}")).with_hint(format!(
                        "{kept}Fix that line (or move the file away to start with no profiles); \
                     Keyless changes no profile until then."
                    )),
                )
            }
        }
    }

    /// Copies a broken file next to itself, once per distinct content.
    fn keep_aside(&self, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let dir = self.dir();
        let prefix = format!("{}.broken-", self.file_name());
        for entry in fs::read_dir(dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && fs::read(entry.path()).is_ok_and(|b| b == bytes) {
                return Ok(entry.path());
            }
        }
        let backup = dir.join(format!(
            "{prefix}{}",
            timefmt::file_stamp(SystemTime::now())
        ));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&backup)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(backup)
    }

    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| FILE_NAME.into())
    }

    /// Runs `use_list` on [`Self::list`] under the lock every change takes, so what it writes from
    /// the profiles (the OpenSSH config) is never an older copy that overtakes a newer one.
    pub fn with_list_locked<T>(
        &self,
        use_list: impl FnOnce(Vec<Profile>) -> Result<T>,
    ) -> Result<T> {
        let lock = self.lock()?;
        let out = use_list(self.list()?);
        drop(lock);
        out
    }

    /// Read-modify-write under the exclusive lock; nothing is written when `edit` fails.
    pub(crate) fn rewrite<T>(
        &self,
        edit: impl FnOnce(&mut Vec<Profile>) -> Result<T>,
    ) -> Result<T> {
        let lock = self.lock()?;
        let mut profiles = self.load()?;
        let out = edit(&mut profiles)?;
        self.write_atomically(&render(&profiles)?)?;
        drop(lock);
        Ok(out)
    }

    /// The exclusive lock of `profiles.toml.lock`, held until the file is dropped.
    fn lock(&self) -> Result<File> {
        let dir = self.dir().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "create", e))?;
        let lock_path = dir.join(format!("{}.lock", self.file_name()));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_error(&lock_path, "open", e))?;
        lock.lock().map_err(|e| io_error(&lock_path, "lock", e))?;
        Ok(lock)
    }

    fn write_atomically(&self, text: &str) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = self.dir();
        let tmp = dir.join(format!(
            ".{}.tmp-{}-{}",
            self.file_name(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            File::open(dir)?.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(&self.path, "write", e));
        }
        Ok(())
    }
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

fn not_found(name: &str) -> Error {
    Error::invalid(format!("there is no profile named '{name}'"))
        .with_hint("Check the name against the list of saved profiles.")
}

fn render(profiles: &[Profile]) -> Result<String> {
    let file = FileV1 {
        schema_version: SCHEMA_VERSION,
        profiles: profiles.to_vec(),
    };
    let body = toml::to_string_pretty(&file)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write profiles: {e}")))?;
    Ok(format!("{HEADER}{body}"))
}

enum Problem {
    /// Line and column (1-based) when known.
    Broken {
        at: Option<(usize, usize)>,
        message: String,
    },
    Future(i64),
}

fn parse(bytes: &[u8]) -> std::result::Result<Vec<Profile>, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|e| Problem::Broken {
        at: Some(line_col(
            &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
            e.valid_up_to(),
        )),
        message: "the file is not valid UTF-8".into(),
    })?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let toml_error = |e: toml::de::Error| Problem::Broken {
        at: e.span().map(|s| line_col(text, s.start)),
        message: e.message().trim().to_owned(),
    };
    let table: toml::Table = toml::from_str(text).map_err(toml_error)?;
    match table.get("schema_version") {
        Some(toml::Value::Integer(v)) if *v == SCHEMA_VERSION => {}
        Some(toml::Value::Integer(v)) if *v > SCHEMA_VERSION => return Err(Problem::Future(*v)),
        Some(other) => {
            return Err(Problem::Broken {
                at: find_line(text, |l| l.trim_start().starts_with("schema_version")),
                message: format!("schema_version {other} is not a version Keyless knows"),
            })
        }
        None => {
            return Err(Problem::Broken {
                at: None,
                message: format!("there is no `schema_version = {SCHEMA_VERSION}` line"),
            })
        }
    }
    let file: FileV1 = toml::from_str(text).map_err(toml_error)?;
    let mut seen = std::collections::HashSet::new();
    for (i, p) in file.profiles.iter().enumerate() {
        let at = nth_profile_line(text, i);
        if let Err(e) = p.validate() {
            return Err(Problem::Broken {
                at,
                message: e.message,
            });
        }
        if !seen.insert(p.name.as_str()) {
            return Err(Problem::Broken {
                at,
                message: format!("the profile name '{}' is used twice", p.name),
            });
        }
    }
    Ok(file.profiles)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

fn find_line(text: &str, pred: impl Fn(&str) -> bool) -> Option<(usize, usize)> {
    text.lines().position(pred).map(|i| (i + 1, 1))
}

/// Where the `i`-th `[[profile]]` table starts.
fn nth_profile_line(text: &str, i: usize) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim().replace(' ', "") == "[[profile]]")
        .nth(i)
        .map(|(n, _)| (n + 1, 1))
}
