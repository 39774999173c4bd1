//! `keyless cp` against the lab's real sshd (`internal-sftp`, running as this machine's user, so
//! a remote path is a local path the test can read directly): big files byte-exact both ways,
//! trees with links and odd names, -p, an interrupted download and --resume, a read-only
//! directory, a saved profile, and one key push per copy.

mod common;
/// `keyless sftp` shares this binary (and its helpers) to save a link.
#[path = "cp/sftp_prompt.rs"]
mod sftp_prompt;

use common::Env;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `keyless cp --host-key-policy accept-new ARGS…`
async fn cp(env: &Env, args: &[&str]) -> common::Output {
    let mut all = vec!["cp", "--host-key-policy", "accept-new"];
    all.extend_from_slice(args);
    env.run(&all).await
}

fn remote(env: &Env, path: &Path) -> String {
    format!("{}@db-primary:{}", env.lab.os_user(), path.display())
}

fn random_file(path: &Path, len: u64) {
    let mut data = Vec::with_capacity(len as usize);
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .take(len)
        .read_to_end(&mut data)
        .unwrap();
    std::fs::write(path, data).unwrap();
}

fn sha256(path: &Path) -> String {
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).unwrap();
    std::io::copy(&mut file, &mut hasher).unwrap();
    hex::encode(hasher.finalize())
}

