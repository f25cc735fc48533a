//! The typed protocol between `rockerd` and a `rocker-shim`.
//!
//! One shim monitors one container and outlives the daemon, so everything the daemon needs to
//! find again after a restart lives in the shim's state directory (`<exec_root>/shims/<id>/`):
//! the control socket, the shim's pid, and — once the container has exited — its exit record.
//!
//! Messages are JSON documents behind a 4-byte big-endian length. A control connection carries
//! one [`Request`] and one [`Response`]; an `Attach` request turns the connection into a raw
//! stream afterwards (Docker's stdcopy frames without a TTY, raw bytes with one; bytes the
//! daemon writes become the container's stdin), and a `Wait` request gets its response only
//! when the container exits. An `Exec` request runs a process in the container and turns
//! its connection into that process's stream the same way; `ExecWait` answers at its exit.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Largest message either side accepts; protects both ends from a confused peer.
pub const MAX_MESSAGE: u32 = 1 << 20;

/// File names inside a shim's state directory.
pub const SOCKET_FILE: &str = "shim.sock";
/// Written atomically by the shim when the container has exited.
pub const EXIT_FILE: &str = "exit.json";
/// The shim's configuration, written by the daemon before spawning it.
pub const CONFIG_FILE: &str = "shim.json";
/// The shim's own pid, written once it runs.
pub const PID_FILE: &str = "shim.pid";

/// What the daemon tells a shim when spawning it (stored as `shim.json` in the state dir).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimConfig {
    pub id: String,
    /// OCI bundle holding `config.json`.
    pub bundle: PathBuf,
    /// The shim's state directory (socket, pid, exit record).
    pub state_dir: PathBuf,
    /// json-file log path; `None` disables logging (`--log-driver none`).
    pub log_path: Option<PathBuf>,
    /// Rotate the log when it exceeds this many bytes (0 = never).
    #[serde(default)]
    pub log_max_size: u64,
    /// How many log files to keep in total when rotating (>= 1).
    #[serde(default = "one")]
    pub log_max_files: u32,
    /// Allocate a pseudo-terminal for the container's stdio.
    #[serde(default)]
    pub tty: bool,
    /// Keep the container's stdin open for attach clients.
    #[serde(default)]
    pub open_stdin: bool,
    /// Close the container's stdin when the first attached client detaches.
    #[serde(default)]
    pub stdin_once: bool,
    /// Mounts made onto the rootfs inside the container's mount namespace (the overlay).
    #[serde(default)]
    pub rootfs_mounts: Vec<serde_json::Value>,
    /// A stream connected before start (fd 3 of the shim) that receives output from the very
    /// first byte and feeds stdin: the foreground `run` path.
    #[serde(default)]
    pub initial_attach: Option<AttachStreams>,
}

fn one() -> u32 {
    1
}

/// Which streams an attach connection wants.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct AttachStreams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// First line the shim writes on its stdout (a pipe to the daemon) once the container's user
/// process has been started, or failed to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartReport {
    Started { pid: i32 },
    Failed { message: String, exit_code: i32 },
}

/// The container's exit, as recorded by the shim.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExitRecord {
    pub exit_code: i32,
    /// RFC 3339 with nanoseconds, UTC.
    pub exited_at: String,
    pub oom_killed: bool,
}

/// A request on the control socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Is the container running, and as which pid.
    State,
    /// Send a signal to the init process, or to every process of the container.
    Kill { signal: i32, all: bool },
    /// Answered when the container exits (immediately if it already has).
    Wait,
    /// Turn this connection into a stdio stream.
    Attach(AttachStreams),
    /// Resize the container's terminal.
    Resize { height: u16, width: u16 },
    /// Close the container's stdin.
    CloseStdin,
    /// Run a process inside the container. Answered with [`Response::ExecStarted`] (or an
    /// error); unless `detach`, the connection then carries the process's stdio exactly like
    /// an `Attach` stream (stdcopy frames without `tty`, raw bytes with it; stdin from the
    /// connection when `attach.stdin`), and is closed once the process has exited and its
    /// output is sent.
    Exec {
        exec_id: String,
        /// An OCI `Process`.
        process: serde_json::Value,
        tty: bool,
        attach: AttachStreams,
        detach: bool,
    },
    /// Answered with [`Response::Exited`] when that exec exits (at once if it has).
    ExecWait { exec_id: String },
    /// Resize an exec's terminal.
    ExecResize {
        exec_id: String,
        height: u16,
        width: u16,
    },
    /// Send a signal to an exec's process.
    ExecKill { exec_id: String, signal: i32 },
    /// Freeze every process of the container's cgroup (`docker pause`).
    Pause,
    /// Thaw the container's cgroup (`docker unpause`).
    Resume,
    /// The pids (host pid namespace) of every process in the container's cgroup;
    /// answered with [`Response::Pids`].
    Pids,
}

