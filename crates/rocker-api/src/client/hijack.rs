//! Hijacked connections for attach (and later exec start): the HTTP exchange ends and the
//! socket becomes a raw bidirectional byte stream.
//!
//! The request asks for `Connection: Upgrade` / `Upgrade: tcp`; Docker answers
//! `101 UPGRADED`, older servers answer `200 OK` and just keep the socket. Both are accepted.
//! The exchange is written by hand rather than through hyper's upgrade machinery because a
//! `200` hijack is not an upgrade to hyper: it would read the stream as a body and give no
//! way to write stdin.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::UnixStream;

use super::error::ClientError;
use crate::models::ErrorResponse;

/// Largest response head accepted before the stream starts.
const MAX_HEAD: usize = 64 * 1024;

/// The raw stream after a successful hijack. Reads return container output (multiplexed with
/// [`crate::stdcopy`] unless the container has a tty), writes go to its stdin.
/// `shutdown()` half-closes the write side, which the daemon reads as stdin EOF.
#[derive(Debug)]
pub struct HijackedStream {
    stream: UnixStream,
    /// Bytes read past the response head.
    pending: Bytes,
}

impl AsyncRead for HijackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.pending.is_empty() {
            let n = buf.remaining().min(self.pending.len());
            buf.put_slice(&self.pending[..n]);
            self.pending.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for HijackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Sends `POST path` with upgrade headers (and `json` as the body, if any) on a fresh
/// connection and returns the raw stream.
pub(crate) async fn hijack(
    socket: &Path,
    host: &str,
    path: &str,
    json: Option<&[u8]>,
) -> Result<HijackedStream, ClientError> {
    let mut stream = UnixStream::connect(socket)
        .await
        .map_err(|source| ClientError::Connect {
            host: host.to_string(),
            source,
        })?;
    let io_err = |source| ClientError::HijackIo {
        path: path.to_string(),
        source,
    };
    let (content_type, body) = match json {
        Some(b) => ("application/json", b),
        None => ("text/plain", &[][..]),
    };
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: {}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
        super::USER_AGENT,
        body.len()
    );
    let mut head = req.into_bytes();
    head.extend_from_slice(body);
    stream.write_all(&head).await.map_err(io_err)?;

    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(ClientError::Hijack {
                path: path.to_string(),
                reason: "response head too large".into(),
            });
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.map_err(io_err)?;
        if n == 0 {
            return Err(ClientError::Hijack {
                path: path.to_string(),
                reason: "connection closed before the response".into(),
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = parse_status(&head).ok_or_else(|| ClientError::Hijack {
        path: path.to_string(),
        reason: format!(
            "malformed status line {:?}",
            head.lines().next().unwrap_or("")
        ),
    })?;
    let rest = buf.split_off(head_end);
    if status == 101 || status == 200 {
        return Ok(HijackedStream {
            stream,
            pending: Bytes::from(rest),
        });
    }
    // An error: read its body (Content-Length, else until EOF) for the message.
    let mut body = rest;
    match content_length(&head) {
        Some(len) => {
            while body.len() < len {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await.map_err(io_err)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None if !is_chunked(&head) => {
            stream.read_to_end(&mut body).await.map_err(io_err)?;
        }
        None => {}
    }
    Err(super::api_error(status, &body))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_status(head: &str) -> Option<u16> {
    let line = head.lines().next()?;
    let mut parts = line.split_whitespace();
    let proto = parts.next()?;
    if !proto.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn content_length(head: &str) -> Option<usize> {
    header(head, "content-length")?.parse().ok()
}

fn is_chunked(head: &str) -> bool {
    header(head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
}

/// Message of an error body, for the chunked case the first JSON object found.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(e) = serde_json::from_slice::<ErrorResponse>(body) {
        return Some(e.message);
    }
    let text = String::from_utf8_lossy(body);
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str::<ErrorResponse>(text.get(start..=end)?)
        .ok()
        .map(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_parsing() {
        let head = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n";
        assert_eq!(parse_status(head), Some(404));
        assert_eq!(content_length(head), Some(12));
        assert!(!is_chunked(head));
        assert_eq!(parse_status("garbage\r\n\r\n"), None);
        assert_eq!(
            error_message(b"1a\r\n{\"message\":\"no such container\"}\r\n0\r\n\r\n").as_deref(),
            Some("no such container")
        );
    }
}
