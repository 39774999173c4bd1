//! Stdio ↔ sshd for a ProxyCommand. OpenSSH gives its ProxyCommand two pipes; they are read and
//! written without blocking threads (tokio's pipe types), in 1 MiB chunks through widened
//! pipes, so bulk copies (scp, rsync) are not held back by small reads.

use super::stream::SshdStream;
use std::io;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

const CHUNK: usize = 1024 * 1024;

/// Copies both ways until sshd closes its side. OpenSSH's end of input only half-closes the
/// stream (sshd still says goodbye); sshd's end is the end, and the caller then exits, which is
/// what closes stdout for OpenSSH (it holds no other copy of the pipe).
pub async fn relay(stream: Box<dyn SshdStream>) -> io::Result<()> {
    let (mut input, mut output) = stdio()?;
    let (from_sshd, mut to_sshd) = tokio::io::split(stream);
    let mut from_sshd = tokio::io::BufReader::with_capacity(CHUNK, from_sshd);
    let downstream = async {
        tokio::io::copy_buf(&mut from_sshd, &mut output).await?;
        output.flush().await
    };
    let upstream = async {
        let mut input = tokio::io::BufReader::with_capacity(CHUNK, &mut input);
        if tokio::io::copy_buf(&mut input, &mut to_sshd).await.is_ok() {
            let _ = to_sshd.shutdown().await;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        done = downstream => done,
        _ = upstream => Ok(()),
    }
}

type Input = Box<dyn AsyncRead + Unpin + Send>;
type Output = Box<dyn AsyncWrite + Unpin + Send>;

/// The process's stdin and stdout: as non-blocking pipes when they are pipes (what OpenSSH
/// gives), else tokio's thread-backed stdio.
fn stdio() -> io::Result<(Input, Output)> {
    use std::os::fd::AsFd;
    use tokio::net::unix::pipe;
    widen_pipe(std::io::stdin().as_fd());
    widen_pipe(std::io::stdout().as_fd());
    let input: Input = match std::io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => match pipe::Receiver::from_owned_fd(fd) {
            Ok(rx) => Box::new(rx),
            Err(_) => Box::new(tokio::io::stdin()),
        },
        Err(_) => Box::new(tokio::io::stdin()),
    };
    let output: Output = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => match pipe::Sender::from_owned_fd(fd) {
            Ok(tx) => Box::new(tx),
            Err(_) => Box::new(tokio::io::stdout()),
        },
        Err(_) => Box::new(tokio::io::stdout()),
    };
    Ok((input, output))
}

/// A pipe holds 64 KiB by default, so bulk copies through OpenSSH (which reads 256 KiB at a
/// time from a socket) would wake this process for every 64 KiB. 1 MiB is what an unprivileged
/// process may ask for; a refusal (not a pipe, a lower limit) leaves the pipe as it was.
#[cfg(target_os = "linux")]
fn widen_pipe(fd: std::os::fd::BorrowedFd<'_>) {
    let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1024 * 1024));
}

#[cfg(not(target_os = "linux"))]
fn widen_pipe(_fd: std::os::fd::BorrowedFd<'_>) {}
