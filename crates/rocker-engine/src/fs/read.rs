//! Reading from a container: the stat Docker puts in `X-Docker-Container-Path-Stat`, the tar
//! of one path (`GET /containers/{id}/archive`) and of the whole root (`export`).

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{self as rfs, AtFlags, FileType};
use rustix::io::Errno;
use serde::Serialize;

use super::root::{self, clean, join, open_dir, real_path, spawn_in_root, split};
use super::walk::TarWalker;
use crate::error::{Error, Result};
use crate::Engine;

/// What Docker reports about an archived path (`container.PathStat`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go `os.FileMode` bits (type bits high, permissions low).
    pub mode: u32,
    /// RFC 3339 with nanoseconds.
    pub mtime: String,
    /// For a symlink, the absolute path it resolves to inside the container.
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

const GO_DIR: u32 = 1 << 31;
const GO_SYMLINK: u32 = 1 << 27;
const GO_DEVICE: u32 = 1 << 26;
const GO_PIPE: u32 = 1 << 25;
const GO_SOCKET: u32 = 1 << 24;
const GO_SETUID: u32 = 1 << 23;
const GO_SETGID: u32 = 1 << 22;
const GO_CHAR: u32 = 1 << 21;
const GO_STICKY: u32 = 1 << 20;

/// Converts a Unix `st_mode` into Go's `os.FileMode`.
pub(crate) fn go_mode(st_mode: u32) -> u32 {
    let mut m = st_mode & 0o777;
    match FileType::from_raw_mode(st_mode) {
        FileType::Directory => m |= GO_DIR,
        FileType::Symlink => m |= GO_SYMLINK,
        FileType::BlockDevice => m |= GO_DEVICE,
        FileType::CharacterDevice => m |= GO_DEVICE | GO_CHAR,
        FileType::Fifo => m |= GO_PIPE,
        FileType::Socket => m |= GO_SOCKET,
        _ => {}
    }
    if st_mode & 0o4000 != 0 {
        m |= GO_SETUID;
    }
    if st_mode & 0o2000 != 0 {
        m |= GO_SETGID;
    }
    if st_mode & 0o1000 != 0 {
        m |= GO_STICKY;
    }
    m
}

pub(crate) fn not_found(path: &str, id: &str) -> Error {
    Error::not_found(format!("Could not find the file {path} in container {id}"))
}

/// Whether the path asks for a directory's contents or a directory (`x/.`, `x/`): then the
/// last component is followed like Docker does.
fn follows_last(path: &str) -> bool {
    path.ends_with('/') || path.ends_with("/.")
}

/// Stats `path` in the container (the last component not followed unless `follows_last`).
fn stat_in(root: BorrowedFd<'_>, path: &str, id: &str) -> Result<PathStat> {
    let comps = clean(path);
    let mapped = |e: Errno| {
        if e == Errno::NOENT || e == Errno::NOTDIR || e == Errno::LOOP {
            not_found(path, id)
        } else {
            Error::internal(format!("stat {path} in container {id}: {e}"))
        }
    };
    let st = match split(&comps) {
        None => rfs::fstat(root).map_err(mapped)?,
        Some((parent, name)) => {
            if follows_last(path) {
                let fd = root::open_in(root, &join(&parent, name), rustix::fs::OFlags::PATH)
                    .map_err(mapped)?;
                rfs::fstat(&fd).map_err(mapped)?
            } else {
                let dir = open_dir(root, &parent).map_err(mapped)?;
                rfs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(mapped)?
            }
        }
    };
    let name = comps.last().cloned().unwrap_or_else(|| "/".into());
    let link_target = if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
        real_path(root, path).map_err(mapped)?
    } else {
        String::new()
    };
    let mtime = chrono::DateTime::from_timestamp(st.st_mtime, st.st_mtime_nsec as u32)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    Ok(PathStat {
        name,
        size: st.st_size,
        mode: go_mode(st.st_mode),
        mtime,
        link_target,
    })
}

/// Writes the tar of `path` (named by its base name, `.` for `x/.`).
fn write_tar(root: BorrowedFd<'_>, path: &str, out: impl Write) -> std::io::Result<()> {
    let comps = clean(path);
    let mut w = TarWalker::new(out, None);
    match split(&comps) {
        None => {
            w.add_contents(root, "")?;
        }
        Some((parent, name)) => {
            if follows_last(path) {
                // Follow the last component: archive the directory it leads to.
                let dir = root::open_in(root, &join(&parent, name), rustix::fs::OFlags::DIRECTORY)?;
                let base = if path.ends_with("/.") { "." } else { name };
                let mut h = tar::Header::new_gnu();
                let st = rfs::fstat(&dir)?;
                h.set_mode(st.st_mode & 0o7777);
                h.set_uid(u64::from(st.st_uid));
                h.set_gid(u64::from(st.st_gid));
                h.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Directory);
                w.append_dir_header(&mut h, base)?;
                w.add_contents(dir.as_fd(), base)?;
            } else {
                let dir = open_dir(root, &parent)?;
                w.add(dir.as_fd(), name, name)?;
            }
        }
    }
    w.finish()
}

impl Engine {
    /// `HEAD /containers/{id}/archive`.
    pub async fn archive_stat(&self, id: &str, path: &str) -> Result<PathStat> {
        let (rec, src) = self.root_source(id)?;
        let (path, asked) = (path.to_string(), id.to_string());
        drop(rec);
        root::join_rx(spawn_in_root(src, move |root| stat_in(root, &path, &asked))).await
    }

    /// `GET /containers/{id}/archive`: returns the stat as soon as it is known; the tar is
    /// then written to `out` from a file system thread (an error there ends the stream early).
    pub async fn archive_get<W: Write + Send + 'static>(
        &self,
        id: &str,
        path: &str,
        out: W,
    ) -> Result<PathStat> {
        let (rec, src) = self.root_source(id)?;
        let (path, asked) = (path.to_string(), id.to_string());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let done = spawn_in_root(src, move |root| {
            let st = stat_in(root, &path, &asked);
            let ok = st.is_ok();
            let _ = tx.send(st);
            if ok {
                if let Err(e) = write_tar(root, &path, out) {
                    tracing::warn!(container = %rec.id, path = %path, error = %e, "archive stream ended early");
                }
            }
            Ok(())
        });
        match rx.await {
            Ok(st) => st,
            Err(_) => {
                root::join_rx(done).await?;
                Err(Error::internal("archive thread ended without an answer"))
            }
        }
    }

    /// `GET /containers/{id}/export`: the whole root as a tar (other mounts appear as empty
    /// directories or files). Returns once the root is open; the tar is written to `out`.
    pub async fn export<W: Write + Send + 'static>(&self, id: &str, out: W) -> Result<()> {
        let (rec, src) = self.root_source(id)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = spawn_in_root(src, move |root| {
            let _ = tx.send(());
            let dev = rfs::fstat(root).map(|s| s.st_dev).ok();
            let mut w = TarWalker::new(out, dev);
            if let Err(e) = w.add_contents(root, "").and_then(|()| w.finish()) {
                tracing::warn!(container = %rec.id, error = %e, "export stream ended early");
            }
            Ok(())
        });
        match rx.await {
            Ok(()) => Ok(()),
            Err(_) => {
                root::join_rx(done).await?;
                Err(Error::internal("export thread ended without an answer"))
            }
        }
    }
}
