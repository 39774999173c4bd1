//! Ansible's ad-hoc `ping` against two lab instances through the generated config: Ansible runs
//! OpenSSH (and sftp for its module), each connection gets its own one-time key.

use crate::setup::{output, OpenSsh};
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ansible_pings_two_instances_through_the_config() {
    let ansible = ansible().await;
    let o = OpenSsh::start().await;
    let by_id = o.instance_id("db-primary");
    let inventory = format!("{by_id},café-α.keyless,");
    let ssh_args = format!(
        "-F {} -o StrictHostKeyChecking=accept-new -o ControlMaster=no",
        o.config.display()
    );
    let home = o.env.home.path().display().to_string();
    let mut cmd = o.command(
        &ansible.display().to_string(),
        &["all", "-i", &inventory, "-m", "ping"],
    );
    cmd.envs([
        ("ANSIBLE_SSH_ARGS", ssh_args.as_str()),
        ("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3"),
        ("ANSIBLE_LOCAL_TEMP", &format!("{home}/tmp/ansible-local")),
        ("ANSIBLE_NOCOLOR", "1"),
        ("ANSIBLE_FORKS", "2"),
    ]);
    let out = output(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout.matches("\"ping\": \"pong\"").count(),
        2,
        "{out:?}"
    );
    assert!(o.env.successful_pushes() >= 2);
}

/// `ansible` from a venv under the target dir, made the first time (`pip install ansible-core`).
async fn ansible() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ansible-venv");
    let bin = venv.join("bin/ansible");
    if bin.exists() {
        return bin;
    }
    let made = tokio::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .await
        .expect("python3 runs");
    assert!(made.success(), "python3 -m venv (apt install python3-venv)");
    let pip = venv.join("bin/pip");
    let installed = tokio::process::Command::new(pip)
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "ansible-core",
        ])
        .status()
        .await
        .expect("pip runs");
    assert!(installed.success(), "pip install ansible-core");
    bin
}
