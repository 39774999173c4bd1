//! A saved forward the app runs: a `-L` listener served on the POOLED connection to its instance,
//! so it shares the one SSH connection (and the one key push) with that instance's tabs. The
//! port is bound first and kept for the forward's life; the connection under it may drop (it
//! shows Lost) and be leased again — a new connect with a fresh key push when the old one is
//! gone — on [`ManagedForward::reconnect`] or, if asked, by itself with back-off.

use super::carry::StatsSnapshot;
use super::{ForwardEvent, ForwardSink, LocalForward, LocalForwardSpec};
use crate::aws::AwsContext;
use crate::connect::ConnectOptions;
use crate::eice::TunnelSettings;
use crate::error::{Error, ErrorKind, Result};
use crate::hostkeys::{HostKeyPolicy, KnownHosts};
use crate::instance::Instance;
use crate::known_instances::AwsProfileKey;
use crate::live::ConnectRequest;
use crate::pool::{ConnectionPool, Lease};
use crate::verifier::HostKeyPrompt;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Automatic reconnects wait this long after the first failure, doubling up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// russh has no future for the end of a connection: how often a listening forward looks.
const LOSS_CHECK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ForwardState {
    /// Leasing the connection (connecting when the pool has none).
    Connecting,
    /// Connections to the local address are forwarded.
    Listening,
    /// The connection failed or dropped; the port stays bound, waiting for a reconnect.
    Lost,
    /// Stopped for good; the port is released.
    Stopped,
}

/// What a forward is doing, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ForwardStatus {
    /// Where to point a client, e.g. `127.0.0.1:5432`.
    pub local_address: String,
    /// `host:port` as sshd on the instance connects to it.
    pub target: String,
    pub state: ForwardState,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub stats: StatsSnapshot,
    /// Why it is Lost, or why the last forwarded connection was refused.
    pub last_error: Option<Error>,
}

/// Called from the forward's task at every change of state and at the end of each forwarded
/// connection.
pub type StatusSink = Arc<dyn Fn(ForwardStatus) + Send + Sync>;

/// What a managed forward connects with and to (as a tab's [`crate::LiveStart`], so both lease
/// the same pooled connection).
pub struct ManagedForwardStart {
    pub aws: AwsContext,
    pub pool: ConnectionPool,
    pub aws_profile: AwsProfileKey,
    /// Must be [validated](ConnectRequest::validate).
    pub request: ConnectRequest,
    /// The instance as the backend last listed it; without it the instance is looked up.
    pub known: Option<Instance>,
    pub known_hosts: KnownHosts,
    pub tunnel: TunnelSettings,
    pub max_tunnel: Option<Duration>,
    pub spec: LocalForwardSpec,
    /// Asked about a host key seen for the first time. `None`: such a key fails the connect,
    /// with the advice to open a terminal tab first (which asks).
    pub prompt: Option<HostKeyPrompt>,
    /// Reconnect by itself, with back-off, when the connection drops.
    pub auto_reconnect: bool,
}

/// A running forward. [`ManagedForward::stop`] ends it; dropping the handle does not.
pub struct ManagedForward {
    status: Mutex<ForwardStatus>,
    listener: LocalForward,
    reconnect: Notify,
    stop: watch::Sender<bool>,
    sink: StatusSink,
}

impl ManagedForward {
    /// Binds the local port (a taken port is an error naming it, and nothing is connected),
    /// then leases the connection in the background.
    pub async fn start(start: ManagedForwardStart, sink: StatusSink) -> Result<Arc<Self>> {
        start.request.validate()?;
        let listener = LocalForward::bind(start.spec.clone()).await?;
        let status = ForwardStatus {
            local_address: listener.local_addr()?.to_string(),
            target: super::host_port(&start.spec.host, start.spec.port),
            state: ForwardState::Connecting,
            stats: StatsSnapshot::default(),
            last_error: None,
        };
        let forward = Arc::new(ManagedForward {
            status: Mutex::new(status),
            listener,
            reconnect: Notify::new(),
            stop: watch::channel(false).0,
            sink,
        });
        tokio::spawn(forward.clone().run(start));
        Ok(forward)
    }

    /// The state and counters now.
    pub fn status(&self) -> ForwardStatus {
        let mut status = lock(&self.status).clone();
        status.stats = self.listener.stats().snapshot();
        status
    }

