//! A container's file system seen from the daemon: `GET/HEAD/PUT /containers/{id}/archive`
//! (`cp`), `/changes` (`diff`) and `/export`.
//!
//! The rootfs overlay only exists inside the container's own mount namespace, so every
//! operation first gets a directory fd on the container's root ([`root`]): through
//! `/proc/<pid>/root` while it runs, or by mounting the overlay on a short-lived thread that
//! has unshared its mount namespace when it is stopped. Every path below that fd is resolved
//! with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` and the last component is always
//! handled with `*at` calls that do not follow symlinks, so a symlink planted in the
//! container (`/escape -> /`) can never make a read or a write land on the host
//! (CVE-2018-15664 was exactly that race in Docker).

mod changes;
mod extract;
mod read;
mod root;
mod walk;

pub use changes::{Change, ChangeKind};
pub use extract::PutOptions;
pub use read::PathStat;
