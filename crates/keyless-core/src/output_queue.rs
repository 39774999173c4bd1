//! A session's terminal output waiting for the viewer to fetch it. The viewer pulls: each request
//! takes everything queued (up to a limit) or waits for the next bytes, so a flood costs one IPC
//! round trip per batch instead of one per chunk, and a quiet shell costs one held request.
//! One reader at a time is expected (the viewer's pull loop); bytes leave in the order they came.
//!
//! Each request says how many bytes the viewer has received in all. The last answer is kept until
//! a request counts it, so an answer lost with its connection (sent, never read) is sent again to
//! the viewer's next connection instead of leaving a hole in the terminal.

use bytes::Bytes;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// What a [`OutputQueue::take`] got.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// The oldest queued bytes, at most the limit asked for: new to the viewer.
    Bytes(Bytes),
    /// The last answer again: the viewer's count says it never got it.
    Again(Bytes),
    /// Nothing came within the wait; ask again.
    Idle,
    /// The session is over and everything it wrote has been received.
    Over,
}

/// A viewer's count that is neither everything sent nor everything before the last answer.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownCount {
    pub received: u64,
    pub sent: u64,
}

#[derive(Default)]
pub struct OutputQueue {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Default)]
struct State {
    bytes: Vec<u8>,
    over: bool,
    /// Bytes handed out in all, the last answer included.
    sent: u64,
    /// The last answer, until the viewer's count shows it arrived.
    unconfirmed: Bytes,
}

