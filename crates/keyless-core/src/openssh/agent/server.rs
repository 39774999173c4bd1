//! The agent process: one per user, started by the first `keyless proxy` and gone once idle.
//! A lock file makes sure only one serves the socket; each connection is checked to come from
//! this user, and requests are answered for the process the kernel says is asking.

use super::ext;
use super::peer::ProcessId;
use super::registry::{Bound, RecordId, Registry};
use super::wire::{self, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};
use crate::hostkeys::KnownHosts;
use russh::keys::PublicKey;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{UnixListener, UnixStream};

/// How long the agent stays with nothing to do (`KEYLESS_AGENT_IDLE_SECS` overrides, for tests).
pub const IDLE_EXIT: Duration = Duration::from_secs(60);
/// How long a new agent waits for an old one that is on its way out to let go of the lock.
const LOCK_WAIT: Duration = Duration::from_secs(2);

pub struct AgentOptions {
    pub socket: PathBuf,
    pub idle_exit: Duration,
}

/// Serves until idle. Returns at once when another agent already holds the socket.
pub async fn serve(opts: AgentOptions) -> Result<()> {
    let dir = opts
        .socket
        .parent()
        .ok_or_else(|| bad_socket(&opts.socket))?;
    private_dir(dir)?;
    let Some(_lock) = take_lock(&opts.socket.with_extension("lock")).await? else {
        return Ok(());
    };
    // Holding the lock: a socket file left here is a dead agent's.
    let _ = std::fs::remove_file(&opts.socket);
    let listener = UnixListener::bind(&opts.socket).map_err(|e| io_error(&opts.socket, e))?;
    std::fs::set_permissions(&opts.socket, std::fs::Permissions::from_mode(0o600))?;
    // A hang-up of the terminal the first proxy ran in is not a reason to stop serving others.
    let _hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    let state = Arc::new(State::default());
    let mut idle_since = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1).min(opts.idle_exit));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(serve_connection(stream, state.clone()));
            }
            _ = tick.tick() => {
                let empty = state.registry.sweep();
                if !empty || state.connections.load(Ordering::SeqCst) > 0 {
                    idle_since = Instant::now();
                } else if idle_since.elapsed() >= opts.idle_exit {
                    break;
                }
            }
        }
    }
    // Unlinked before the lock goes, so a newcomer never connects to a socket nobody serves.
    let _ = std::fs::remove_file(&opts.socket);
    Ok(())
}

#[derive(Default)]
struct State {
    registry: Registry,
    connections: AtomicUsize,
}

/// The socket's folder: made 0700, and refused when it is someone else's or open to others
/// (in /tmp anyone could have made it first).
fn private_dir(dir: &Path) -> Result<()> {
    match std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => return Err(io_error(dir, e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| io_error(dir, e))?;
    let ours = meta.uid() == nix::unistd::getuid().as_raw();
    if !meta.is_dir() || !ours || meta.mode() & 0o077 != 0 {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "{} is not a private folder of this user, so the Keyless agent will not put its \
                 socket there",
                dir.display()
            ),
        )
        .with_hint(
            "Remove it (or set XDG_RUNTIME_DIR to your own runtime folder) and try again.",
        ));
    }
    Ok(())
}

/// The lock, or `None` when a live agent keeps it beyond [`LOCK_WAIT`].
async fn take_lock(path: &Path) -> Result<Option<nix::fcntl::Flock<File>>> {
    let started = Instant::now();
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io_error(path, e))?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(mut lock) => {
                // The pid, for whoever must stop this agent (tests, `keyless agent --stop` later).
                lock.set_len(0)?;
                let _ = writeln!(lock, "{}", std::process::id());
                return Ok(Some(lock));
            }
            Err(_) if started.elapsed() < LOCK_WAIT => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(_) => return Ok(None),
        }
    }
}

/// One client: OpenSSH (identities, signatures, session-bind) or a Keyless process (records).
async fn serve_connection(mut stream: UnixStream, state: Arc<State>) {
    let Ok(cred) = stream.peer_cred() else { return };
    if cred.uid() != nix::unistd::getuid().as_raw() {
        return;
    }
    let Some(pid) = cred.pid().and_then(|p| u32::try_from(p).ok()) else {
        return;
    };
    state.connections.fetch_add(1, Ordering::SeqCst);
    let mut owned: Vec<RecordId> = Vec::new();
    let mut conn = Conn {
        pid,
        state: &state,
        owned: &mut owned,
    };
    while let Ok(Some(body)) = wire::read_message(&mut stream).await {
        let reply = conn.answer(&body).await;
        if wire::write_message(&mut stream, &reply).await.is_err() {
            break;
        }
    }
    state.registry.close(&owned);
    state.connections.fetch_sub(1, Ordering::SeqCst);
}

