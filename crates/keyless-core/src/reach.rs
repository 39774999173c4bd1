//! Reaching an instance's sshd up to the end of the SSH key exchange: directly over TCP, through
//! the VPC's EC2 Instance Connect Endpoint, or both raced (`--via auto`, happy eyeballs in the
//! spirit of RFC 8305): the direct attempt starts at once, the tunnel after a short head start
//! or as soon as the direct one fails, and the first to reach the host-key check wins; the other
//! is cut. The path that won is remembered per VPC for the run, so the next connect there goes
//! straight to it (the other path stays the fallback).

use crate::address::{RoutePlan, Via};
use crate::aws::AwsContext;
use crate::connect::{ConnectOptions, Step, StepTiming};
use crate::deadline::{Phase, PhaseDeadline, PromptClock};
use crate::eice::{self, Endpoint, TunnelEnd, TunnelRequest};
use crate::error::{Error, ErrorKind, Fix, Result};
use crate::forward::RemoteForwards;
use crate::instance::Instance;
use crate::severable::{CutOnDrop, Severable};
use crate::verifier::{RaceClaim, Refusal, Speculation, Verifier};
use futures::future::{BoxFuture, FutureExt};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;

/// How long the direct attempt runs alone before the tunnel starts too.
pub const HEAD_START: Duration = Duration::from_millis(250);
pub(crate) const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The way a connection reached its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    Direct,
    Eice {
        endpoint_id: String,
        /// When the endpoint closes the tunnel (1 h, or the `maxTunnelDuration` asked for).
        expires_at: Instant,
    },
}

/// Which kind of path won, as remembered per VPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Won {
    Direct,
    Tunnel,
}

/// The path that won per (region, VPC), for this run.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteMemory(Arc<Mutex<HashMap<(String, String), Won>>>);

impl RouteMemory {
    fn get(&self, region: &str, vpc: &str) -> Option<Won> {
        let routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        routes.get(&(region.to_owned(), vpc.to_owned())).copied()
    }

    fn set(&self, region: &str, vpc: &str, won: Won) {
        let mut routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        routes.insert((region.to_owned(), vpc.to_owned()), won);
    }
}

/// A finished key exchange and everything about how it got there.
pub(crate) struct Reached {
    pub handle: russh::client::Handle<Verifier>,
    /// The user trusted the host key for this connection only: it must not be shared.
    pub trusted_once: bool,
    pub remote_forwards: RemoteForwards,
    pub address: IpAddr,
    pub path: Path,
    pub tunnel_end: Option<TunnelEnd>,
    /// The deadlines of the later phases, naming the path that won.
    pub deadline: PhaseDeadline,
    pub timings: Vec<StepTiming>,
}

/// A key exchange that finished, and how its host key was trusted.
pub(crate) struct Handshaken {
    handle: russh::client::Handle<Verifier>,
    trusted_once: bool,
    remote_forwards: RemoteForwards,
}

/// What every attempt needs.
pub(crate) struct Reach<'a> {
    pub aws: &'a AwsContext,
    pub instance: &'a Instance,
    pub opts: &'a ConnectOptions,
    /// The address comes from a recent listing, not this connect's lookup (see `speculate.rs`).
    pub speculation: Option<Speculation>,
}

