//! `GET /containers/{id}/changes`: what the container changed, read from its overlay upper
//! directory on the host (no mount needed). Whiteouts (0/0 character devices) are deletions,
//! a name that exists in an image layer is a modification, anything else an addition; the
//! parent of an addition or deletion is reported modified, as Docker's overlay driver does.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use serde::Serialize;

use super::root::{join, open_dir};
use crate::error::{Error, Result};
use crate::Engine;

/// Docker's change kinds (serialised as 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modified = 0,
    Added = 1,
    Deleted = 2,
}

impl Serialize for ChangeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(*self as u8)
    }
}

/// One entry of `GET /containers/{id}/changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "Kind")]
    pub kind: ChangeKind,
}

/// Files the runtime creates in the upper directory as mount points; Docker keeps them in
/// its init layer, so they never show up as changes.
const MOUNT_POINTS: &[&str] = &[
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/dev",
    "/proc",
    "/sys",
    "/dev/shm",
    "/dev/pts",
    "/dev/mqueue",
    "/.dockerenv",
];

struct Walk {
    lowers: Vec<OwnedFd>,
    out: Vec<Change>,
    changed_dirs: std::collections::HashSet<String>,
}

impl Walk {
    /// The lower stat of `rel` (topmost layer that has it).
    fn lower_stat(&self, rel: &str) -> Option<rfs::Stat> {
        let (parent, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", rel),
        };
        for l in &self.lowers {
            if let Ok(d) = open_dir(l.as_fd(), parent) {
                if let Ok(st) = rfs::statat(&d, name, AtFlags::SYMLINK_NOFOLLOW) {
                    return Some(st);
                }
            }
        }
        None
    }

    fn dir(&mut self, fd: BorrowedFd<'_>, rel: &str) -> Result<()> {
        let mut names: Vec<String> = rfs::Dir::read_from(fd)
            .map_err(|e| Error::internal(format!("read upper dir /{rel}: {e}")))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        for n in names {
            let child = join(rel, &n);
            let abs = format!("/{child}");
            let Ok(st) = rfs::statat(fd, n.as_str(), AtFlags::SYMLINK_NOFOLLOW) else {
                continue;
            };
            let ft = FileType::from_raw_mode(st.st_mode);
            let is_dir = ft == FileType::Directory;
            let whiteout = ft == FileType::CharacterDevice && st.st_rdev == 0;
            let kind = if whiteout {
                Some(ChangeKind::Deleted)
            } else if let Some(lst) = self.lower_stat(&child) {
                let same_dir = is_dir
                    && FileType::from_raw_mode(lst.st_mode) == FileType::Directory
                    && lst.st_mode == st.st_mode
                    && lst.st_mtime == st.st_mtime
                    && lst.st_mtime_nsec == st.st_mtime_nsec;
                (!same_dir).then_some(ChangeKind::Modified)
            } else {
                Some(ChangeKind::Added)
            };
            let hidden = MOUNT_POINTS.contains(&abs.as_str());
            if let Some(kind) = kind.filter(|_| !hidden) {
                if is_dir {
                    self.changed_dirs.insert(abs.clone());
                }
                if kind != ChangeKind::Modified && !rel.is_empty() {
                    let parent = format!("/{rel}");
                    if self.changed_dirs.insert(parent.clone()) {
                        self.out.push(Change {
                            path: parent,
                            kind: ChangeKind::Modified,
                        });
                    }
                }
                self.out.push(Change {
                    path: abs.clone(),
                    kind,
                });
            }
            if is_dir && !hidden {
                let sub = rfs::openat(
                    fd,
                    n.as_str(),
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| Error::internal(format!("open upper dir {abs}: {e}")))?;
                self.dir(sub.as_fd(), &child)?;
            }
        }
        Ok(())
    }
}

fn open_host_dir(p: &Path) -> Result<OwnedFd> {
    rfs::open(
        p,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::internal(format!("open {}: {e}", p.display())))
}

impl Engine {
    /// `GET /containers/{id}/changes`.
    pub async fn changes(&self, id: &str) -> Result<Vec<Change>> {
        let rec = self.lookup(id)?.record();
        let image = self
            .images
            .resolve(&rec.image_id)
            .map_err(|e| Error::internal(format!("image of container {}: {e}", rec.id)))?;
        let lowers = self
            .images
            .lowerdirs(&image)
            .map_err(|e| Error::internal(format!("image layers: {e}")))?;
        let upper = self.container_dir(&rec.id).join("upper");
        tokio::task::spawn_blocking(move || {
            let mut w = Walk {
                lowers: lowers
                    .iter()
                    .map(|p| open_host_dir(p))
                    .collect::<Result<_>>()?,
                out: Vec::new(),
                changed_dirs: Default::default(),
            };
            let up = open_host_dir(&upper)?;
            w.dir(up.as_fd(), "")?;
            Ok(w.out)
        })
        .await
        .map_err(|e| Error::internal(format!("changes: {e}")))?
    }
}
