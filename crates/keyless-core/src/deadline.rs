//! Deadlines for the network phases of a connect — the SSH banner and key exchange,
//! authentication, opening the session — so a peer that accepts TCP and then says nothing cannot
//! hang Keyless. The time a host-key question waits for the user does not count: a person reading
//! a fingerprint is not a slow server.

use crate::error::{Error, ErrorKind, Result};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Each phase gets this long unless `--timeout` or [`TIMEOUT_ENV`] says otherwise.
pub const DEFAULT_PHASE_TIMEOUT: Duration = Duration::from_secs(15);
/// Seconds per phase, for the CLI and the app alike.
pub const TIMEOUT_ENV: &str = "KEYLESS_TIMEOUT";
/// A day: anything longer is a typo, not a slow link.
const MAX_SECONDS: u64 = 86_400;

/// The phase limit: `flag` (the CLI's `--timeout`) if given, else [`TIMEOUT_ENV`], else the
/// default.
pub fn phase_timeout(flag: Option<&str>) -> Result<Duration> {
    let from_env = std::env::var(TIMEOUT_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    match (flag, from_env) {
        (Some(text), _) => parse_seconds(text, "--timeout"),
        (None, Some(text)) => parse_seconds(&text, TIMEOUT_ENV),
        (None, None) => Ok(DEFAULT_PHASE_TIMEOUT),
    }
}

fn parse_seconds(text: &str, source: &str) -> Result<Duration> {
    match text.trim().parse::<u64>() {
        Ok(s) if (1..=MAX_SECONDS).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(
            Error::invalid(format!("{source} '{text}' is not a number of seconds")).with_hint(
                format!("Give whole seconds from 1 to {MAX_SECONDS}, e.g. 30."),
            ),
        ),
    }
}

/// The phases that wait on the server, each with its own deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The server's identification line and the key exchange (host-key check included).
    Handshake,
    /// The answer to our one-time key.
    Authenticate,
    /// Channel open, terminal request, shell or command request.
    OpenSession,
}

/// The deadline of each phase of one connection, and the words to say which one ran out.
#[derive(Debug, Clone)]
pub(crate) struct PhaseDeadline {
    limit: Duration,
    /// The instance, as errors name it.
    who: String,
    /// `address:port`.
    at: String,
}

impl PhaseDeadline {
    pub fn new(limit: Duration, who: String, at: String) -> Self {
        PhaseDeadline { limit, who, at }
    }

    /// `work`, or a `timeout` error if the limit passes first.
    pub async fn within<F: Future>(&self, phase: Phase, work: F) -> Result<F::Output> {
        self.within_pausable(phase, &PromptClock::default(), work)
            .await
    }

    /// The same, except that time while a question on `clock` is open does not count.
    pub async fn within_pausable<F: Future>(
        &self,
        phase: Phase,
        clock: &PromptClock,
        work: F,
    ) -> Result<F::Output> {
        within(self.limit, clock, work)
            .await
            .ok_or_else(|| expired(phase, self.limit, &self.who, &self.at))
    }
}

/// The error for a phase that ran out of time: it names the phase and the address.
fn expired(phase: Phase, limit: Duration, who: &str, at: &str) -> Error {
    let after = format!("timed out after {} s", limit.as_secs());
    let (message, why) = match phase {
        Phase::Handshake => (
            format!("{after} waiting for the SSH banner and key exchange from {who} at {at}"),
            "Something accepted the connection on that port but did not speak SSH in time: check \
             that sshd is running and healthy on the instance and that nothing else holds the port.",
        ),
        Phase::Authenticate => (
            format!("{after} waiting for {who} at {at} to answer the SSH authentication"),
            "sshd stopped answering during the login: the instance may be overloaded, or its key \
             lookup (EC2 Instance Connect's AuthorizedKeysCommand) hangs.",
        ),
        Phase::OpenSession => (
            format!(
                "{after} waiting for {who} at {at} to open the session (terminal, shell or command)"
            ),
            "The login succeeded but sshd did not start the session in time: the instance may be \
             overloaded, or a PAM session module hangs.",
        ),
    };
    Error::new(ErrorKind::Timeout, message).with_hint(format!(
        "{why} Connect again to retry; on a slow link allow more time per step with \
         {TIMEOUT_ENV}=SECONDS."
    ))
}