impl Reach<'_> {
    /// Reaches the instance along `plan`, reporting each step of the path that won.
    pub async fn run(&self, plan: RoutePlan) -> Result<Reached> {
        let reached = match plan {
            RoutePlan::Direct(address) => {
                (self.direct(address, None).await).map_err(|e| direct_failed(e, self.opts.via))
            }
            RoutePlan::Tunnel(address) => {
                let endpoint = self.endpoint().await?;
                self.tunnel(address, endpoint, None).await
            }
            RoutePlan::Race { direct, tunnel } => self.race(direct, tunnel).await,
        }?;
        for timing in &reached.timings {
            self.opts.tell(*timing);
        }
        Ok(reached)
    }

    async fn endpoint(&self) -> Result<Endpoint> {
        eice::endpoint_of(self.aws, self.instance).await
    }

    async fn race(&self, direct: IpAddr, tunnel: IpAddr) -> Result<Reached> {
        let vpc = self.instance.vpc_id.clone();
        let remembered = vpc
            .as_deref()
            .and_then(|v| self.aws.routes.get(&self.instance.region, v));
        let claim = RaceClaim::new();
        let go = Arc::new(Notify::new());
        let direct_first = remembered != Some(Won::Tunnel);
        let direct_attempt = {
            let claim = claim.side(if direct_first { 1 } else { 2 });
            let go = go.clone();
            async move {
                if !direct_first {
                    go.notified().await;
                }
                self.direct(direct, Some(claim)).await
            }
            .boxed()
        };
        let tunnel_attempt = {
            let claim = claim.side(if direct_first { 2 } else { 1 });
            let go = go.clone();
            async move {
                // The lookup runs during the head start; only the tunnel waits for its turn.
                let endpoint = self.endpoint().await?;
                if direct_first {
                    go.notified().await;
                }
                self.tunnel(tunnel, endpoint, Some(claim)).await
            }
            .boxed()
        };
        // A remembered winner goes first with no head start for the other: it runs only if the
        // remembered one fails.
        let head_start = remembered.is_none().then_some(HEAD_START);
        let (first, second) = if direct_first {
            (direct_attempt, tunnel_attempt)
        } else {
            (tunnel_attempt, direct_attempt)
        };
        let reached = race(first, second, &go, head_start, &claim).await?;
        if let Some(vpc) = vpc {
            let won = match reached.path {
                Path::Direct => Won::Direct,
                Path::Eice { .. } => Won::Tunnel,
            };
            self.aws.routes.set(&self.instance.region, &vpc, won);
        }
        Ok(reached)
    }

    pub(crate) async fn direct(
        &self,
        address: IpAddr,
        claim: Option<RaceClaim>,
    ) -> Result<Reached> {
        let at = SocketAddr::new(address, self.opts.port);
        let deadline = self.deadline(at.to_string());
        let started = Instant::now();
        let socket = tokio::time::timeout(TCP_CONNECT_TIMEOUT, tokio::net::TcpStream::connect(at))
            .await
            .map_err(|_| unreachable(self.instance, at, "timed out"))?
            .map_err(|e| unreachable(self.instance, at, &e.to_string()))?;
        socket.set_nodelay(true).ok();
        let done = self
            .handshake(socket, claim, &deadline, &at.to_string())
            .await?;
        Ok(Reached {
            handle: done.handle,
            trusted_once: done.trusted_once,
            remote_forwards: done.remote_forwards,
            address,
            path: Path::Direct,
            tunnel_end: None,
            deadline,
            timings: vec![timing(Step::Handshake, started)],
        })
    }

    async fn tunnel(
        &self,
        address: IpAddr,
        endpoint: Endpoint,
        claim: Option<RaceClaim>,
    ) -> Result<Reached> {
        let at = format!(
            "{} via {}",
            SocketAddr::new(address, self.opts.port),
            endpoint.id
        );
        let deadline = self.deadline(at.clone());
        let started = Instant::now();
        let request = TunnelRequest {
            region: &self.instance.region,
            endpoint: &endpoint,
            address,
            remote_port: self.opts.port,
            max_duration: self.opts.max_tunnel,
        };
        let tunnel =
            eice::open_tunnel(self.aws, &request, &self.opts.tunnel, self.opts.timeout).await?;
        let opened = timing(Step::Tunnel, started);
        let path = Path::Eice {
            endpoint_id: tunnel.endpoint_id().to_owned(),
            expires_at: tunnel.expires_at(),
        };
        let end = tunnel.end();
        let started = Instant::now();
        let done = self.handshake(tunnel, claim, &deadline, &at).await?;
        Ok(Reached {
            handle: done.handle,
            trusted_once: done.trusted_once,
            remote_forwards: done.remote_forwards,
            address,
            path,
            tunnel_end: Some(end),
            deadline,
            timings: vec![opened, timing(Step::Handshake, started)],
        })
    }

    fn deadline(&self, at: String) -> PhaseDeadline {
        PhaseDeadline::new(self.opts.timeout, self.instance.label(), at)
    }

    /// The SSH key exchange over `stream`, within the handshake deadline (a host-key question
    /// stops its clock). The stream is cut if the handshake fails, times out or is abandoned.
    async fn handshake<S>(
        &self,
        stream: S,
        claim: Option<RaceClaim>,
        deadline: &PhaseDeadline,
        at: &str,
    ) -> Result<Handshaken>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let clock = PromptClock::default();
        // Why the host-key check refused the key, in words (russh only says "unknown key").
        let refusal: Refusal = Default::default();
        let trusted_once = Arc::new(AtomicBool::new(false));
        let remote_forwards = RemoteForwards::default();
        let verifier = Verifier {
            instance_id: self.instance.instance_id.clone(),
            store: self.opts.known_hosts.clone(),
            policy: self.opts.host_key_policy,
            prompt: self.opts.prompt.clone(),
            refusal: refusal.clone(),
            clock: clock.clone(),
            race: claim.clone(),
            trusted_once: trusted_once.clone(),
            remote_forwards: remote_forwards.clone(),
            speculation: self.speculation.clone(),
        };
        let (stream, cut) = Severable::new(stream);
        let guard = CutOnDrop::new(cut);
        let ssh =
            russh::client::connect_stream(Arc::new(crate::session::ssh_config()), stream, verifier);
        let handle = deadline
            .within_pausable(Phase::Handshake, &clock, ssh)
            .await?
            .map_err(|e| {
                // The loser of a race refused the key only because the other path won.
                if claim.as_ref().is_some_and(RaceClaim::lost) {
                    return lost_race();
                }
                refusal
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .unwrap_or_else(|| handshake_failed(e, at))
            })?;
        guard.keep();
        Ok(Handshaken {
            handle,
            trusted_once: trusted_once.load(Ordering::SeqCst),
            remote_forwards,
        })
    }
}

