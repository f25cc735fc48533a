//! Adapters between hyper bodies and tokio byte streams.
//!
//! Responses that stream (logs, wait, image load progress) are read through [`BodyReader`]
//! (`AsyncRead`), progress streams through [`JsonLines`]; uploads (image load/import) send
//! any `AsyncRead` as a chunked request body through [`ReaderBody`].

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use hyper::body::{Body, Frame, Incoming};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, Lines, ReadBuf};

use super::error::ClientError;
use crate::models::JsonMessage;

/// A response body as an `AsyncRead`.
pub struct BodyReader {
    body: Incoming,
    buf: Bytes,
    done: bool,
}

impl BodyReader {
    pub(crate) fn new(body: Incoming) -> Self {
        Self {
            body,
            buf: Bytes::new(),
            done: false,
        }
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.buf.is_empty() {
                let n = out.remaining().min(self.buf.len());
                out.put_slice(&self.buf[..n]);
                self.buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            if self.done {
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => self.done = true,
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf = data;
                    }
                }
            }
        }
    }
}

/// Newline-delimited JSON documents of a streamed response: [`JsonMessage`]s of a progress
/// stream by default, or any other type (events).
pub struct JsonLines<T = JsonMessage> {
    lines: Lines<BufReader<BodyReader>>,
    path: String,
    _of: std::marker::PhantomData<fn() -> T>,
}

impl<T: serde::de::DeserializeOwned> JsonLines<T> {
    pub(crate) fn new(reader: BodyReader, path: String) -> Self {
        Self {
            lines: BufReader::new(reader).lines(),
            path,
            _of: std::marker::PhantomData,
        }
    }

    /// The next document, `None` at the end of the stream. Blank lines are skipped.
    pub async fn next_message(&mut self) -> Result<Option<T>, ClientError> {
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .map_err(|source| ClientError::ReadBody {
                    path: self.path.clone(),
                    source,
                })?;
            let Some(line) = line else { return Ok(None) };
            if line.trim().is_empty() {
                continue;
            }
            return serde_json::from_str(&line)
                .map(Some)
                .map_err(|source| ClientError::Decode {
                    path: self.path.clone(),
                    source,
                });
        }
    }
}

/// A request body streamed from an `AsyncRead` (sent chunked).
pub struct ReaderBody<R> {
    reader: R,
    buf: BytesMut,
    done: bool,
}

impl<R> ReaderBody<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buf: BytesMut::new(),
            done: false,
        }
    }
}

const UPLOAD_CHUNK: usize = 64 * 1024;

impl<R: AsyncRead + Unpin> Body for ReaderBody<R> {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        this.buf.resize(UPLOAD_CHUNK, 0);
        let mut rb = ReadBuf::new(&mut this.buf[..]);
        match Pin::new(&mut this.reader).poll_read(cx, &mut rb) {
            Poll::Pending => {
                this.buf.clear();
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    this.done = true;
                    return Poll::Ready(None);
                }
                this.buf.truncate(n);
                let data = this.buf.split().freeze();
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}
