//! Reading an HTTP/1.1 response from a peer we do not trust (a proxy, the endpoint): the head is
//! bounded, a refusal's body is bounded and waited for only briefly, nothing is read past what
//! belongs to the response.

use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// More than any proxy or the endpoint needs for a status line and headers.
const MAX_HEAD: usize = 16 * 1024;
/// An error body is a short JSON document; the rest is ignored.
pub(crate) const MAX_BODY: usize = 16 * 1024;
/// A refusal's body comes with its head or right after; a peer that holds it back is not waited
/// for (the status alone still gives the error).
const BODY_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Bytes after the head that came in the same reads (WebSocket frames, a body).
    pub rest: Vec<u8>,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// True when a comma-separated header lists `token` (case-insensitive).
    pub fn header_has(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Reads a response head. `Ok(None)`-like cases are errors: the peer closed, sent garbage or too
/// much.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<ResponseHead> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before a complete HTTP answer",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(0);
                let headers = response
                    .headers
                    .iter()
                    .map(|h| (h.name.to_owned(), h.value.to_vec()))
                    .collect();
                return Ok(ResponseHead {
                    status,
                    headers,
                    rest: buf[len..].to_vec(),
                });
            }
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the HTTP answer's head is longer than {MAX_HEAD} bytes"),
                ))
            }
            Err(e) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("not an HTTP answer ({e})"),
                ))
            }
        }
    }
}

/// The body of a response that is not a success, at most [`MAX_BODY`] bytes: by Content-Length,
/// chunked, or until the peer closes; what arrived within [`BODY_WAIT`] if it dawdles.
pub(crate) async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    head: &ResponseHead,
) -> Vec<u8> {
    let chunked = head.header_has("transfer-encoding", "chunked");
    let length = head
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = head.rest.clone();
    let want = length.unwrap_or(MAX_BODY).min(MAX_BODY);
    let reading = async {
        let mut chunk = [0u8; 2048];
        while body.len() < want && !(chunked && chunked_complete(&body)) {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(BODY_WAIT, reading).await;
    body.truncate(want);
    if chunked {
        dechunk(&body)
    } else {
        body
    }
}

fn chunked_complete(body: &[u8]) -> bool {
    body.windows(5).any(|w| w == b"0\r\n\r\n")
}

/// The data of a chunked body, as far as it is complete and well-formed.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_owned();
        let Ok(size) = usize::from_str_radix(&size_text, 16) else {
            return out;
        };
        let start = eol + 2;
        if size == 0 || body.len() < start + size {
            out.extend_from_slice(&body[start.min(body.len())..(start + size).min(body.len())]);
            return out;
        }
        out.extend_from_slice(&body[start..start + size]);
        body = body.get(start + size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_head_split_across_reads_is_assembled_and_the_rest_kept() {
        let (mut ours, mut theirs) = tokio::io::duplex(64);
        let sender = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for part in [
                &b"HTTP/1.1 101 Switching"[..],
                b" Protocols\r\nUpgrade: web",
                b"socket\r\n\r\n\x82\x01x",
            ] {
                theirs.write_all(part).await.unwrap();
                tokio::task::yield_now().await;
            }
            theirs
        });
        let head = read_head(&mut ours).await.unwrap();
        assert_eq!(head.status, 101);
        assert_eq!(head.header("UPGRADE"), Some("websocket"));
        assert_eq!(head.rest, b"\x82\x01x");
        drop(sender.await.unwrap());
    }

    #[tokio::test]
    async fn an_endless_head_is_refused() {
        let (mut ours, mut theirs) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = theirs.write_all(b"HTTP/1.1 200 OK\r\n").await;
            loop {
                if theirs
                    .write_all(b"X-Filler: aaaaaaaaaaaaaaaa\r\n")
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        let e = read_head(&mut ours).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n"),
            b"Wikipedia"
        );
        assert_eq!(dechunk(b"4\r\nWi"), b"Wi");
        assert_eq!(dechunk(b"zz\r\n"), b"");
    }
}
