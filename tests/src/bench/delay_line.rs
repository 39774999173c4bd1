//! A TCP relay that adds latency the way a distant network does: bytes that arrive at one end
//! leave the other `one_way` later, and nothing else slows them (a delay line, not a
//! stop-and-wait relay), so a protocol's throughput over it is bounded by how much it keeps in
//! flight — which is what the transfer benchmark compares. `tc netem` would do the same but
//! delays every loopback packet on the machine, the lab's AWS endpoints and other work included.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Relays every connection to its address on to `upstream`, both ways delayed. Dropping it ends
/// the relay and every connection through it.
pub struct DelayLine {
    pub addr: SocketAddr,
    _accepting: tokio::task::JoinHandle<()>,
    _abort: AbortOnDrop,
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl DelayLine {
    /// Listens on `ip` (any free port); `one_way` is half the round trip it adds.
    pub async fn start(ip: IpAddr, upstream: SocketAddr, one_way: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
        let addr = listener.local_addr()?;
        let accepting = tokio::spawn(async move {
            // Owned here, so aborting this task drops (and aborts) every relayed connection.
            let mut links = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                links.spawn(relay(client, upstream, one_way));
                while links.try_join_next().is_some() {}
            }
        });
        Ok(DelayLine {
            addr,
            _abort: AbortOnDrop(accepting.abort_handle()),
            _accepting: accepting,
        })
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, one_way: Duration) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        pipe(client_read, server_write, one_way),
        pipe(server_read, client_write, one_way)
    );
}

/// One direction: a reader stamps each chunk with when it may leave; a writer sends it then. The
/// queue between them is unbounded on purpose: it holds exactly what is "on the wire".
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, one_way: Duration) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reading = async move {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + one_way, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Dropping `tx` tells the writer: after what is queued, end of stream.
    };
    let writing = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reading, writing);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes arrive whole and in order, one way later than sent; the far end's close is passed on.
    #[tokio::test]
    async fn delays_without_losing_or_reordering() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let (mut r, mut w) = s.split();
            tokio::io::copy(&mut r, &mut w).await.unwrap();
        });
        let line = DelayLine::start(
            "127.0.0.1".parse().unwrap(),
            upstream,
            Duration::from_millis(30),
        )
        .await
        .unwrap();
        let mut c = TcpStream::connect(line.addr).await.unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let started = std::time::Instant::now();
        let (mut r, mut w) = c.split();
        let send = async {
            w.write_all(&data).await.unwrap();
            w.shutdown().await.unwrap();
        };
        let mut back = Vec::new();
        let recv = r.read_to_end(&mut back);
        let (_, got) = tokio::join!(send, recv);
        got.unwrap();
        assert!(back == data, "echoed bytes differ");
        // Out and back: at least two one-way delays (a floor, not a timing target).
        assert!(started.elapsed() >= Duration::from_millis(60));
    }
}
