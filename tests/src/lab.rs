//! `Lab`: the handle tests and the `serve` command hold. Dropping it kills every process the
//! lab started (synchronously, so it works during a panic and without a runtime).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tempfile::TempDir;
use tokio::sync::oneshot;

use crate::addrs::{pick_ssh_port, Block};
use crate::catalogue::{self, InstanceState};
use crate::core::{Core, CoreConfig};
use crate::eice_catalogue::{self, Endpoint};
use crate::identity::{self, IdentityStatus, Saved};
use crate::policy::{Cidr, Policy};
use crate::state::{Faults, LabState};
use crate::{
    eice_tunnel, env_file, os_user, server, ApiRequest, Fault, LabEndpoint, LabError, LabInstance,
    LabOptions, PushRecord, TunnelRecord,
};

pub struct Lab {
    core: Arc<Core>,
    server: Option<ServerThread>,
    env: Vec<(String, String)>,
    env_file: PathBuf,
    identity: IdentityStatus,
    // Dropped after `Drop::drop` has killed the sshds: the address block, then the temp dir.
    _block: Block,
    _temp: Option<TempDir>,
}

/// The HTTP server runs on its own thread and runtime, so it keeps answering sshd's key
/// lookups even while a test blocks its own thread (e.g. waiting for `ssh`).
struct ServerThread {
    stop: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl ServerThread {
    fn spawn(
        listener: std::net::TcpListener,
        eice_listener: std::net::TcpListener,
        core: Arc<Core>,
    ) -> Result<ServerThread, LabError> {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let join = std::thread::Builder::new()
            .name("keyless-lab-http".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
                };
                rt.block_on(async move {
                    let listeners = tokio::net::TcpListener::from_std(listener)
                        .and_then(|l| Ok((l, tokio::net::TcpListener::from_std(eice_listener)?)));
                    let (listener, eice_listener) = match listeners {
                        Ok(l) => l,
                        Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
                    };
                    let _ = ready_tx.send(Ok(()));
                    let tunnels = eice_tunnel::serve(eice_listener, core.clone());
                    let app =
                        server::router(core).into_make_service_with_connect_info::<SocketAddr>();
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = tunnels => {}
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime here cancels open connections: shutdown never waits on clients.
            })
            .map_err(LabError::io("spawning the lab's HTTP thread"))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(ServerThread {
                stop: Some(stop_tx),
                join: Some(join),
            }),
            Ok(Err(e)) => Err(LabError::Setup(format!("lab HTTP server: {e}"))),
            Err(_) => Err(LabError::Setup("lab HTTP server thread died".into())),
        }
    }

    fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// A non-blocking listener on a free loopback port (handed to the server thread's runtime).
fn bind_loopback(what: &str) -> Result<std::net::TcpListener, LabError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(LabError::io(what))?;
    l.set_nonblocking(true).map_err(LabError::io(what))?;
    Ok(l)
}

