//! An authenticated SSH connection and the sessions (shell or command) opened on it.

use crate::connect::StepTiming;
use crate::deadline::{Phase, PhaseDeadline};
use crate::eice::TunnelEnd;
use crate::error::{Error, ErrorKind, Result};
use crate::forward::{RemoteForward, RemoteForwardSpec, RemoteForwards};
use crate::instance::Instance;
use crate::reach::Path;
use crate::verifier::Verifier;
use russh::client::{Handle, Msg};
use russh::keys::{Algorithm, EcdsaCurve, HashAlg};
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Disconnect, Preferred};
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The host-key algorithms Keyless accepts, exactly. Not `ssh-rsa`: its signatures use SHA-1.
const HOST_KEY_ALGORITHMS: &[Algorithm] = &[
    Algorithm::Ed25519,
    Algorithm::Ecdsa {
        curve: EcdsaCurve::NistP256,
    },
    Algorithm::Ecdsa {
        curve: EcdsaCurve::NistP384,
    },
    Algorithm::Ecdsa {
        curve: EcdsaCurve::NistP521,
    },
    Algorithm::Rsa {
        hash: Some(HashAlg::Sha512),
    },
    Algorithm::Rsa {
        hash: Some(HashAlg::Sha256),
    },
];

/// How much a server may send on one channel before we acknowledge it. russh's 2 MiB default
/// caps a download at 2 MiB per round trip (≈ 20 MB/s at 100 ms); 16 MiB keeps a long link busy.
/// It costs no memory of ours: russh acknowledges on receipt and its bounded channel queue, not the
/// window, is what a slow reader backs up into (then the kernel's socket buffer, then TCP).
const RECEIVE_WINDOW: u32 = 16 * 1024 * 1024;

/// Keepalive on by default: a dead link is noticed within about a minute instead of never.
pub(crate) fn ssh_config() -> russh::client::Config {
    russh::client::Config {
        window_size: RECEIVE_WINDOW,
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 3,
        nodelay: true,
        preferred: Preferred {
            key: Cow::Borrowed(HOST_KEY_ALGORITHMS),
            ..Preferred::DEFAULT
        },
        ..Default::default()
    }
}

pub struct Connection {
    handle: Handle<Verifier>,
    pub instance: Instance,
    /// The instance's address that was reached (directly or through the tunnel).
    pub address: IpAddr,
    pub path: Path,
    /// Why the tunnel ended, once it has (sessions say it instead of "connection lost").
    tunnel_end: Option<TunnelEnd>,
    /// False when its host key was trusted for this connection only ("Connect once").
    shareable: bool,
    /// How long each step of the connect took, in order.
    pub timings: Vec<StepTiming>,
    deadline: PhaseDeadline,
    /// The `-R` forwards asked for; the handler accepts `forwarded-tcpip` channels for these only.
    remote_forwards: RemoteForwards,
}

/// How a connection reached its instance.
pub(crate) struct Route {
    pub address: IpAddr,
    pub path: Path,
    pub tunnel_end: Option<TunnelEnd>,
    pub shareable: bool,
    pub remote_forwards: RemoteForwards,
}

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtySize {
    pub cols: u32,
    pub rows: u32,
}

/// What to run: a login shell or a command, with or without a PTY.
#[derive(Debug, Clone, Default)]
pub struct SessionSpec {
    /// `None`: the login shell.
    pub command: Option<String>,
    pub pty: Option<PtySize>,
}

impl Connection {
    pub(crate) fn new(
        handle: Handle<Verifier>,
        instance: Instance,
        route: Route,
        deadline: PhaseDeadline,
        timings: Vec<StepTiming>,
    ) -> Self {
        Connection {
            handle,
            instance,
            address: route.address,
            path: route.path,
            tunnel_end: route.tunnel_end,
            shareable: route.shareable,
            timings,
            deadline,
            remote_forwards: route.remote_forwards,
        }
    }

    /// "10.0.0.5" or "10.0.0.5 via EICE eice-0123…", for status lines.
    pub fn route_text(&self) -> String {
        match &self.path {
            Path::Direct => self.address.to_string(),
            Path::Eice { endpoint_id, .. } => format!("{} via EICE {endpoint_id}", self.address),
        }
    }

