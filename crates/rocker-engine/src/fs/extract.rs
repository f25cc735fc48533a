//! Extracting a client's tar into a container (`PUT /containers/{id}/archive`).
//!
//! The whole tar is checked before anything is written (a malformed tar or an entry that
//! climbs above the destination writes nothing). Then each entry's parent is opened with
//! RESOLVE_IN_ROOT from the container root (symlinks in the container or earlier in the tar
//! are followed as if the root were `/`, never out of it) and the entry itself is created
//! with `*at` calls that do not follow symlinks.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use bytes::Bytes;
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;

use super::read::not_found;
use super::root::{self, clean, open_dir, real_path, spawn_in_root};
use crate::error::{Error, Result};
use crate::Engine;

/// Query parameters of `PUT /containers/{id}/archive`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PutOptions {
    /// Refuse to replace a directory with a non-directory (and the reverse).
    pub no_overwrite_dir_non_dir: bool,
    /// Give every entry the container user's uid/gid instead of the tar's.
    pub copy_uid_gid: bool,
}

/// Checks the tar: readable to the end, every path inside the destination.
fn validate(tar: &[u8]) -> Result<()> {
    let bad = |e: io::Error| Error::invalid(format!("Error processing tar file: {e}"));
    let mut archive = tar::Archive::new(Cursor::new(tar));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        if escapes(&shown) {
            return Err(Error::invalid(format!(
                "Error processing tar file: entry {shown:?} escapes the destination"
            )));
        }
        if let Some(l) = entry.link_name_bytes() {
            if entry.header().entry_type() == tar::EntryType::Link
                && escapes(&String::from_utf8_lossy(&l))
            {
                return Err(Error::invalid(format!(
                    "Error processing tar file: hardlink {shown:?} escapes the destination"
                )));
            }
        }
        let h = entry.header();
        h.mode().map_err(bad)?;
        h.uid().map_err(bad)?;
        h.gid().map_err(bad)?;
        h.mtime().map_err(bad)?;
        io::copy(&mut entry, &mut io::sink()).map_err(bad)?;
    }
    Ok(())
}

/// Whether a tar path climbs above its root.
fn escapes(p: &str) -> bool {
    let mut depth = 0i32;
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

struct Extractor<'a> {
    root: BorrowedFd<'a>,
    /// Destination directory, relative to the root, symlinks resolved.
    dest: String,
    opts: PutOptions,
    owner: Option<(u32, u32)>,
    dirs: Vec<(String, i64)>,
}

fn err(path: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("{what} {path}: {e}"))
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

