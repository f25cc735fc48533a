//! The container's standard streams as the shim holds them: pipes for stdout and stderr (and
//! stdin when it is kept open), or one pseudo-terminal when the container has a TTY.

use std::fs::OpenOptions;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use anyhow::{Context, Result};
use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// The shim's ends of the container's stdio, plus the container's ends to hand to the runtime.
pub struct Streams {
    /// Output from the container: the stdout pipe (the pty master arrives after create).
    pub stdout: Option<OwnedFd>,
    /// The stderr pipe (none with a TTY: everything arrives on the master).
    pub stderr: Option<OwnedFd>,
    /// Where stdin bytes go: the stdin pipe's write end, or a duplicate of the pty master.
    pub stdin: Option<OwnedFd>,
    /// The container's fds 0, 1 and 2.
    pub container: rocker_runtime::Stdio,
}

pub fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).context("creating pipe")
}

fn dev_null() -> Result<OwnedFd> {
    Ok(OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("opening /dev/null")?
        .into())
}

/// Creates the streams for a container. With a TTY the runtime allocates the terminal inside
/// the container; its master arrives later through [`Streams::set_console`].
pub fn create(tty: bool, open_stdin: bool) -> Result<Streams> {
    if tty {
        return Ok(Streams {
            stdout: None,
            stderr: None,
            stdin: None,
            container: rocker_runtime::Stdio {
                stdin: dev_null()?,
                stdout: dev_null()?,
                stderr: dev_null()?,
            },
        });
    }
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    set_nonblocking(&out_r)?;
    set_nonblocking(&err_r)?;
    let (stdin, cin) = if open_stdin {
        let (r, w) = pipe()?;
        set_nonblocking(&w)?;
        (Some(w), r)
    } else {
        (None, dev_null()?)
    };
    Ok(Streams {
        stdout: Some(out_r),
        stderr: Some(err_r),
        stdin,
        container: rocker_runtime::Stdio {
            stdin: cin,
            stdout: out_w,
            stderr: err_w,
        },
    })
}

/// The shim's ends of a TTY container's streams, once the runtime handed over the master.
pub fn console_streams(master: OwnedFd, open_stdin: bool) -> Result<(OwnedFd, Option<OwnedFd>)> {
    set_nonblocking(&master)?;
    let stdin = if open_stdin {
        Some(master.try_clone()?)
    } else {
        None
    };
    Ok((master, stdin))
}

/// Sets the terminal size on a pty master.
pub fn resize(master: &OwnedFd, height: u16, width: u16) -> Result<()> {
    rocker_sys::term::set_winsize(master.as_fd(), height, width)
        .context("setting terminal size")?;
    Ok(())
}

/// Writes as much of `buf` into the (non-blocking) stdin `fd` as it takes now; what is written
/// leaves `buf`. A write error other than EAGAIN closes stdin and drops the rest.
pub fn flush_pending(fd: &mut Option<OwnedFd>, buf: &mut Vec<u8>) {
    let Some(f) = fd.as_ref() else {
        buf.clear();
        return;
    };
    while !buf.is_empty() {
        match nix::unistd::write(f, buf) {
            Ok(n) => {
                buf.drain(..n);
            }
            Err(nix::errno::Errno::EAGAIN) => return,
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => {
                *fd = None;
                buf.clear();
                return;
            }
        }
    }
}
