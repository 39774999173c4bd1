//! The state shared by the HTTP server thread and the `Lab` handle, and the instance lifecycle
//! operations (sshd start/kill/mute, stop/start, rekey).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::catalogue::InstanceState;
use crate::identities::Identities;
use crate::state::{LabEndpoint, LabInstance, LabState};
use crate::{procs, sshd, LabError};

pub struct Core {
    pub config: CoreConfig,
    state: Mutex<LabState>,
    ids: Mutex<Identities>,
    sshds: Mutex<HashMap<String, Child>>,
    /// Listeners standing in for a muted sshd (see [`Core::mute_sshd`]).
    mutes: Mutex<HashMap<String, Vec<TcpListener>>>,
    /// Per instance, the length of its sshd log when this lab run first started its sshd:
    /// connections are counted from there (the log outlives runs in a reused state dir).
    log_base: Mutex<HashMap<String, u64>>,
}

/// A poisoned lock only means a panic elsewhere; the data is still usable for cleanup.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What does not change while a lab runs.
pub struct CoreConfig {
    pub regions: Vec<String>,
    pub eic_latency: Duration,
    pub eice_latency: Duration,
    /// Before every EC2 Query API answer.
    pub api_latency: Duration,
    pub key_ttl: Duration,
    /// At least 1.
    pub max_page_size: usize,
    pub state_dir: PathBuf,
    pub http_port: u16,
    /// The EC2 Instance Connect Endpoint's tunnel listener (`ws://127.0.0.1:PORT/openTunnel`).
    pub eice_port: u16,
    pub ssh_port: u16,
    pub os_user: String,
    /// Runs curl for sshd's AuthorizedKeysCommand.
    pub command_user: String,
}

impl Core {
    pub fn new(config: CoreConfig, state: LabState) -> Core {
        Core {
            config,
            state: Mutex::new(state),
            ids: Mutex::new(Identities::default()),
            sshds: Mutex::new(HashMap::new()),
            mutes: Mutex::new(HashMap::new()),
            log_base: Mutex::new(HashMap::new()),
        }
    }

