//! The russh client handler: it checks the instance's host key against the trust store and the
//! policy, and refuses every channel the server tries to open except one for a remote forward
//! it asked for. It never accepts a key unchecked.
//! Why a key was refused is kept so the caller can say it in words (russh itself only reports
//! "unknown key"). While the user is asked about a key, the connect deadline is paused.

use crate::deadline::PromptClock;
use crate::error::{Error, ErrorKind, Fix};
use crate::forward::RemoteForwards;
use crate::hostkeys::{
    changed_error, fingerprint, HostKeyPolicy, HostKeyStatus, KnownHosts, TrustDecision,
    UnknownHostKey,
};
use futures::future::BoxFuture;
use russh::client::{self, Msg, Session};
use russh::keys::{PublicKey, PublicKeyOrCertificate};
use russh::{Channel, ChannelId, ChannelOpenFailure};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// Asks the user about a key seen for the first time (a TTY prompt, an app dialog).
pub type HostKeyPrompt =
    Arc<dyn Fn(UnknownHostKey) -> BoxFuture<'static, TrustDecision> + Send + Sync>;

/// Shared between the handler (inside russh's task) and the connect code.
pub(crate) type Refusal = Arc<Mutex<Option<Error>>>;

pub(crate) struct Verifier {
    pub instance_id: String,
    pub store: KnownHosts,
    pub policy: HostKeyPolicy,
    pub prompt: Option<HostKeyPrompt>,
    pub refusal: Refusal,
    /// Paused while `prompt` waits for the user, so the handshake deadline does not run out.
    pub clock: PromptClock,
    /// When two paths race to the instance: the first to reach the host-key check wins, so the
    /// user is asked about a new key once, and the other path refuses and is cut.
    pub race: Option<RaceClaim>,
    /// Set when the user trusted the key for this connection only ("Connect once"): such a
    /// connection serves the tab that asked and is never shared with another.
    pub trusted_once: Arc<AtomicBool>,
    /// The `-R` forwards this connection asked for: the only `forwarded-tcpip` channels accepted.
    pub remote_forwards: RemoteForwards,
    /// Set when the address came from a recent listing, not from the lookup of this connect:
    /// only the pinned key is accepted at once; anything else waits for the lookup's word.
    pub speculation: Option<Speculation>,
}

/// Whether the lookup found the instance at the speculative address: `None` while it runs.
/// A dropped sender (the lookup failed, or the connect gave up) counts as "no".
#[derive(Clone)]
pub(crate) struct Speculation(pub tokio::sync::watch::Receiver<Option<bool>>);

impl Speculation {
    async fn confirmed(&mut self) -> bool {
        match self.0.wait_for(Option::is_some).await {
            Ok(answer) => answer.unwrap_or(false),
            Err(_) => false,
        }
    }
}

/// A speculative address that turned out not to be the instance's: never shown (the connect
/// goes on to the looked-up address), so no alarm and no question reach the user.
pub(crate) fn speculation_missed(instance_id: &str) -> Error {
    Error::new(
        ErrorKind::Network,
        format!("the recently listed address is no longer that of {instance_id}"),
    )
}

/// One side of a race between paths, sharing one slot that the first claimant takes.
#[derive(Clone)]
pub(crate) struct RaceClaim {
    slot: Arc<AtomicU8>,
    me: u8,
}

impl RaceClaim {
    pub fn new() -> Self {
        RaceClaim {
            slot: Arc::new(AtomicU8::new(0)),
            me: 0,
        }
    }

    /// This race as seen by side `me` (1 or 2).
    pub fn side(&self, me: u8) -> Self {
        RaceClaim {
            slot: self.slot.clone(),
            me,
        }
    }

    /// True if this side is (now) the winner.
    fn claim(&self) -> bool {
        match self
            .slot
            .compare_exchange(0, self.me, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(holder) => holder == self.me,
        }
    }

    /// The other side won.
    pub fn lost(&self) -> bool {
        self.winner().is_some_and(|w| w != self.me)
    }

    pub fn winner(&self) -> Option<u8> {
        match self.slot.load(Ordering::SeqCst) {
            0 => None,
            side => Some(side),
        }
    }
}

