//! Installing, refreshing and uninstalling in a temporary `~/.ssh` (never the real one), on real
//! files: bytes, modes and links checked as the file system has them.

use super::include::BLOCK;
use super::settings::sample;
use super::*;
use crate::profiles::{Profile, ProfileStore};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

struct Home {
    _dir: tempfile::TempDir,
    files: SshFiles,
    store: ProfileStore,
    settings: SshConfig,
}

fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join("config/keyless/profiles.toml"));
    let settings = SshConfig {
        profiles: store.path().to_path_buf(),
        ..sample()
    };
    Home {
        files: SshFiles::in_dir(dir.path().join(".ssh")),
        _dir: dir,
        store,
        settings,
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn backups(files: &SshFiles) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = (fs::read_dir(&files.dir).unwrap().flatten())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("config.keyless-backup-"))
        .collect();
    found.sort();
    found
}

#[test]
fn install_twice_adds_one_include_and_keeps_the_users_bytes_and_mode() {
    let h = home();
    h.store
        .add(Profile::new("web", "i-0123456789abcdef0"))
        .unwrap();
    fs::create_dir(&h.files.dir).unwrap();
    let user = "# mine\nHost *\n    User me\n";
    fs::write(&h.files.config, user).unwrap();
    fs::set_permissions(&h.files.config, fs::Permissions::from_mode(0o640)).unwrap();

    let first = h.files.install(&h.settings, &h.store).unwrap();
    let IncludeChange::Added { backup } = &first.include else {
        panic!("{first:?}")
    };
    assert_eq!(first.keyless_conf, FileChange::Created);
    assert_eq!(first.rendered.hosts, ["web"]);
    assert_eq!(fs::read_to_string(backup).unwrap(), user);
    let config = fs::read_to_string(&h.files.config).unwrap();
    assert_eq!(config, format!("{BLOCK}\n{user}"));
    assert_eq!(mode(&h.files.config), 0o640);
    assert_eq!(mode(&h.files.keyless_conf), 0o600);
    assert!(fs::read_to_string(&h.files.keyless_conf)
        .unwrap()
        .contains("\nHost web\n"));

    let again = h.files.install(&h.settings, &h.store).unwrap();
    assert_eq!(again.include, IncludeChange::AlreadyPresent);
    assert_eq!(again.keyless_conf, FileChange::Unchanged);
    assert_eq!(fs::read_to_string(&h.files.config).unwrap(), config);
    assert_eq!(backups(&h.files), std::slice::from_ref(backup));
}

#[test]
fn install_makes_a_private_ssh_folder_and_config_when_there_is_none() {
    let h = home();
    let report = h.files.install(&h.settings, &h.store).unwrap();
    assert_eq!(report.include, IncludeChange::CreatedConfig);
    assert_eq!(mode(&h.files.dir), 0o700);
    assert_eq!(mode(&h.files.config), 0o600);
    assert_eq!(fs::read_to_string(&h.files.config).unwrap(), BLOCK);
    assert!(backups(&h.files).is_empty());
}

#[test]
fn a_symlinked_config_is_written_through_and_stays_a_link() {
    let h = home();
    let dotfiles = h.files.dir.parent().unwrap().join("dotfiles");
    fs::create_dir_all(&dotfiles).unwrap();
    fs::create_dir(&h.files.dir).unwrap();
    fs::write(dotfiles.join("ssh_config"), "Host *\n").unwrap();
    std::os::unix::fs::symlink("../dotfiles/ssh_config", &h.files.config).unwrap();

    h.files.install(&h.settings, &h.store).unwrap();
    assert!(fs::symlink_metadata(&h.files.config)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(dotfiles.join("ssh_config")).unwrap(),
        format!("{BLOCK}\nHost *\n")
    );
    h.files.uninstall().unwrap();
    assert_eq!(fs::read_to_string(&h.files.config).unwrap(), "Host *\n");
    assert!(fs::symlink_metadata(&h.files.config)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn uninstall_gives_back_the_users_bytes_and_removes_the_generated_file() {
    let h = home();
    fs::create_dir(&h.files.dir).unwrap();
    let user = "Host *\r\n    User me\n\n";
    fs::write(&h.files.config, user).unwrap();
    h.files.install(&h.settings, &h.store).unwrap();

    let report = h.files.uninstall().unwrap();
    assert!(report.removed_keyless_conf);
    let backup = report.include_backup.unwrap();
    assert_eq!(
        fs::read_to_string(backup).unwrap(),
        format!("{BLOCK}\n{user}")
    );
    assert_eq!(fs::read_to_string(&h.files.config).unwrap(), user);
    assert!(!h.files.keyless_conf.exists());

    let nothing = h.files.uninstall().unwrap();
    assert_eq!(nothing.include_backup, None);
    assert!(!nothing.removed_keyless_conf);
}

#[test]
fn a_refresh_follows_the_store_it_was_installed_from_and_no_other() {
    let h = home();
    assert_eq!(h.files.refresh(&h.store).unwrap(), None, "not installed");
    h.files.install(&h.settings, &h.store).unwrap();
    assert_eq!(h.files.refresh(&h.store).unwrap(), None, "nothing changed");

    h.store.add(Profile::new("db", "Name=db")).unwrap();
    assert_eq!(
        h.files.refresh(&h.store).unwrap(),
        Some(h.files.keyless_conf.clone())
    );
    let text = fs::read_to_string(&h.files.keyless_conf).unwrap();
    assert!(text.contains("\nHost db\n"), "{text}");
    assert!(
        text.contains("ProxyCommand '/opt/key less/bin/keyless' proxy"),
        "{text}"
    );
    assert!(text.contains("--via 'eice'"), "{text}");

    let other = ProfileStore::at(h.files.dir.join("elsewhere/profiles.toml"));
    other.add(Profile::new("stranger", "Name=x")).unwrap();
    assert_eq!(h.files.refresh(&other).unwrap(), None);
    assert_eq!(fs::read_to_string(&h.files.keyless_conf).unwrap(), text);
}

#[test]
fn a_keyless_conf_the_user_wrote_is_never_replaced_or_removed() {
    let h = home();
    fs::create_dir(&h.files.dir).unwrap();
    fs::write(&h.files.keyless_conf, "Host mine\n").unwrap();
    for e in [
        h.files.install(&h.settings, &h.store).unwrap_err(),
        h.files.uninstall().unwrap_err(),
        h.files.refresh(&h.store).unwrap_err(),
    ] {
        assert!(
            e.message.contains("not written by keyless ssh-config"),
            "{e:?}"
        );
    }
    assert_eq!(
        fs::read_to_string(&h.files.keyless_conf).unwrap(),
        "Host mine\n"
    );
    assert!(!h.files.config.exists());
}
