//! A lab, a private HOME with the generated OpenSSH config included from `~/.ssh/config`, and the
//! system's OpenSSH clients run with that HOME's variables. The agent that `keyless proxy`
//! starts is stopped when the test ends.

use crate::common::{Env, Output};
use std::path::PathBuf;
use std::time::Duration;

pub struct OpenSsh {
    pub env: Env,
    /// `~/.ssh/config` of the private HOME: `Port` of the lab's sshd, then the Include.
    pub config: PathBuf,
}

impl OpenSsh {
    pub async fn start() -> OpenSsh {
        let env = Env::start().await;
        let ssh_dir = env.home.path().join(".ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        let runtime = runtime_dir(&env);
        std::fs::create_dir_all(&runtime).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        let this = OpenSsh {
            config: ssh_dir.join("config"),
            env,
        };
        this.write_config().await;
        this
    }

    /// The user's own config (the lab's port for every host: every lab sshd listens on one), then
    /// `keyless ssh-config --install` as a user runs it: the Include goes on top.
    async fn write_config(&self) {
        let user_config = format!("Host *\n    Port {}\n", self.env.lab.ssh_port());
        std::fs::write(&self.config, user_config).unwrap();
        let mut install = self.env.command(&["ssh-config", "--install"]);
        install.envs(self.vars());
        let installed = output(install).await;
        assert_eq!(installed.code, 0, "{installed:?}");
    }

    /// The variables every OpenSSH client runs with: the lab's, the private HOME, a runtime
    /// folder for the agent's socket, and an agent that leaves soon after the last client.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars = self.env.vars();
        vars.push((
            "XDG_RUNTIME_DIR".into(),
            runtime_dir(&self.env).display().to_string(),
        ));
        vars.push(("KEYLESS_AGENT_IDLE_SECS".into(), "3".into()));
        vars
    }

    /// `PROGRAM ARGS…` (ssh, scp, sftp, rsync, ansible) with [`Self::vars`].
    pub fn command(&self, program: &str, args: &[&str]) -> tokio::process::Command {
        crate::common::program(program, args, self.vars())
    }

    pub async fn run(&self, program: &str, args: &[&str]) -> Output {
        output(self.command(program, args)).await
    }

    /// `ssh -F ~/.ssh/config -o BatchMode=yes ARGS…`
    pub async fn ssh(&self, args: &[&str]) -> Output {
        let config = self.config.display().to_string();
        let mut all = vec!["-F", &config, "-o", "BatchMode=yes"];
        all.extend_from_slice(args);
        self.run("ssh", &all).await
    }

    /// A saved profile: `keyless profile add` also writes its block into the installed config.
    pub async fn add_profile(&self, name: &str, args: &[&str]) {
        let mut all = vec!["profile", "add", name];
        all.extend_from_slice(args);
        let added = self.env.run(&all).await;
        assert_eq!(added.code, 0, "{added:?}");
        let generated = std::fs::read_to_string(self.env.home.path().join(".ssh/keyless.conf"));
        assert!(
            generated.unwrap().contains(&format!("Host {name}\n")),
            "the installed config gained a block for {name}"
        );
    }

    pub fn instance_id(&self, name: &str) -> String {
        let found = self.env.lab.instances().into_iter();
        let mut named = found.filter(|i| i.name.as_deref() == Some(name));
        named
            .next()
            .unwrap_or_else(|| panic!("no lab instance {name}"))
            .id
    }
}

pub async fn output(mut cmd: tokio::process::Command) -> Output {
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("finishes within two minutes")
        .expect("runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn runtime_dir(env: &Env) -> PathBuf {
    env.home.path().join("run")
}

impl Drop for OpenSsh {
    /// Stops the agent `keyless proxy` started (its pid is in the lock file), so no test leaves
    /// a process behind even when it fails.
    fn drop(&mut self) {
        let lock = runtime_dir(&self.env).join("keyless/agent.lock");
        let Ok(text) = std::fs::read_to_string(lock) else {
            return;
        };
        if let Ok(pid) = text.trim().parse::<i32>() {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
    }
}
