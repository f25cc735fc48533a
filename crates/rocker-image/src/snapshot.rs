//! Snapshots: one unpacked directory per layer chain (OCI chain id) at
//! `<data_root>/snapshots/<n>/`, shared by every image that has that chain. `n` is a small
//! integer from the database, which keeps overlay `lowerdir=` options short.
//!
//! Creation is crash-safe: a row in state `unpacking` reserves `n`, the layer is unpacked into
//! `snapshots/tmp-<n>`, synced, renamed to `snapshots/<n>`, and only then is the row marked
//! `ready`. Anything else found at [`Snapshots::open`] (rows not ready, temp or orphan dirs) is
//! garbage from a crash and is removed. Concurrent requests for the same chain wait for the
//! first one instead of unpacking twice.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use rusqlite::{params, OptionalExtension};

use crate::content::ContentError;
use crate::digest::Digest;
use crate::unpack::UnpackError;
use crate::{lock_db, Db, ErrorKind};

/// Errors from snapshot management.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Creating or removing a snapshot directory failed.
    #[error("snapshot dir {path}: {source}")]
    Dir { path: PathBuf, source: io::Error },
    /// A database step failed.
    #[error("snapshot database {step}: {source}")]
    Db {
        step: &'static str,
        source: rusqlite::Error,
    },
    /// Reading the layer blob failed.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// Extracting the layer failed.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
}

impl SnapshotError {
    /// The error class, for mapping to API status codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SnapshotError::Content(e) => e.kind(),
            SnapshotError::Unpack(e) => e.kind(),
            _ => ErrorKind::Internal,
        }
    }
}

fn db_err(step: &'static str) -> impl FnOnce(rusqlite::Error) -> SnapshotError {
    move |source| SnapshotError::Db { step, source }
}

/// A ready snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Its number (directory name).
    pub n: i64,
    /// Sum of regular file sizes in the layer.
    pub size: u64,
    /// True when this call unpacked it (false when it already existed).
    pub created: bool,
}

/// The snapshot directory tree plus its table.
pub struct Snapshots {
    root: PathBuf,
    db: Db,
    inflight: Mutex<HashSet<Digest>>,
    done: Condvar,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Snapshots {
    /// Opens `root` (`<data_root>/snapshots`), creating it, and removes crash leftovers.
    pub fn open(root: &Path, db: Db) -> Result<Self, SnapshotError> {
        fs::create_dir_all(root).map_err(|source| SnapshotError::Dir {
            path: root.to_path_buf(),
            source,
        })?;
        let me = Self {
            root: root.to_path_buf(),
            db,
            inflight: Mutex::new(HashSet::new()),
            done: Condvar::new(),
        };
        me.collect_garbage()?;
        Ok(me)
    }

    /// Directory of snapshot `n`.
    pub fn dir(&self, n: i64) -> PathBuf {
        self.root.join(n.to_string())
    }

    fn collect_garbage(&self) -> Result<(), SnapshotError> {
        let ready: HashSet<String> = {
            let conn = lock_db(&self.db);
            conn.execute("DELETE FROM image_snapshots WHERE state != 'ready'", [])
                .map_err(db_err("delete unfinished rows"))?;
            let mut stmt = conn
                .prepare("SELECT n FROM image_snapshots")
                .map_err(db_err("list snapshots"))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, i64>(0))
                .map_err(db_err("list snapshots"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err("list snapshots"))?;
            rows.into_iter().map(|n| n.to_string()).collect()
        };
        let entries = fs::read_dir(&self.root).map_err(|source| SnapshotError::Dir {
            path: self.root.clone(),
            source,
        })?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !ready.contains(&name) {
                tracing::info!(snapshot = %name, "removing leftover snapshot dir");
                let path = e.path();
                fs::remove_dir_all(&path).map_err(|source| SnapshotError::Dir { path, source })?;
            }
        }
        Ok(())
    }

    /// The ready snapshot for `chain_id`, if any.
    pub fn lookup(&self, chain_id: &Digest) -> Result<Option<Snapshot>, SnapshotError> {
        let conn = lock_db(&self.db);
        conn.query_row(
            "SELECT n, size FROM image_snapshots WHERE chain_id = ?1 AND state = 'ready'",
            [chain_id.as_str()],
            |r| {
                Ok(Snapshot {
                    n: r.get(0)?,
                    size: r.get::<_, i64>(1)?.max(0) as u64,
                    created: false,
                })
            },
        )
        .optional()
        .map_err(db_err("look up snapshot"))
    }

