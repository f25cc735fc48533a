//! Session and terminal identity of a container's init: controlling terminal and NIS
//! domain name (the hostname itself is set with nix).

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

/// Makes the terminal open on `fd` the controlling terminal of the calling session leader
/// (ioctl TIOCSCTTY).
pub fn set_controlling_terminal(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: TIOCSCTTY takes an integer argument; the fd is live for the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) };
    Errno::result(ret).map(drop)
}

/// Sets the NIS domain name of the caller's UTS namespace.
pub fn set_domainname(name: &str) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe `name`'s bytes, valid for the call.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    Errno::result(ret).map(drop)
}

/// Sets the window size of the terminal open on `fd` (ioctl TIOCSWINSZ), e.g. a pty master.
pub fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> Result<(), Errno> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a `winsize` through the pointer, which points at a live local
    // for the duration of the call; the fd is live for the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    Errno::result(ret).map(drop)
}
