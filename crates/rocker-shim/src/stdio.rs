//! The container's standard streams as the shim holds them: pipes for stdout and stderr (and
//! stdin when it is kept open), or one pseudo-terminal when the container has a TTY.

use std::fs::OpenOptions;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use anyhow::{Context, Result};
use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// The shim's ends of the container's stdio, plus the container's ends to hand to the runtime.
pub struct Streams {
    /// Output from the container: the stdout pipe, or the pty master.
    pub stdout: OwnedFd,
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

/// Creates the streams for a container.
pub fn create(tty: bool, open_stdin: bool) -> Result<Streams> {
    if tty {
        let pty = nix::pty::openpty(None, None).context("allocating a pseudo-terminal")?;
        set_nonblocking(&pty.master)?;
        let stdin = if open_stdin {
            Some(pty.master.try_clone()?)
        } else {
            None
        };
        let slave = pty.slave;
        let container = rocker_runtime::Stdio {
            stdin: if open_stdin {
                slave.try_clone()?
            } else {
                dev_null()?
            },
            stdout: slave.try_clone()?,
            stderr: slave,
        };
        return Ok(Streams {
            stdout: pty.master,
            stderr: None,
            stdin,
            container,
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
        stdout: out_r,
        stderr: Some(err_r),
        stdin,
        container: rocker_runtime::Stdio {
            stdin: cin,
            stdout: out_w,
            stderr: err_w,
        },
    })
}

/// Sets the terminal size on a pty master.
pub fn resize(master: &OwnedFd, height: u16, width: u16) -> Result<()> {
    rocker_sys::term::set_winsize(master.as_fd(), height, width)
        .context("setting terminal size")?;
    Ok(())
}
