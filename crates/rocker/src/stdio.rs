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
