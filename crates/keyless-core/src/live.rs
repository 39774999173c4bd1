//! A live terminal session for a GUI: connect in the background, report each step and the
//! host-key question as events, stream output coalesced into chunks, and pause reading from SSH
//! while the viewer is behind (flow control), so a flood never drowns the UI or loses a byte.
//! Tauri-free: the app forwards events and chunks to its webview through a [`LiveSink`].

use crate::address::Via;
use crate::aws::AwsContext;
use crate::connect::{ConnectOptions, Step};
use crate::error::{Error, ErrorKind, Result};
use crate::hostkeys::{HostKeyPolicy, KnownHosts, TrustDecision, UnknownHostKey};
use crate::instance::Instance;
use crate::known_instances::AwsProfileKey;
use crate::pool::{ConnectionPool, Lease};
use crate::session::{Exit, PtySize, Session, SessionEvent, SessionInput, SessionSpec};
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};

/// Output goes to the sink in chunks of at most this size… (the app queues them for its page to
/// take in batches; fewer, larger chunks cost less on the way)
pub const CHUNK_MAX: usize = 256 * 1024;
/// …or when no more output came for this long.
pub const CHUNK_QUIET: Duration = Duration::from_millis(4);
/// Stop reading from SSH with this much output not yet acknowledged by the viewer (the app counts
/// bytes its page has taken as acknowledged)…
pub const FLOW_HIGH: usize = 1024 * 1024;
/// …and resume below this.
pub const FLOW_LOW: usize = 512 * 1024;
/// A chunk starts this big and grows as a flood fills it (most output is a few bytes).
const CHUNK_START: usize = 16 * 1024;

/// Queued input may hold at most this much (a paste while the remote side is not reading):
/// beyond it `send` refuses instead of growing memory.
pub const INPUT_BUDGET: usize = 4 * 1024 * 1024;

/// What the UI asks to connect to: names, never an address. The backend looks the instance up
/// itself (its own inventory, else `DescribeInstances`) and dials only an address AWS reported,
/// so a compromised webview cannot point it anywhere else.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    pub region: String,
    pub instance_id: String,
    pub os_user: String,
    pub port: u16,
    pub via: Via,
}

impl ConnectRequest {
    /// Checked before anything else happens (no lookup, no push, no TCP).
    pub fn validate(&self) -> Result<()> {
        crate::validate::region(&self.region)?;
        crate::validate::instance_id(&self.instance_id)?;
        crate::validate::os_user(&self.os_user)?;
        crate::validate::port(u32::from(self.port))?;
        Ok(())
    }
}

/// How a remote shell ended, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum ExitInfo {
    Status { status: u32 },
    Signal { signal: String, message: String },
}

/// Lifecycle of a live session. Output bytes travel separately (see [`LiveSink::output`]).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "SessionEvent"))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    Step {
        step: Step,
        took_ms: u32,
    },
    HostKeyUnknown {
        instance_id: String,
        algorithm: String,
        fingerprint: String,
    },
    Connected {
        address: String,
        /// The EC2 Instance Connect Endpoint the connection goes through; `None`: direct.
        endpoint_id: Option<String>,
        /// Milliseconds until the endpoint closes the tunnel (AWS allows 1 h at most).
        tunnel_left_ms: Option<u32>,
        /// Tabs on this SSH connection now, this one included (a second tab to the same instance
        /// reuses the first one's connection).
        shared: u32,
    },
    /// The connect failed; there is no session.
    Failed {
        error: Error,
    },
    Ended {
        exit: ExitInfo,
    },
    /// The connection dropped after it was up.
    Lost {
        error: Error,
    },
}

/// What a live session connects with and to.
pub struct LiveStart {
    pub aws: AwsContext,
    /// Where the connection comes from: an existing one for the same key, else a new one.
    pub pool: ConnectionPool,
    /// The AWS profile `aws` was loaded from (part of the pool key).
    pub aws_profile: AwsProfileKey,
    pub request: ConnectRequest,
    /// The instance as the backend last listed it (it must be what AWS reported); without it the
    /// instance is looked up first.
    pub known: Option<Instance>,
    pub size: PtySize,
    pub known_hosts: KnownHosts,
    /// Where EICE tunnels go and through which proxy (the front end reads its environment once).
    pub tunnel: crate::eice::TunnelSettings,
    /// `maxTunnelDuration` to ask for (a saved profile's), else AWS's hour.
    pub max_tunnel: Option<Duration>,
}

