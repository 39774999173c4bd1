//! The tunnel as a byte stream: raw TCP bytes in binary WebSocket frames both ways (at most
//! [`MAX_FRAME`] bytes a frame, as the AWS CLI sends). A text frame or a close code other than 1000
//! ends it with an error that says so; close 1000 is a clean end of stream. Bytes keep their order,
//! at most one frame waits in each direction (the socket's backpressure reaches the writer), and
//! shutdown sends a close frame.

use super::refusal::untrusted;
use super::wire::Wire;
use crate::error::{Error, ErrorKind};
use bytes::{Buf, Bytes};
use futures::{Sink, Stream};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// The largest frame Keyless sends.
pub const MAX_FRAME: usize = 65_000;
/// AWS starts a tunnel's clock a little before we see the upgrade: an end this close to the
/// limit (or a tenth of a short limit) is the limit.
const EXPIRY_SLACK: Duration = Duration::from_secs(10);

/// One open EICE tunnel. Implements `AsyncRead + AsyncWrite` for `russh::client::connect_stream`.
/// Like a TLS stream, bytes written are sent at once unless the socket is full; flush waits for
/// them all.
pub struct Tunnel {
    ws: WebSocketStream<Wire>,
    /// The rest of the binary frame being read.
    pending: Bytes,
    state: ReadState,
    close_sent: bool,
    end: TunnelEnd,
}

enum ReadState {
    Open,
    /// Close 1000 (or the stream ended): reads return 0.
    Eof,
    /// Every further read fails with this.
    Failed(Error),
}

/// Why a tunnel ended, once it has; clones share it, so a session can ask after the stream is gone.
#[derive(Clone, Debug)]
pub struct TunnelEnd {
    ended: Arc<Mutex<Option<Option<Error>>>>,
    endpoint_id: Arc<str>,
    max_duration: Duration,
    expires_at: Instant,
}

impl TunnelEnd {
    fn new(endpoint_id: &str, max_duration: Duration, opened: Instant) -> Self {
        TunnelEnd {
            ended: Default::default(),
            endpoint_id: endpoint_id.into(),
            max_duration,
            expires_at: opened + max_duration,
        }
    }

    /// `None` while the tunnel is open or after a clean close; else a `tunnel_closed` error saying
    /// why: the endpoint's close code and reason, its text frame, or the maximum duration.
    pub fn reason(&self) -> Option<Error> {
        let ended = lock(&self.ended).clone()?;
        let slack = EXPIRY_SLACK.min(self.max_duration / 10);
        if Instant::now() + slack >= self.expires_at {
            return Some(
                closed(format!(
                    "the EICE tunnel through {} reached its maximum duration of {} and was closed",
                    self.endpoint_id,
                    minutes(self.max_duration)
                ))
                .with_hint("Connect again for a new tunnel."),
            );
        }
        ended
    }

    pub fn has_ended(&self) -> bool {
        lock(&self.ended).is_some()
    }

