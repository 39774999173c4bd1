//! SFTP on a real sshd (the lab serves `internal-sftp` as this machine's user, so a remote path
//! is a local path the test can check directly).

use super::{aws_for, instance};
use keyless_core::files::{self, EntryKind, RemoteFs, TransferEvent, TransferOptions};
use keyless_core::hostkeys::KnownHosts;
use keyless_core::{connect_instance, ConnectOptions, Connection, ErrorKind, HostKeyPolicy, Via};
use keyless_lab::{Lab, LabOptions};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) struct Sftp {
    pub lab: Lab,
    pub connection: Connection,
    pub fs: RemoteFs,
    pub dir: tempfile::TempDir,
}

pub(crate) async fn sftp() -> Sftp {
    let lab = Lab::start(LabOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (aws, db) = instance(&lab, "db-primary").await;
    let _ = aws_for(&lab).await;
    let opts = ConnectOptions {
        os_user: lab.os_user().to_owned(),
        port: lab.ssh_port(),
        via: Via::Private,
        host_key_policy: HostKeyPolicy::AcceptNew,
        known_hosts: KnownHosts::at(dir.path().join("known_hosts")),
        prompt: None,
        progress: None,
        timeout: Duration::from_secs(15),
        max_tunnel: None,
        tunnel: keyless_core::eice::TunnelSettings::direct(),
    };
    let connection = connect_instance(&aws, db, &opts).await.unwrap();
    // sshd logs in as the lab's user (ec2-user when the tests run as root): it writes there.
    hand_to(lab.os_user(), dir.path());
    let fs = connection.open_sftp().await.unwrap();
    Sftp {
        lab,
        connection,
        fs,
        dir,
    }
}

/// Makes `path` (and what is below it) the lab user's, when the tests run as root.
pub(crate) fn hand_to(user: &str, path: &std::path::Path) {
    let status = std::process::Command::new("chown")
        .arg("-R")
        .arg(user)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success() || user == whoami(), "chown {user}");
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsing_lists_stats_and_changes_the_remote_tree() {
    let s = sftp().await;
    let root = s.dir.path().join("tree");
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(root.join("a file é.txt"), b"hello").unwrap();
    std::os::unix::fs::symlink("a file é.txt", root.join("link")).unwrap();
    hand_to(s.lab.os_user(), s.dir.path());
    let root_text = root.to_str().unwrap().to_owned();

    let home = s.fs.home().await.unwrap();
    assert!(home.starts_with('/'), "{home}");
    assert_eq!(
        std::path::Path::new(&home).canonicalize().unwrap(),
        std::path::Path::new(&home)
    );

    let listed = s.fs.list(&root_text).await.unwrap();
    let names: Vec<_> = listed.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(
        names,
        [
            ("a file é.txt", EntryKind::File),
            ("link", EntryKind::Symlink),
            ("sub", EntryKind::Dir)
        ]
    );
    let file = &listed[0];
    assert_eq!(file.size, 5);
    assert_eq!(file.path, format!("{root_text}/a file é.txt"));
    assert!(file.modified.is_some());
    assert_eq!(file.mode & 0o170000, 0o100000);

    let followed = s.fs.stat(&format!("{root_text}/link")).await.unwrap();
    assert_eq!((followed.kind, followed.size), (EntryKind::File, 5));
    assert_eq!(
        s.fs.read_link(&format!("{root_text}/link")).await.unwrap(),
        "a file é.txt"
    );

    // mkdir, chmod, rename, symlink, remove, remove_tree: each checked on disk.
    let made = format!("{root_text}/made");
    s.fs.mkdir(&made).await.unwrap();
    assert!(root.join("made").is_dir());
    s.fs.chmod(&made, 0o710).await.unwrap();
    let mode = std::fs::metadata(root.join("made"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o710);
    std::fs::write(root.join("other"), b"replaced").unwrap();
    s.fs.rename(
        &format!("{root_text}/a file é.txt"),
        &format!("{root_text}/other"),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(root.join("other")).unwrap(), b"hello");
    s.fs.symlink(&format!("{root_text}/made/ln"), "../other")
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_link(root.join("made/ln")).unwrap(),
        std::path::Path::new("../other")
    );
    let e = s.fs.remove(&format!("{root_text}/sub")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Sftp, "a non-empty directory: {e:?}");
    s.fs.remove(&format!("{root_text}/link")).await.unwrap();
    assert!(
        root.join("other").exists(),
        "removing a link keeps its target"
    );
    s.fs.remove_tree(&format!("{root_text}/sub")).await.unwrap();
    s.fs.remove_tree(&made).await.unwrap();
    assert!(!root.join("sub").exists() && !root.join("made").exists());
    assert!(
        root.join("other").exists(),
        "the tree's link was not followed"
    );

    let missing = s.fs.list(&format!("{root_text}/nope")).await.unwrap_err();
    assert_eq!(missing.kind, ErrorKind::FileNotFound, "{missing:?}");
    assert!(missing.message.contains("/nope"), "{}", missing.message);

    drop(s.fs);
    s.connection.disconnect().await;
    s.lab.shutdown().await;
}

fn random(len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len);
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .take(len as u64)
        .read_to_end(&mut data)
        .unwrap();
    data
}