/// The answer to a [`Request`]. `ExecStarted`: an exec's process runs as `pid` (in the
/// shim's pid namespace); `ExecFailed`: it could not be started, `exit_code` is Docker's
/// (127 not found, 126 otherwise).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    Ok,
    State {
        pid: i32,
        running: bool,
        /// The container's cgroup is frozen (absent from older shims: not paused).
        #[serde(default)]
        paused: bool,
    },
    Exited(ExitRecord),
    Error {
        message: String,
    },
    ExecStarted {
        pid: i32,
    },
    ExecFailed {
        message: String,
        exit_code: i32,
    },
    Pids {
        pids: Vec<i32>,
    },
}

/// Errors of the framing layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("shim protocol i/o: {0}")]
    Io(#[from] io::Error),
    #[error("shim protocol message of {0} bytes is too large")]
    TooLarge(u32),
    #[error("shim protocol message is not valid: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Writes one length-prefixed message.
pub fn write_message<W: Write, T: Serialize>(w: &mut W, msg: &T) -> Result<(), Error> {
    let body = serde_json::to_vec(msg)?;
    let len = u32::try_from(body.len()).map_err(|_| Error::TooLarge(u32::MAX))?;
    if len > MAX_MESSAGE {
        return Err(Error::TooLarge(len));
    }
    let mut buf = Vec::with_capacity(body.len() + 4);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&body);
    w.write_all(&buf)?;
    w.flush()?;
    Ok(())
}

/// Reads one length-prefixed message.
pub fn read_message<R: Read, T: for<'de> Deserialize<'de>>(r: &mut R) -> Result<T, Error> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len);
    if len > MAX_MESSAGE {
        return Err(Error::TooLarge(len));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body)?;
    Ok(serde_json::from_slice(&body)?)
}

/// Encodes a message into a frame, for async writers.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_message(&mut out, msg)?;
    Ok(out)
}

/// Reads the exit record from a state directory, if the container has exited.
pub fn read_exit(state_dir: &Path) -> Option<ExitRecord> {
    let data = std::fs::read(state_dir.join(EXIT_FILE)).ok()?;
    serde_json::from_slice(&data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let mut buf = Vec::new();
        write_message(
            &mut buf,
            &Request::Kill {
                signal: 9,
                all: true,
            },
        )
        .unwrap();
        write_message(
            &mut buf,
            &Response::State {
                pid: 4,
                running: true,
                paused: false,
            },
        )
        .unwrap();
        let mut r = buf.as_slice();
        let req: Request = read_message(&mut r).unwrap();
        assert!(matches!(
            req,
            Request::Kill {
                signal: 9,
                all: true
            }
        ));
        let resp: Response = read_message(&mut r).unwrap();
        assert_eq!(
            resp,
            Response::State {
                pid: 4,
                running: true,
                paused: false,
            }
        );
    }

    #[test]
    fn state_from_an_older_shim_is_not_paused() {
        let resp: Response =
            serde_json::from_str(r#"{"result":"state","pid":7,"running":true}"#).unwrap();
        assert_eq!(
            resp,
            Response::State {
                pid: 7,
                running: true,
                paused: false,
            }
        );
        let json = serde_json::to_string(&Request::Pids).unwrap();
        assert_eq!(json, r#"{"op":"pids"}"#);
    }

    #[test]
    fn oversized_length_is_refused() {
        let mut buf = (MAX_MESSAGE + 1).to_be_bytes().to_vec();
        buf.extend_from_slice(b"{}");
        let err = read_message::<_, Request>(&mut buf.as_slice()).unwrap_err();
        assert!(matches!(err, Error::TooLarge(_)));
    }

    #[test]
    fn attach_request_shape() {
        let json = serde_json::to_string(&Request::Attach(AttachStreams {
            stdin: true,
            stdout: true,
            stderr: false,
        }))
        .unwrap();
        assert_eq!(
            json,
            r#"{"op":"attach","stdin":true,"stdout":true,"stderr":false}"#
        );
    }
}
