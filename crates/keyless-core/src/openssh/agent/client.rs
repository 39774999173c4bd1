//! The Keyless side of the agent socket: `keyless proxy` opens a record and marks it ready, the
//! KnownHostsCommand asks which instance its `ssh` reaches. Starts the agent when none answers.

use super::ext;
use super::wire::{self, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::UnixStream;

/// How long a proxy waits for the agent it started to listen.
const START_WAIT: Duration = Duration::from_secs(3);

pub struct AgentClient {
    stream: UnixStream,
}

/// A one-time key the agent made for this proxy's `ssh`.
pub struct AgentKey {
    pub id: u32,
    pub public_openssh: String,
}

impl AgentClient {
    /// Connects, or starts the agent with `start` (a `keyless agent …` command) and connects.
    pub async fn connect_or_start(socket: &Path, mut start: Command) -> Result<AgentClient> {
        match AgentClient::connect(socket).await {
            Ok(client) => return Ok(client),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(
                    Error::new(ErrorKind::Io, format!("{}: {e}", socket.display())).with_hint(
                        "Someone else's process serves that socket. Remove it, or set \
                         XDG_RUNTIME_DIR to your own runtime folder, and run \
                         `keyless ssh-config --install` again.",
                    ),
                );
            }
            Err(_) => {}
        }
        start
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: the Ctrl+C of this terminal is not the agent's (and it ignores
        // hang-ups itself).
        std::os::unix::process::CommandExt::process_group(&mut start, 0);
        let mut child = start.spawn().map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not start the Keyless agent: {e}"),
            )
        })?;
        // Reaped when it exits, so it never lingers as a zombie of a long ssh session.
        std::thread::spawn(move || child.wait());
        let started = Instant::now();
        loop {
            match AgentClient::connect(socket).await {
                Ok(client) => return Ok(client),
                Err(_) if started.elapsed() < START_WAIT => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                            "the Keyless agent at {} did not answer: {e}",
                            socket.display()
                        ),
                    )
                    .with_hint("Run `keyless agent --socket PATH` in a terminal to see why."));
                }
            }
        }
    }

    /// Connects, and refuses a socket served by another user: in a shared folder (the /tmp
    /// fallback) someone could have put one there first, and a key they make would be pushed.
    pub async fn connect(socket: &Path) -> std::io::Result<AgentClient> {
        let stream = UnixStream::connect(socket).await?;
        let server = stream.peer_cred()?.uid();
        if server != nix::unistd::getuid().as_raw() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("the agent socket is served by user {server}, not by you"),
            ));
        }
        Ok(AgentClient { stream })
    }

    /// A key for `instance_id`, offered only to the `ssh` that runs this process.
    pub async fn open(&mut self, instance_id: &str, store: &Path) -> Result<AgentKey> {
        let store = store
            .to_str()
            .ok_or_else(|| Error::invalid(format!("'{}' is not a UTF-8 path", store.display())))?;
        let request = Writer::new(wire::EXTENSION)
            .string(ext::OPEN.as_bytes())
            .string(instance_id.as_bytes())
            .string(store.as_bytes())
            .finish();
        let reply = self.call(&request).await?;
        let reply = reply.ok_or_else(|| agent_error("it refused to make a key"))?;
        let mut r = Reader::new(&reply);
        let parsed = (|| -> std::io::Result<AgentKey> {
            r.u8()?;
            let id = r.u32()?;
            let public_openssh = r.text()?.to_owned();
            Ok(AgentKey { id, public_openssh })
        })();
        parsed.map_err(|e| agent_error(&e.to_string()))
    }

    /// The key was pushed: the agent may offer it now.
    pub async fn ready(&mut self, id: u32) -> Result<()> {
        let request = Writer::new(wire::EXTENSION)
            .string(ext::READY.as_bytes())
            .u32(id)
            .finish();
        match self.call(&request).await? {
            Some(_) => Ok(()),
            None => Err(agent_error("it does not know that key")),
        }
    }

    /// The instance the `ssh` running this process connects to, when a proxy of ours serves it.
    pub async fn instance_of_my_ssh(&mut self) -> Result<Option<String>> {
        let request = Writer::new(wire::EXTENSION)
            .string(ext::INSTANCE.as_bytes())
            .finish();
        let Some(reply) = self.call(&request).await? else {
            return Ok(None);
        };
        let mut r = Reader::new(&reply);
        let id = r.u8().and_then(|_| r.text().map(str::to_owned));
        id.map(Some).map_err(|e| agent_error(&e.to_string()))
    }

    /// One request, one reply: SUCCESS comes back whole, FAILURE as `None`, EXTENSION_FAILURE as
    /// an error in the agent's words.
    async fn call(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>> {
        wire::write_message(&mut self.stream, request)
            .await
            .map_err(|e| agent_error(&e.to_string()))?;
        let reply = wire::read_message(&mut self.stream)
            .await
            .map_err(|e| agent_error(&e.to_string()))?
            .ok_or_else(|| agent_error("it closed the connection"))?;
        match reply.first() {
            Some(&wire::SUCCESS) => Ok(Some(reply)),
            Some(&wire::FAILURE) => Ok(None),
            Some(&wire::EXTENSION_FAILURE) => {
                let mut r = Reader::new(&reply[1..]);
                Err(agent_error(r.text().unwrap_or("it refused")))
            }
            _ => Err(agent_error("an unexpected reply")),
        }
    }
}

fn agent_error(what: &str) -> Error {
    Error::new(ErrorKind::Io, format!("the Keyless agent: {what}"))
}