fn dir(env: &Env, name: &str) -> PathBuf {
    let d = env.home.path().join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// sshd logs in as the lab's user (ec2-user when the tests run as root): the remote side of a
/// copy must be that user's to write to.
fn hand_to_lab_user(env: &Env, path: &Path) {
    if !is_root() {
        return;
    }
    let status = std::process::Command::new("chown")
        .arg("-R")
        .arg(env.lab.os_user())
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "chown {}", path.display());
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Every entry below `root` as (relative path, what it is), sorted.
fn tree(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&p).unwrap().display())
            } else if meta.is_dir() {
                stack.push(p);
                "dir".to_owned()
            } else {
                format!("file {}", sha256(&p))
            };
            out.push((rel, what));
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_file_goes_up_and_comes_back_byte_exact_with_one_push_each() {
    let env = Env::start().await;
    let (here, there) = (dir(&env, "here"), dir(&env, "there"));
    hand_to_lab_user(&env, &there);
    let original = here.join("big.bin");
    random_file(&original, 50 * 1024 * 1024);

    let pushes = env.successful_pushes();
    let up = cp(&env, &[original.to_str().unwrap(), &remote(&env, &there)]).await;
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(env.successful_pushes(), pushes + 1, "one key push per cp");
    assert_eq!(sha256(&there.join("big.bin")), sha256(&original));
    assert_eq!(
        std::fs::read_dir(&there).unwrap().count(),
        1,
        "no temporary file is left"
    );

    let back = here.join("back.bin");
    let down = cp(
        &env,
        &[
            &remote(&env, &there.join("big.bin")),
            back.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(env.successful_pushes(), pushes + 2);
    assert_eq!(sha256(&back), sha256(&original));
    assert!(down.stderr.is_empty(), "quiet off a terminal: {down:?}");
    env.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_keep_nesting_links_and_odd_names_both_ways() {
    let env = Env::start().await;
    let src = dir(&env, "src/site");
    std::fs::create_dir_all(src.join("a/b/c")).unwrap();
    std::fs::create_dir_all(src.join("empty")).unwrap();
    std::fs::write(src.join("a/b/c/deep.txt"), b"deep").unwrap();
    std::fs::write(src.join("spaced ünïcødé name.txt"), b"odd").unwrap();
    random_file(&src.join("a/blob.bin"), 300_000);
    std::os::unix::fs::symlink("a/b/c/deep.txt", src.join("inside-link")).unwrap();
    // Points out of the tree: copied as a link, never followed.
    let outside = env.home.path().join("outside-secret");
    std::fs::write(&outside, b"not to be copied").unwrap();
    std::os::unix::fs::symlink(&outside, src.join("outside-link")).unwrap();

    let there = dir(&env, "there");
    hand_to_lab_user(&env, &there);
    let up = cp(&env, &["-r", src.to_str().unwrap(), &remote(&env, &there)]).await;
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(tree(&there.join("site")), tree(&src));
    assert!(std::fs::symlink_metadata(there.join("site/outside-link"))
        .unwrap()
        .file_type()
        .is_symlink());

    // Back down into a directory that does not exist yet: it becomes the copy.
    let back = env.home.path().join("back");
    let down = cp(
        &env,
        &[
            "-r",
            &remote(&env, &there.join("site")),
            back.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(tree(&back), tree(&src));

    // Without -r a directory is refused, per file, exit 1.
    let no_r = cp(&env, &[src.to_str().unwrap(), &remote(&env, &there)]).await;
    assert_eq!(no_r.code, 1, "{no_r:?}");
    assert!(no_r.stderr.contains("is a directory"), "{no_r:?}");
    env.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_p_keeps_mode_and_mtime() {
    let env = Env::start().await;
    let here = dir(&env, "here");
    let there = dir(&env, "there");
    hand_to_lab_user(&env, &there);
    let file = here.join("conf");
    std::fs::write(&file, b"x=1\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let old = UNIX_EPOCH + Duration::from_secs(978_307_200); // 2001-01-01
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_times(
            std::fs::FileTimes::new()
                .set_modified(old)
                .set_accessed(old),
        )
        .unwrap();

    let up = cp(&env, &["-p", file.to_str().unwrap(), &remote(&env, &there)]).await;
    assert_eq!(up.code, 0, "{up:?}");
    let meta = std::fs::metadata(there.join("conf")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_eq!(meta.mtime(), 978_307_200);
    assert_eq!(meta.atime(), 978_307_200);

    let down_to = dir(&env, "down");
    let down = cp(
        &env,
        &[
            "-p",
            &remote(&env, &there.join("conf")),
            down_to.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(down.code, 0, "{down:?}");
    let meta = std::fs::metadata(down_to.join("conf")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_eq!(meta.mtime(), 978_307_200);

    // Without -p the copy is new.
    let plain_to = dir(&env, "plain");
    let plain = cp(
        &env,
        &[
            &remote(&env, &there.join("conf")),
            plain_to.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(plain.code, 0, "{plain:?}");
    let mtime = std::fs::metadata(plain_to.join("conf"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(mtime > SystemTime::now() - Duration::from_secs(3600));
    env.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_download_leaves_no_file_and_resume_completes_it() {
    let env = Env::start().await;
    let there = dir(&env, "there");
    let original = there.join("dump.bin");
    random_file(&original, 128 * 1024 * 1024);
    let here = dir(&env, "here");
    let target = here.join("dump.bin");
    let part = here.join(".dump.bin.keyless-part");
    let db = env.lab.instance_named("db-primary");

    let mut child = env
        .command(&[
            "cp",
            "--host-key-policy",
            "accept-new",
            &remote(&env, &original),
            here.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    // Cut the link once a few megabytes have arrived under the temporary name.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&part).map_or(0, |m| m.len()) < 4 * 1024 * 1024 {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy never started"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "cp ended before the cut"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    env.lab.kill_sshd(&db.id).await;
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(255), "{stderr}");
    assert!(stderr.contains("connection was lost"), "{stderr}");
    assert!(!target.exists(), "no file under the final name");
    let partial = std::fs::metadata(&part).unwrap().len();
    assert!(partial < 128 * 1024 * 1024, "{partial}");

    env.lab.restart_sshd(&db.id).await;
    let resumed = cp(
        &env,
        &["--resume", &remote(&env, &original), here.to_str().unwrap()],
    )
    .await;
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(sha256(&target), sha256(&original));
    assert!(!part.exists(), "the temporary file became the real one");
    env.lab.shutdown().await;
}

/// A directory the lab's user may read but not write: mode 0555 (and owned by root when the
/// tests run as root, since sshd then logs in as another user).
fn read_only_dir(path: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o555)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_remote_directory_fails_with_the_servers_reason() {
    let env = Env::start().await;
    let here = dir(&env, "here");
    let file = here.join("note.txt");
    std::fs::write(&file, b"hello").unwrap();
    let locked = read_only_dir(env.home.path().join("locked"));

    let out = cp(&env, &[file.to_str().unwrap(), &remote(&env, &locked)]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("Permission denied"), "{out:?}");
    assert!(out.stderr.contains("hint:"), "{out:?}");
    assert!(std::fs::read_dir(&locked).unwrap().next().is_none());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_to_a_saved_profile_and_refuses_bad_operands() {
    let env = Env::start().await;
    let user = env.lab.os_user().to_owned();
    let add = env
        .run(&[
            "profile",
            "add",
            "db",
            "--target",
            "db-primary",
            "--user",
            &user,
        ])
        .await;
    assert_eq!(add.code, 0, "{add:?}");
    let here = dir(&env, "here");
    let there = dir(&env, "there");
    hand_to_lab_user(&env, &there);
    let (a, b) = (here.join("a.txt"), here.join("b.txt"));
    std::fs::write(&a, b"A").unwrap();
    std::fs::write(&b, b"B").unwrap();

    let pushes = env.successful_pushes();
    let out = cp(
        &env,
        &[
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            &format!("@db:{}", there.display()),
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        env.successful_pushes(),
        pushes + 1,
        "one push for two files"
    );
    assert_eq!(std::fs::read(there.join("a.txt")).unwrap(), b"A");
    assert_eq!(std::fs::read(there.join("b.txt")).unwrap(), b"B");

    // Several sources need a directory; a missing source fails on its own.
    let not_dir = cp(
        &env,
        &[
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            &format!("@db:{}", there.join("a.txt").display()),
        ],
    )
    .await;
    assert_eq!(not_dir.code, 1, "{not_dir:?}");
    assert!(not_dir.stderr.contains("is not a directory"), "{not_dir:?}");
    let missing = cp(
        &env,
        &[
            &format!("@db:{}/nope", there.display()),
            here.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("No such file"), "{missing:?}");

    // Both sides local: refused before connecting.
    let pushes = env.successful_pushes();
    let local = env.run(&["cp", a.to_str().unwrap(), "./x:y"]).await;
    assert_eq!(local.code, 2, "{local:?}");
    assert!(local.stderr.contains("TARGET:PATH"), "{local:?}");
    // An instance that does not exist: the connection fails, 255 as for ssh.
    let nowhere = cp(&env, &[a.to_str().unwrap(), "no-such-instance:/tmp/"]).await;
    assert_eq!(nowhere.code, 255, "{nowhere:?}");
    assert_eq!(env.successful_pushes(), pushes);
    env.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_gets_a_progress_bar_per_file() {
    let env = Env::start().await;
    let here = dir(&env, "here");
    let there = dir(&env, "there");
    hand_to_lab_user(&env, &there);
    let file = here.join("shown.bin");
    random_file(&file, 3 * 1024 * 1024);
    let dest = remote(&env, &there);
    let args = [
        "cp",
        "--host-key-policy",
        "accept-new",
        file.to_str().unwrap(),
        dest.as_str(),
    ];
    // indicatif draws nothing for TERM=dumb or no TERM at all.
    let run = env.spawn_in_pty_with(&args, 120, 30, &[("TERM", "xterm-256color")]);
    let (code, screen) = tokio::task::spawn_blocking(move || run.wait())
        .await
        .unwrap();
    assert_eq!(code, 0, "{screen}");
    // The finished bar: the file, its size, a rate.
    assert!(screen.contains("shown.bin"), "{screen}");
    assert!(screen.contains("3.00 MiB/3.00 MiB"), "{screen}");
    assert!(screen.contains("/s"), "{screen}");
    assert_eq!(sha256(&there.join("shown.bin")), sha256(&file));
    env.lab.shutdown().await;
}
