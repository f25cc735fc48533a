//! Installing a seccomp BPF filter on the calling thread: seccomp(2) with
//! SECCOMP_SET_MODE_FILTER. The filter itself is compiled elsewhere (by the runtime, with
//! libseccomp, before the container's init is cloned); this is only the system call.

use nix::errno::Errno;

/// `SECCOMP_SET_MODE_FILTER` from `<linux/seccomp.h>`.
const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;

/// `SECCOMP_FILTER_FLAG_TSYNC`: synchronize all threads of the process to the filter.
pub const FLAG_TSYNC: u32 = 1;
/// `SECCOMP_FILTER_FLAG_LOG`: log every action but SECCOMP_RET_ALLOW.
pub const FLAG_LOG: u32 = 1 << 1;
/// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`: do not enable the speculative store bypass mitigation.
pub const FLAG_SPEC_ALLOW: u32 = 1 << 2;

/// Installs `program` as a seccomp filter of the calling thread with `flags`
/// (`FLAG_*`). Without no_new_privs the caller needs CAP_SYS_ADMIN in its user namespace.
pub fn set_filter(program: &[libc::sock_filter], flags: u32) -> nix::Result<()> {
    let len = u16::try_from(program.len()).map_err(|_| Errno::EINVAL)?;
    let prog = libc::sock_fprog {
        len,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points to `len` valid sock_filter entries borrowed for the duration of
    // the call; the kernel copies the program and does not keep the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            std::ptr::from_ref(&prog),
        )
    };
    Errno::result(rc).map(drop)
}
