//! File-descriptor level file system calls returning `OwnedFd`: openat, openat2 with
//! RESOLVE_IN_ROOT (to resolve container paths without escaping the rootfs), and marking
//! every descriptor above a bound close-on-exec before the user process runs.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

/// openat(2) relative to `dir` (or the cwd when `None`); the result is always O_CLOEXEC.
pub fn openat(
    dir: Option<BorrowedFd<'_>>,
    path: &Path,
    flags: OFlag,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    let fd = nix::fcntl::openat(Some(dirfd), path, flags | OFlag::O_CLOEXEC, mode)?;
    // SAFETY: openat returned a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// openat2(2) with `RESOLVE_IN_ROOT`: `path` is resolved as if `root` were `/`, so `..`
/// and absolute symlinks cannot leave it. `resolve` adds further RESOLVE_* flags.
/// Retries on EAGAIN (a concurrent rename made the kernel give up once). The result is
/// always O_CLOEXEC.
pub fn open_in_root(
    root: BorrowedFd<'_>,
    path: &Path,
    flags: OFlag,
    mode: Mode,
    resolve: ResolveFlag,
) -> Result<OwnedFd, Errno> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .mode(mode)
        .resolve(resolve | ResolveFlag::RESOLVE_IN_ROOT);
    let mut tries = 0;
    loop {
        match nix::fcntl::openat2(root.as_raw_fd(), path, how) {
            Ok(fd) => {
                // SAFETY: openat2 returned a new descriptor that nobody else owns.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            Err(Errno::EAGAIN) if tries < 16 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Marks every descriptor >= `first` close-on-exec (close_range with CLOSE_RANGE_CLOEXEC,
/// falling back to walking /proc/self/fd on kernels before 5.11).
pub fn set_cloexec_from(first: u32) -> Result<(), Errno> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if ret == 0 {
        return Ok(());
    }
    match Errno::last() {
        Errno::ENOSYS | Errno::EINVAL => {}
        e => return Err(e),
    }
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds {
        if u32::try_from(fd).is_ok_and(|f| f >= first) {
            // EBADF: the directory handle used for the listing, already closed.
            match nix::fcntl::fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)) {
                Ok(_) | Err(Errno::EBADF) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn open_in_root_contains_dotdot_and_symlinks() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("etc")).expect("mkdir");
        std::fs::write(dir.path().join("etc/hosts"), "inside").expect("write");
        std::os::unix::fs::symlink("/etc", dir.path().join("link")).expect("symlink");
        let root = std::fs::File::open(dir.path()).expect("open");
        let f = open_in_root(
            root.as_fd(),
            Path::new("../../../link/hosts"),
            OFlag::O_RDONLY,
            Mode::empty(),
            ResolveFlag::empty(),
        )
        .expect("openat2");
        let text =
            std::fs::read_to_string(format!("/proc/self/fd/{}", f.as_raw_fd())).expect("read");
        assert_eq!(text, "inside");
    }

    #[test]
    fn cloexec_from_high_bound_is_ok() {
        assert!(set_cloexec_from(100_000).is_ok());
    }
}