/// A direct attempt's error as the user sees it.
pub(crate) fn direct_failed(e: Error, via: Via) -> Error {
    match (e.kind, via) {
        // Unroutable private address: the VPC's endpoint may still reach it.
        (ErrorKind::Network, Via::Private) if e.fix.is_none() => {
            e.with_fix(Fix::UseAddress { via: Via::Auto })
        }
        _ => e,
    }
}

fn timing(step: Step, since: Instant) -> StepTiming {
    StepTiming {
        step,
        took: since.elapsed(),
    }
}

/// Runs `first`; `second` is polled from the start (its endpoint lookup may run) but waits on
/// `go`, which is notified after `head_start` (never, if `None`) or when `first` fails. The first
/// success wins and the other future is dropped, which cuts its connection.
async fn race(
    first: BoxFuture<'_, Result<Reached>>,
    second: BoxFuture<'_, Result<Reached>>,
    go: &Notify,
    head_start: Option<Duration>,
    claim: &RaceClaim,
) -> Result<Reached> {
    let mut first = first.fuse();
    let mut second = second.fuse();
    let timer = tokio::time::sleep(head_start.unwrap_or(Duration::MAX / 4));
    tokio::pin!(timer);
    let mut timer_done = head_start.is_none();
    let (mut first_err, mut second_err) = (None, None);
    loop {
        tokio::select! {
            r = &mut first, if first_err.is_none() => match r {
                Ok(reached) => return Ok(reached),
                Err(e) => {
                    go.notify_one();
                    match second_err.take() {
                        Some(s) => return Err(pick(e, s, claim)),
                        None => first_err = Some(e),
                    }
                }
            },
            r = &mut second, if second_err.is_none() => match r {
                Ok(reached) => return Ok(reached),
                Err(e) => match first_err.take() {
                    Some(f) => return Err(pick(f, e, claim)),
                    None => second_err = Some(e),
                },
            },
            _ = &mut timer, if !timer_done => {
                timer_done = true;
                go.notify_one();
            }
        }
    }
}

/// Both paths failed: the error of the path that got as far as the host key, else the one
/// that says more (a tunnel refusal explains more than "unreachable", "no endpoint" less).
fn pick(first: Error, second: Error, claim: &RaceClaim) -> Error {
    match claim.winner() {
        Some(1) => return first,
        Some(2) => return second,
        _ => {}
    }
    if second.kind == ErrorKind::NoEndpoint {
        return first;
    }
    if first.kind == ErrorKind::NoEndpoint {
        return second;
    }
    if matches!(first.kind, ErrorKind::Network | ErrorKind::Timeout) {
        return second;
    }
    first
}

fn lost_race() -> Error {
    Error::new(
        ErrorKind::Network,
        "another path reached the instance first",
    )
}

fn handshake_failed(e: russh::Error, at: &str) -> Error {
    match e {
        russh::Error::NoCommonAlgo {
            kind: russh::AlgorithmKind::Key,
            ours,
            theirs,
        } => Error::new(
            ErrorKind::Ssh,
            format!(
                "the SSH server at {at} offers only host-key algorithms Keyless does not accept \
                 ({}); Keyless accepts {}",
                theirs.join(", "),
                ours.join(", ")
            ),
        )
        .with_hint(
            "ssh-rsa host-key signatures use SHA-1, which is broken. Give sshd an Ed25519 or \
             ECDSA host key, or let it sign RSA keys with rsa-sha2-256/512 (OpenSSH 7.2 and \
             later do).",
        ),
        e => Error::new(
            ErrorKind::Ssh,
            format!("SSH handshake with {at} failed: {e}"),
        )
        .with_hint("Is an SSH server listening on that port?"),
    }
}

pub(crate) fn unreachable(instance: &Instance, address: SocketAddr, why: &str) -> Error {
    Error::new(
        ErrorKind::Network,
        format!("cannot reach {} at {address}: {why}", instance.label()),
    )
    .with_hint(
        "Check that you can route to that address (VPN/Direct Connect for private IPs), that the \
         security group allows SSH from you, and that sshd is running. A private instance can \
         also be reached through its VPC's EC2 Instance Connect Endpoint (address eice or auto).",
    )
}
