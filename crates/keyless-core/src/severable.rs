//! A byte stream that can be cut from outside. russh runs a session in a task of its own that
//! owns the stream, so a handshake that runs out of time, or the losing path of a race, would
//! otherwise keep its TCP connection or tunnel open: cutting makes every further read and write
//! fail at once, which ends that task.

use futures::task::AtomicWaker;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The switch shared by a [`Severable`] stream and whoever may cut it.
#[derive(Default)]
pub(crate) struct Cut {
    done: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl Cut {
    pub fn sever(&self) {
        self.done.store(true, Ordering::SeqCst);
        self.reader.wake();
        self.writer.wake();
    }

    fn check(&self, waker: &AtomicWaker, cx: &Context<'_>) -> Option<io::Error> {
        waker.register(cx.waker());
        self.done
            .load(Ordering::SeqCst)
            .then(|| io::Error::new(io::ErrorKind::ConnectionAborted, "connection cut"))
    }
}

pub(crate) struct Severable<S> {
    inner: S,
    cut: Arc<Cut>,
}

impl<S> Severable<S> {
    pub fn new(inner: S) -> (Self, Arc<Cut>) {
        let cut = Arc::new(Cut::default());
        (
            Severable {
                inner,
                cut: cut.clone(),
            },
            cut,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Severable<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.cut.check(&self.cut.reader, cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Severable<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.cut.check(&self.cut.writer, cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.cut.check(&self.cut.writer, cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.cut.done.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Cuts the stream when dropped, unless [`CutOnDrop::keep`] was called: a handshake future that
/// is dropped (it lost a race, its caller gave up) takes its connection with it.
pub(crate) struct CutOnDrop(Option<Arc<Cut>>);

impl CutOnDrop {
    pub fn new(cut: Arc<Cut>) -> Self {
        CutOnDrop(Some(cut))
    }

    pub fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for CutOnDrop {
    fn drop(&mut self) {
        if let Some(cut) = self.0.take() {
            cut.sever();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_pending_read_fails_as_soon_as_the_stream_is_cut() {
        let (near, mut far) = tokio::io::duplex(64);
        let (mut stream, cut) = Severable::new(near);
        far.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        // Nothing more comes from the far side: the read waits until the cut wakes it.
        let reader = tokio::spawn(async move {
            let mut one = [0u8; 1];
            stream.read(&mut one).await
        });
        tokio::task::yield_now().await;
        drop(CutOnDrop::new(cut));
        let e = reader.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted);
    }

    #[tokio::test]
    async fn a_kept_guard_leaves_the_stream_alone() {
        let (near, mut far) = tokio::io::duplex(64);
        let (mut stream, cut) = Severable::new(near);
        CutOnDrop::new(cut).keep();
        stream.write_all(b"ok").await.unwrap();
        let mut buf = [0u8; 2];
        far.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }
}