    /// Whether other tabs may open channels on it: not when the user trusted the host key for
    /// this connection only.
    pub fn shareable(&self) -> bool {
        self.shareable
    }

    /// The EC2 Instance Connect Endpoint this connection goes through; `None`: direct.
    pub fn endpoint_id(&self) -> Option<&str> {
        match &self.path {
            Path::Direct => None,
            Path::Eice { endpoint_id, .. } => Some(endpoint_id),
        }
    }

    /// How long until the endpoint closes this connection's tunnel; `None` when direct.
    pub fn tunnel_time_left(&self) -> Option<Duration> {
        match &self.path {
            Path::Direct => None,
            Path::Eice { expires_at, .. } => {
                Some(expires_at.saturating_duration_since(std::time::Instant::now()))
            }
        }
    }

    /// Opens a session: channel, terminal, program — all within one deadline.
    pub async fn open(&self, spec: &SessionSpec) -> Result<Session> {
        (self.deadline)
            .within(Phase::OpenSession, self.open_now(spec))
            .await?
    }

    async fn open_now(&self, spec: &SessionSpec) -> Result<Session> {
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| ssh_error("opening a session", e))?;
        if let Some(size) = spec.pty {
            channel
                .request_pty(true, "xterm-256color", size.cols, size.rows, 0, 0, &[])
                .await
                .map_err(|e| ssh_error("requesting a terminal", e))?;
        }
        match &spec.command {
            Some(command) => channel.exec(true, command.as_bytes()).await,
            None => channel.request_shell(true).await,
        }
        .map_err(|e| ssh_error("starting the remote program", e))?;
        let (read, write) = channel.split();
        Ok(Session {
            read,
            input: SessionInput {
                write: Arc::new(write),
            },
            label: self.instance.label(),
            exit: None,
            tunnel_end: self.tunnel_end.clone(),
        })
    }

    /// An SFTP session on its own channel (the `sftp` subsystem), started within the
    /// session-open deadline.
    pub async fn open_sftp(&self) -> Result<crate::files::RemoteFs> {
        (self.deadline)
            .within(Phase::OpenSession, self.open_sftp_now())
            .await?
    }

    async fn open_sftp_now(&self) -> Result<crate::files::RemoteFs> {
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| ssh_error("opening a channel for SFTP", e))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| ssh_error("starting SFTP", e))?;
        crate::files::RemoteFs::start(channel.into_stream())
            .await
            .map_err(|e| match e.kind {
                ErrorKind::ConnectionLost => Error::new(
                    ErrorKind::Sftp,
                    format!("{} did not start an SFTP server", self.instance.label()),
                )
                .with_hint(
                    "sshd on the instance needs a `Subsystem sftp` line (OpenSSH: sftp-server or \
                     internal-sftp) for file transfers.",
                ),
                _ => e,
            })
    }

    /// True once the link is gone (sshd stopped, the network dropped, disconnected).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// A `direct-tcpip` channel: sshd on the instance connects to `host:port` for `originator`
    /// (a local port forward), within the session-open deadline.
    pub async fn open_direct_tcpip(
        &self,
        host: &str,
        port: u16,
        originator: std::net::SocketAddr,
    ) -> Result<russh::ChannelStream<Msg>> {
        (self.try_direct_tcpip(host, port, originator).await?).map_err(|e| {
            let at = crate::forward::host_port(host, port);
            ssh_error(&format!("opening a forward to {at}"), e)
        })
    }

    /// [`Self::open_direct_tcpip`] with the server's refusal as russh gives it (a SOCKS reply
    /// says which kind); the outer error is the deadline.
    pub(crate) async fn try_direct_tcpip(
        &self,
        host: &str,
        port: u16,
        originator: std::net::SocketAddr,
    ) -> Result<std::result::Result<russh::ChannelStream<Msg>, russh::Error>> {
        let open = self.handle.channel_open_direct_tcpip(
            host,
            u32::from(port),
            originator.ip().to_string(),
            u32::from(originator.port()),
        );
        let opened = self.deadline.within(Phase::OpenSession, open).await?;
        Ok(opened.map(russh::Channel::into_stream))
    }

    /// Asks sshd to listen on the instance for `spec` (`-R`); its connections come back as
    /// channels carried to `spec.host:spec.port` from here. Refused by the instance (the port is
    /// taken there, forwarding disabled): an error naming the port.
    pub async fn forward_remote(
        &self,
        spec: RemoteForwardSpec,
        sink: crate::forward::ForwardSink,
    ) -> Result<RemoteForward> {
        let ask = self
            .handle
            .tcpip_forward(spec.bind.clone(), u32::from(spec.remote_port));
        let ask = self.deadline.within(Phase::OpenSession, ask);
        self.remote_forwards.request(spec, sink, ask).await
    }

    /// Ends the connection. By value: a pooled connection is shared, so only the pool, holding
    /// the last reference, can end it.
    pub async fn disconnect(self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "bye", "en")
            .await;
    }
}

