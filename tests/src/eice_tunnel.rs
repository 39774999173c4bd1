//! The EC2 Instance Connect Endpoint's tunnel: `GET /openTunnel?…` on its own loopback port,
//! upgraded to a WebSocket when `eice_admit` says yes (else plain HTTP with the JSON error),
//! then raw TCP bytes to the instance's sshd ↔ binary frames, until either side closes, the
//! tunnel's `maxTunnelDuration` passes, or a fault switch closes it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::core::Core;
use crate::eice_admit::{self, Admitted, Refusal, Upgrade};
use crate::state::TunnelCommand;

/// The AWS CLI's frame size; sshd's reads are split into frames no larger.
const FRAME_BYTES: usize = 65_000;
/// How long the endpoint tries to reach the instance before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing side waits for the other's close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Close codes and reasons the endpoint sends (LAB-SPEC.md documents them for the client).
pub const CLOSE_MAX_DURATION: (u16, &str) = (1000, "Maximum tunnel duration reached");
pub const CLOSE_INSTANCE_CLOSED: (u16, &str) = (1000, "Connection closed by the remote host");
pub const CLOSE_BY_ENDPOINT: (u16, &str) = (1011, "tunnel closed by the endpoint");
pub const CLOSE_UNREACHABLE: (u16, &str) = (1011, "Unable to connect to target");
pub const CLOSE_TEXT_FROM_CLIENT: (u16, &str) = (
    1003,
    "Text frames are not supported; the tunnel carries binary frames",
);
/// What the text-frame fault sends before it closes with [`CLOSE_BY_ENDPOINT`].
pub const FAULT_TEXT: &str = "keyless-lab fault: a text frame from the endpoint";

/// Accepts tunnel connections until the server's runtime is dropped.
pub async fn serve(listener: TcpListener, core: Arc<Core>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // E.g. out of file descriptors: do not spin while it lasts.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // A relay must not add Nagle's wait (up to a delayed ACK, ~40 ms) to every small
        // frame: the SSH handshake and a new channel are many small exchanges.
        stream.set_nodelay(true).ok();
        let core = core.clone();
        tokio::spawn(async move { one(core, stream).await });
    }
}

async fn one(core: Arc<Core>, stream: TcpStream) {
    // Models the endpoint's extra round trips before the upgrade is answered.
    if !core.config.eice_latency.is_zero() {
        tokio::time::sleep(core.config.eice_latency).await;
    }
    let mut admitted: Option<Admitted> = None;
    // The shape tungstenite's handshake callback must have.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let header = |name: &str| -> Vec<String> {
            req.headers()
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect()
        };
        let upgrade = Upgrade {
            path: req.uri().path(),
            query: req.uri().query().unwrap_or(""),
            header: &header,
        };
        match eice_admit::admit(&core, &upgrade, SystemTime::now()) {
            Ok(a) => {
                admitted = Some(a);
                Ok(resp)
            }
            Err(r) => Err(error_response(&r)),
        }
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        // Refused (the reply is written), not a WebSocket request, or the client went away.
        if let Some(a) = admitted {
            finish(&core, a.index, (None, None, "client"));
        }
        return;
    };
    let Some(a) = admitted else { return };
    relay(&core, ws, a).await;
}

fn error_response(r: &Refusal) -> ErrorResponse {
    let body = r.body();
    let mut resp = ErrorResponse::new(Some(body.clone()));
    *resp.status_mut() =
        http::StatusCode::from_u16(r.status).unwrap_or(http::StatusCode::BAD_REQUEST);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(body.len()),
    );
    h.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    resp
}

/// How a tunnel ended: the close frame's code and reason, and who closed it.
type Ending = (Option<u16>, Option<String>, &'static str);

async fn relay(core: &Arc<Core>, mut ws: WebSocketStream<TcpStream>, a: Admitted) {
    let Admitted {
        index,
        target,
        max_duration,
        mut commands,
    } = a;
    let Some(mut tcp) = connect(target).await else {
        let ending = close(&mut ws, CLOSE_UNREACHABLE).await;
        return finish(core, index, ending);
    };
    let deadline = tokio::time::sleep(max_duration);
    tokio::pin!(deadline);
    let mut buf = vec![0u8; FRAME_BYTES];
    let ending: Ending = loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    if tcp.write_all(&b).await.is_err() {
                        break close(&mut ws, CLOSE_INSTANCE_CLOSED).await;
                    }
                    count(core, index, b.len(), 0);
                }
                Some(Ok(Message::Text(_))) => break close(&mut ws, CLOSE_TEXT_FROM_CLIENT).await,
                Some(Ok(Message::Close(frame))) => {
                    // tungstenite answers the close; polling on flushes the answer.
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.next()).await;
                    let (code, reason) = match frame {
                        Some(f) => (Some(u16::from(f.code)), Some(f.reason.to_string())),
                        None => (None, None),
                    };
                    break (code, reason, "client");
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break (None, None, "client"),
            },
            n = tcp.read(&mut buf) => match n {
                Ok(n) if n > 0 => {
                    let frame = Message::Binary(buf[..n].to_vec().into());
                    if ws.send(frame).await.is_err() {
                        break (None, None, "client");
                    }
                    count(core, index, 0, n);
                }
                _ => {
                    let (code, reason, _) = close(&mut ws, CLOSE_INSTANCE_CLOSED).await;
                    break (code, reason, "instance");
                }
            },
            Some(cmd) = commands.recv() => {
                if cmd == TunnelCommand::SendText {
                    let _ = ws.send(Message::Text(FAULT_TEXT.into())).await;
                }
                break close(&mut ws, CLOSE_BY_ENDPOINT).await;
            }
            _ = &mut deadline => break close(&mut ws, CLOSE_MAX_DURATION).await,
        }
    };
    finish(core, index, ending);
}

async fn connect(target: SocketAddr) -> Option<TcpStream> {
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await {
        Ok(Ok(s)) => {
            s.set_nodelay(true).ok();
            Some(s)
        }
        _ => None,
    }
}

/// The endpoint closes: sends its close frame and waits briefly for the client's answer.
async fn close(ws: &mut WebSocketStream<TcpStream>, (code, reason): (u16, &str)) -> Ending {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = ws.close(Some(frame)).await;
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    (Some(code), Some(reason.to_string()), "endpoint")
}

fn count(core: &Core, index: usize, to_instance: usize, from_instance: usize) {
    if let Some(t) = core.state().tunnels.get_mut(index) {
        t.bytes_to_instance += to_instance as u64;
        t.bytes_from_instance += from_instance as u64;
    }
}

/// Marks the tunnel closed in the log; it stops counting against the quota.
fn finish(core: &Core, index: usize, (code, reason, by): Ending) {
    let mut st = core.state();
    st.open_tunnels.remove(&index);
    if let Some(t) = st.tunnels.get_mut(index) {
        t.closed_at = Some(SystemTime::now());
        t.close_code = code;
        t.close_reason = reason;
        t.closed_by = Some(by.to_string());
    }
}