/// Where a live session delivers what happens. Called from a background task.
pub trait LiveSink: Send + Sync + 'static {
    fn event(&self, event: LiveEvent);
    fn output(&self, chunk: Vec<u8>);
}

/// What goes to the remote side, in the order the user did it.
enum Outgoing {
    Data(Vec<u8>),
    Resize(PtySize),
}

/// Handle to a live session; dropping it does not end the session, [`LiveSession::close`] does.
pub struct LiveSession {
    /// Keystrokes and resizes queue here and one writer task sends them, so calls that arrive
    /// concurrently (a fast typist, a paste) can never overtake one another.
    outgoing: Mutex<Option<mpsc::UnboundedSender<Outgoing>>>,
    /// The pending host-key question: the fingerprint asked about and where the answer goes.
    host_key_answer: Mutex<Option<(String, oneshot::Sender<TrustDecision>)>>,
    /// Input bytes queued and not yet handed to SSH (bounded by [`INPUT_BUDGET`]).
    queued_input: Arc<AtomicUsize>,
    unacked: AtomicUsize,
    drained: Notify,
    closing: Notify,
    /// The hold on the pooled connection while the shell runs. Released by `close` at once, so
    /// the pool's count is right as soon as the tab is closed.
    lease: Mutex<Option<Lease>>,
}

impl LiveSession {
    /// Starts connecting in the background and returns at once. The request must be
    /// [validated](ConnectRequest::validate).
    pub fn start(start: LiveStart, sink: Arc<dyn LiveSink>) -> Arc<LiveSession> {
        let live = Arc::new(LiveSession {
            outgoing: Mutex::new(None),
            host_key_answer: Mutex::new(None),
            queued_input: Arc::default(),
            unacked: AtomicUsize::new(0),
            drained: Notify::new(),
            closing: Notify::new(),
            lease: Mutex::new(None),
        });
        let runner = live.clone();
        tokio::spawn(async move {
            let (lease, session) = match runner.connect(start, &sink).await {
                Ok(open) => open,
                Err(error) => return sink.event(LiveEvent::Failed { error }),
            };
            let connected = LiveEvent::Connected {
                address: lease.address.to_string(),
                endpoint_id: lease.endpoint_id().map(str::to_owned),
                tunnel_left_ms: lease
                    .tunnel_time_left()
                    .map(|left| u32::try_from(left.as_millis()).unwrap_or(u32::MAX)),
                shared: u32::try_from(lease.shared()).unwrap_or(u32::MAX),
            };
            *lock(&runner.lease) = Some(lease);
            sink.event(connected);
            let end = runner.pump(session, &sink).await;
            *lock(&runner.outgoing) = None;
            // Released before the UI hears of the end, so a status it asks for then is current.
            lock(&runner.lease).take();
            if let Some(event) = end {
                sink.event(event);
            }
        });
        live
    }