    /// Leases the connection again now (Lost: at once; waiting out a back-off: sooner).
    pub fn reconnect(&self) {
        self.reconnect.notify_one();
    }

    /// Ends the forward, its connections and its lease. Idempotent. The port is released when
    /// the last handle is dropped.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    async fn run(self: Arc<Self>, start: ManagedForwardStart) {
        let mut stopped = self.stop.subscribe();
        let opts = match options(&start) {
            Ok(opts) => opts,
            Err(e) => return self.set(ForwardState::Stopped, Some(e)),
        };
        let mut backoff = FIRST_BACKOFF;
        loop {
            self.set(ForwardState::Connecting, None);
            let leased = tokio::select! {
                leased = crate::dial::lease(
                    &start.aws,
                    &start.pool,
                    start.aws_profile.clone(),
                    &start.request,
                    start.known.clone(),
                    &opts,
                ) => leased,
                _ = stopped.wait_for(|s| *s) => break,
            };
            match leased {
                Ok(lease) => {
                    backoff = FIRST_BACKOFF;
                    self.set(ForwardState::Listening, None);
                    let lease = Arc::new(lease);
                    let end = tokio::select! {
                        served = self.listener.serve(lease.clone(), self.event_sink()) => served.err(),
                        _ = lost(&lease) => Some(lost_error(&lease)),
                        _ = stopped.wait_for(|s| *s) => break,
                    };
                    // The serve future is gone, and the connections it carried with it.
                    drop(lease);
                    self.set(ForwardState::Lost, end);
                }
                Err(e) => self.set(ForwardState::Lost, Some(explain(e, start.prompt.is_some()))),
            }
            let wait = async {
                if start.auto_reconnect {
                    tokio::time::sleep(backoff).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = wait => backoff = (backoff * 2).min(MAX_BACKOFF),
                _ = self.reconnect.notified() => {}
                _ = stopped.wait_for(|s| *s) => break,
            }
        }
        let last_error = lock(&self.status).last_error.clone();
        self.set(ForwardState::Stopped, last_error);
    }

    fn set(&self, state: ForwardState, last_error: Option<Error>) {
        {
            let mut status = lock(&self.status);
            status.state = state;
            if last_error.is_some() || state == ForwardState::Listening {
                status.last_error = last_error;
            }
        }
        (self.sink)(self.status());
    }

    /// Each forwarded connection's end reaches the app as a fresh status.
    fn event_sink(self: &Arc<Self>) -> ForwardSink {
        let me = Arc::downgrade(self);
        Arc::new(move |event: ForwardEvent| {
            let Some(me) = me.upgrade() else { return };
            if let ForwardEvent::Refused { error, .. } = event {
                lock(&me.status).last_error = Some(error);
            }
            (me.sink)(me.status());
        })
    }
}

/// As a tab connects (see `LiveSession`), with its own prompt or none.
fn options(start: &ManagedForwardStart) -> Result<ConnectOptions> {
    Ok(ConnectOptions {
        os_user: start.request.os_user.clone(),
        port: start.request.port,
        via: start.request.via,
        host_key_policy: HostKeyPolicy::Ask,
        known_hosts: start.known_hosts.clone(),
        prompt: start.prompt.clone(),
        progress: None,
        timeout: crate::deadline::phase_timeout(None)?,
        max_tunnel: start.max_tunnel,
        tunnel: start.tunnel.clone(),
    })
}

async fn lost(lease: &Lease) {
    while !lease.is_closed() {
        tokio::time::sleep(LOSS_CHECK).await;
    }
}

fn lost_error(lease: &Lease) -> Error {
    Error::new(
        ErrorKind::ConnectionLost,
        format!("the connection to {} was lost", lease.instance.label()),
    )
    .with_hint("Reconnect the forward to connect again (a fresh key is pushed).")
}

/// An unknown host key with nobody to ask: say where the question can be answered.
fn explain(e: Error, can_ask: bool) -> Error {
    if e.kind == ErrorKind::HostKeyUnknown && !can_ask {
        return Error {
            hint: Some(
                "Open a terminal tab to this instance first and check its host key there; the \
                 forward can connect once the key is trusted."
                    .into(),
            ),
            ..e
        };
    }
    e
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
