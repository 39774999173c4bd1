//! Moving bytes between a local socket and a channel, counted as they go, so a status shown while
//! a long connection (a database session) is open is current, not only when it ends.

use super::{ForwardEvent, ForwardSink};
use serde::Serialize;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Counters of one forward, shared by the tasks carrying its connections.
#[derive(Debug, Default)]
pub struct ForwardStats {
    active: AtomicU64,
    total: AtomicU64,
    /// From the side that connected to the forward.
    sent: AtomicU64,
    /// To it.
    received: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatsSnapshot {
    /// Connections open now.
    pub active: u32,
    /// Connections since the forward started.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sent: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub received: u64,
}

impl ForwardStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            active: u32::try_from(self.active.load(Ordering::SeqCst)).unwrap_or(u32::MAX),
            total: self.total.load(Ordering::SeqCst),
            sent: self.sent.load(Ordering::SeqCst),
            received: self.received.load(Ordering::SeqCst),
        }
    }
}

/// Carries `local` ⇄ `remote` until both sides end, then reports the connection closed.
pub(crate) async fn carry<L, R>(
    local: L,
    mut remote: R,
    stats: Arc<ForwardStats>,
    sink: ForwardSink,
    peer: SocketAddr,
    target: String,
) where
    L: AsyncRead + AsyncWrite + Unpin,
    R: AsyncRead + AsyncWrite + Unpin,
{
    stats.active.fetch_add(1, Ordering::SeqCst);
    stats.total.fetch_add(1, Ordering::SeqCst);
    let open = Open(stats.clone());
    let mut local = Counted {
        inner: local,
        stats: stats.clone(),
    };
    // An error here is the other side going away (a reset, the connection lost): the counts
    // still say how far it got.
    let (sent, received) = tokio::io::copy_bidirectional(&mut local, &mut remote)
        .await
        .unwrap_or((0, 0));
    // Counted closed before it is reported, so a status taken on the event is current.
    drop(open);
    sink(ForwardEvent::Closed {
        peer,
        target,
        sent,
        received,
    });
}

/// Counts one connection as open while it lives, however its task ends (an abort included).
struct Open(Arc<ForwardStats>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The local side of a forwarded connection: what is read from it was sent, what is written to
/// it was received.
struct Counted<S> {
    inner: S,
    stats: Arc<ForwardStats>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.stats.sent.fetch_add(read as u64, Ordering::Relaxed);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.stats.received.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
