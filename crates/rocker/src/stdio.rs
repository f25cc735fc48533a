//! Moves bytes between the local stdio and a hijacked attach stream.
//!
//! Output is demultiplexed (stdcopy) to stdout/stderr, or copied raw when the container has a
//! tty. With `-i`, local stdin is forwarded and the write side is half-closed at EOF so the
//! container sees end of input while its output keeps flowing.

use rocker_api::client::HijackedStream;
use tokio::io::{AsyncWriteExt, ReadHalf};

/// Pumps until the container closes its output.
pub async fn pump(stream: HijackedStream, tty: bool, forward_stdin: bool) -> anyhow::Result<()> {
    let (reader, mut writer) = tokio::io::split(stream);
    if !forward_stdin {
        // No stdin: leave the write side open (a half-close could read as "client gone"
        // to the daemon) and just stream the output.
        let result = copy_output(reader, tty).await;
        drop(writer);
        return result;
    }
    tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let _ = tokio::io::copy(&mut stdin, &mut writer).await;
        let _ = writer.shutdown().await;
    });
    copy_output(reader, tty).await
}

/// How an attached session ended (detach keys, P3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pumped {
    /// The container closed its output.
    Ended,
    /// The user typed the detach keys: the container keeps running.
    Detached,
}

/// Like [`pump`], also watching stdin for the detach keys (detach keys, P3). The keys are
/// still sent: the daemon cuts the session; seeing them here tells "detached" from "exited".
pub async fn pump_detachable(
    stream: HijackedStream,
    tty: bool,
    forward_stdin: bool,
    keys: Vec<u8>,
) -> anyhow::Result<Pumped> {
    if !forward_stdin {
        return pump(stream, tty, false).await.map(|()| Pumped::Ended);
    }
    let (reader, mut writer) = tokio::io::split(stream);
    let (detached_tx, detached_rx) = tokio::sync::oneshot::channel::<()>();
    // Also set before the keys go out: if the daemon's close is seen first, this still
    // says the session was detached rather than ended.
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = flag.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut scanner = rocker_api::detach_keys::Scanner::new(keys);
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; 4096];
        let mut ignored = Vec::new();
        loop {
            let n = match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            ignored.clear();
            if scanner.feed(&buf[..n], &mut ignored) {
                // Told first: the daemon's close must not read as the container's exit.
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = detached_tx.send(());
                let _ = writer.write_all(&buf[..n]).await;
                return;
            }
            if writer.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
        let _ = writer.shutdown().await;
    });
    let ended = tokio::select! {
        biased;
        Ok(()) = detached_rx => return Ok(Pumped::Detached),
        r = copy_output(reader, tty) => r,
    };
    if flag.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(Pumped::Detached);
    }
    ended.map(|()| Pumped::Ended)
}

async fn copy_output(mut reader: ReadHalf<HijackedStream>, tty: bool) -> anyhow::Result<()> {
    let mut stdout = tokio::io::stdout();
    if tty {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut reader, &mut buf).await?;
            if n == 0 {
                break;
            }
            stdout.write_all(&buf[..n]).await?;
            stdout.flush().await?;
        }
    } else {
        let mut stderr = tokio::io::stderr();
        rocker_api::stdcopy::demux(reader, &mut stdout, &mut stderr).await?;
    }
    stdout.flush().await?;
    Ok(())
}