impl AsRef<Connection> for Connection {
    fn as_ref(&self) -> &Connection {
        self
    }
}

/// The sending side of a session; cheap to clone into input and resize tasks.
#[derive(Clone)]
pub struct SessionInput {
    write: Arc<ChannelWriteHalf<Msg>>,
}

impl SessionInput {
    pub async fn send(&self, bytes: &[u8]) -> Result<()> {
        self.write
            .data(bytes)
            .await
            .map_err(|e| ssh_error("sending input", e))
    }

    pub async fn resize(&self, size: PtySize) -> Result<()> {
        self.write
            .window_change(size.cols, size.rows, 0, 0)
            .await
            .map_err(|e| ssh_error("resizing the terminal", e))
    }

    /// No more input (the remote program sees end of file).
    pub async fn eof(&self) -> Result<()> {
        self.write
            .eof()
            .await
            .map_err(|e| ssh_error("closing input", e))
    }
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Status(u32),
    Signal { signal: String, message: String },
}

#[derive(Debug)]
pub enum SessionEvent {
    Stdout(bytes::Bytes),
    Stderr(bytes::Bytes),
    /// The remote program ended; no more events follow.
    Ended(Exit),
}

pub struct Session {
    read: ChannelReadHalf,
    input: SessionInput,
    label: String,
    exit: Option<Exit>,
    tunnel_end: Option<TunnelEnd>,
}

impl Session {
    pub fn input(&self) -> SessionInput {
        self.input.clone()
    }

    /// The next output or the end. A connection that drops without an exit status is an error of
    /// kind `ConnectionLost`, so callers can offer to reconnect.
    pub async fn next(&mut self) -> Result<SessionEvent> {
        loop {
            match self.read.wait().await {
                Some(ChannelMsg::Data { data }) => return Ok(SessionEvent::Stdout(data)),
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    return Ok(SessionEvent::Stderr(data))
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    self.exit = Some(Exit::Status(exit_status))
                }
                Some(ChannelMsg::ExitSignal {
                    signal_name,
                    error_message,
                    ..
                }) => {
                    self.exit = Some(Exit::Signal {
                        signal: format!("{signal_name:?}"),
                        message: error_message,
                    })
                }
                Some(ChannelMsg::Close) | None => {
                    let tunnel_closed = self.tunnel_end.as_ref().and_then(TunnelEnd::reason);
                    return match (self.exit.take(), tunnel_closed) {
                        (Some(exit), _) => Ok(SessionEvent::Ended(exit)),
                        (None, Some(why)) => Err(why),
                        (None, None) => Err(Error::new(
                            ErrorKind::ConnectionLost,
                            format!(
                                "the connection to {} was lost: the session ended without an exit \
                                 status",
                                self.label
                            ),
                        )
                        .with_hint(
                            "sshd on the instance stopped, the instance went away, or the network \
                             dropped. Reconnect to open a new session (a fresh key is pushed).",
                        )),
                    };
                }
                Some(_) => {}
            }
        }
    }
}

fn ssh_error(what: &str, e: russh::Error) -> Error {
    let kind = match e {
        russh::Error::Disconnect
        | russh::Error::SendError
        | russh::Error::ChannelOpenFailure(_) => ErrorKind::ConnectionLost,
        _ => ErrorKind::Ssh,
    };
    Error::new(kind, format!("{what} failed: {e}"))
}
