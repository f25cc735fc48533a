//! Disk usage and pruning of containers: the size of a container's writable layer (its
//! overlay upper dir, `SizeRw`), and `POST /containers/prune` removing stopped containers.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use crate::{Engine, Record, Result};

/// Bytes of the regular files and symlinks under `dir` (hard links counted once), as
/// Docker's `directory.Size`. A missing directory is 0.
pub fn dir_size(dir: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
                continue;
            }
            if meta.nlink() > 1 && !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            total += meta.len();
        }
    }
    total
}

/// What a container prune removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub deleted: Vec<String>,
    pub space_reclaimed: u64,
}

impl Engine {
    /// `SizeRw`: bytes in the container's writable layer.
    pub fn container_size_rw(&self, id: &str) -> u64 {
        dir_size(&self.container_dir(id).join("upper"))
    }

    /// `SizeRootFs`: the writable layer plus the image's size.
    pub fn container_size_root_fs(&self, rec: &Record) -> u64 {
        let image = self
            .images
            .get(&rec.image_id)
            .ok()
            .flatten()
            .map_or(0, |i| i.size);
        image + self.container_size_rw(&rec.id)
    }

    /// Removes every stopped (created, exited or dead) container `matches` accepts.
    pub async fn prune_containers(
        self: &Arc<Self>,
        matches: impl Fn(&Record) -> bool,
    ) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        for rec in self.list() {
            if rec.state.status.is_alive() || rec.state.restarting || !matches(&rec) {
                continue;
            }
            let size = self.container_size_rw(&rec.id);
            match self.remove(&rec.id, false).await {
                Ok(()) => {
                    pruned.deleted.push(rec.id.clone());
                    pruned.space_reclaimed += size;
                }
                Err(e) => tracing::debug!("prune {}: {}", rec.id, e.message),
            }
        }
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_hard_links_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a"), b"12345").unwrap();
        std::fs::hard_link(dir.path().join("sub/a"), dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("c"), b"123").unwrap();
        assert_eq!(dir_size(dir.path()), 8);
        assert_eq!(dir_size(&dir.path().join("missing")), 0);
    }
}
