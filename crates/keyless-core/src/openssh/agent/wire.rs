//! The ssh-agent protocol's framing and the few messages Keyless's agent speaks
//! (draft-miller-ssh-agent): a message is a big-endian `u32` length, a type byte and its fields,
//! with strings as `u32` length + bytes. Keyless's own requests travel as `SSH_AGENTC_EXTENSION`
//! messages named `…@keyless.dev`, so the socket speaks one protocol to both OpenSSH and Keyless.

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const FAILURE: u8 = 5;
pub const SUCCESS: u8 = 6;
pub const REQUEST_IDENTITIES: u8 = 11;
pub const IDENTITIES_ANSWER: u8 = 12;
pub const SIGN_REQUEST: u8 = 13;
pub const SIGN_RESPONSE: u8 = 14;
pub const EXTENSION: u8 = 27;
pub const EXTENSION_FAILURE: u8 = 28;

/// No request of ours or OpenSSH's comes near this; anything larger is refused unread.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// Reads one message; `None` at a clean end of stream.
pub async fn read_message<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("an agent message of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(Some(body))
}

pub async fn write_message<W: AsyncWrite + Unpin>(w: &mut W, body: &[u8]) -> io::Result<()> {
    let mut framed = Vec::with_capacity(4 + body.len());
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(body);
    w.write_all(&framed).await?;
    w.flush().await
}

/// Builds a message body.
#[derive(Default)]
pub struct Writer(Vec<u8>);

impl Writer {
    pub fn new(kind: u8) -> Self {
        Writer(vec![kind])
    }

    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn string(mut self, v: &[u8]) -> Self {
        self = self.u32(v.len() as u32);
        self.0.extend_from_slice(v);
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Reads a message body's fields in order; every read checks the length it needs.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        Reader(body)
    }

    pub fn u8(&mut self) -> io::Result<u8> {
        let (&first, rest) = self.0.split_first().ok_or_else(short)?;
        self.0 = rest;
        Ok(first)
    }

    pub fn u32(&mut self) -> io::Result<u32> {
        if self.0.len() < 4 {
            return Err(short());
        }
        let (head, rest) = self.0.split_at(4);
        self.0 = rest;
        Ok(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
    }

    pub fn string(&mut self) -> io::Result<&'a [u8]> {
        let len = self.u32()? as usize;
        if self.0.len() < len {
            return Err(short());
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(s)
    }

    pub fn text(&mut self) -> io::Result<&'a str> {
        std::str::from_utf8(self.string()?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "text that is not UTF-8"))
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a truncated agent message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_truncation_is_an_error() {
        let body = Writer::new(EXTENSION)
            .string(b"open@keyless.dev")
            .u32(7)
            .finish();
        let mut r = Reader::new(&body);
        assert_eq!(r.u8().unwrap(), EXTENSION);
        assert_eq!(r.text().unwrap(), "open@keyless.dev");
        assert_eq!(r.u32().unwrap(), 7);
        assert!(r.is_empty());
        let mut cut = Reader::new(&body[..8]);
        cut.u8().unwrap();
        assert!(cut.string().is_err());
    }

    #[tokio::test]
    async fn framing_refuses_oversized_messages() {
        let mut huge = Vec::new();
        huge.extend_from_slice(&((MAX_MESSAGE as u32) + 1).to_be_bytes());
        let err = read_message(&mut huge.as_slice()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let mut empty: &[u8] = &[];
        assert!(read_message(&mut empty).await.unwrap().is_none());
    }
}