    /// Returns the snapshot for `chain_id`, creating it with `unpack(dir)` (which fills the empty
    /// `dir` and returns the layer size) when it does not exist yet.
    pub fn ensure(
        &self,
        chain_id: &Digest,
        parent: Option<&Digest>,
        diff_id: &Digest,
        unpack: impl FnOnce(&Path) -> Result<u64, SnapshotError>,
    ) -> Result<Snapshot, SnapshotError> {
        {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if !inflight.contains(chain_id) {
                    if let Some(s) = self.lookup(chain_id)? {
                        return Ok(s);
                    }
                    inflight.insert(chain_id.clone());
                    break;
                }
                inflight = self.done.wait(inflight).unwrap_or_else(|e| e.into_inner());
            }
        }
        let _claim = Claim {
            snaps: self,
            chain_id,
        };

        let n: i64 = lock_db(&self.db)
            .query_row(
                "INSERT INTO image_snapshots (chain_id, parent_chain_id, diff_id, size, state, created)
                 VALUES (?1, ?2, ?3, 0, 'unpacking', ?4) RETURNING n",
                params![chain_id.as_str(), parent.map(Digest::as_str), diff_id.as_str(), now()],
                |r| r.get(0),
            )
            .map_err(db_err("reserve snapshot"))?;
        match self.unpack_into_place(n, unpack) {
            Ok(size) => {
                lock_db(&self.db)
                    .execute(
                        "UPDATE image_snapshots SET state = 'ready', size = ?2 WHERE n = ?1",
                        params![n, i64::try_from(size).unwrap_or(i64::MAX)],
                    )
                    .map_err(db_err("mark snapshot ready"))?;
                Ok(Snapshot {
                    n,
                    size,
                    created: true,
                })
            }
            Err(e) => {
                let _ = fs::remove_dir_all(self.dir(n));
                let _ = lock_db(&self.db).execute("DELETE FROM image_snapshots WHERE n = ?1", [n]);
                Err(e)
            }
        }
    }

    fn unpack_into_place(
        &self,
        n: i64,
        unpack: impl FnOnce(&Path) -> Result<u64, SnapshotError>,
    ) -> Result<u64, SnapshotError> {
        let tmp = self.root.join(format!("tmp-{n}"));
        let dir_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SnapshotError::Dir { path, source }
        };
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(dir_err(&tmp))?;
        }
        fs::create_dir(&tmp).map_err(dir_err(&tmp))?;
        let result = unpack(&tmp).and_then(|size| {
            let d = fs::File::open(&tmp).map_err(dir_err(&tmp))?;
            rustix::fs::syncfs(&d).map_err(|e| SnapshotError::Dir {
                path: tmp.clone(),
                source: e.into(),
            })?;
            let dest = self.dir(n);
            fs::rename(&tmp, &dest).map_err(dir_err(&dest))?;
            fs::File::open(&self.root)
                .and_then(|d| d.sync_all())
                .map_err(dir_err(&self.root))?;
            Ok(size)
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    /// Deletes snapshot `n` (row and directory) if no image layer references it. Returns
    /// whether it was removed.
    pub fn remove_if_unreferenced(&self, n: i64) -> Result<bool, SnapshotError> {
        let removed = {
            let conn = lock_db(&self.db);
            conn.execute(
                "DELETE FROM image_snapshots WHERE n = ?1
                 AND NOT EXISTS (SELECT 1 FROM image_layers WHERE snapshot = ?1)",
                [n],
            )
            .map_err(db_err("remove snapshot"))?
        };
        if removed == 0 {
            return Ok(false);
        }
        let dir = self.dir(n);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
            Err(source) => Err(SnapshotError::Dir { path: dir, source }),
        }
    }
}

/// Releases an in-flight claim and wakes waiters.
struct Claim<'a> {
    snaps: &'a Snapshots,
    chain_id: &'a Digest,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut inflight = self
            .snaps
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        inflight.remove(self.chain_id);
        self.snaps.done.notify_all();
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