impl Lab {
    pub async fn start(opts: LabOptions) -> Result<Lab, LabError> {
        let Some(first_region) = opts.regions.first().cloned() else {
            return Err(LabError::Invalid("at least one region is needed".into()));
        };
        let root = os_user::is_root();
        let os_user = os_user::lab_user(root)?;
        if root {
            os_user::ensure_privsep_dir()?;
        }
        // Sessions whose sshd we kill are reparented to us and can be reaped (procs::kill_tree).
        let _ = nix::sys::prctl::set_child_subreaper(true);
        let (temp, state_dir) = match &opts.state_dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(LabError::io(format!("creating {}", d.display())))?;
                (None, d.clone())
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("keyless-lab-")
                    .tempdir()
                    .map_err(LabError::io("creating the state dir"))?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let World {
            block,
            instances,
            endpoints,
            saved_port,
            identity,
        } = world(&opts, &state_dir)?;
        if let IdentityStatus::Replaced(_) = identity {
            eprintln!("keyless-lab: {identity}");
        }
        let addrs: Vec<Ipv4Addr> = instances.iter().flat_map(|i| i.listen_addrs()).collect();
        let ssh_port = pick_ssh_port(&addrs, root, saved_port)
            .map_err(LabError::io("picking the SSH port"))?;
        if let Some(old) = saved_port.filter(|p| *p != ssh_port) {
            eprintln!(
                "keyless-lab: SSH port {old} is taken now; the instances listen on {ssh_port}"
            );
        }
        Saved::of(
            &opts.regions,
            opts.extra_instances,
            block.octets(),
            ssh_port,
            &instances,
            &endpoints,
        )
        .save(&state_dir)?;
        let listener = bind_loopback("binding the lab port")?;
        let http_port = listener
            .local_addr()
            .map_err(LabError::io("binding the lab port"))?
            .port();

        let eice_listener = bind_loopback("binding the EICE tunnel port")?;
        let eice_port = eice_listener
            .local_addr()
            .map_err(LabError::io("binding the EICE tunnel port"))?
            .port();
        let config = CoreConfig {
            regions: opts.regions.clone(),
            eic_latency: opts.eic_latency,
            eice_latency: opts.eice_latency,
            api_latency: opts.api_latency,
            eice_port,
            key_ttl: opts.key_ttl,
            max_page_size: opts.max_page_size.max(1),
            state_dir: state_dir.clone(),
            http_port,
            ssh_port,
            command_user: if root {
                "nobody".into()
            } else {
                os_user.clone()
            },
            os_user: os_user.clone(),
        };
        let state = LabState {
            instances,
            keys: Vec::new(),
            pushes: Vec::new(),
            requests: Vec::new(),
            faults: Faults::default(),
            policy: Policy::seed(&os_user),
            endpoints,
            tunnels: Vec::new(),
            open_tunnels: Default::default(),
            eice_faults: Default::default(),
        };
        let core = Arc::new(Core::new(config, state));
        let server = ServerThread::spawn(listener, eice_listener, core.clone())?;
        let endpoint = format!("http://127.0.0.1:{http_port}");
        let eice_url = format!("ws://127.0.0.1:{eice_port}");
        let env = env_file::vars(&state_dir, &endpoint, &eice_url, &first_region, ssh_port);
        // From here on, an error drops `lab`, which cleans up what was started.
        let mut lab = Lab {
            core,
            server: Some(server),
            env,
            env_file: PathBuf::new(),
            identity,
            _block: block,
            _temp: temp,
        };
        lab.env_file = env_file::write(&state_dir, &lab.env, &opts.regions)?;
        let plan: Vec<(String, bool, bool)> = lab
            .core
            .state()
            .instances
            .iter()
            .map(|i| (i.id.clone(), i.filler, i.state == InstanceState::Running))
            .collect();
        for (id, filler, running) in plan {
            if running {
                lab.core.start_sshd(&id).await?;
            } else if !filler {
                lab.core.ensure_host_key(&id).await?;
            }
        }
        Ok(lab)
    }