impl OutputQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues output (dropped once the queue is over: nobody will read it).
    pub fn push(&self, chunk: Vec<u8>) {
        {
            let mut state = self.lock();
            if state.over || chunk.is_empty() {
                return;
            }
            if state.bytes.is_empty() {
                state.bytes = chunk;
            } else {
                state.bytes.extend_from_slice(&chunk);
            }
        }
        self.changed.notify_one();
    }

    /// The session has ended: what is queued is still taken, then [`Taken::Over`].
    pub fn finish(&self) {
        self.lock().over = true;
        self.wake_all();
    }

    /// The viewer is gone (its tab closed): drop what is queued and end at once.
    pub fn discard(&self) {
        {
            let mut state = self.lock();
            state.over = true;
            state.bytes = Vec::new();
            state.unconfirmed = Bytes::new();
        }
        self.wake_all();
    }

    /// Bytes queued right now (not yet handed out).
    pub fn len(&self) -> usize {
        self.lock().bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The viewer has `received` bytes in all: the last answer again if that misses it, else the
    /// oldest queued bytes (at most `max`), waiting up to `wait` for some to come. After a
    /// [`Self::discard`] every count is answered [`Taken::Over`].
    pub async fn take(
        &self,
        received: u64,
        max: usize,
        wait: Duration,
    ) -> Result<Taken, UnknownCount> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a push between the look and the wait is not missed.
            let changed = self.changed.notified();
            {
                let mut state = self.lock();
                if let Some(taken) = next_answer(&mut state, received, max.max(1))? {
                    return Ok(taken);
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Ok(Taken::Idle);
            }
        }
    }

    fn wake_all(&self) {
        self.changed.notify_waiters();
        // A reader about to wait (past its look, before its await) gets the stored permit.
        self.changed.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The answer for a viewer that has `received` bytes, or None while there is nothing to send.
fn next_answer(
    state: &mut State,
    received: u64,
    max: usize,
) -> Result<Option<Taken>, UnknownCount> {
    let before_last = state.sent - state.unconfirmed.len() as u64;
    if received == before_last && !state.unconfirmed.is_empty() {
        return Ok(Some(Taken::Again(state.unconfirmed.clone())));
    }
    if received != state.sent && !(state.over && state.bytes.is_empty()) {
        return Err(UnknownCount {
            received,
            sent: state.sent,
        });
    }
    state.unconfirmed = Bytes::new();
    if !state.bytes.is_empty() {
        let answer = Bytes::from(take_front(&mut state.bytes, max));
        state.sent += answer.len() as u64;
        state.unconfirmed = answer.clone();
        return Ok(Some(Taken::Bytes(answer)));
    }
    Ok(state.over.then_some(Taken::Over))
}

/// The first `max` bytes of `bytes`, leaving the rest (moved whole when it all fits).
fn take_front(bytes: &mut Vec<u8>, max: usize) -> Vec<u8> {
    if bytes.len() <= max {
        return std::mem::take(bytes);
    }
    let rest = bytes.split_off(max);
    std::mem::replace(bytes, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const WAIT: Duration = Duration::from_secs(5);

    /// A viewer that counts what it received, as the page does.
    #[derive(Default)]
    struct Viewer {
        received: u64,
    }

    impl Viewer {
        async fn take(&mut self, q: &OutputQueue, max: usize, wait: Duration) -> Taken {
            let taken = q.take(self.received, max, wait).await.unwrap();
            if let Taken::Bytes(b) | Taken::Again(b) = &taken {
                self.received += b.len() as u64;
            }
            taken
        }
    }

    fn bytes(b: &[u8]) -> Taken {
        Taken::Bytes(Bytes::copy_from_slice(b))
    }

    /// A reader already waiting on an empty queue.
    async fn waiting_reader(q: &Arc<OutputQueue>) -> tokio::task::JoinHandle<Taken> {
        let q = q.clone();
        let reader = tokio::spawn(async move { Viewer::default().take(&q, 1024, WAIT).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        reader
    }

    #[tokio::test]
    async fn takes_everything_queued_in_one_answer_in_order() {
        let q = OutputQueue::new();
        q.push(b"one ".to_vec());
        q.push(b"two ".to_vec());
        q.push(b"three".to_vec());
        let mut v = Viewer::default();
        assert_eq!(v.take(&q, 1024, WAIT).await, bytes(b"one two three"));
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn a_big_backlog_leaves_in_pieces_of_the_limit() {
        let q = OutputQueue::new();
        q.push((0..=9).collect());
        let mut v = Viewer::default();
        assert_eq!(v.take(&q, 4, WAIT).await, bytes(&[0, 1, 2, 3]));
        assert_eq!(v.take(&q, 4, WAIT).await, bytes(&[4, 5, 6, 7]));
        assert_eq!(v.take(&q, 4, WAIT).await, bytes(&[8, 9]));
    }

    #[tokio::test]
    async fn an_answer_the_viewer_never_got_comes_again_then_the_rest() {
        let q = OutputQueue::new();
        q.push((0..=9).collect());
        assert_eq!(q.take(0, 4, WAIT).await, Ok(bytes(&[0, 1, 2, 3])));
        // The connection dropped with that answer unread: the viewer still counts 0.
        let again = Taken::Again(Bytes::from_static(&[0, 1, 2, 3]));
        assert_eq!(q.take(0, 4, WAIT).await, Ok(again));
        // It arrived this time: the next bytes, never the same ones a third time.
        assert_eq!(q.take(4, 4, WAIT).await, Ok(bytes(&[4, 5, 6, 7])));
        assert_eq!(
            q.take(0, 4, WAIT).await,
            Err(UnknownCount {
                received: 0,
                sent: 8
            })
        );
        assert_eq!(q.take(8, 4, WAIT).await, Ok(bytes(&[8, 9])));
    }

    #[tokio::test]
    async fn a_finished_session_sends_its_last_answer_again_before_it_is_over() {
        let q = OutputQueue::new();
        q.push(b"bye".to_vec());
        q.finish();
        assert_eq!(q.take(0, 1024, WAIT).await, Ok(bytes(b"bye")));
        let again = Taken::Again(Bytes::from_static(b"bye"));
        assert_eq!(q.take(0, 1024, WAIT).await, Ok(again));
        assert_eq!(q.take(3, 1024, WAIT).await, Ok(Taken::Over));
    }

    #[tokio::test]
    async fn a_waiting_reader_gets_the_next_push() {
        let q = Arc::new(OutputQueue::new());
        let reader = waiting_reader(&q).await;
        q.push(b"late".to_vec());
        assert_eq!(reader.await.unwrap(), bytes(b"late"));
    }

    #[tokio::test]
    async fn nothing_within_the_wait_is_idle_and_keeps_the_queue_open() {
        let q = OutputQueue::new();
        let mut v = Viewer::default();
        assert_eq!(
            v.take(&q, 1024, Duration::from_millis(50)).await,
            Taken::Idle
        );
        q.push(b"x".to_vec());
        assert_eq!(v.take(&q, 1024, WAIT).await, bytes(b"x"));
    }

    #[tokio::test]
    async fn a_finished_session_drains_before_it_is_over() {
        let q = OutputQueue::new();
        q.push(b"last words".to_vec());
        q.finish();
        q.push(b"too late".to_vec());
        let mut v = Viewer::default();
        assert_eq!(v.take(&q, 1024, WAIT).await, bytes(b"last words"));
        assert_eq!(v.take(&q, 1024, WAIT).await, Taken::Over);
        assert_eq!(v.take(&q, 1024, WAIT).await, Taken::Over);
    }

    #[tokio::test]
    async fn finishing_wakes_a_waiting_reader() {
        let q = Arc::new(OutputQueue::new());
        let reader = waiting_reader(&q).await;
        q.finish();
        assert_eq!(reader.await.unwrap(), Taken::Over);
    }

    #[tokio::test]
    async fn discarding_drops_the_backlog_and_the_last_answer() {
        let q = OutputQueue::new();
        q.push(vec![1; 100]);
        assert!(matches!(q.take(0, 10, WAIT).await, Ok(Taken::Bytes(_))));
        q.discard();
        for received in [0, 10, 7] {
            assert_eq!(q.take(received, 1024, WAIT).await, Ok(Taken::Over));
        }
    }
}
