//! Reaching a container's merged root as a directory fd, and resolving paths beneath it.
//!
//! Running (or paused): `/proc/<pid>/root`, which the kernel resolves in the container's mount
//! namespace, volumes included. Stopped: a fresh `std::thread` unshares its mount namespace,
//! makes `/` rprivate and mounts the overlay on the container's `rootfs` directory; the work
//! runs on that thread and when it ends the namespace and the mount die with it, so the host's
//! mount table never sees it. Volumes of a stopped container are not mounted there (a known
//! gap: `cp` into a volume path of a stopped container goes to the rootfs underneath).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use rustix::fs::{self as rfs, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use tokio::sync::oneshot;

use crate::container::{Record, Status};
use crate::error::{Error, Result};
use crate::Engine;

/// Where a container's root comes from.
pub(crate) enum RootSource {
    /// A running or paused container's init.
    Proc(i32),
    /// The overlay of a stopped container.
    Overlay {
        lower: Vec<PathBuf>,
        upper: PathBuf,
        work: PathBuf,
        target: PathBuf,
    },
}

impl Engine {
    /// The container's record and how to reach its root.
    pub(crate) fn root_source(&self, id_or_name: &str) -> Result<(Record, RootSource)> {
        let rec = self.lookup(id_or_name)?.record();
        let src = match rec.state.status {
            Status::Running | Status::Paused if rec.state.pid > 0 => {
                RootSource::Proc(rec.state.pid)
            }
            Status::Removing | Status::Dead => {
                return Err(Error::conflict(format!(
                    "container {} is being removed",
                    rec.id
                )))
            }
            _ => {
                let image = self
                    .images
                    .resolve(&rec.image_id)
                    .map_err(|e| Error::internal(format!("image of container {}: {e}", rec.id)))?;
                let lower = self
                    .images
                    .lowerdirs(&image)
                    .map_err(|e| Error::internal(format!("image layers: {e}")))?;
                let dir = self.container_dir(&rec.id);
                RootSource::Overlay {
                    lower,
                    upper: dir.join("upper"),
                    work: dir.join("work"),
                    target: dir.join("rootfs"),
                }
            }
        };
        Ok((rec, src))
    }
}

/// Runs `f` with the container's root on a new thread; the answer comes back on the channel.
pub(crate) fn spawn_in_root<T, F>(src: RootSource, f: F) -> oneshot::Receiver<Result<T>>
where
    T: Send + 'static,
    F: FnOnce(BorrowedFd<'_>) -> Result<T> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("rocker-fs".into())
        .spawn(move || {
            let res = open_root(&src).and_then(|root| f(root.as_fd()));
            let _ = tx.send(res);
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot spawn a file system thread");
    }
    rx
}

/// Awaits a [`spawn_in_root`] answer.
pub(crate) async fn join_rx<T>(rx: oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.await
        .map_err(|_| Error::internal("container file system thread ended without an answer"))?
}

/// Opens the root; for an overlay this mounts it in a private namespace of this thread.
fn open_root(src: &RootSource) -> Result<OwnedFd> {
    match src {
        RootSource::Proc(pid) => {
            let p = format!("/proc/{pid}/root");
            rfs::open(
                p.as_str(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Error::internal(format!("open {p}: {e}")))
        }
        RootSource::Overlay {
            lower,
            upper,
            work,
            target,
        } => {
            unshare(CloneFlags::CLONE_NEWNS)
                .map_err(|e| Error::internal(format!("unshare mount namespace: {e}")))?;
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .map_err(|e| Error::internal(format!("make / rprivate: {e}")))?;
            let lowers = lower
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(":");
            let opts = format!(
                "lowerdir={lowers},upperdir={},workdir={}",
                upper.display(),
                work.display()
            );
            mount(
                Some("overlay"),
                target.as_path(),
                Some("overlay"),
                MsFlags::empty(),
                Some(opts.as_str()),
            )
            .map_err(|e| Error::internal(format!("mount overlay on {}: {e}", target.display())))?;
            rfs::open(
                target.as_path(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Error::internal(format!("open {}: {e}", target.display())))
        }
    }
}

/// Lexically cleans a container path into components (`.` dropped, `..` applied, never
/// above `/`).
pub(crate) fn clean(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c.to_string()),
        }
    }
    out
}

/// Opens `rel` (relative, empty = root) below `root` with RESOLVE_IN_ROOT, following
/// symlinks as if `root` were `/`. `flags` adds to RDONLY|CLOEXEC.
pub(crate) fn open_in(root: BorrowedFd<'_>, rel: &str, flags: OFlags) -> Result<OwnedFd, Errno> {
    let p = if rel.is_empty() { "." } else { rel };
    let mut tries = 0;
    loop {
        match rfs::openat2(
            root,
            p,
            OFlags::RDONLY | OFlags::CLOEXEC | flags,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::AGAIN) if tries < 16 => tries += 1,
            other => return other,
        }
    }
}

/// Opens the directory `rel` below `root`.
pub(crate) fn open_dir(root: BorrowedFd<'_>, rel: &str) -> Result<OwnedFd, Errno> {
    open_in(root, rel, OFlags::DIRECTORY)
}

/// Resolves every symlink of `path` inside `root` (like `filepath.EvalSymlinks` in a
/// chroot); missing components are kept as they are. Returns an absolute path.
pub(crate) fn real_path(root: BorrowedFd<'_>, path: &str) -> Result<String, Errno> {
    let mut todo: std::collections::VecDeque<String> = clean(path).into();
    let mut out: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(c) = todo.pop_front() {
        if c == ".." {
            out.pop();
            continue;
        }
        if c.is_empty() || c == "." {
            continue;
        }
        let dir = open_dir(root, &out.join("/"));
        let link = match dir {
            Ok(d) => rfs::readlinkat(&d, c.as_str(), Vec::new()),
            Err(e) => Err(e),
        };
        match link {
            Ok(target) => {
                hops += 1;
                if hops > 40 {
                    return Err(Errno::LOOP);
                }
                let t = target.to_string_lossy().into_owned();
                if t.starts_with('/') {
                    out.clear();
                }
                for (i, part) in t.split('/').enumerate() {
                    todo.insert(i, part.to_string());
                }
            }
            Err(_) => out.push(c),
        }
    }
    Ok(format!("/{}", out.join("/")))
}

/// Splits a cleaned path into (parent, name); `None` for the root itself.
pub(crate) fn split(comps: &[String]) -> Option<(String, &str)> {
    let (name, parent) = comps.split_last()?;
    Some((parent.join("/"), name.as_str()))
}

/// `parent/name` for a cleaned relative parent (empty = root).
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}
