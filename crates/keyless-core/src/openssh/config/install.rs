//! Installing the generated config: `~/.ssh/keyless.conf` written whole, one `Include` line on top
//! of `~/.ssh/config` (after a backup; the user's bytes and mode kept; a symlinked config written
//! through to its target), a refresh when profiles change, and all of it taken away again.

use super::atomic::{self, io_error};
use super::include;
use super::render::Rendered;
use super::settings::{is_generated, not_ours, SshConfig};
use crate::error::Result;
use crate::openssh::paths;
use crate::profiles::{self, ProfileStore};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The files of one `~/.ssh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshFiles {
    pub dir: PathBuf,
    /// `~/.ssh/config`, which includes the generated file.
    pub config: PathBuf,
    /// `~/.ssh/keyless.conf`, the generated file.
    pub keyless_conf: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncludeChange {
    /// There was no `~/.ssh/config`: it now holds only the Include.
    CreatedConfig,
    /// Added on top; the file as it was is kept at `backup`.
    Added {
        backup: PathBuf,
    },
    AlreadyPresent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    pub files: SshFiles,
    pub keyless_conf: FileChange,
    pub include: IncludeChange,
    pub rendered: Rendered,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UninstallReport {
    pub files: SshFiles,
    /// The Include was removed; `~/.ssh/config` as it was is kept at this backup.
    pub include_backup: Option<PathBuf>,
    pub removed_keyless_conf: bool,
}

impl SshFiles {
    /// The user's `~/.ssh`.
    pub fn open_default() -> Result<SshFiles> {
        let dir = paths::ssh_dir()?;
        Ok(SshFiles {
            config: dir.join("config"),
            keyless_conf: paths::ssh_config_file()?,
            dir,
        })
    }

    /// The same files in another folder (tests).
    pub fn in_dir(dir: impl Into<PathBuf>) -> SshFiles {
        let dir = dir.into();
        SshFiles {
            config: dir.join("config"),
            keyless_conf: dir.join("keyless.conf"),
            dir,
        }
    }

    /// Writes `keyless.conf` from `store` and includes it from the top of `config`, once.
    pub fn install(&self, settings: &SshConfig, store: &ProfileStore) -> Result<InstallReport> {
        let old = atomic::read(&self.keyless_conf)?;
        if old.as_deref().is_some_and(|t| !is_generated(t)) {
            return Err(not_ours(&self.keyless_conf));
        }
        let rendered = store.with_list_locked(|profiles| {
            let rendered = settings.render(&profiles)?;
            atomic::ensure_private_dir(&self.dir)?;
            if old.as_deref() != Some(rendered.text.as_str()) {
                atomic::write(&self.keyless_conf, rendered.text.as_bytes(), 0o600)?;
            }
            Ok(rendered)
        })?;
        let keyless_conf = match old {
            None => FileChange::Created,
            Some(t) if t == rendered.text => FileChange::Unchanged,
            Some(_) => FileChange::Updated,
        };
        Ok(InstallReport {
            files: self.clone(),
            keyless_conf,
            include: self.add_include()?,
            rendered,
        })
    }

    /// Takes the Include out of `config` (after a backup) and removes `keyless.conf`.
    pub fn uninstall(&self) -> Result<UninstallReport> {
        let generated = atomic::read(&self.keyless_conf)?;
        if generated.as_deref().is_some_and(|t| !is_generated(t)) {
            return Err(not_ours(&self.keyless_conf));
        }
        let target = atomic::through_links(&self.config)?;
        let mut include_backup = None;
        if let Some(text) = atomic::read(&target)? {
            if let Some(without) = include::remove(&text, &self.absolute_conf()) {
                include_backup = Some(self.replace_config(&target, &text, &without)?);
            }
        }
        if generated.is_some() {
            std::fs::remove_file(&self.keyless_conf)
                .map_err(|e| io_error("remove", &self.keyless_conf, e))?;
        }
        Ok(UninstallReport {
            files: self.clone(),
            include_backup,
            removed_keyless_conf: generated.is_some(),
        })
    }

    /// Rewrites `keyless.conf` from `store` when it is installed from that store, with the
    /// settings its header records. The path when the file changed.
    pub fn refresh(&self, store: &ProfileStore) -> Result<Option<PathBuf>> {
        let Some(text) = atomic::read(&self.keyless_conf)? else {
            return Ok(None);
        };
        let settings = SshConfig::from_generated(&text, &self.keyless_conf)?;
        if std::path::absolute(store.path()).ok().as_ref() != Some(&settings.profiles) {
            // Made from other profiles (a test's, another KEYLESS_CONFIG_DIR): not ours to change.
            return Ok(None);
        }
        store.with_list_locked(|profiles| {
            let rendered = settings.render(&profiles)?;
            if atomic::read(&self.keyless_conf)?.as_deref() == Some(rendered.text.as_str()) {
                return Ok(None);
            }
            atomic::write(&self.keyless_conf, rendered.text.as_bytes(), 0o600)?;
            Ok(Some(self.keyless_conf.clone()))
        })
    }

    fn add_include(&self) -> Result<IncludeChange> {
        let target = atomic::through_links(&self.config)?;
        let Some(text) = atomic::read(&target)? else {
            atomic::write_new(&target, include::BLOCK.as_bytes())?;
            return Ok(IncludeChange::CreatedConfig);
        };
        match include::add(&text, &self.absolute_conf()) {
            None => Ok(IncludeChange::AlreadyPresent),
            Some(with) => Ok(IncludeChange::Added {
                backup: self.replace_config(&target, &text, &with)?,
            }),
        }
    }

    /// Backs up `old` next to `config`, then writes `new` to `target` with its mode kept.
    fn replace_config(&self, target: &Path, old: &str, new: &str) -> Result<PathBuf> {
        let backup = self.dir.join(format!(
            "config.keyless-backup-{}",
            profiles::file_stamp(SystemTime::now())
        ));
        atomic::write_new(&backup, old.as_bytes())?;
        atomic::write(target, new.as_bytes(), atomic::mode_of(target)?)?;
        Ok(backup)
    }

    fn absolute_conf(&self) -> String {
        self.keyless_conf.to_string_lossy().into_owned()
    }
}

/// After a profile changed: rewrites `~/.ssh/keyless.conf` if it is installed from `store`.
pub fn refresh_if_installed(store: &ProfileStore) -> Result<Option<PathBuf>> {
    SshFiles::open_default()?.refresh(store)
}