/// Stops the clock of the phase in progress while a question waits for the user. Clones share one
/// clock: the verifier pauses it inside russh's task, the deadline in the connect code reads it.
#[derive(Clone)]
pub(crate) struct PromptClock {
    /// How many questions are open right now.
    open: Arc<watch::Sender<usize>>,
}

impl Default for PromptClock {
    fn default() -> Self {
        PromptClock {
            open: Arc::new(watch::Sender::new(0)),
        }
    }
}

/// The clock runs again when this is dropped, however the question ended (answered, cancelled).
pub(crate) struct Paused {
    open: Arc<watch::Sender<usize>>,
}

impl Drop for Paused {
    fn drop(&mut self) {
        self.open.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl PromptClock {
    pub fn pause(&self) -> Paused {
        self.open.send_modify(|n| *n += 1);
        Paused {
            open: self.open.clone(),
        }
    }

    /// Returns once `limit` has passed with no question open.
    async fn run_out(&self, limit: Duration) {
        let mut open = self.open.subscribe();
        let mut left = limit;
        loop {
            // `self` holds the sender, so these waits end only by the condition becoming true.
            let _ = open.wait_for(|n| *n == 0).await.map(drop);
            let running = Instant::now();
            tokio::select! {
                () = tokio::time::sleep(left) => return,
                _ = open.wait_for(|n| *n > 0) => {
                    left = left.saturating_sub(running.elapsed());
                }
            }
        }
    }
}

/// `work`, unless `limit` passes first (not counting paused time on `clock`).
pub(crate) async fn within<F: Future>(
    limit: Duration,
    clock: &PromptClock,
    work: F,
) -> Option<F::Output> {
    tokio::select! {
        biased;
        out = work => Some(out),
        () = clock.run_out(limit) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_millis(400);

    #[tokio::test]
    async fn work_that_never_ends_is_cut_off() {
        let clock = PromptClock::default();
        let out = within(LIMIT, &clock, std::future::pending::<()>()).await;
        assert_eq!(out, None);
    }

    #[tokio::test]
    async fn work_that_ends_in_time_gives_its_result() {
        let clock = PromptClock::default();
        assert_eq!(within(LIMIT, &clock, async { 7 }).await, Some(7));
    }

    #[tokio::test]
    async fn an_open_question_stops_the_clock_and_its_answer_restarts_it() {
        let clock = PromptClock::default();
        let asking = clock.clone();
        // The work asks the user a question that takes three limits to answer, then finishes.
        let work = async move {
            let paused = asking.pause();
            tokio::time::sleep(LIMIT * 3).await;
            drop(paused);
            "answered"
        };
        assert_eq!(within(LIMIT, &clock, work).await, Some("answered"));
        // Once answered, a server that then says nothing is cut off again.
        assert_eq!(
            within(LIMIT, &clock, std::future::pending::<()>()).await,
            None
        );
    }

    #[tokio::test]
    async fn the_time_before_a_question_still_counts() {
        let clock = PromptClock::default();
        let asking = clock.clone();
        // Three quarters of the limit pass, a question comes and goes, three more quarters pass:
        // the time before the question is not forgiven, so the deadline fires first.
        let work = async move {
            tokio::time::sleep(LIMIT * 3 / 4).await;
            let paused = asking.pause();
            tokio::time::sleep(LIMIT / 4).await;
            drop(paused);
            tokio::time::sleep(LIMIT * 3 / 4).await;
        };
        assert_eq!(within(LIMIT, &clock, work).await, None);
    }

    #[test]
    fn the_flag_beats_the_environment_and_bad_values_are_refused() {
        assert_eq!(phase_timeout(Some("2")).unwrap(), Duration::from_secs(2));
        for bad in ["0", "-1", "1.5", "soon", "100000"] {
            let e = phase_timeout(Some(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
            assert!(e.message.contains("--timeout"), "{}", e.message);
        }
    }

    #[test]
    fn the_error_names_the_phase_and_the_address() {
        let e = expired(
            Phase::Handshake,
            Duration::from_secs(15),
            "i-0abc",
            "10.0.0.5:22",
        );
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(
            e.message,
            "timed out after 15 s waiting for the SSH banner and key exchange from i-0abc at \
             10.0.0.5:22"
        );
        assert!(e.hint.unwrap().contains("KEYLESS_TIMEOUT"));
    }
}
