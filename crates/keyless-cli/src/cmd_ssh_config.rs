//! `keyless ssh-config [--install | --uninstall]`, and keeping an installed config current after
//! `keyless profile` changes the profiles.

use crate::args::SshConfigArgs;
use crate::output::{self, Failure};
use keyless_core::openssh::config::{
    self, AdHoc, FileChange, IncludeChange, InstallReport, Skipped, SshConfig, SshFiles,
    UninstallReport,
};
use keyless_core::terminal_text::{escape, escape_lines};
use keyless_core::{Error, ErrorKind, ProfileStore};
use std::path::{Path, PathBuf};

pub fn run(args: SshConfigArgs) -> Result<i32, Failure> {
    let store = ProfileStore::open_default().map_err(Failure::runtime)?;
    let files = SshFiles::open_default().map_err(Failure::runtime)?;
    if args.uninstall {
        print_uninstall(&files.uninstall().map_err(Failure::runtime)?);
        return Ok(0);
    }
    let ad_hoc = AdHoc::parse(
        args.region.as_deref(),
        args.aws.profile.as_deref(),
        args.via.as_deref(),
    )
    .map_err(Failure::usage)?;
    let settings = SshConfig::new(&cli_path().map_err(Failure::runtime)?, &store, ad_hoc)
        .map_err(Failure::runtime)?;
    if args.install {
        let report = files.install(&settings, &store).map_err(Failure::runtime)?;
        warn_skipped(&report.rendered.skipped);
        print_install(&report);
    } else {
        let profiles = store.list().map_err(Failure::runtime)?;
        let rendered = settings.render(&profiles).map_err(Failure::runtime)?;
        warn_skipped(&rendered.skipped);
        // Raw: it is meant for a file, and names and paths in it hold no control characters.
        print!("{}", rendered.text);
    }
    Ok(0)
}

/// After the profiles changed: rewrites an installed `~/.ssh/keyless.conf`. A failure is only a
/// warning, since the profile change itself is done.
pub fn refresh(store: &ProfileStore) {
    match config::refresh_if_installed(store) {
        Ok(Some(path)) => eprintln!("keyless: updated {}", escape(&path.display().to_string())),
        Ok(None) => {}
        Err(e) => {
            eprintln!(
                "keyless: warning: the OpenSSH config is not updated: {}",
                escape_lines(&e.message)
            );
            for hint in output::hints(&e) {
                eprintln!("  hint: {}", escape_lines(&hint));
            }
        }
    }
}

/// The `keyless` the config runs: the one on PATH when it is this program (a package manager's
/// link there survives upgrades, the versioned file behind it may not), else this program.
fn cli_path() -> keyless_core::Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot find the path of this keyless program: {e}"),
        )
    })?;
    let real = std::fs::canonicalize(&exe).ok();
    let name = exe.file_name().map(ToOwned::to_owned);
    let on_path = std::env::var_os("PATH").zip(name).and_then(|(path, name)| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(&name))
            .find(|c| c.is_absolute() && real.is_some() && std::fs::canonicalize(c).ok() == real)
    });
    Ok(on_path.unwrap_or(exe))
}

fn warn_skipped(skipped: &[Skipped]) {
    for s in skipped {
        eprintln!(
            "keyless: skipped profile '{}': {} (rename it to reach it with ssh)",
            escape(&s.name),
            s.reason
        );
    }
}

fn print_install(report: &InstallReport) {
    let conf = shown(&report.files.keyless_conf);
    let hosts = report.rendered.hosts.len();
    let what = format!(
        "{hosts} profile{}, then i-* and *.keyless",
        if hosts == 1 { "" } else { "s" }
    );
    match report.keyless_conf {
        FileChange::Created | FileChange::Updated => eprintln!("keyless: wrote {conf} ({what})"),
        FileChange::Unchanged => eprintln!("keyless: {conf} is up to date ({what})"),
    }
    let config = shown(&report.files.config);
    match &report.include {
        IncludeChange::CreatedConfig => {
            eprintln!("keyless: created {config} with `Include ~/.ssh/keyless.conf`")
        }
        IncludeChange::Added { backup } => eprintln!(
            "keyless: added `Include ~/.ssh/keyless.conf` on top of {config} (backup: {})",
            shown(backup)
        ),
        IncludeChange::AlreadyPresent => {
            eprintln!("keyless: {config} already includes it; nothing else changed")
        }
    }
}

fn print_uninstall(report: &UninstallReport) {
    let config = shown(&report.files.config);
    match &report.include_backup {
        Some(backup) => eprintln!(
            "keyless: removed the Include of keyless.conf from {config} (backup: {})",
            shown(backup)
        ),
        None => eprintln!("keyless: {config} does not include keyless.conf"),
    }
    let conf = shown(&report.files.keyless_conf);
    if report.removed_keyless_conf {
        eprintln!("keyless: removed {conf}");
    } else {
        eprintln!("keyless: there is no {conf}");
    }
}

fn shown(path: &Path) -> String {
    escape(&path.display().to_string()).into_owned()
}