    /// The first end wins: what follows (our close reply, a broken socket) is its consequence.
    fn record(&self, reason: Option<Error>) {
        let mut ended = lock(&self.ended);
        if ended.is_none() {
            *ended = Some(reason);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn minutes(d: Duration) -> String {
    match d.as_secs() {
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn closed(message: String) -> Error {
    Error::new(ErrorKind::TunnelClosed, message)
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel")
            .field("endpoint_id", &self.end.endpoint_id)
            .field("ended", &self.end.has_ended())
            .finish_non_exhaustive()
    }
}

impl Tunnel {
    pub(crate) fn new(
        ws: WebSocketStream<Wire>,
        endpoint_id: &str,
        max_duration: Duration,
        opened: Instant,
    ) -> Self {
        Tunnel {
            ws,
            pending: Bytes::new(),
            state: ReadState::Open,
            close_sent: false,
            end: TunnelEnd::new(endpoint_id, max_duration, opened),
        }
    }

    pub fn endpoint_id(&self) -> &str {
        &self.end.endpoint_id
    }

    /// When AWS closes the tunnel at the latest: opened + the maximum duration (1 h by default).
    pub fn expires_at(&self) -> Instant {
        self.end.expires_at
    }

    pub fn end(&self) -> TunnelEnd {
        self.end.clone()
    }

    fn fail(&mut self, error: Error) -> io::Error {
        self.end.record(Some(error.clone()));
        self.state = ReadState::Failed(error.clone());
        as_io(error)
    }

    fn on_message(&mut self, message: Message) -> Option<io::Error> {
        let id = self.end.endpoint_id.clone();
        match message {
            Message::Binary(data) => self.pending = data,
            Message::Text(text) => {
                return Some(self.fail(closed(format!(
                    "the EC2 Instance Connect Endpoint {id} ended the tunnel with a message: {}",
                    untrusted(text.as_str())
                ))))
            }
            Message::Close(Some(frame)) if frame.code != CloseCode::Normal => {
                let code = u16::from(frame.code);
                let reason = match frame.reason.as_str().trim() {
                    "" => String::new(),
                    r => format!(": {}", untrusted(r)),
                };
                return Some(self.fail(closed(format!(
                    "the EC2 Instance Connect Endpoint {id} closed the tunnel with code \
                     {code}{reason}"
                ))));
            }
            Message::Close(_) => {
                self.end.record(None);
                self.state = ReadState::Eof;
            }
            // tungstenite answers pings itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
        None
    }

    /// A write-side failure, as the end's reason if the tunnel has one.
    fn write_error(&self, e: WsError) -> io::Error {
        if let Some(Some(reason)) = lock(&self.end.ended).clone() {
            return as_io(reason);
        }
        match e {
            WsError::ConnectionClosed | WsError::AlreadyClosed => {
                io::Error::new(io::ErrorKind::BrokenPipe, "the EICE tunnel is closed")
            }
            WsError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// The error rides inside the `io::Error`: `get_ref()` and downcast to [`Error`] to get it back.
fn as_io(error: Error) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, error)
}

impl AsyncRead for Tunnel {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.pending.is_empty() {
                let n = buf.remaining().min(this.pending.len());
                buf.put_slice(&this.pending[..n]);
                this.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            match &this.state {
                ReadState::Open => {}
                ReadState::Eof => return Poll::Ready(Ok(())),
                ReadState::Failed(e) => return Poll::Ready(Err(as_io(e.clone()))),
            }
            match ready!(Pin::new(&mut this.ws).poll_next(cx)) {
                Some(Ok(message)) => {
                    if let Some(e) = this.on_message(message) {
                        return Poll::Ready(Err(e));
                    }
                }
                Some(Err(e)) => {
                    let id = this.end.endpoint_id.clone();
                    let e = this.fail(closed(format!(
                        "the connection to the EC2 Instance Connect Endpoint {id} broke: {e}"
                    )));
                    return Poll::Ready(Err(e));
                }
                None => {
                    this.end.record(None);
                    this.state = ReadState::Eof;
                }
            }
        }
    }
}

impl AsyncWrite for Tunnel {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // The previous frame must be on the wire first: at most one frame waits here.
        ready!(Pin::new(&mut this.ws).poll_flush(cx)).map_err(|e| this.write_error(e))?;
        ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(|e| this.write_error(e))?;
        let n = buf.len().min(MAX_FRAME);
        let frame = Message::Binary(Bytes::copy_from_slice(&buf[..n]));
        Pin::new(&mut this.ws)
            .start_send(frame)
            .map_err(|e| this.write_error(e))?;
        // Usually already written (no write buffer); if the socket is full, the next write or
        // flush finishes it. An error here is the next call's to report.
        let _ = Pin::new(&mut this.ws).poll_flush(cx);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.ws).poll_flush(cx)).map_err(|e| this.write_error(e))?;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_sent {
            let ws = Pin::new(&mut this.ws);
            match ready!(ws.poll_ready(cx)) {
                Ok(()) => {
                    let frame = CloseFrame {
                        code: CloseCode::Normal,
                        reason: "".into(),
                    };
                    match Pin::new(&mut this.ws).start_send(Message::Close(Some(frame))) {
                        Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {}
                        Err(e) => return Poll::Ready(Err(this.write_error(e))),
                    }
                }
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {}
                Err(e) => return Poll::Ready(Err(this.write_error(e))),
            }
            this.close_sent = true;
        }
        match ready!(Pin::new(&mut this.ws).poll_close(cx)) {
            Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(this.write_error(e))),
        }
    }
}
