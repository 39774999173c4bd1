//! What a server cannot do to Keyless's client: open channels to it (agent, X11, forwards it
//! did not ask for, a session), get a SHA-1 `ssh-rsa` host key accepted, or stall a phase of the
//! connect past its deadline — while a person slowly answering the host-key question is not a
//! stall.
//!
//! The hostile server is russh's own server side (lab sshd cannot misbehave like this), bound on a
//! lab instance's address so the lab's EC2 Instance Connect push and the connect code run as usual.

use keyless_core::hostkeys::KnownHosts;
use keyless_core::{
    connect_instance, AwsContext, AwsSelection, ConnectOptions, ErrorKind, HostKeyPolicy,
    HostKeyPrompt, Instance, InstanceFilter, PtySize, SessionSpec, TrustDecision, Via,
};
use keyless_lab::{Lab, LabOptions};
use russh::keys::{Algorithm, PrivateKey};
use russh::server::{self, Auth, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelOpenFailure};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// What the test server does wrong.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Misbehaviour {
    /// Accepts any key, then (driven by the test) opens channels to the client.
    None,
    /// Never answers the authentication request.
    StallAuthentication,
    /// Never answers the client's session channel open.
    StallSessionOpen,
}

struct Hostile {
    misbehaviour: Misbehaviour,
}

impl server::Handler for Hostile {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        _offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        self.maybe_stall(Misbehaviour::StallAuthentication).await;
        Ok(Auth::Accept)
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        _key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        self.maybe_stall(Misbehaviour::StallAuthentication).await;
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.maybe_stall(Misbehaviour::StallSessionOpen).await;
        reply.accept().await;
        Ok(())
    }

    /// Grants every remote forward, so the test can then open channels for it and for others.
    async fn tcpip_forward(
        &mut self,
        _address: &str,
        _port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

impl Hostile {
    async fn maybe_stall(&self, when: Misbehaviour) {
        if self.misbehaviour == when {
            std::future::pending::<()>().await;
        }
    }
}

/// One connection's worth of hostile server; the task ends when this is dropped.
struct Server {
    addr: SocketAddr,
    /// The server side's handle to the connection, once a client has connected.
    handle: Option<oneshot::Receiver<server::Handle>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Listens on `ip` (a lab instance's address) with `host_key`, offered as `algorithms`.
    async fn start(
        ip: &str,
        host_key: PrivateKey,
        algorithms: &'static [Algorithm],
        misbehaviour: Misbehaviour,
    ) -> Server {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Arc::new(server::Config {
            keys: vec![host_key],
            preferred: russh::Preferred {
                key: algorithms.into(),
                ..Default::default()
            },
            auth_rejection_time: Duration::ZERO,
            ..Default::default()
        });
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let running = server::run_stream(config, stream, Hostile { misbehaviour }).await;
            let Ok(running) = running else { return };
            let _ = tx.send(running.handle());
            let _ = running.await;
        });
        Server {
            addr,
            handle: Some(rx),
            task,
        }
    }

    async fn handle(&mut self) -> server::Handle {
        self.handle.take().unwrap().await.unwrap()
    }
}

fn ed25519() -> PrivateKey {
    PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap()
}

const ED25519_ONLY: &[Algorithm] = &[Algorithm::Ed25519];
const SSH_RSA_ONLY: &[Algorithm] = &[Algorithm::Rsa { hash: None }];

/// An RSA host key made by OpenSSH's ssh-keygen (fast, unlike generating RSA in a debug build).
fn rsa_key(dir: &std::path::Path) -> PrivateKey {
    let path = dir.join("rsa_host_key");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    PrivateKey::read_openssh_file(&path).unwrap()
}