impl Extractor<'_> {
    fn rel(&self, comps: &[String]) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if !self.dest.is_empty() {
            parts.push(&self.dest);
        }
        parts.extend(comps.iter().map(String::as_str));
        parts.join("/")
    }

    /// Opens (creating missing directories, 0755) the directory `rel` below the root.
    fn mkdir_all(&self, rel: &str) -> Result<OwnedFd, Errno> {
        match open_dir(self.root, rel) {
            Err(Errno::NOENT) => {}
            other => return other,
        }
        let comps = clean(rel);
        let mut cur = open_dir(self.root, "")?;
        for i in 0..comps.len() {
            let prefix = comps[..=i].join("/");
            cur = match open_dir(self.root, &prefix) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    match rfs::mkdirat(&cur, comps[i].as_str(), Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e),
                    }
                    open_dir(self.root, &prefix)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(cur)
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let comps = clean(&shown);
        let h = entry.header().clone();
        let kind = h.entry_type();
        let mode = h.mode().unwrap_or(0o644) & 0o7777;
        let mtime = i64::try_from(h.mtime().unwrap_or(0)).unwrap_or(0);
        let (uid, gid) = self.owner.unwrap_or((
            u32::try_from(h.uid().unwrap_or(0)).unwrap_or(0),
            u32::try_from(h.gid().unwrap_or(0)).unwrap_or(0),
        ));
        let Some((name, parent)) = comps.split_last() else {
            // The destination itself ("./"): keep it, apply nothing (Docker does the same).
            return Ok(());
        };
        let full = self.rel(&comps);
        let pfd = self
            .mkdir_all(&self.rel(parent))
            .map_err(|e| err(&full, "create parent of", e))?;
        let name = name.as_str();
        let is_dir = kind == tar::EntryType::Directory;
        if let Ok(st) = rfs::statat(&pfd, name, AtFlags::SYMLINK_NOFOLLOW) {
            let ex_dir = FileType::from_raw_mode(st.st_mode) == FileType::Directory;
            if self.opts.no_overwrite_dir_non_dir && ex_dir && !is_dir {
                return Err(Error::invalid(format!(
                    "cannot overwrite directory \"/{full}\" with non-directory \"{shown}\""
                )));
            }
            if self.opts.no_overwrite_dir_non_dir && !ex_dir && is_dir {
                return Err(Error::invalid(format!(
                    "cannot overwrite non-directory \"/{full}\" with directory \"{shown}\""
                )));
            }
            if !(ex_dir && is_dir) {
                rocker_image::unpack::remove_any(pfd.as_fd(), name.as_bytes())
                    .map_err(|e| err(&full, "remove", e))?;
            }
        }
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous | T::GNUSparse => {
                let fd = rfs::openat(
                    &pfd,
                    name,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|e| err(&full, "create", e))?;
                let mut f = File::from(fd);
                io::copy(entry, &mut f).map_err(|e| err(&full, "write", e))?;
                rfs::fchown(
                    &f,
                    Some(rfs::Uid::from_raw(uid)),
                    Some(rfs::Gid::from_raw(gid)),
                )
                .map_err(|e| err(&full, "chown", e))?;
                rfs::fchmod(&f, Mode::from_raw_mode(mode)).map_err(|e| err(&full, "chmod", e))?;
                rfs::futimens(&f, &times(mtime)).map_err(|e| err(&full, "set mtime of", e))?;
            }
            T::Directory => {
                match rfs::mkdirat(&pfd, name, Mode::from_raw_mode(0o700)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(err(&full, "mkdir", e)),
                }
                let d = rfs::openat(
                    &pfd,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| err(&full, "open", e))?;
                rfs::fchown(
                    &d,
                    Some(rfs::Uid::from_raw(uid)),
                    Some(rfs::Gid::from_raw(gid)),
                )
                .map_err(|e| err(&full, "chown", e))?;
                rfs::fchmod(&d, Mode::from_raw_mode(mode)).map_err(|e| err(&full, "chmod", e))?;
                self.dirs.push((full, mtime));
            }
            T::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                rfs::symlinkat(target.as_slice(), &pfd, name)
                    .map_err(|e| err(&full, "symlink", e))?;
                self.finish_at(pfd.as_fd(), name, &full, uid, gid, mtime)?;
            }
            T::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let tcomps = clean(&target);
                let Some((tname, tparent)) = tcomps.split_last() else {
                    return Err(Error::invalid(format!("hardlink {shown:?} has no target")));
                };
                let tp = open_dir(self.root, &self.rel(tparent))
                    .map_err(|e| err(&full, "open hardlink target of", e))?;
                rfs::linkat(&tp, tname.as_str(), &pfd, name, AtFlags::empty())
                    .map_err(|e| err(&full, "hardlink", e))?;
            }
            T::Char | T::Block | T::Fifo => {
                let (ft, dev) = match kind {
                    T::Fifo => (FileType::Fifo, 0),
                    _ => {
                        let major = h.device_major().ok().flatten().unwrap_or(0);
                        let minor = h.device_minor().ok().flatten().unwrap_or(0);
                        let ft = if kind == T::Char {
                            FileType::CharacterDevice
                        } else {
                            FileType::BlockDevice
                        };
                        (ft, rfs::makedev(major, minor))
                    }
                };
                rfs::mknodat(&pfd, name, ft, Mode::from_raw_mode(mode), dev)
                    .map_err(|e| err(&full, "mknod", e))?;
                rfs::chmodat(&pfd, name, Mode::from_raw_mode(mode), AtFlags::empty())
                    .map_err(|e| err(&full, "chmod", e))?;
                self.finish_at(pfd.as_fd(), name, &full, uid, gid, mtime)?;
            }
            other => {
                tracing::debug!(path = %shown, kind = ?other, "skipping unsupported tar entry type");
            }
        }
        Ok(())
    }

    /// Owner and mtime of a name that must not be followed (symlink, device).
    fn finish_at(
        &self,
        pfd: BorrowedFd<'_>,
        name: &str,
        full: &str,
        uid: u32,
        gid: u32,
        mtime: i64,
    ) -> Result<()> {
        rfs::chownat(
            pfd,
            name,
            Some(rfs::Uid::from_raw(uid)),
            Some(rfs::Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| err(full, "chown", e))?;
        rfs::utimensat(pfd, name, &times(mtime), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| err(full, "set mtime of", e))
    }

    /// Directory mtimes last (creating children changes them).
    fn finish_dirs(&self) -> Result<()> {
        for (path, mtime) in self.dirs.iter().rev() {
            if let Ok(fd) = open_dir(self.root, path) {
                rfs::futimens(&fd, &times(*mtime)).map_err(|e| err(path, "set mtime of", e))?;
            }
        }
        Ok(())
    }
}