struct Conn<'a> {
    /// The connecting process.
    pid: u32,
    state: &'a State,
    /// Records this connection opened: they end with it.
    owned: &'a mut Vec<RecordId>,
}

impl Conn<'_> {
    async fn answer(&mut self, body: &[u8]) -> Vec<u8> {
        match self.dispatch(body).await {
            Ok(reply) => reply,
            Err(message) => Writer::new(wire::EXTENSION_FAILURE)
                .string(message.as_bytes())
                .finish(),
        }
    }

    async fn dispatch(&mut self, body: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let mut r = Reader::new(body);
        let kind = r.u8().map_err(|e| e.to_string())?;
        let failure = || Ok(vec![wire::FAILURE]);
        match kind {
            wire::REQUEST_IDENTITIES => {
                let Ok(me) = ProcessId::of(self.pid) else {
                    return failure();
                };
                let keys = self.state.registry.identities(me).await;
                let mut w = Writer::new(wire::IDENTITIES_ANSWER).u32(keys.len() as u32);
                for (blob, comment) in keys {
                    w = w.string(&blob).string(comment.as_bytes());
                }
                Ok(w.finish())
            }
            wire::SIGN_REQUEST => {
                let (Ok(blob), Ok(data)) = (r.string(), r.string()) else {
                    return failure();
                };
                let Ok(me) = ProcessId::of(self.pid) else {
                    return failure();
                };
                match self.state.registry.sign(me, blob, data) {
                    Some(sig) => Ok(Writer::new(wire::SIGN_RESPONSE).string(&sig).finish()),
                    None => failure(),
                }
            }
            wire::EXTENSION => {
                let name = r.text().map_err(|e| e.to_string())?.to_owned();
                self.extension(&name, r).await
            }
            _ => failure(),
        }
    }

    async fn extension(
        &mut self,
        name: &str,
        mut r: Reader<'_>,
    ) -> std::result::Result<Vec<u8>, String> {
        let registry = &self.state.registry;
        let text = |e: io::Error| e.to_string();
        match name {
            ext::SESSION_BIND => {
                let blob = r.string().map_err(text)?;
                let Ok(key) = PublicKey::from_bytes(blob) else {
                    return Ok(vec![wire::FAILURE]);
                };
                let me = ProcessId::of(self.pid).map_err(text)?;
                match registry.bind_host_key(me, &key) {
                    Ok(Bound::Trusted | Bound::NotOurs) => Ok(vec![wire::SUCCESS]),
                    Ok(Bound::Refused) | Err(_) => Ok(vec![wire::FAILURE]),
                }
            }
            ext::OPEN => {
                let instance_id = r.text().map_err(text)?;
                let store = KnownHosts::at(r.text().map_err(text)?);
                let ssh = ProcessId::ssh_of(self.pid).map_err(text)?;
                let opened = registry
                    .open(ssh, instance_id, store)
                    .map_err(|e| e.message)?;
                self.owned.push(opened.id);
                Ok(Writer::new(wire::SUCCESS)
                    .u32(opened.id)
                    .string(opened.public_openssh.as_bytes())
                    .finish())
            }
            ext::READY => {
                let id = r.u32().map_err(text)?;
                if !self.owned.contains(&id) || !registry.ready(id) {
                    return Err(format!("no record {id} on this connection"));
                }
                Ok(vec![wire::SUCCESS])
            }
            ext::INSTANCE => {
                let ssh = ProcessId::ssh_of(self.pid).map_err(text)?;
                match registry.instance_of(ssh) {
                    Some(id) => Ok(Writer::new(wire::SUCCESS).string(id.as_bytes()).finish()),
                    None => Ok(vec![wire::FAILURE]),
                }
            }
            _ => Ok(vec![wire::FAILURE]),
        }
    }
}

fn bad_socket(path: &Path) -> Error {
    Error::invalid(format!("'{}' is not a socket path", path.display()))
}

fn io_error(path: &Path, e: io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {e}", path.display()))
}
