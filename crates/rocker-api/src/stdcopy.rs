//! Docker's multiplexed stdio framing ("stdcopy") for attach, logs and exec streams.
//!
//! When a container has no tty, stdout and stderr share one byte stream: every chunk is
//! preceded by an 8-byte header `[stream, 0, 0, 0, len_be32]` where stream is 0 stdin,
//! 1 stdout, 2 stderr, 3 system error (a daemon-side failure, payload is the message).
//! The daemon encodes with [`encode_frame`]; clients decode with [`FrameDecoder`] or copy
//! straight to two writers with [`demux`].

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::kind::ErrorKind;

/// Size of a frame header.
pub const HEADER_LEN: usize = 8;

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StdStream {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    /// Error raised by the daemon while streaming; the payload is the message.
    SystemErr = 3,
}

impl StdStream {
    /// The stream for a header's first byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Stdin),
            1 => Some(Self::Stdout),
            2 => Some(Self::Stderr),
            3 => Some(Self::SystemErr),
            _ => None,
        }
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub stream: StdStream,
    pub payload: Bytes,
}

/// Errors of decoding and copying multiplexed streams.
#[derive(Debug, thiserror::Error)]
pub enum StdcopyError {
    #[error("invalid stdcopy stream type {0}")]
    InvalidStream(u8),
    #[error("read multiplexed stream: {0}")]
    Read(#[source] std::io::Error),
    #[error("write demultiplexed output: {0}")]
    Write(#[source] std::io::Error),
    /// The daemon sent a system-error frame.
    #[error("error from daemon in stream: {0}")]
    Daemon(String),
    #[error("multiplexed stream ended inside a frame")]
    Truncated,
}

impl StdcopyError {
    /// Error kind for callers that map errors to exit codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidStream(_) | Self::Truncated => ErrorKind::InvalidArgument,
            _ => ErrorKind::Internal,
        }
    }
}

/// The 8-byte header of a frame carrying `len` bytes.
pub fn encode_header(stream: StdStream, len: u32) -> [u8; HEADER_LEN] {
    let l = len.to_be_bytes();
    [stream as u8, 0, 0, 0, l[0], l[1], l[2], l[3]]
}

/// Header plus payload; payloads over 4 GiB are split into several frames, an empty payload
/// gives a header-only frame.
pub fn encode_frame(stream: StdStream, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(HEADER_LEN + payload.len());
    if payload.is_empty() {
        out.put_slice(&encode_header(stream, 0));
    }
    for chunk in payload.chunks(u32::MAX as usize) {
        // chunks() bounds every piece to u32::MAX bytes.
        let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        out.put_slice(&encode_header(stream, len));
        out.put_slice(chunk);
    }
    out.freeze()
}

/// Incremental decoder: feed bytes as they arrive, take whole frames out.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: BytesMut,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, if buffered.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, StdcopyError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let stream =
            StdStream::from_byte(self.buf[0]).ok_or(StdcopyError::InvalidStream(self.buf[0]))?;
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        let payload = self.buf.split_to(len).freeze();
        Ok(Some(Frame { stream, payload }))
    }

    /// True when no partial frame is pending.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Copies a multiplexed stream to `stdout` and `stderr` until EOF (Docker's `StdCopy`).
/// Returns the bytes written to each. Stdin frames are ignored; a system-error frame ends the
/// copy with [`StdcopyError::Daemon`].
pub async fn demux<R, O, E>(
    mut src: R,
    stdout: &mut O,
    stderr: &mut E,
) -> Result<(u64, u64), StdcopyError>
where
    R: AsyncRead + Unpin,
    O: AsyncWrite + Unpin + ?Sized,
    E: AsyncWrite + Unpin + ?Sized,
{
    let mut dec = FrameDecoder::new();
    let mut chunk = vec![0u8; 32 * 1024];
    let (mut out_n, mut err_n) = (0u64, 0u64);
    loop {
        while let Some(frame) = dec.next_frame()? {
            match frame.stream {
                StdStream::Stdout => {
                    stdout
                        .write_all(&frame.payload)
                        .await
                        .map_err(StdcopyError::Write)?;
                    stdout.flush().await.map_err(StdcopyError::Write)?;
                    out_n += frame.payload.len() as u64;
                }
                StdStream::Stderr => {
                    stderr
                        .write_all(&frame.payload)
                        .await
                        .map_err(StdcopyError::Write)?;
                    stderr.flush().await.map_err(StdcopyError::Write)?;
                    err_n += frame.payload.len() as u64;
                }
                StdStream::SystemErr => {
                    return Err(StdcopyError::Daemon(
                        String::from_utf8_lossy(&frame.payload).into_owned(),
                    ))
                }
                StdStream::Stdin => {}
            }
        }
        let n = src.read(&mut chunk).await.map_err(StdcopyError::Read)?;
        if n == 0 {
            return if dec.is_empty() {
                Ok((out_n, err_n))
            } else {
                Err(StdcopyError::Truncated)
            };
        }
        dec.extend(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        assert_eq!(
            encode_header(StdStream::Stderr, 0x0102_0304),
            [2, 0, 0, 0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn round_trip_byte_by_byte() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&encode_frame(StdStream::Stdout, b"hello\n"));
        wire.extend_from_slice(&encode_frame(StdStream::Stderr, b"oops"));
        wire.extend_from_slice(&encode_frame(StdStream::Stdout, b""));
        let mut dec = FrameDecoder::new();
        let mut frames = Vec::new();
        for b in &wire {
            dec.extend(std::slice::from_ref(b));
            while let Some(f) = dec.next_frame().expect("valid") {
                frames.push(f);
            }
        }
        assert!(dec.is_empty());
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].stream, StdStream::Stdout);
        assert_eq!(&frames[0].payload[..], b"hello\n");
        assert_eq!(frames[1].stream, StdStream::Stderr);
        assert_eq!(&frames[1].payload[..], b"oops");
        assert!(frames[2].payload.is_empty());
    }

    #[test]
    fn invalid_stream_byte() {
        let mut dec = FrameDecoder::new();
        dec.extend(&[9, 0, 0, 0, 0, 0, 0, 1, b'x']);
        assert!(matches!(
            dec.next_frame(),
            Err(StdcopyError::InvalidStream(9))
        ));
    }

    #[tokio::test]
    async fn demux_splits_streams() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&encode_frame(StdStream::Stdout, b"out1 "));
        wire.extend_from_slice(&encode_frame(StdStream::Stderr, b"err"));
        wire.extend_from_slice(&encode_frame(StdStream::Stdout, b"out2"));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let n = demux(&wire[..], &mut out, &mut err).await.expect("demux");
        assert_eq!(out, b"out1 out2");
        assert_eq!(err, b"err");
        assert_eq!(n, (9, 3));

        let mut sys = wire.clone();
        sys.extend_from_slice(&encode_frame(StdStream::SystemErr, b"boom"));
        let r = demux(&sys[..], &mut Vec::new(), &mut Vec::new()).await;
        assert!(matches!(r, Err(StdcopyError::Daemon(m)) if m == "boom"));

        let r = demux(&wire[..wire.len() - 1], &mut Vec::new(), &mut Vec::new()).await;
        assert!(matches!(r, Err(StdcopyError::Truncated)));
    }
}
