//! rocker-sys: the one crate of Rocker allowed to use `unsafe`.
//!
//! It holds thin, safe wrappers around the Linux system calls the runtime needs and that
//! `nix` does not expose safely (clone3 with pidfds and CLONE_INTO_CGROUP, pidfd_open and
//! pidfd_send_signal, openat2 returning an `OwnedFd`, close_range, a few ioctls and prctls).
//! Every wrapper returns `nix::Result`: a failed system call is fully described by its errno,
//! and the callers add the context (which step, which path) in their own error enums.
//! File descriptors come in as `BorrowedFd` and go out as `OwnedFd`, never as raw integers.
#![allow(unsafe_code)]

pub mod fs;
pub mod malloc; // shim memory (issue 5)
pub mod net;
pub mod process;
pub mod seccomp;
pub mod socket;
pub mod term;

pub use nix::errno::Errno;
pub use nix::Result;
