//! Process creation and control: clone3 (fork semantics, pidfd, optional CLONE_INTO_CGROUP),
//! pidfd_open / pidfd_send_signal, resetting signal state in a fresh child and `_exit`.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::Pid;

/// `CLONE_INTO_CGROUP` (since Linux 5.7); not exported by the libc crate.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Argument block of clone3(2), laid out as `struct clone_args` (version 2, 88 bytes).
#[repr(C, align(8))]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of a [`clone3`] the caller is on.
#[derive(Debug)]
pub enum CloneResult {
    /// In the parent: the child's pid (in the caller's pid namespace) and a pidfd for it.
    Parent {
        pid: Pid,
        pidfd: OwnedFd,
        /// True when the kernel placed the child into the requested cgroup
        /// (CLONE_INTO_CGROUP); false when it was not requested or the fallback to clone(2)
        /// was taken, in which case the caller must write the pid to `cgroup.procs` itself.
        in_cgroup: bool,
    },
    /// In the new child process.
    Child,
}

/// Creates a child process with fork semantics (a copy of the address space, no new stack)
/// in new namespaces given by `namespaces` (only `CLONE_NEW*` flags are meaningful), with
/// `CLONE_PIDFD` and `SIGCHLD` as exit signal. With `cgroup` (a directory fd of a cgroup2
/// cgroup) the child starts inside that cgroup (CLONE_INTO_CGROUP).
///
/// Falls back to clone(2) when clone3 is not available (ENOSYS); the cgroup request is then
/// dropped and reported through `in_cgroup: false`. If the kernel refuses the cgroup
/// (e.g. EOPNOTSUPP, EBUSY), the call is retried once without it.
///
/// Only call this from a single-threaded process: the child gets a copy of the memory of
/// the calling thread only, so locks held by other threads (malloc, stdio) would stay locked
/// forever in the child.
pub fn clone3(
    namespaces: CloneFlags,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<CloneResult, Errno> {
    match raw_clone3(namespaces, cgroup) {
        Err(Errno::ENOSYS) => raw_clone(namespaces),
        Err(Errno::EOPNOTSUPP | Errno::EBUSY | Errno::EINVAL) if cgroup.is_some() => {
            raw_clone3(namespaces, None)
        }
        other => other,
    }
}

fn raw_clone3(
    namespaces: CloneFlags,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<CloneResult, Errno> {
    let mut pidfd: libc::c_int = -1;
    let ns_bits = u64::from(namespaces.bits().cast_unsigned());
    let mut args = CloneArgs {
        flags: ns_bits | libc::CLONE_PIDFD as u64,
        pidfd: std::ptr::addr_of_mut!(pidfd) as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = u64::from(fd.as_raw_fd().cast_unsigned());
    }
    // SAFETY: `args` is a properly initialised clone_args of the size we pass, `pidfd`
    // outlives the call, no stack is given so the child continues on a copy of our stack
    // exactly like fork(2); the documented single-threaded precondition makes that sound.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            std::ptr::addr_of_mut!(args),
            std::mem::size_of::<CloneArgs>(),
        )
    };
    finish_clone(ret, pidfd, cgroup.is_some())
}

fn raw_clone(namespaces: CloneFlags) -> Result<CloneResult, Errno> {
    let mut pidfd: libc::c_int = -1;
    let flags = namespaces.bits() | libc::CLONE_PIDFD | libc::SIGCHLD;
    // SAFETY: clone(2) without CLONE_VM and with a null stack behaves like fork(2); with
    // CLONE_PIDFD the kernel stores the pidfd through the parent_tid pointer, which points
    // to a live c_int. The remaining pointer arguments are unused (null / zero).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::c_ulong::from(flags.cast_unsigned()),
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::addr_of_mut!(pidfd),
            std::ptr::null_mut::<libc::c_int>(),
            0 as libc::c_ulong,
        )
    };
    finish_clone(ret, pidfd, false)
}

fn finish_clone(
    ret: libc::c_long,
    pidfd: libc::c_int,
    in_cgroup: bool,
) -> Result<CloneResult, Errno> {
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(CloneResult::Child),
        pid => {
            let pid = i32::try_from(pid).map_err(|_| Errno::EOVERFLOW)?;
            // SAFETY: on success the kernel wrote a fresh pidfd that nobody else owns.
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            Ok(CloneResult::Parent {
                pid: Pid::from_raw(pid),
                pidfd,
                in_cgroup,
            })
        }
    }
}

/// Opens a pidfd for an existing process (pidfd_open(2)).
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall with integer arguments; a non-negative result is a new fd.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0 as libc::c_uint) };
    if ret < 0 {
        return Err(Errno::last());
    }
    let fd = libc::c_int::try_from(ret).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel returned a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `signal` to the process referred to by `pidfd` (pidfd_send_signal(2)): immune to
/// pid reuse.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: Signal) -> Result<(), Errno> {
    // SAFETY: `pidfd` is a live descriptor, the siginfo pointer is null (allowed), flags 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null_mut::<libc::siginfo_t>(),
            0 as libc::c_uint,
        )
    };
    Errno::result(ret).map(drop)
}

/// Puts every signal back to its default disposition and unblocks all signals.
///
/// Meant for a freshly cloned child before it execs a user program: ignored signals and
/// the signal mask survive execve, and the Rust runtime ignores SIGPIPE.
pub fn reset_signals() -> Result<(), Errno> {
    for sig in Signal::iterator() {
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no code in our process, so none of the handler
        // safety concerns of signal(2) apply.
        unsafe { nix::sys::signal::signal(sig, SigHandler::SigDfl) }?;
    }
    // Real-time signals are not part of nix's Signal enum.
    for sig in libc::SIGRTMIN()..=libc::SIGRTMAX() {
        // SAFETY: as above, SIG_DFL only; errors for signals reserved by libc are ignored.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
}

/// Ends the current process at once with `code`, without running atexit handlers or
/// flushing stdio buffers inherited from the parent (`_exit(2)`). For cloned children.
pub fn exit_immediately(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};

    #[test]
    fn pidfd_open_self_works() {
        let fd = pidfd_open(nix::unistd::getpid());
        assert!(fd.is_ok(), "{fd:?}");
    }

    #[test]
    fn clone_without_namespaces_forks() {
        // The test harness is multi-threaded; the child only calls _exit, which is safe.
        match clone3(CloneFlags::empty(), None).expect("clone3") {
            CloneResult::Child => exit_immediately(7),
            CloneResult::Parent {
                pid,
                pidfd,
                in_cgroup,
            } => {
                assert!(!in_cgroup);
                drop(pidfd);
                assert_eq!(
                    waitpid(pid, None).expect("wait"),
                    WaitStatus::Exited(pid, 7)
                );
            }
        }
    }
}
