//! Terminal output to the webview over a loopback WebSocket the page pulls from (docs/ipc.md,
//! "Output and flow control"). The page opens `ws://127.0.0.1:<port>/<secret>/<session id>` and
//! sends `more <bytes received>` whenever its terminal has room; each ask is answered by one binary
//! message carrying every byte queued for the session (up to `ANSWER_MAX`), as soon as there is
//! any. What the page takes is what it acknowledges, so the flow control needs no message of its
//! own; the count lets a new socket get again an answer its dropped one carried but never
//! delivered. Once the session is over and its last bytes are taken, the socket closes with 1000
//! "over".
//!
//! Why a socket: WebKitGTK reads a custom-scheme answer in 8 KiB pieces, one main-loop turn in the
//! app per piece, which held delivery to ≈ 45 MB/s; a WebSocket carried ≈ 170 MB/s on the same
//! machine (both to a page dropping the bytes), off the main threads.
//!
//! Only the app's page gets through: the listener is on loopback, the path carries a secret made
//! for this run (told to the page by the `output_socket` command, which only the main window's
//! capability allows) and the handshake's Origin must be the app's own — a read takes the bytes,
//! so nothing else may reach a queue.

use crate::navigation::is_own_origin;
use futures::stream::SplitStream;
use futures::{SinkExt, StreamExt};
use keyless_core::{OutputQueue, Taken};
use std::sync::Arc;
use std::time::Duration;
use tauri::Url;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// The most one answer carries (the backend pauses SSH at 1 MiB unacknowledged, so this is
/// about everything a flood can have queued).
const ANSWER_MAX: usize = 1024 * 1024;
/// A connection that has not finished its handshake by then is dropped.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// How long one wait on a queue lasts before it looks again (the queue may have been dropped).
const QUEUE_WAIT: Duration = Duration::from_secs(25);
/// The page only ever sends a few bytes ("more <count>").
const ASK_MAX: usize = 64;
/// The close reason that tells the page the output is over (not a dropped socket).
pub const OVER: &str = "over";

/// What the socket serves: the sessions' output queues and what taking from them means.
pub trait Outputs: Send + Sync + 'static {
    fn queue(&self, id: u32) -> Option<Arc<OutputQueue>>;
    /// The page took `n` bytes of session `id`: they count as acknowledged.
    fn taken(&self, id: u32, n: usize);
    /// The page took session `id`'s last bytes.
    fn over(&self, id: u32);
}

/// The running socket: the page's base URL (`ws://127.0.0.1:<port>/<secret>`).
pub struct OutputSocket {
    pub url: String,
}

impl OutputSocket {
    /// Binds a loopback port and serves it on `spawn`'s runtime. `dev_url`: the dev server's
    /// origin, allowed beside the embedded page's in a dev build.
    pub fn start<O: Outputs>(
        outputs: O,
        dev_url: Option<Url>,
        spawn: impl FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
    ) -> std::io::Result<OutputSocket> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let secret: Arc<str> = hex::encode(rand::random::<[u8; 32]>()).into();
        let url = format!("ws://127.0.0.1:{port}/{secret}");
        let outputs = Arc::new(outputs);
        spawn(Box::pin(async move {
            let listener = match TcpListener::from_std(listener) {
                Ok(l) => l,
                Err(e) => return eprintln!("keyless-app: output socket: {e}"),
            };
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let gate = Gate {
                            secret: secret.clone(),
                            dev_url: dev_url.clone(),
                        };
                        tokio::spawn(serve(stream, gate, outputs.clone()));
                    }
                    // Out of file descriptors and the like: wait rather than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }));
        Ok(OutputSocket { url })
    }
}

/// Who may open a socket: the path's secret and the handshake's Origin.
struct Gate {
    secret: Arc<str>,
    dev_url: Option<Url>,
}

impl Gate {
    /// The session id a handshake asks for, or the status that refuses it.
    fn admit(&self, path: &str, origin: Option<&str>) -> Result<u32, StatusCode> {
        let own_origin = origin
            .and_then(|o| o.parse::<Url>().ok())
            .is_some_and(|url| is_own_origin(&url, self.dev_url.as_ref()));
        let rest = path.strip_prefix('/').unwrap_or("");
        let (secret, id) = rest.split_once('/').unwrap_or((rest, ""));
        if !own_origin || !same_secret(secret, &self.secret) {
            return Err(StatusCode::FORBIDDEN);
        }
        session_id(id).ok_or(StatusCode::BAD_REQUEST)
    }
}

/// Compares in time that does not depend on where the first difference is.
fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The decimal id and nothing else.
fn session_id(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

async fn serve<O: Outputs>(stream: TcpStream, gate: Gate, outputs: Arc<O>) {
    let _ = stream.set_nodelay(true);
    let mut admitted = None;
    // The shape tungstenite's handshake callback must have.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        match gate.admit(req.uri().path(), origin) {
            Ok(id) => {
                admitted = Some(id);
                Ok(resp)
            }
            Err(status) => {
                let mut refusal = ErrorResponse::new(None);
                *refusal.status_mut() = status;
                Err(refusal)
            }
        }
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(ASK_MAX))
        .max_frame_size(Some(ASK_MAX));
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config));
    let Ok(Ok(ws)) = tokio::time::timeout(HANDSHAKE_DEADLINE, handshake).await else {
        return; // refused (the reply is written), not a WebSocket, or too slow
    };
    if let Some(id) = admitted {
        pull(ws, id, &*outputs).await;
    }
}