    /// A lease on the pooled connection (connecting first when there is none), and the shell.
    async fn connect(
        self: &Arc<Self>,
        start: LiveStart,
        sink: &Arc<dyn LiveSink>,
    ) -> Result<(Lease, Session)> {
        let LiveStart {
            aws,
            pool,
            aws_profile,
            request,
            known,
            size,
            known_hosts,
            tunnel,
            max_tunnel,
        } = start;
        let progress_sink = sink.clone();
        let opts = ConnectOptions {
            os_user: request.os_user.clone(),
            port: request.port,
            via: request.via,
            host_key_policy: HostKeyPolicy::Ask,
            known_hosts,
            prompt: Some(self.host_key_prompt(sink.clone())),
            progress: Some(Arc::new(move |t: crate::StepTiming| {
                progress_sink.event(LiveEvent::Step {
                    step: t.step,
                    took_ms: u32::try_from(t.took.as_millis()).unwrap_or(u32::MAX),
                })
            })),
            timeout: crate::deadline::phase_timeout(None)?,
            max_tunnel,
            tunnel,
        };
        let lease = tokio::select! {
            // A closed tab wins over what its close set off (the rejected host-key question), so
            // the pool sees a cancelled connect and a waiting tab connects itself.
            biased;
            _ = self.closing.notified() => return Err(cancelled()),
            lease = crate::dial::lease(&aws, &pool, aws_profile, &request, known, &opts) => lease?,
        };
        let session = lease
            .open(&SessionSpec {
                command: None,
                pty: Some(size),
            })
            .await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_in_order(
            session.input(),
            rx,
            self.queued_input.clone(),
        ));
        *lock(&self.outgoing) = Some(tx);
        Ok((lease, session))
    }

    /// Asks the UI through an event and waits for [`LiveSession::answer_host_key`].
    fn host_key_prompt(self: &Arc<Self>, sink: Arc<dyn LiveSink>) -> crate::HostKeyPrompt {
        let live = Arc::downgrade(self);
        Arc::new(move |key: UnknownHostKey| {
            let (tx, rx) = oneshot::channel();
            if let Some(live) = live.upgrade() {
                *lock(&live.host_key_answer) = Some((key.fingerprint.clone(), tx));
            }
            sink.event(LiveEvent::HostKeyUnknown {
                instance_id: key.instance_id,
                algorithm: key.algorithm,
                fingerprint: key.fingerprint,
            });
            // No answer (closed tab, dropped sender) means no trust.
            async move { rx.await.unwrap_or(TrustDecision::Reject) }.boxed()
        })
    }

    /// Streams output until the shell ends, the link drops, or the session is closed.
    async fn pump(&self, mut session: Session, sink: &Arc<dyn LiveSink>) -> Option<LiveEvent> {
        let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK_START);
        loop {
            self.wait_for_viewer().await;
            let next = if chunk.is_empty() {
                tokio::select! {
                    n = session.next() => Some(n),
                    _ = self.closing.notified() => return None,
                }
            } else {
                // Something is waiting to go out: send it if nothing more comes quickly.
                tokio::time::timeout(CHUNK_QUIET, session.next()).await.ok()
            };
            match next {
                None => self.flush(&mut chunk, sink),
                Some(Ok(SessionEvent::Stdout(data))) | Some(Ok(SessionEvent::Stderr(data))) => {
                    chunk.extend_from_slice(&data);
                    // Full chunks go out at once; never more than CHUNK_MAX in one.
                    while chunk.len() >= CHUNK_MAX {
                        let rest = chunk.split_off(CHUNK_MAX);
                        self.flush(&mut chunk, sink);
                        chunk.extend_from_slice(&rest);
                    }
                }
                Some(Ok(SessionEvent::Ended(exit))) => {
                    self.flush(&mut chunk, sink);
                    let exit = match exit {
                        Exit::Status(status) => ExitInfo::Status { status },
                        Exit::Signal { signal, message } => ExitInfo::Signal { signal, message },
                    };
                    return Some(LiveEvent::Ended { exit });
                }
                Some(Err(error)) => {
                    self.flush(&mut chunk, sink);
                    return Some(LiveEvent::Lost { error });
                }
            }
        }
    }

    fn flush(&self, chunk: &mut Vec<u8>, sink: &Arc<dyn LiveSink>) {
        if chunk.is_empty() {
            return;
        }
        self.unacked.fetch_add(chunk.len(), Ordering::SeqCst);
        sink.output(std::mem::replace(chunk, Vec::with_capacity(CHUNK_START)));
    }

    /// Backpressure: while the viewer is more than FLOW_HIGH behind, wait until it is under FLOW_LOW.
    async fn wait_for_viewer(&self) {
        if self.unacked.load(Ordering::SeqCst) <= FLOW_HIGH {
            return;
        }
        while self.unacked.load(Ordering::SeqCst) > FLOW_LOW {
            let drained = self.drained.notified();
            if self.unacked.load(Ordering::SeqCst) <= FLOW_LOW {
                break;
            }
            tokio::select! {
                _ = drained => {}
                _ = self.closing.notified() => { self.closing.notify_one(); return; }
            }
        }
    }

    /// Output bytes unacknowledged by the viewer right now.
    pub fn unacked(&self) -> usize {
        self.unacked.load(Ordering::SeqCst)
    }

    /// The viewer has `bytes` more output in hand (the app: its page has taken them to show).
    pub fn ack(&self, bytes: usize) {
        let _ = self
            .unacked
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                Some(u.saturating_sub(bytes))
            });
        if self.unacked.load(Ordering::SeqCst) <= FLOW_LOW {
            self.drained.notify_waiters();
        }
    }

    /// Queues input for the remote side (in call order). Refused, with nothing queued, when it
    /// would take the queue past [`INPUT_BUDGET`] (the remote side has stopped reading).
    pub fn send(&self, data: &[u8]) -> Result<()> {
        let fits = self
            .queued_input
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |queued| {
                queued
                    .checked_add(data.len())
                    .filter(|&total| total <= INPUT_BUDGET)
            })
            .is_ok();
        if !fits {
            return Err(Error::new(
                ErrorKind::InputBacklog,
                format!(
                    "{} of input are already waiting to be sent: the remote side is not reading, \
                     so these {} bytes were not queued",
                    format_args!("{} MiB", INPUT_BUDGET / (1024 * 1024)),
                    data.len()
                ),
            )
            .with_hint("Wait until the remote program reads its input, then send the rest."));
        }
        let queued = self.queue(Outgoing::Data(data.to_vec()));
        if queued.is_err() {
            self.queued_input.fetch_sub(data.len(), Ordering::SeqCst);
        }
        queued
    }

    /// Queues a terminal size change (in order with the input around it).
    pub fn resize(&self, size: PtySize) -> Result<()> {
        self.queue(Outgoing::Resize(size))
    }

    /// Answers this session's pending host-key question. The answer names the fingerprint it
    /// was given, so it can only decide the question that was shown; anything else is refused
    /// and the question stays open.
    pub fn answer_host_key(&self, fingerprint: &str, decision: TrustDecision) -> Result<()> {
        let mut pending = lock(&self.host_key_answer);
        match pending.take() {
            Some((asked, tx)) if asked == fingerprint => {
                let _ = tx.send(decision);
                Ok(())
            }
            Some(other) => {
                *pending = Some(other);
                Err(Error::invalid(format!(
                    "the host key question of this session is not about {}",
                    fingerprint.escape_debug()
                )))
            }
            None => Err(Error::invalid(
                "no host key question is waiting for an answer",
            )),
        }
    }

    /// A hold of its own on this session's connection while the shell runs (a Files panel): it
    /// keeps the connection open after the shell ends, until dropped. `None` before the session
    /// is connected and after it ended.
    pub fn share_connection(&self) -> Option<Lease> {
        lock(&self.lease).as_ref().map(Lease::share)
    }

    /// Ends the session (or the connect in progress). Idempotent.
    pub fn close(&self) {
        // A stored permit: the background task sees it even if it is not waiting right now.
        self.closing.notify_one();
        lock(&self.lease).take();
        if let Some((_, tx)) = lock(&self.host_key_answer).take() {
            let _ = tx.send(TrustDecision::Reject);
        }
    }

    fn queue(&self, item: Outgoing) -> Result<()> {
        let sent = lock(&self.outgoing)
            .as_ref()
            .map(|tx| tx.send(item).is_ok());
        match sent {
            Some(true) => Ok(()),
            _ => Err(
                Error::new(ErrorKind::ConnectionLost, "the session is not connected")
                    .with_hint("Reconnect to open a new session."),
            ),
        }
    }
}

/// The one writer of a session: sends queued input and resizes, in order, until the queue closes
/// or the connection fails.
async fn write_in_order(
    input: SessionInput,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    queued: Arc<AtomicUsize>,
) {
    while let Some(item) = rx.recv().await {
        let sent = match item {
            Outgoing::Data(bytes) => {
                let sent = input.send(&bytes).await;
                queued.fetch_sub(bytes.len(), Ordering::SeqCst);
                sent
            }
            Outgoing::Resize(size) => input.resize(size).await,
        };
        if sent.is_err() {
            return;
        }
    }
}

fn cancelled() -> Error {
    Error::new(ErrorKind::ConnectionLost, "the connection was cancelled")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
