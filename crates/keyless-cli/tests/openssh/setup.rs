//! A lab, a private HOME with the generated OpenSSH config included from `~/.ssh/config`, and the
//! system's OpenSSH clients run with that HOME's variables. The agent that `keyless proxy`
//! starts is stopped when the test ends.

use crate::common::{bin, Env, Output};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

pub struct OpenSsh {
    pub env: Env,
    /// `~/.ssh/config` of the private HOME: `Port` of the lab's sshd, then the Include.
    pub config: PathBuf,
    profiles: std::sync::Mutex<Vec<String>>,
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
            profiles: Default::default(),
            env,
        };
        this.write_config();
        this
    }

    /// The generated file, and a user config that includes it after setting the lab's port
    /// (every lab sshd listens on one port; OpenSSH takes the first value it sees).
    pub fn write_config(&self) {
        let generated = self.env.home.path().join(".ssh/keyless.conf");
        std::fs::write(&generated, self.generated()).unwrap();
        let user_config = format!(
            "Port {}\nInclude {}\n",
            self.env.lab.ssh_port(),
            generated.display()
        );
        std::fs::write(&self.config, user_config).unwrap();
    }

    fn generated(&self) -> String {
        let keyless = bin();
        let socket = runtime_dir(&self.env).join("keyless/agent.sock");
        let socket = socket.display();
        let store = self.env.known_hosts();
        let store = store.display();
        let common = format!(
            "    IdentityAgent \"{socket}\"\n    IdentityFile none\n    IdentitiesOnly no\n    \
             PreferredAuthentications publickey\n    ForwardAgent no\n    \
             UserKnownHostsFile /dev/null \"{store}\"\n    UpdateHostKeys no\n    \
             KnownHostsCommand \"{keyless}\" proxy-known-hosts --agent \"{socket}\" %I %H %t %K\n"
        );
        let proxy = |what: &str| {
            format!("    ProxyCommand '{keyless}' proxy --agent '{socket}' -l %r -p %p {what}\n")
        };
        let mut text = String::new();
        let user = self.env.lab.os_user();
        for name in self.profiles.lock().unwrap().iter() {
            text.push_str(&format!("Host {name}\n    User {user}\n"));
            text.push_str(&proxy(&format!("@{name}")));
            text.push_str(&common);
        }
        text.push_str("Host i-* *.keyless\n    User ec2-user\n");
        text.push_str(&proxy("%n"));
        text.push_str(&common);
        text
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
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(self.vars())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
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

    /// A saved profile (and the config regenerated with its block).
    pub async fn add_profile(&self, name: &str, args: &[&str]) {
        let mut all = vec!["profile", "add", name];
        all.extend_from_slice(args);
        let added = self.env.run(&all).await;
        assert_eq!(added.code, 0, "{added:?}");
        self.profiles.lock().unwrap().push(name.to_owned());
        self.write_config();
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
