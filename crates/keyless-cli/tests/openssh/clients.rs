//! ssh by Name tag, by instance id and by saved profile; scp both ways, `sftp -b`, `rsync -a`;
//! an EICE-only instance; ControlMaster sharing one push.

use crate::setup::OpenSsh;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_by_name_id_and_profile_with_host_keys_from_keylesss_store() {
    let o = OpenSsh::start().await;
    let id = o.instance_id("db-primary");
    // First contact: OpenSSH accepts the new key, and the agent writes it to Keyless's store.
    let first = (o.ssh(&[
        "-o",
        "StrictHostKeyChecking=accept-new",
        "db-primary.keyless",
        "echo",
        "ok",
    ]))
    .await;
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(first.stdout.trim(), "ok");
    let store = std::fs::read_to_string(o.env.known_hosts()).unwrap();
    assert!(
        store.lines().any(|l| l.starts_with(&format!("{id} ssh-"))),
        "{store}"
    );

    // From now on nothing new is accepted: the keys come from the store, by id (the file) and by
    // name (the KnownHostsCommand).
    let strict = ["-o", "StrictHostKeyChecking=yes"];
    let by_id = o
        .ssh(&[&strict[..], &[id.as_str(), "echo", "by-id"]].concat())
        .await;
    assert_eq!(by_id.code, 0, "{by_id:?}");
    assert_eq!(by_id.stdout.trim(), "by-id");
    let by_name = o
        .ssh(&[&strict[..], &["db-primary.keyless", "echo", "by-name"]].concat())
        .await;
    assert_eq!(by_name.code, 0, "{by_name:?}");

    o.add_profile("dbp", &["--target", &id]).await;
    let by_profile = o
        .ssh(&[&strict[..], &["dbp", "echo", "by-profile"]].concat())
        .await;
    assert_eq!(by_profile.code, 0, "{by_profile:?}");
    assert_eq!(by_profile.stdout.trim(), "by-profile");
    // One push per connection.
    assert_eq!(o.env.successful_pushes(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scp_sftp_and_rsync_carry_files_both_ways() {
    let o = OpenSsh::start().await;
    let config = o.config.display().to_string();
    let base = [
        "-F",
        config.as_str(),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
    ];
    let local = o.env.home.path().join("work");
    std::fs::create_dir_all(local.join("tree/sub")).unwrap();
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(local.join("blob.bin"), &payload).unwrap();
    std::fs::write(local.join("tree/a.txt"), "alpha\n").unwrap();
    std::fs::write(local.join("tree/sub/b.txt"), "beta\n").unwrap();
    let remote = remote_dir(&o);

    let up = o
        .run(
            "scp",
            &[
                &base[..],
                &[
                    &path(&local.join("blob.bin")),
                    &format!("db-primary.keyless:{remote}/up.bin"),
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(std::fs::read(format!("{remote}/up.bin")).unwrap(), payload);
    let down = o
        .run(
            "scp",
            &[
                &base[..],
                &[
                    &format!("db-primary.keyless:{remote}/up.bin"),
                    &path(&local.join("down.bin")),
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(std::fs::read(local.join("down.bin")).unwrap(), payload);

    let batch = local.join("batch.txt");
    std::fs::write(
        &batch,
        format!("cd {remote}\nput {}\nls\n", path(&local.join("tree/a.txt"))),
    )
    .unwrap();
    let sftp = o
        .run(
            "sftp",
            &[&base[..], &["-b", &path(&batch), "db-primary.keyless"]].concat(),
        )
        .await;
    assert_eq!(sftp.code, 0, "{sftp:?}");
    assert!(sftp.stdout.contains("a.txt"), "{sftp:?}");

    let ssh = format!("ssh {}", base.join(" "));
    let rsync = o
        .run(
            "rsync",
            &[
                "-a",
                "-e",
                &ssh,
                &format!("{}/", path(&local.join("tree"))),
                &format!("db-primary.keyless:{remote}/tree/"),
            ],
        )
        .await;
    assert_eq!(rsync.code, 0, "{rsync:?}");
    assert_eq!(
        std::fs::read_to_string(format!("{remote}/tree/sub/b.txt")).unwrap(),
        "beta\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_behind_an_endpoint_through_a_profile_via_eice() {
    let o = OpenSsh::start().await;
    o.add_profile("pdb", &["--target", "Name=private-db", "--via", "eice"])
        .await;
    let out = o
        .ssh(&[
            "-o",
            "StrictHostKeyChecking=accept-new",
            "pdb",
            "echo",
            "through-eice",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "through-eice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_master_shares_one_push_among_its_sessions() {
    let o = OpenSsh::start().await;
    let control = o.env.home.path().join("cm-%C");
    let control = format!("ControlPath={}", control.display());
    let shared = [
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        "ControlMaster=auto",
        "-o",
        control.as_str(),
        "-o",
        "ControlPersist=30",
    ];
    for n in ["one", "two", "three"] {
        let out = o
            .ssh(&[&shared[..], &["db-primary.keyless", "echo", n]].concat())
            .await;
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout.trim(), n);
    }
    assert_eq!(o.env.successful_pushes(), 1);
    let stop = o
        .ssh(&[&shared[..], &["-O", "exit", "db-primary.keyless"]].concat())
        .await;
    assert_eq!(stop.code, 0, "{stop:?}");
}

fn path(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// A folder the lab's login user owns (as root the lab logs in as ec2-user).
pub fn remote_dir(o: &OpenSsh) -> String {
    let dir = o.env.home.path().join("remote");
    std::fs::create_dir_all(&dir).unwrap();
    let user = o.env.lab.os_user().to_owned();
    let _ = std::process::Command::new("chown")
        .args([&format!("{user}:"), &path(&dir)])
        .status();
    // Every parent must be traversable by that user.
    use std::os::unix::fs::PermissionsExt;
    let mut at = dir.parent();
    while let Some(p) = at {
        if p == std::path::Path::new("/") {
            break;
        }
        let mode = std::fs::metadata(p).unwrap().permissions().mode();
        let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode | 0o711));
        at = p.parent();
    }
    path(&dir)
}
