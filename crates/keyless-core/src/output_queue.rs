//! A session's terminal output waiting for the viewer to fetch it. The viewer pulls: each request
//! takes everything queued (up to a limit) or waits for the next bytes, so a flood costs one IPC
//! round trip per batch instead of one per chunk, and a quiet shell costs one held request.
//! One reader at a time is expected (the viewer's pull loop); bytes leave in the order they came.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// What a [`OutputQueue::take`] got.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// The oldest queued bytes, at most the limit asked for.
    Bytes(Vec<u8>),
    /// Nothing came within the wait; ask again.
    Idle,
    /// The session is over and everything it wrote has been taken.
    Over,
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
        }
        self.wake_all();
    }

    /// Bytes queued right now.
    pub fn len(&self) -> usize {
        self.lock().bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest queued bytes (at most `max`), waiting up to `wait` for some to come.
    pub async fn take(&self, max: usize, wait: Duration) -> Taken {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a push between the look and the wait is not missed.
            let changed = self.changed.notified();
            {
                let mut state = self.lock();
                if !state.bytes.is_empty() {
                    return Taken::Bytes(take_front(&mut state.bytes, max.max(1)));
                }
                if state.over {
                    return Taken::Over;
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Taken::Idle;
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

    /// A reader already waiting on an empty queue.
    async fn waiting_reader(q: &Arc<OutputQueue>) -> tokio::task::JoinHandle<Taken> {
        let q = q.clone();
        let reader = tokio::spawn(async move { q.take(1024, WAIT).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        reader
    }

    #[tokio::test]
    async fn takes_everything_queued_in_one_answer_in_order() {
        let q = OutputQueue::new();
        q.push(b"one ".to_vec());
        q.push(b"two ".to_vec());
        q.push(b"three".to_vec());
        assert_eq!(
            q.take(1024, WAIT).await,
            Taken::Bytes(b"one two three".to_vec())
        );
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn a_big_backlog_leaves_in_pieces_of_the_limit() {
        let q = OutputQueue::new();
        q.push((0..=9).collect());
        assert_eq!(q.take(4, WAIT).await, Taken::Bytes(vec![0, 1, 2, 3]));
        assert_eq!(q.take(4, WAIT).await, Taken::Bytes(vec![4, 5, 6, 7]));
        assert_eq!(q.take(4, WAIT).await, Taken::Bytes(vec![8, 9]));
    }

    #[tokio::test]
    async fn a_waiting_reader_gets_the_next_push() {
        let q = Arc::new(OutputQueue::new());
        let reader = waiting_reader(&q).await;
        q.push(b"late".to_vec());
        assert_eq!(reader.await.unwrap(), Taken::Bytes(b"late".to_vec()));
    }

    #[tokio::test]
    async fn nothing_within_the_wait_is_idle_and_keeps_the_queue_open() {
        let q = OutputQueue::new();
        assert_eq!(q.take(1024, Duration::from_millis(50)).await, Taken::Idle);
        q.push(b"x".to_vec());
        assert_eq!(q.take(1024, WAIT).await, Taken::Bytes(b"x".to_vec()));
    }

    #[tokio::test]
    async fn a_finished_session_drains_before_it_is_over() {
        let q = OutputQueue::new();
        q.push(b"last words".to_vec());
        q.finish();
        q.push(b"too late".to_vec());
        assert_eq!(
            q.take(1024, WAIT).await,
            Taken::Bytes(b"last words".to_vec())
        );
        assert_eq!(q.take(1024, WAIT).await, Taken::Over);
        assert_eq!(q.take(1024, WAIT).await, Taken::Over);
    }

    #[tokio::test]
    async fn finishing_wakes_a_waiting_reader() {
        let q = Arc::new(OutputQueue::new());
        let reader = waiting_reader(&q).await;
        q.finish();
        assert_eq!(reader.await.unwrap(), Taken::Over);
    }

    #[tokio::test]
    async fn discarding_drops_the_backlog() {
        let q = OutputQueue::new();
        q.push(vec![1; 100]);
        q.discard();
        assert_eq!(q.take(1024, WAIT).await, Taken::Over);
    }
}