struct World {
    lab: Lab,
    aws: AwsContext,
    instance: Instance,
    dir: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        keyless_lab::use_lab_credentials_in_process();
        let aws = AwsContext::load(&AwsSelection {
            profile: None,
            region: Some(lab.regions()[0].clone()),
            endpoint_url: Some(lab.endpoint()),
        })
        .await
        .unwrap();
        let inventory =
            keyless_core::list_instances(&aws, lab.regions(), &InstanceFilter::default()).await;
        let instance = inventory
            .instances
            .into_iter()
            .find(|i| i.name.as_deref() == Some("db-primary"))
            .unwrap();
        World {
            lab,
            aws,
            instance,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn known_hosts(&self) -> KnownHosts {
        KnownHosts::at(self.dir.path().join("known_hosts"))
    }

    fn options(&self, port: u16, timeout: Duration) -> ConnectOptions {
        ConnectOptions {
            os_user: self.lab.os_user().to_owned(),
            port,
            via: Via::Private,
            host_key_policy: HostKeyPolicy::AcceptNew,
            known_hosts: self.known_hosts(),
            prompt: None,
            progress: None,
            timeout,
            max_tunnel: None,
            tunnel: keyless_core::eice::TunnelSettings::direct(),
        }
    }

    fn ip(&self) -> String {
        self.instance.private_ip.clone().unwrap()
    }
}

/// Old code hangs where these tests expect a deadline: fail instead of hanging the suite.
async fn finishes<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .expect("the connect hung instead of running into its deadline")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_the_server_opens_are_refused() {
    let w = World::start().await;
    let mut server = Server::start(&w.ip(), ed25519(), ED25519_ONLY, Misbehaviour::None).await;
    let opts = w.options(server.addr.port(), Duration::from_secs(15));
    let connection = finishes(connect_instance(&w.aws, w.instance.clone(), &opts))
        .await
        .unwrap();
    let handle = server.handle().await;

    let refused = |r: Result<Channel<Msg>, russh::Error>| match r {
        Err(russh::Error::ChannelOpenFailure(ChannelOpenFailure::AdministrativelyProhibited)) => {
            true
        }
        Err(e) => panic!("refused for the wrong reason: {e:?}"),
        Ok(_) => false,
    };
    let opens = [
        ("session", refused(handle.channel_open_session().await)),
        (
            "auth-agent@openssh.com",
            refused(handle.channel_open_agent().await),
        ),
        (
            "x11",
            refused(handle.channel_open_x11("127.0.0.1", 6010).await),
        ),
        (
            "forwarded-tcpip",
            refused(
                handle
                    .channel_open_forwarded_tcpip("127.0.0.1", 8080, "203.0.113.9", 40000)
                    .await,
            ),
        ),
        (
            "direct-tcpip",
            refused(
                handle
                    .channel_open_direct_tcpip("127.0.0.1", 22, "203.0.113.9", 40000)
                    .await,
            ),
        ),
        (
            "forwarded-streamlocal@openssh.com",
            refused(
                handle
                    .channel_open_forwarded_streamlocal("/tmp/agent.sock")
                    .await,
            ),
        ),
        (
            "direct-streamlocal@openssh.com",
            refused(
                handle
                    .channel_open_direct_streamlocal("/tmp/agent.sock")
                    .await,
            ),
        ),
    ];
    let accepted: Vec<&str> = opens.iter().filter(|(_, r)| !r).map(|(t, _)| *t).collect();
    assert!(accepted.is_empty(), "the client accepted {accepted:?}");

    connection.disconnect().await;
}

/// A `-R` forward opens the door for its own address and port only: the server's
/// `forwarded-tcpip` channel for it is carried to the local target, any other is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_remote_forward_asked_for_is_accepted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = World::start().await;
    let mut server = Server::start(&w.ip(), ed25519(), ED25519_ONLY, Misbehaviour::None).await;
    let opts = w.options(server.addr.port(), Duration::from_secs(15));
    let connection = finishes(connect_instance(&w.aws, w.instance.clone(), &opts))
        .await
        .unwrap();
    let handle = server.handle().await;
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_port = echo.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let spec = format!("8080:127.0.0.1:{echo_port}").parse().unwrap();
    let forward = finishes(connection.forward_remote(spec, keyless_core::forward::quiet()))
        .await
        .unwrap();
    assert_eq!(forward.remote_port(), 8080);

    let channel =
        finishes(handle.channel_open_forwarded_tcpip("127.0.0.1", 8080, "203.0.113.9", 40000))
            .await
            .expect("the forward asked for is accepted");
    let mut stream = channel.into_stream();
    stream.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    finishes(stream.read_exact(&mut back)).await.unwrap();
    assert_eq!(&back, b"ping", "carried to the local target");