fn extract(
    root: BorrowedFd<'_>,
    id: &str,
    path: &str,
    tar: &[u8],
    opts: PutOptions,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    let real = real_path(root, path).map_err(|_| not_found(path, id))?;
    let dest = clean(&real).join("/");
    match open_dir(root, &dest) {
        Ok(_) => {}
        Err(Errno::NOENT) => return Err(not_found(path, id)),
        Err(Errno::NOTDIR) => {
            return Err(Error::invalid("extraction point is not a directory"));
        }
        Err(e) => return Err(err(path, "open", e)),
    }
    let mut ex = Extractor {
        root,
        dest,
        opts,
        owner,
        dirs: Vec::new(),
    };
    let mut archive = tar::Archive::new(Cursor::new(tar));
    let entries = archive
        .entries()
        .map_err(|e| Error::invalid(format!("Error processing tar file: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| Error::invalid(format!("Error processing tar file: {e}")))?;
        ex.entry(&mut entry).map_err(|e| {
            if e.message.contains("Read-only file system") {
                Error::invalid("container rootfs is marked read-only")
            } else {
                e
            }
        })?;
    }
    ex.finish_dirs()
}

impl Engine {
    /// `PUT /containers/{id}/archive`: extracts `tar` into the directory `path`.
    pub async fn archive_put(
        &self,
        id: &str,
        path: &str,
        tar: Bytes,
        opts: PutOptions,
    ) -> Result<()> {
        let (rec, src) = self.root_source(id)?;
        if rec.host_config.readonly_rootfs {
            return Err(Error::invalid("container rootfs is marked read-only"));
        }
        let owner = if opts.copy_uid_gid && !rec.config.user.is_empty() {
            let image = self
                .images
                .resolve(&rec.image_id)
                .map_err(|e| Error::internal(format!("image of container {}: {e}", rec.id)))?;
            let lower = self
                .images
                .lowerdirs(&image)
                .map_err(|e| Error::internal(format!("image layers: {e}")))?;
            let u = crate::user::resolve(&rec.config.user, &lower)?;
            Some((u.uid, u.gid))
        } else {
            None
        };
        let t = tar.clone();
        tokio::task::spawn_blocking(move || validate(&t))
            .await
            .map_err(|e| Error::internal(format!("validate tar: {e}")))??;
        let (path, asked) = (path.to_string(), id.to_string());
        root::join_rx(spawn_in_root(src, move |root| {
            extract(root, &asked, &path, &tar, opts, owner)
        }))
        .await
    }
}
