//! The WebSocket upgrade, written here rather than left to tungstenite so that a refusal's JSON
//! body is read whole (tungstenite keeps only what came with the head) and every read is bounded.

use super::http_head::{read_body, read_head};
use super::presign::Target;
use super::refusal::{refused, TunnelAsk};
use super::wire::Wire;
use crate::error::{Error, ErrorKind, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// RFC 6455's key suffix for `Sec-WebSocket-Accept`.
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Frames larger than AWS ever sends are refused rather than buffered.
const MAX_INCOMING: usize = 1024 * 1024;

pub(crate) async fn upgrade(
    mut wire: Wire,
    target: &Target,
    path_and_query: &str,
    ask: &TunnelAsk<'_>,
) -> Result<WebSocketStream<Wire>> {
    let key = BASE64.encode(rand::random::<[u8; 16]>());
    let request = format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
         User-Agent: keyless/{}\r\n\r\n",
        target.host_header,
        env!("CARGO_PKG_VERSION")
    );
    let lost = |e: std::io::Error| {
        Error::new(
            ErrorKind::Network,
            format!(
                "the EC2 Instance Connect Endpoint {} at {} did not answer the tunnel request: {e}",
                ask.endpoint_id, target.host_header
            ),
        )
    };
    wire.write_all(request.as_bytes()).await.map_err(lost)?;
    wire.flush().await.map_err(lost)?;
    let head = read_head(&mut wire).await.map_err(lost)?;
    if head.status != 101 {
        let body = read_body(&mut wire, &head).await;
        return Err(refused(head.status, &body, ask));
    }
    let expected = BASE64.encode(Sha1::digest(format!("{key}{ACCEPT_GUID}").as_bytes()));
    let upgraded = head.header_has("upgrade", "websocket")
        && head.header_has("connection", "upgrade")
        && head.header("sec-websocket-accept") == Some(expected.as_str());
    if !upgraded {
        return Err(Error::new(
            ErrorKind::Service,
            format!(
                "the EC2 Instance Connect Endpoint {} answered 101 without a valid WebSocket \
                 upgrade",
                ask.endpoint_id
            ),
        ));
    }
    let config = WebSocketConfig::default()
        // Each frame goes to the socket as it is sent; backpressure comes from the socket.
        .write_buffer_size(0)
        .max_message_size(Some(MAX_INCOMING))
        .max_frame_size(Some(MAX_INCOMING));
    Ok(WebSocketStream::from_partially_read(wire, head.rest, Role::Client, Some(config)).await)
}
