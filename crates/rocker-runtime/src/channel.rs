//! The typed, one-message-per-datagram channel between `create` (parent) and the
//! container's init (child): a SOCK_SEQPACKET socketpair, close-on-exec on both ends, so
//! the parent reads EOF exactly when the init has exec'd the user process (or died).

use std::os::fd::{AsFd, OwnedFd};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::ErrorKind;

/// Messages from the parent to the init.
#[derive(Debug, Serialize, Deserialize)]
enum ToInit {
    /// The init is in its cgroup and its id maps are written: set up the container.
    Proceed,
    /// Gate released: exec the user process.
    Start,
}

/// Messages from the init to the parent.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromInit {
    /// Everything is set up; the init waits at the gate.
    Ready,
    /// The master of the terminal the init allocated is attached (SCM_RIGHTS).
    Console,
    /// A step failed; the init exits.
    Failed { message: String, kind: ErrorKind },
}

/// What the parent learned from the init.
#[derive(Debug)]
pub(crate) enum Report {
    Message(FromInit),
    /// The init sent the master side of its terminal.
    Console(OwnedFd),
    /// The init exec'd (its end was closed by close-on-exec) or died.
    Closed,
}

/// One end of the parent/init channel.
#[derive(Debug)]
pub(crate) struct Channel {
    fd: OwnedFd,
}

const MAX_MESSAGE: usize = 64 * 1024;

impl Channel {
    /// Creates the (parent, init) pair.
    pub fn pair() -> nix::Result<(Channel, Channel)> {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    fn send<T: Serialize>(&self, msg: &T) -> nix::Result<()> {
        let bytes = serde_json::to_vec(msg).map_err(|_| nix::Error::EINVAL)?;
        // MSG_NOSIGNAL: a gone peer must not kill the init with SIGPIPE.
        send(
            std::os::fd::AsRawFd::as_raw_fd(&self.fd),
            &bytes,
            MsgFlags::MSG_NOSIGNAL,
        )?;
        Ok(())
    }

    fn recv<T: DeserializeOwned>(&self) -> nix::Result<Option<T>> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        let n = loop {
            match recv(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                &mut buf,
                MsgFlags::empty(),
            ) {
                Err(nix::Error::EINTR) => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n])
            .map(Some)
            .map_err(|_| nix::Error::EBADMSG)
    }

    // Parent side.

    /// Tells the init it is placed in its cgroup and may set the container up.
    pub fn send_proceed(&self) -> nix::Result<()> {
        self.send(&ToInit::Proceed)
    }

    /// Releases the gate of a `Gate::Pipe` init.
    pub fn send_start(&self) -> nix::Result<()> {
        self.send(&ToInit::Start)
    }

    /// Waits for the init's next report.
    pub fn wait_for_report(&self) -> nix::Result<Report> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        let (n, fd) = rocker_sys::socket::recv_with_fd(self.fd.as_fd(), &mut buf)?;
        if n == 0 {
            return Ok(Report::Closed);
        }
        let msg: FromInit = serde_json::from_slice(&buf[..n]).map_err(|_| nix::Error::EBADMSG)?;
        Ok(match (msg, fd) {
            (FromInit::Console, Some(fd)) => Report::Console(fd),
            (FromInit::Console, None) => return Err(nix::Error::EBADMSG),
            (m, _) => Report::Message(m),
        })
    }

    // Init side.

    /// Waits until the parent says to proceed; false if the parent went away.
    pub fn wait_for_proceed(&self) -> bool {
        matches!(self.recv::<ToInit>(), Ok(Some(ToInit::Proceed)))
    }

    /// Waits for the gate; false if the parent went away without starting.
    pub fn wait_for_start(&self) -> bool {
        matches!(self.recv::<ToInit>(), Ok(Some(ToInit::Start)))
    }

    /// Hands the terminal's master to the parent.
    pub fn send_console(&self, master: std::os::fd::BorrowedFd<'_>) -> nix::Result<()> {
        let bytes = serde_json::to_vec(&FromInit::Console).map_err(|_| nix::Error::EINVAL)?;
        rocker_sys::socket::send_with_fd(self.fd.as_fd(), &bytes, master).map(drop)
    }

    /// Reports that setup is complete.
    pub fn send_ready(&self) -> nix::Result<()> {
        self.send(&FromInit::Ready)
    }

    /// Reports a failure (ignored if the parent is gone).
    pub fn send_failure(&self, message: String, kind: ErrorKind) {
        let _ = self.send(&FromInit::Failed { message, kind });
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_eof() {
        let (parent, init) = Channel::pair().expect("pair");
        parent.send_proceed().expect("send");
        assert!(init.wait_for_proceed());
        init.send_failure("boom".into(), ErrorKind::ExecutableNotFound);
        match parent.wait_for_report().expect("report") {
            Report::Message(FromInit::Failed { message, kind }) => {
                assert_eq!(message, "boom");
                assert_eq!(kind, ErrorKind::ExecutableNotFound);
            }
            other => panic!("unexpected {other:?}"),
        }
        drop(init);
        assert!(matches!(
            parent.wait_for_report().expect("report"),
            Report::Closed
        ));
    }
}