    let refused = |r: Result<Channel<Msg>, russh::Error>| {
        matches!(
            r,
            Err(russh::Error::ChannelOpenFailure(
                ChannelOpenFailure::AdministrativelyProhibited
            ))
        )
    };
    for (address, port) in [("127.0.0.1", 8081), ("0.0.0.0", 8080), ("localhost", 8080)] {
        let opened = handle
            .channel_open_forwarded_tcpip(address, port, "203.0.113.9", 40000)
            .await;
        assert!(refused(opened), "{address}:{port} was not asked for");
    }
    drop(forward);
    let opened = handle
        .channel_open_forwarded_tcpip("127.0.0.1", 8080, "203.0.113.9", 40000)
        .await;
    assert!(refused(opened), "a forward dropped accepts nothing more");
    connection.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssh_rsa_sha1_host_key_is_not_accepted() {
    let w = World::start().await;
    let server = Server::start(
        &w.ip(),
        rsa_key(w.dir.path()),
        SSH_RSA_ONLY,
        Misbehaviour::None,
    )
    .await;
    let opts = w.options(server.addr.port(), Duration::from_secs(15));
    let e = finishes(connect_instance(&w.aws, w.instance.clone(), &opts))
        .await
        .err()
        .expect("a server offering only ssh-rsa is refused");
    assert_eq!(e.kind, ErrorKind::Ssh, "{e:?}");
    assert!(
        e.message
            .contains("offers only host-key algorithms Keyless does not accept (ssh-rsa)"),
        "{e:?}"
    );
    assert!(e.hint.unwrap_or_default().contains("SHA-1"));
    let pinned = w.known_hosts().keys_for(&w.instance.instance_id).unwrap();
    assert!(pinned.is_empty(), "nothing was pinned: {pinned:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_authentication_times_out() {
    let w = World::start().await;
    let server = Server::start(
        &w.ip(),
        ed25519(),
        ED25519_ONLY,
        Misbehaviour::StallAuthentication,
    )
    .await;
    let opts = w.options(server.addr.port(), Duration::from_secs(1));
    let e = finishes(connect_instance(&w.aws, w.instance.clone(), &opts))
        .await
        .err()
        .expect("a stalled authentication fails");
    assert_eq!(e.kind, ErrorKind::Timeout, "{e:?}");
    assert_eq!(
        e.message,
        format!(
            "timed out after 1 s waiting for {} at {} to answer the SSH authentication",
            w.instance.label(),
            server.addr
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_opens_the_session_times_out() {
    let w = World::start().await;
    let server = Server::start(
        &w.ip(),
        ed25519(),
        ED25519_ONLY,
        Misbehaviour::StallSessionOpen,
    )
    .await;
    let opts = w.options(server.addr.port(), Duration::from_secs(1));
    let connection = finishes(connect_instance(&w.aws, w.instance.clone(), &opts))
        .await
        .unwrap();
    let spec = SessionSpec {
        command: None,
        pty: Some(PtySize { cols: 80, rows: 24 }),
    };
    let e = finishes(connection.open(&spec))
        .await
        .err()
        .expect("a stalled session open fails");
    assert_eq!(e.kind, ErrorKind::Timeout, "{e:?}");
    assert!(
        e.message.starts_with(&format!(
            "timed out after 1 s waiting for {} at {} to open the session",
            w.instance.label(),
            server.addr
        )),
        "{e:?}"
    );
}

/// Real sshd: a host-key question answered long after the handshake deadline would have passed
/// does not make the connect time out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_to_the_host_key_question_is_not_a_timeout() {
    let w = World::start().await;
    let limit = Duration::from_secs(1);
    let (asked_tx, asked_rx) = std::sync::mpsc::channel();
    let prompt: HostKeyPrompt = Arc::new(move |key| {
        let asked = asked_tx.clone();
        Box::pin(async move {
            asked.send(key.instance_id).unwrap();
            // The user reads the fingerprint for three deadlines' worth of time.
            tokio::time::sleep(limit * 3).await;
            TrustDecision::Once
        })
    });
    let opts = ConnectOptions {
        host_key_policy: HostKeyPolicy::Ask,
        prompt: Some(prompt),
        ..w.options(w.lab.ssh_port(), limit)
    };
    let connection = finishes(connect_instance(&w.aws, w.instance.clone(), &opts))
        .await
        .unwrap();
    assert_eq!(asked_rx.try_recv().unwrap(), w.instance.instance_id);
    let mut session = connection
        .open(&SessionSpec {
            command: Some("echo up".into()),
            pty: None,
        })
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Ok(event) = session.next().await {
        match event {
            keyless_core::SessionEvent::Stdout(d) => out.extend_from_slice(&d),
            keyless_core::SessionEvent::Stderr(_) => {}
            keyless_core::SessionEvent::Ended(_) => break,
        }
    }
    assert_eq!(String::from_utf8_lossy(&out), "up\n");
    connection.disconnect().await;
}