/// A sink that keeps every event.
fn recorder() -> (Arc<Mutex<Vec<TransferEvent>>>, files::TransferSink) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let kept = events.clone();
    (events, Arc::new(move |e| kept.lock().unwrap().push(e)))
}

fn first_progress(events: &Mutex<Vec<TransferEvent>>) -> u64 {
    events
        .lock()
        .unwrap()
        .iter()
        .find_map(|e| match e {
            TransferEvent::Progress { bytes, .. } => Some(*bytes),
            _ => None,
        })
        .expect("a progress event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_continues_from_the_temporary_file_in_both_directions() {
    let s = sftp().await;
    let (here, there) = (s.dir.path().join("here"), s.dir.path().join("there"));
    std::fs::create_dir_all(&here).unwrap();
    std::fs::create_dir_all(&there).unwrap();
    let data = random(2_000_000);
    let resume = TransferOptions {
        resume: true,
        ..Default::default()
    };

    // Download: the first 700 000 bytes are already in the local temporary file.
    std::fs::write(there.join("r.bin"), &data).unwrap();
    std::fs::write(here.join(".r.bin.keyless-part"), &data[..700_000]).unwrap();
    let (events, sink) = recorder();
    let source = there.join("r.bin").to_str().unwrap().to_owned();
    let report = files::download(&s.fs, &[source], &here, &resume, sink)
        .await
        .unwrap();
    assert_eq!((report.files, report.failed), (1, 0));
    assert_eq!(
        report.bytes,
        2_000_000 - 700_000,
        "only the rest was fetched"
    );
    assert_eq!(first_progress(&events), 700_000);
    assert_eq!(std::fs::read(here.join("r.bin")).unwrap(), data);
    assert!(!here.join(".r.bin.keyless-part").exists());

    // Upload: the first 500 000 bytes are already in the remote temporary file.
    std::fs::write(here.join("u.bin"), &data).unwrap();
    std::fs::write(there.join(".u.bin.keyless-part"), &data[..500_000]).unwrap();
    hand_to(s.lab.os_user(), s.dir.path());
    let (events, sink) = recorder();
    let dest = there.to_str().unwrap();
    let report = files::upload(&s.fs, &[here.join("u.bin")], dest, &resume, sink)
        .await
        .unwrap();
    assert_eq!(report.bytes, 2_000_000 - 500_000);
    assert_eq!(first_progress(&events), 500_000);
    assert_eq!(std::fs::read(there.join("u.bin")).unwrap(), data);
    assert!(!there.join(".u.bin.keyless-part").exists());

    // Without resume a stale temporary file is overwritten from the start.
    std::fs::write(there.join(".u.bin.keyless-part"), b"stale").unwrap();
    hand_to(s.lab.os_user(), s.dir.path());
    let (events, sink) = recorder();
    let report = files::upload(
        &s.fs,
        &[here.join("u.bin")],
        dest,
        &TransferOptions::default(),
        sink,
    )
    .await
    .unwrap();
    assert_eq!(report.bytes, 2_000_000);
    assert_eq!(first_progress(&events), 0);
    assert_eq!(std::fs::read(there.join("u.bin")).unwrap(), data);
    let done = events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, TransferEvent::FileDone { file: 0 }));
    assert!(done);

    drop(s.fs);
    s.connection.disconnect().await;
    s.lab.shutdown().await;
}
