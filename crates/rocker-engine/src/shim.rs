//! Talking to `rocker-shim`: spawning one for a container start, reading its start report,
//! and the control-socket requests (kill, wait, attach, resize, state). The daemon never forks
//! from its threads except through `std::process::Command` (fork+exec of the shim binary).

use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use rocker_shim_proto::{
    AttachStreams, ExitRecord, Request, Response, ShimConfig, StartReport, CONFIG_FILE, SOCKET_FILE,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use crate::error::{Error, Result};

/// The outcome of spawning a shim.
pub enum Started {
    Running { pid: i32 },
    Failed { message: String, exit_code: i32 },
}

/// Spawns the shim for a container and waits for its start report. `attach` (the daemon's
/// end is kept by the caller) becomes the shim's stdin: the stream that sees output from the
/// first byte.
pub async fn spawn(
    shim_bin: &Path,
    cfg: &ShimConfig,
    attach: Option<StdUnixStream>,
) -> Result<Started> {
    std::fs::create_dir_all(&cfg.state_dir)?;
    std::fs::write(cfg.state_dir.join(CONFIG_FILE), serde_json::to_vec(cfg)?)?;
    let log = std::fs::File::create(cfg.state_dir.join("shim.log"))?;
    let stdin = match attach {
        Some(s) => Stdio::from(std::os::fd::OwnedFd::from(s)),
        None => Stdio::null(),
    };
    let mut child = tokio::process::Command::new(shim_bin)
        .arg(&cfg.state_dir)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| Error::internal(format!("starting {}: {e}", shim_bin.display())))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::internal("shim has no report pipe"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await?;
    // The shim stays alive on its own; reap our direct child in the background so it never
    // lingers as a zombie while the daemon runs.
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    if line.trim().is_empty() {
        let log = std::fs::read_to_string(cfg.state_dir.join("shim.log")).unwrap_or_default();
        return Err(Error::internal(format!(
            "container shim exited before starting the container: {}",
            log.trim()
        )));
    }
    match serde_json::from_str::<StartReport>(line.trim()) {
        Ok(StartReport::Started { pid }) => Ok(Started::Running { pid }),
        Ok(StartReport::Failed { message, exit_code }) => {
            Ok(Started::Failed { message, exit_code })
        }
        Err(e) => Err(Error::internal(format!(
            "bad report from shim: {e}: {line}"
        ))),
    }
}

/// The control socket of a container's shim.
pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join(SOCKET_FILE)
}

async fn connect(state_dir: &Path) -> Result<UnixStream> {
    UnixStream::connect(socket_path(state_dir))
        .await
        .map_err(|e| Error::internal(format!("connecting to container shim: {e}")))
}

async fn send(conn: &mut UnixStream, req: &Request) -> Result<()> {
    let frame = rocker_shim_proto::encode(req).map_err(|e| Error::internal(e.to_string()))?;
    conn.write_all(&frame).await?;
    Ok(())
}

async fn recv(conn: &mut UnixStream) -> Result<Response> {
    let len = conn.read_u32().await?;
    if len > rocker_shim_proto::MAX_MESSAGE {
        return Err(Error::internal("oversized message from container shim"));
    }
    let mut body = vec![0u8; len as usize];
    conn.read_exact(&mut body).await?;
    serde_json::from_slice(&body).map_err(|e| Error::internal(format!("bad shim response: {e}")))
}

/// One request, one response.
pub async fn call(state_dir: &Path, req: &Request) -> Result<Response> {
    let mut conn = connect(state_dir).await?;
    send(&mut conn, req).await?;
    recv(&mut conn).await
}

/// Sends a signal (to every process of the container with `all`).
pub async fn kill(state_dir: &Path, signal: i32, all: bool) -> Result<()> {
    match call(state_dir, &Request::Kill { signal, all }).await? {
        Response::Ok => Ok(()),
        Response::Error { message } => Err(Error::conflict(message)),
        other => Err(Error::internal(format!("unexpected shim answer {other:?}"))),
    }
}

/// Resolves when the container exits. Errors mean the shim is gone.
pub async fn wait(state_dir: &Path) -> Result<ExitRecord> {
    let mut conn = connect(state_dir).await?;
    send(&mut conn, &Request::Wait).await?;
    match recv(&mut conn).await? {
        Response::Exited(rec) => Ok(rec),
        other => Err(Error::internal(format!("unexpected shim answer {other:?}"))),
    }
}

/// Opens an attach stream to a running container.
pub async fn attach(state_dir: &Path, streams: AttachStreams) -> Result<UnixStream> {
    let mut conn = connect(state_dir).await?;
    send(&mut conn, &Request::Attach(streams)).await?;
    match recv(&mut conn).await? {
        Response::Ok => Ok(conn),
        Response::Error { message } => Err(Error::conflict(message)),
        other => Err(Error::internal(format!("unexpected shim answer {other:?}"))),
    }
}

/// Resizes the container's terminal.
pub async fn resize(state_dir: &Path, height: u16, width: u16) -> Result<()> {
    match call(state_dir, &Request::Resize { height, width }).await? {
        Response::Ok => Ok(()),
        Response::Error { message } => Err(Error::invalid(message)),
        other => Err(Error::internal(format!("unexpected shim answer {other:?}"))),
    }
}
