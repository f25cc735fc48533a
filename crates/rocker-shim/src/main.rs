//! `rocker-shim`: one small monitor per container.
//!
//! Spawned by `rockerd` as `rocker-shim <state-dir>`, it reads `shim.json` from the state dir,
//! starts the container in-process through the runtime library (no runtime binary, no
//! re-exec), reports the container's pid on its stdout, and then lives on its own session so
//! that the container survives a daemon crash: it holds the container's stdio, writes the
//! json-file log, serves attach/kill/wait on a control socket, reaps the container, records
//! the exit on disk and removes the container's cgroup. Single-threaded, no async runtime.

mod conn;
mod exec;
mod logfile;
mod monitor;
mod stdio;

use std::fs;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rocker_shim_proto::{ShimConfig, StartReport, CONFIG_FILE, PID_FILE, SOCKET_FILE};

fn main() {
    let Some(state_dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: rocker-shim <state-dir>");
        std::process::exit(2);
    };
    match run(&state_dir) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("rocker-shim: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(state_dir: &Path) -> Result<i32> {
    let cfg: ShimConfig = serde_json::from_slice(
        &fs::read(state_dir.join(CONFIG_FILE)).context("reading shim config")?,
    )
    .context("parsing shim config")?;
    // State dirs are <exec-root>/shims/<id>: compiled seccomp filters are shared by all
    // containers of the daemon in <exec-root>/seccomp.
    if let Some(exec_root) = state_dir.parent().and_then(Path::parent) {
        rocker_runtime::seccomp::set_cache_dir(exec_root.join("seccomp"));
    }

    // Our own session: signals aimed at the daemon's process group or terminal never reach us.
    // (Rust already ignores SIGPIPE in this process, so a vanished peer is an EPIPE error.)
    let _ = nix::unistd::setsid();

    // The report pipe is our stdout and the initial attach stream (if any) our stdin: keep
    // duplicates and point fds 0 and 1 at /dev/null, so nothing later writes into them.
    let report = take_std_fd(std::io::stdout().as_fd(), 1).context("taking report pipe")?;
    let initial_attach = match cfg.initial_attach {
        Some(_) => Some(take_std_fd(std::io::stdin().as_fd(), 0).context("taking attach stream")?),
        None => {
            take_std_fd(std::io::stdin().as_fd(), 0)?;
            None
        }
    };

    let listener = monitor::bind_control(&state_dir.join(SOCKET_FILE))?;
    let mut report = fs::File::from(report);
    let outcome = monitor::Monitor::start(&cfg, listener, initial_attach);
    let mut mon = match outcome {
        Ok(m) => m,
        Err(failure) => {
            let _ = writeln!(
                report,
                "{}",
                serde_json::to_string(&StartReport::Failed {
                    message: failure.message.clone(),
                    exit_code: failure.exit_code,
                })?
            );
            let _ = fs::remove_file(state_dir.join(SOCKET_FILE));
            return Ok(1);
        }
    };
    fs::write(state_dir.join(PID_FILE), std::process::id().to_string())?;
    writeln!(
        report,
        "{}",
        serde_json::to_string(&StartReport::Started { pid: mon.pid() })?
    )?;
    drop(report);
    // Start-up (spec parsing, the runtime's create) left freed memory in the heap: the
    // shim now idles for the container's lifetime, so give it back.
    rocker_sys::malloc::trim_heap();
    mon.run()?;
    Ok(0)
}

/// Duplicates a standard descriptor and replaces it with `/dev/null`.
fn take_std_fd(fd: std::os::fd::BorrowedFd<'_>, target: i32) -> Result<OwnedFd> {
    let kept = fd.try_clone_to_owned()?;
    let null = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    nix::unistd::dup2(null.as_raw_fd(), target)?;
    Ok(kept)
}