/// Answers each ask of the page with the session's next bytes, until the output is over or the
/// page goes away.
async fn pull<S, O>(ws: WebSocketStream<S>, id: u32, outputs: &O)
where
    S: AsyncRead + AsyncWrite + Unpin,
    O: Outputs,
{
    let (mut tx, mut rx) = ws.split();
    loop {
        let received = match asked(&mut rx).await {
            Ask::More(received) => received,
            Ask::Malformed => return refuse(&mut tx, "ask: more <bytes received>").await,
            Ask::Gone => return,
        };
        let bytes = loop {
            let Some(queue) = outputs.queue(id) else {
                return say_over(&mut tx).await;
            };
            tokio::select! {
                // `take` hands bytes out only when it returns, so dropping it here loses nothing.
                taken = queue.take(received, ANSWER_MAX, QUEUE_WAIT) => match taken {
                    Ok(Taken::Bytes(bytes)) => {
                        outputs.taken(id, bytes.len());
                        break bytes;
                    }
                    Ok(Taken::Again(bytes)) => break bytes,
                    Ok(Taken::Idle) => continue,
                    Ok(Taken::Over) => {
                        outputs.over(id);
                        return say_over(&mut tx).await;
                    }
                    Err(unknown) => {
                        let why = format!("{} bytes received, {} sent", unknown.received, unknown.sent);
                        return refuse(&mut tx, &why).await;
                    }
                },
                // The page sends nothing while it waits for an answer: it went away.
                _ = rx.next() => return,
            }
        };
        if tx.send(Message::Binary(bytes)).await.is_err() {
            return;
        }
    }
}

/// What the page sent.
enum Ask {
    /// `more <n>`: the page has received `n` bytes of the session in all and has room for more.
    More(u64),
    Malformed,
    /// The page closed the socket.
    Gone,
}

/// Waits for the page's next ask.
async fn asked<S: AsyncRead + AsyncWrite + Unpin>(rx: &mut SplitStream<WebSocketStream<S>>) -> Ask {
    loop {
        match rx.next().await {
            Some(Ok(Message::Text(text))) => return parse_ask(&text),
            Some(Ok(Message::Binary(_))) => return Ask::Malformed,
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(_)) | Err(_)) | None => return Ask::Gone,
        }
    }
}

fn parse_ask(text: &str) -> Ask {
    let count = text
        .strip_prefix("more ")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    match count.and_then(|n| n.parse().ok()) {
        Some(n) => Ask::More(n),
        None => Ask::Malformed,
    }
}

type Sender<S> = futures::stream::SplitSink<WebSocketStream<S>, Message>;

/// Ends the socket with 1000 "over": the output is over.
async fn say_over<S: AsyncRead + AsyncWrite + Unpin>(tx: &mut Sender<S>) {
    let over = CloseFrame {
        code: CloseCode::Normal,
        reason: Utf8Bytes::from_static(OVER),
    };
    let _ = tx.send(Message::Close(Some(over))).await;
}

/// Ends the socket with a protocol error: the page's pull loop opens another and says again.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(tx: &mut Sender<S>, why: &str) {
    let frame = CloseFrame {
        code: CloseCode::Policy,
        reason: Utf8Bytes::from(why),
    };
    let _ = tx.send(Message::Close(Some(frame))).await;
}

#[cfg(test)]
mod tests;