    /// Never hold this across an await.
    pub fn state(&self) -> MutexGuard<'_, LabState> {
        lock(&self.state)
    }

    /// Credentials and IAM Identity Center state. Never hold this across an await.
    pub fn ids(&self) -> MutexGuard<'_, Identities> {
        lock(&self.ids)
    }

    /// The instances of `account`, or of every account.
    pub fn snapshot(&self, account: Option<&str>) -> Vec<LabInstance> {
        self.state()
            .instances
            .iter()
            .filter(|i| account.is_none_or(|a| a == i.account))
            .map(|i| LabInstance::of(i, self.config.ssh_port))
            .collect()
    }

    /// The EC2 Instance Connect Endpoints of every account, as they look now.
    pub fn endpoints(&self) -> Vec<LabEndpoint> {
        let st = self.state();
        st.endpoints
            .iter()
            .map(|e| LabEndpoint {
                id: e.id.clone(),
                account: e.account.to_string(),
                region: e.region.clone(),
                vpc_id: e.vpc_id.clone(),
                subnet_id: e.subnet_id.clone(),
                state: st.endpoint_state().to_string(),
                dns_name: e.dns_name(),
                fips_dns_name: e.fips_dns_name(),
                open_tunnels: st.open_tunnels_of(&e.id),
            })
            .collect()
    }

    fn set_state(&self, id: &str, s: InstanceState) -> Result<InstanceState, LabError> {
        let mut st = self.state();
        let inst = st
            .instance_mut(id)
            .ok_or_else(|| LabError::UnknownInstance(id.into()))?;
        Ok(std::mem::replace(&mut inst.state, s))
    }

    fn addrs(&self, id: &str) -> Result<Vec<Ipv4Addr>, LabError> {
        let st = self.state();
        let inst = st
            .instance(id)
            .ok_or_else(|| LabError::UnknownInstance(id.into()))?;
        Ok(inst.listen_addrs())
    }

    fn paths(&self, id: &str) -> sshd::Paths {
        sshd::Paths::new(&self.config.state_dir, id)
    }

    /// Makes sure the instance has a host key and records its public half.
    pub async fn ensure_host_key(&self, id: &str) -> Result<(), LabError> {
        let line = sshd::ensure_host_key(&self.paths(id), id).await?;
        if let Some(i) = self.state().instance_mut(id) {
            i.host_public_key = line;
        }
        Ok(())
    }

    /// (Re)starts the instance's sshd and waits until it accepts connections.
    pub async fn start_sshd(self: &Arc<Self>, id: &str) -> Result<(), LabError> {
        self.kill_sshd_now(id).await;
        self.ensure_host_key(id).await?;
        let addrs = self.addrs(id)?;
        let paths = self.paths(id);
        lock(&self.log_base)
            .entry(id.to_string())
            .or_insert_with(|| sshd::log_len(&paths));
        let input = sshd::ConfigInput {
            id,
            addrs: &addrs,
            port: self.config.ssh_port,
            keys_port: self.config.http_port,
            command_user: &self.config.command_user,
        };
        let child = sshd::spawn(&paths, &sshd::config_text(&paths, &input))?;
        lock(&self.sshds).insert(id.to_string(), child);
        let exited = || {
            lock(&self.sshds)
                .get_mut(id)
                .is_none_or(|c| !matches!(c.try_wait(), Ok(None)))
        };
        if let Err(why) = sshd::wait_ready(&addrs, self.config.ssh_port, exited).await {
            self.kill_sshd_now(id).await;
            return Err(LabError::Setup(format!(
                "sshd for {id}: {why}\n{}",
                sshd::log_tail(&paths)
            )));
        }
        Ok(())
    }

    /// TCP connections that reached the instance's sshd during this lab run (direct or through
    /// an EICE tunnel; the lab's readiness probes excluded).
    pub fn ssh_connections(&self, id: &str) -> Result<usize, LabError> {
        self.addrs(id)?;
        let Some(base) = lock(&self.log_base).get(id).copied() else {
            return Ok(0);
        };
        Ok(sshd::connections_in_log(&self.paths(id), base))
    }

    /// Kills the sshd and its sessions, off the async thread (it waits for the kills); a muted
    /// instance's silent listeners close.
    async fn kill_sshd_now(self: &Arc<Self>, id: &str) {
        lock(&self.mutes).remove(id);
        let Some(mut child) = lock(&self.sshds).remove(id) else {
            return;
        };
        let _ = tokio::task::spawn_blocking(move || procs::kill_tree(&mut child)).await;
    }

    pub async fn kill_sshd(self: &Arc<Self>, id: &str) -> Result<(), LabError> {
        self.addrs(id)?;
        self.kill_sshd_now(id).await;
        Ok(())
    }

    /// A host whose SSH port accepts connections and then says nothing: sshd is killed and its
    /// addresses are bound by listeners that never accept, so the kernel completes every TCP
    /// handshake and no byte ever comes back. No thread or task is needed; dropping the
    /// listeners (restart, stop, kill, lab shutdown) closes the port again.
    pub async fn mute_sshd(self: &Arc<Self>, id: &str) -> Result<(), LabError> {
        let addrs = self.addrs(id)?;
        self.kill_sshd_now(id).await;
        let listeners = addrs
            .iter()
            .map(|ip| {
                let sa = SocketAddr::from((*ip, self.config.ssh_port));
                TcpListener::bind(sa).map_err(LabError::io(format!("binding {sa} for {id}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        lock(&self.mutes).insert(id.to_string(), listeners);
        Ok(())
    }

    pub async fn restart_sshd(self: &Arc<Self>, id: &str) -> Result<(), LabError> {
        match self.state().instance(id).map(|i| i.state) {
            None => return Err(LabError::UnknownInstance(id.into())),
            Some(InstanceState::Running) => {}
            Some(s) => return Err(LabError::Invalid(format!("{id} is {}", s.name()))),
        }
        self.start_sshd(id).await
    }

    pub async fn stop_instance(self: &Arc<Self>, id: &str) -> Result<(), LabError> {
        self.set_state(id, InstanceState::Stopping)?;
        self.kill_sshd_now(id).await;
        self.set_state(id, InstanceState::Stopped)?;
        Ok(())
    }

    pub async fn start_instance(self: &Arc<Self>, id: &str) -> Result<(), LabError> {
        let before = self.set_state(id, InstanceState::Pending)?;
        if before == InstanceState::Running && lock(&self.sshds).contains_key(id) {
            self.set_state(id, InstanceState::Running)?;
            return Ok(());
        }
        let started = self.start_sshd(id).await;
        self.set_state(
            id,
            if started.is_ok() {
                InstanceState::Running
            } else {
                before
            },
        )?;
        started
    }

    /// Adds or overwrites one tag (`Name` is also the instance's name), as CreateTags does.
    pub fn set_tag(&self, id: &str, key: &str, value: &str) -> Result<(), LabError> {
        let mut st = self.state();
        let inst = st
            .instance_mut(id)
            .ok_or_else(|| LabError::UnknownInstance(id.into()))?;
        match inst.tags.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_owned(),
            None => inst.tags.push((key.to_owned(), value.to_owned())),
        }
        if key == "Name" {
            inst.name = Some(value.to_owned());
        }
        Ok(())
    }

    /// New host key; a running instance gets its sshd restarted with it.
    pub async fn rekey(self: &Arc<Self>, id: &str) -> Result<(), LabError> {
        self.addrs(id)?;
        sshd::remove_host_key(&self.paths(id));
        self.ensure_host_key(id).await?;
        let running = self
            .state()
            .instance(id)
            .is_some_and(|i| i.state == InstanceState::Running);
        if running {
            self.start_sshd(id).await?;
        }
        Ok(())
    }

    /// Synchronous: used from `Drop`, where no runtime may exist.
    pub fn kill_all(&self) {
        lock(&self.mutes).clear();
        let children: Vec<Child> = lock(&self.sshds).drain().map(|(_, c)| c).collect();
        for mut c in children {
            procs::kill_tree(&mut c);
        }
    }
}
