//! VS Code Remote-SSH's connection, as the system's OpenSSH makes it for a host VS Code lists from
//! the config. VS Code itself cannot run here (its download and marketplace servers are not
//! reachable), so the test drives OpenSSH with the command line Remote-SSH logs for a Linux host —
//! `ssh -T -D <port> -o ConnectTimeout=15 <host> bash`, its setup script on stdin — and then does
//! what VS Code does next: reads the server's `listeningOn==<port>==` line and connects to that
//! port on the instance through the SOCKS forward `-D` opened.

use crate::common::free_port;
use crate::setup::OpenSsh;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The stand-in for the VS Code server: an echo server on a free loopback port of the instance,
/// announced the way Remote-SSH's setup script announces the real one.
const SETUP_SCRIPT: &str = r#"
python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print("listeningOn==%d==" % s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(c.recv(64))
'
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vs_code_remote_ssh_reaches_its_server_on_a_saved_profile() {
    let o = OpenSsh::start().await;
    let id = o.instance_id("db-primary");
    // VS Code's "Connect to Host…" lists the profile's name, read from the Include.
    o.add_profile("db-vscode", &["--target", &id]).await;
    let socks_port = free_port();
    let config = o.config.display().to_string();
    let socks = socks_port.to_string();
    let mut ssh = o.command(
        "ssh",
        &[
            "-F",
            &config,
            // A first contact: VS Code shows OpenSSH's host-key question; the test accepts here.
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-T",
            "-D",
            &socks,
            "-o",
            "ConnectTimeout=15",
            "db-vscode",
            "bash",
        ],
    );
    let mut ssh = ssh.stdin(Stdio::piped()).spawn().expect("ssh runs");
    let mut stdin = ssh.stdin.take().unwrap();
    stdin.write_all(SETUP_SCRIPT.as_bytes()).await.unwrap();

    let mut lines = BufReader::new(ssh.stdout.take().unwrap()).lines();
    let announced = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the server is announced within a minute")
        .unwrap();
    let Some(announced) = announced else {
        panic!("ssh ended: {}", stderr_of(ssh).await);
    };
    let server_port: u16 = (announced.strip_prefix("listeningOn=="))
        .and_then(|rest| rest.strip_suffix("=="))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("not an announcement: {announced:?}"));

    let mut through = socks5_connect(socks_port, server_port).await;
    through.write_all(b"vscode-hello").await.unwrap();
    let mut echoed = [0u8; 12];
    through.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"vscode-hello");

    drop(through);
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(30), ssh.wait())
        .await
        .expect("ssh ends once its stdin closes")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(o.env.successful_pushes(), 1);
}

/// A SOCKS5 CONNECT (no authentication) to 127.0.0.1:`port` on the far side of `ssh -D`.
async fn socks5_connect(socks_port: u16, port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", socks_port)).await.unwrap();
    s.write_all(&[5, 1, 0]).await.unwrap();
    let mut chosen = [0u8; 2];
    s.read_exact(&mut chosen).await.unwrap();
    assert_eq!(chosen, [5, 0], "ssh's SOCKS server takes no authentication");
    let [hi, lo] = port.to_be_bytes();
    s.write_all(&[5, 1, 0, 1, 127, 0, 0, 1, hi, lo])
        .await
        .unwrap();
    let mut reply = [0u8; 10];
    s.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply[1], 0, "the forward is granted: {reply:?}");
    s
}

async fn stderr_of(mut ssh: tokio::process::Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = ssh.stderr.take() {
        let _ = err.read_to_string(&mut text).await;
    }
    text
}
