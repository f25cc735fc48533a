//! The copy loop of a hijacked attach (or exec) connection with Docker's detach keys: the
//! client's input goes to the shim minus the key sequence; once the sequence is typed the
//! client is cut off while the container keeps running, so it can be attached again.

use rocker_api::detach_keys::{self, Scanner};
use rocker_engine::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;

/// The `detachKeys` query parameter (Docker's default when absent or empty).
pub fn keys_from_query(value: Option<&str>) -> Result<Vec<u8>, Error> {
    let spec = value
        .filter(|v| !v.is_empty())
        .unwrap_or(detach_keys::DEFAULT);
    detach_keys::parse(spec).map_err(|e| Error::invalid(e.to_string()))
}

/// How a pumped connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The container's side closed (output ended).
    Output,
    /// The client typed the detach keys.
    Detached,
}

/// Copies both ways until the output ends or the client detaches. The client's EOF is passed
/// on as a half-close of the shim stream (output keeps flowing).
pub async fn pump<C>(client: C, shim: UnixStream, keys: Vec<u8>) -> Ended
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pump_then(client, shim, keys, async {}).await
}

/// Like [`pump`]; when the output ended (not on a detach), `before_close` runs before the
/// client sees the end (an exec records its exit code there).
pub async fn pump_then<C, F>(client: C, shim: UnixStream, keys: Vec<u8>, before_close: F) -> Ended
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: std::future::Future<Output = ()>,
{
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = shim.into_split();
    let mut input = tokio::spawn(async move {
        let detached = copy_input(&mut cr, &mut sw, keys).await;
        if !detached {
            let _ = sw.shutdown().await;
        }
        detached
    });
    let mut input_done = false;
    let ended = {
        let output = tokio::io::copy(&mut sr, &mut cw);
        tokio::pin!(output);
        tokio::select! {
            _ = &mut output => Ended::Output,
            r = &mut input => {
                input_done = true;
                if matches!(r, Ok(true)) {
                    Ended::Detached
                } else {
                    let _ = output.await;
                    Ended::Output
                }
            }
        }
    };
    if ended == Ended::Output {
        before_close.await;
    }
    let _ = cw.shutdown().await;
    if ended == Ended::Output && !input_done {
        // Let the client close first: closing a socket with unread input resets the
        // connection, and the client may not have read the end of the output yet.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), &mut input).await;
    }
    input.abort();
    ended
}

/// True when the detach sequence was read (the rest of the input is dropped).
async fn copy_input<R, W>(r: &mut R, w: &mut W, keys: Vec<u8>) -> bool
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut scanner = Scanner::new(keys);
    let mut buf = vec![0u8; 32 * 1024];
    let mut out = Vec::with_capacity(buf.len());
    // Once the container's stdin is gone, input is still read (and dropped) so the client's
    // socket never holds unread data when it is closed.
    let mut sink_gone = false;
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        out.clear();
        let detached = scanner.feed(&buf[..n], &mut out);
        if !sink_gone && !out.is_empty() && w.write_all(&out).await.is_err() {
            sink_gone = true;
        }
        if detached {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults_and_errors() {
        assert_eq!(keys_from_query(None).unwrap(), vec![16, 17]);
        assert_eq!(keys_from_query(Some("ctrl-a")).unwrap(), vec![1]);
        assert!(keys_from_query(Some("nope")).is_err());
    }

    #[tokio::test]
    async fn detaches_on_keys() {
        let (client, mut far_client) = tokio::io::duplex(1024);
        let (shim, mut far_shim) = UnixStream::pair().unwrap();
        let task = tokio::spawn(pump(client, shim, vec![16, 17]));
        far_client.write_all(b"hi\x10\x11more").await.unwrap();
        assert_eq!(task.await.unwrap(), Ended::Detached);
        let mut got = Vec::new();
        far_shim.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hi");
    }
}