impl Verifier {
    async fn decide(&mut self, offered: &PublicKey) -> Result<(), Error> {
        let id = self.instance_id.clone();
        let id = &id;
        let offered_fp = fingerprint(offered);
        let status = self.store.check(id, offered)?;
        // A stale address may now be another machine's: its key is not this instance's, and
        // neither an alarm nor a question is due unless the lookup says the address is right.
        if let Some(speculation) = &mut self.speculation {
            if status != HostKeyStatus::Trusted {
                let _paused = self.clock.pause();
                if !speculation.confirmed().await {
                    return Err(speculation_missed(id));
                }
            }
        }
        match status {
            HostKeyStatus::Trusted => Ok(()),
            HostKeyStatus::Changed {
                trusted_fingerprints,
            } => Err(changed_error(id, &offered_fp, &trusted_fingerprints)),
            HostKeyStatus::Unknown => {
                let unknown = UnknownHostKey {
                    instance_id: id.clone(),
                    algorithm: offered.algorithm().to_string(),
                    fingerprint: offered_fp.clone(),
                };
                let decision = match (self.policy, &self.prompt) {
                    (HostKeyPolicy::AcceptNew, _) => TrustDecision::Always,
                    (HostKeyPolicy::Ask, Some(prompt)) => {
                        let _paused = self.clock.pause();
                        prompt(unknown).await
                    }
                    (HostKeyPolicy::Strict, _) | (HostKeyPolicy::Ask, None) => {
                        return Err(Error::new(
                            ErrorKind::HostKeyUnknown,
                            format!("the host key of {id} ({offered_fp}) is not trusted yet"),
                        )
                        .with_hint("Verify the fingerprint before trusting the key.")
                        .with_fix(Fix::TrustHostKey))
                    }
                };
                match decision {
                    TrustDecision::Always => self.store.trust(id, offered),
                    TrustDecision::Once => {
                        self.trusted_once.store(true, Ordering::SeqCst);
                        Ok(())
                    }
                    TrustDecision::Reject => Err(Error::new(
                        ErrorKind::HostKeyRejected,
                        format!("you did not trust the host key of {id} ({offered_fp})"),
                    )),
                }
            }
        }
    }
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if self.race.as_ref().is_some_and(|race| !race.claim()) {
            return Ok(false);
        }
        let offered = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // Host certificates: no CA is configured, so pin the certified key itself.
            PublicKeyOrCertificate::Certificate(cert) => {
                PublicKey::new(cert.public_key().clone(), "")
            }
        };
        match self.decide(&offered).await {
            Ok(()) => Ok(true),
            Err(e) => {
                *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Ok(false)
            }
        }
    }

    async fn server_channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: client::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(REFUSED).await;
        Ok(())
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        _channel: Channel<Msg>,
        reply: client::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(REFUSED).await;
        Ok(())
    }

    async fn server_channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _originator_address: &str,
        _originator_port: u32,
        reply: client::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(REFUSED).await;
        Ok(())
    }

    /// Accepted only for an address and port a `-R` forward of this connection registered.
    async fn server_channel_open_forwarded_tcpip(
        &mut self,
        channel: Channel<Msg>,
        connected_address: &str,
        connected_port: u32,
        originator_address: &str,
        originator_port: u32,
        reply: client::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let originator = (originator_address, originator_port);
        (self.remote_forwards)
            .opened(
                channel,
                connected_address,
                connected_port,
                originator,
                reply,
            )
            .await;
        Ok(())
    }

    async fn server_channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        _host_to_connect: &str,
        _port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: client::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(REFUSED).await;
        Ok(())
    }

    async fn server_channel_open_forwarded_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _socket_path: &str,
        reply: client::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(REFUSED).await;
        Ok(())
    }

    async fn server_channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _socket_path: &str,
        reply: client::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(REFUSED).await;
        Ok(())
    }

    /// Unknown channel types: refused (russh's default too, said here so it stays so).
    async fn should_accept_unknown_server_channel(
        &mut self,
        _id: ChannelId,
        _channel_type: &str,
    ) -> bool {
        false
    }
}

/// Keyless asks for no agent or X11 forwarding and offers no session to the server, so a server
/// that opens such a channel to us is hostile or broken: each is refused, never accepted. The one
/// exception is a `forwarded-tcpip` channel for a `-R` forward this connection asked for.
const REFUSED: ChannelOpenFailure = ChannelOpenFailure::AdministrativelyProhibited;