    /// `http://127.0.0.1:PORT`, the endpoint for every AWS service.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.core.config.http_port)
    }

    pub fn http_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.core.config.http_port))
    }

    /// The variables of the env file, in order.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    pub fn env_file(&self) -> &Path {
        &self.env_file
    }

    pub fn state_dir(&self) -> &Path {
        &self.core.config.state_dir
    }

    /// Whether this lab reused the identity (ids, addresses, host keys) of an earlier run in
    /// its state dir.
    pub fn identity(&self) -> &IdentityStatus {
        &self.identity
    }

    pub fn regions(&self) -> &[String] {
        &self.core.config.regions
    }

    /// `ec2-user` when running as root, else the current user's name.
    pub fn os_user(&self) -> &str {
        &self.core.config.os_user
    }

    pub fn ssh_port(&self) -> u16 {
        self.core.config.ssh_port
    }

    /// The main account's instances ([`crate::ACCOUNT_ID`]): what the static key, `sso-admin`
    /// and the assume-role profiles see.
    pub fn instances(&self) -> Vec<LabInstance> {
        self.instances_in(crate::ACCOUNT_ID)
    }

    /// One account's instances, e.g. [`crate::STAGING_ACCOUNT_ID`]'s (what `sso-staging` sees).
    pub fn instances_in(&self, account: &str) -> Vec<LabInstance> {
        self.core.snapshot(Some(account))
    }

    /// Every account's instances (each with its `account`).
    pub fn all_instances(&self) -> Vec<LabInstance> {
        self.core.snapshot(None)
    }

    /// Test helper: panics unless exactly one instance has this Name tag. Looks in every
    /// account (the staging names, [`crate::STAGING_INSTANCES`], are unique in the lab).
    pub fn instance_named(&self, name: &str) -> LabInstance {
        let found: Vec<LabInstance> = self
            .all_instances()
            .into_iter()
            .filter(|i| i.name.as_deref() == Some(name))
            .collect();
        match <[LabInstance; 1]>::try_from(found) {
            Ok([one]) => one,
            Err(v) => panic!(
                "keyless-lab: {} instances are named {name:?}, expected exactly one",
                v.len()
            ),
        }
    }

    pub fn pushes(&self) -> Vec<PushRecord> {
        self.core.state().pushes.clone()
    }

    /// Every AWS API request the lab received so far, oldest first.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.core.state().requests.clone()
    }

    pub fn throttle_next_pushes(&self, n: u32) {
        self.core.state().faults.throttle = n;
    }

    pub fn fail_next_pushes(&self, n: u32) {
        self.core.state().faults.fail = n;
    }

    pub fn expire_next_pushes(&self, n: u32) {
        self.core.state().faults.expire = n;
    }

    pub fn deny_user(&self, user: &str) {
        self.core.state().policy.allowed_users.remove(user);
    }

    /// Panics on a malformed CIDR (test helper).
    pub fn set_source_cidr(&self, cidr: &str) {
        let parsed =
            Cidr::parse(cidr).unwrap_or_else(|| panic!("keyless-lab: not a CIDR: {cidr:?}"));
        self.core.state().policy.source = parsed;
    }

    pub fn deny_region(&self, region: &str) {
        self.core
            .state()
            .policy
            .denied_regions
            .insert(region.to_string());
    }

    /// What the user does on the IAM Identity Center page: allow the device with this user code.
    /// False when no pending authorization has it.
    pub fn approve_sso(&self, user_code: &str) -> bool {
        self.core.ids().approve(user_code)
    }

    /// The next `n` CreateToken polls answer SlowDownException.
    pub fn force_sso_slow_downs(&self, n: u32) {
        self.core.ids().forced_slow_downs = n;
    }

    /// Revokes every IAM Identity Center sign-in (see [`Fault::SsoRevoke`]).
    pub fn revoke_sso_sign_ins(&self) {
        self.core.ids().revoke_sign_ins();
    }

    /// From now on StartDeviceAuthorization answers `uri` as its `verificationUriComplete`, as
    /// a hostile or broken portal might (`None`: the lab's own page again).
    pub fn force_sso_verification_uri(&self, uri: Option<&str>) {
        self.core.ids().forced_verification_uri = uri.map(str::to_owned);
    }

    /// Counters of the device flow and SSO calls so far.
    pub fn sso_stats(&self) -> crate::SsoStats {
        self.core.ids().stats.clone()
    }

    /// `ws://127.0.0.1:PORT`: the EC2 Instance Connect Endpoint's tunnel listener
    /// (`KEYLESS_EICE_ENDPOINT_URL`; clients append `/openTunnel?…`).
    pub fn eice_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.core.config.eice_port)
    }

    /// Every account's EC2 Instance Connect Endpoints, as they look now.
    pub fn endpoints(&self) -> Vec<LabEndpoint> {
        self.core.endpoints()
    }

    /// Every openTunnel attempt so far (refused ones too), oldest first.
    pub fn tunnels(&self) -> Vec<TunnelRecord> {
        self.core.state().tunnels.clone()
    }

    /// TCP connections that reached the instance's sshd during this lab run, direct or through a
    /// tunnel (the lab's readiness probes excluded). Panics on an unknown id (test helper).
    pub fn ssh_connections(&self, instance_id: &str) -> usize {
        self.core
            .ssh_connections(instance_id)
            .unwrap_or_else(|e| panic!("keyless-lab: ssh_connections({instance_id}): {e}"))
    }

    /// IAM denies (true) or allows (false) `ec2-instance-connect:OpenTunnel`.
    pub fn deny_open_tunnel(&self, on: bool) {
        self.core.state().eice_faults.deny_open_tunnel = on;
    }

    /// Endpoints show `create-in-progress` and refuse tunnels (true), or are ready (false).
    pub fn set_endpoint_not_ready(&self, on: bool) {
        self.core.state().eice_faults.not_ready = on;
    }

    /// Endpoints act as if their 20 tunnels were open (true), or count again (false).
    pub fn set_tunnel_cap_reached(&self, on: bool) {
        self.core.state().eice_faults.cap_reached = on;
    }

    /// Closes every open tunnel with 1011 "tunnel closed by the endpoint".
    pub async fn close_open_tunnels(&self) {
        Self::must(
            "close_open_tunnels",
            "",
            self.fault(Fault::CloseTunnels).await,
        )
    }

    /// Sends a text frame on every open tunnel, then closes it with 1011.
    pub async fn send_text_on_open_tunnels(&self) {
        Self::must(
            "send_text_on_open_tunnels",
            "",
            self.fault(Fault::TunnelTextFrame).await,
        )
    }

    /// Any fault switch, as the HTTP control route and the CLI apply it.
    pub async fn fault(&self, fault: Fault) -> Result<(), LabError> {
        self.core.apply(fault).await
    }

    fn must(what: &str, id: &str, r: Result<(), LabError>) {
        if let Err(e) = r {
            panic!("keyless-lab: {what}({id}): {e}");
        }
    }

    /// State → stopped; kills its sshd and sessions. Panics on an unknown id (test helper).
    pub async fn stop_instance(&self, id: &str) {
        Self::must("stop_instance", id, self.core.stop_instance(id).await)
    }

    /// State → running; starts sshd with the same host key.
    pub async fn start_instance(&self, id: &str) {
        Self::must("start_instance", id, self.core.start_instance(id).await)
    }

    /// SIGKILLs sshd and every session; the instance stays "running" (a crashed sshd).
    pub async fn kill_sshd(&self, id: &str) {
        Self::must("kill_sshd", id, self.core.kill_sshd(id).await)
    }

    pub async fn restart_sshd(&self, id: &str) {
        Self::must("restart_sshd", id, self.core.restart_sshd(id).await)
    }

    /// sshd replaced by a port that accepts TCP and never sends a byte; state stays running.
    pub async fn mute_sshd(&self, id: &str) {
        Self::must("mute_sshd", id, self.core.mute_sshd(id).await)
    }

    /// New host key, sshd restarted with it.
    pub async fn rekey(&self, id: &str) {
        Self::must("rekey", id, self.core.rekey(id).await)
    }

    /// Sets one tag of an instance (`Name` renames it), as `ec2:CreateTags` would. Panics on an
    /// unknown id (test helper).
    pub fn set_tag(&self, id: &str, key: &str, value: &str) {
        Self::must("set_tag", id, self.core.set_tag(id, key, value))
    }

    /// Like dropping the lab, but without blocking the async runtime's thread.
    pub async fn shutdown(self) {
        let _ = tokio::task::spawn_blocking(move || drop(self)).await;
    }
}

/// What a lab's identity decides: addresses, instances and endpoints.
struct World {
    block: Block,
    instances: Vec<catalogue::Instance>,
    endpoints: Vec<Endpoint>,
    /// The SSH port of the last run, when its identity was reused.
    saved_port: Option<u16>,
    identity: IdentityStatus,
}

/// The world of a lab: the saved identity of `state_dir` when it fits `opts`, else a new world
/// (and the old identity, host keys included, is removed).
fn world(opts: &LabOptions, state_dir: &Path) -> Result<World, LabError> {
    let count = catalogue::named_count() + opts.extra_instances;
    let reason = match Saved::load(state_dir, &opts.regions, opts.extra_instances) {
        Ok(None) => None,
        Err(why) => Some(why),
        Ok(Some(saved)) => match reuse(&saved, opts, count) {
            Ok(world) => return Ok(world),
            Err(why) => Some(why),
        },
    };
    identity::forget(state_dir)?;
    let block = Block::pick(count).map_err(LabError::io("picking loopback addresses"))?;
    let instances = catalogue::build(&opts.regions, opts.extra_instances, &block);
    let endpoints = eice_catalogue::build(&instances, &opts.regions);
    Ok(World {
        block,
        instances,
        endpoints,
        saved_port: None,
        identity: reason.map_or(IdentityStatus::Created, IdentityStatus::Replaced),
    })
}

/// The saved world of `state_dir`: its address block claimed again and the catalogue given
/// the saved ids, addresses and launch times; the reason when that is not possible.
fn reuse(saved: &Saved, opts: &LabOptions, count: usize) -> Result<World, String> {
    let (a, b) = saved.block();
    let block = Block::claim(a, b, count)
        .map_err(|e| format!("the saved lab identity's addresses: {e}"))?;
    let mut instances = catalogue::build(&opts.regions, opts.extra_instances, &block);
    saved.apply(&mut instances)?;
    let mut endpoints = eice_catalogue::build(&instances, &opts.regions);
    saved.apply_endpoints(&mut endpoints)?;
    Ok(World {
        block,
        instances,
        endpoints,
        saved_port: Some(saved.ssh_port),
        identity: IdentityStatus::Reused,
    })
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Server first: a control request could otherwise start an sshd after the sweep.
        if let Some(mut s) = self.server.take() {
            s.stop();
        }
        self.core.kill_all();
    }
}
