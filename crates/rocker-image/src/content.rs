//! Content store: immutable blobs addressed by digest at `<data_root>/content/sha256/<hex>`.
//!
//! A write streams into a temp file under `content/tmp/` while hashing, fsyncs it, checks the
//! digest against the expected one, and only then renames it into place (then fsyncs the
//! directory). A crash therefore leaves at worst a temp file, which [`ContentStore::open`]
//! removes; a wrong digest leaves nothing. Blobs are never modified after the rename.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::digest::{Digest, Hasher};
use crate::ErrorKind;

const COPY_BUF: usize = 256 * 1024;

/// Errors from the content store.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Creating a store directory failed.
    #[error("create content dir {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    /// Creating the temp file failed.
    #[error("create temp blob {path}: {source}")]
    CreateTemp { path: PathBuf, source: io::Error },
    /// Reading the source or writing the temp file failed.
    #[error("write blob {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    /// The written bytes do not hash to the expected digest.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    /// Renaming the temp file into place failed.
    #[error("commit blob {digest}: {source}")]
    Commit { digest: Digest, source: io::Error },
    /// Opening a blob failed (NotFound when it is absent).
    #[error("open blob {digest}: {source}")]
    Open { digest: Digest, source: io::Error },
    /// Removing a blob failed.
    #[error("remove blob {digest}: {source}")]
    Remove { digest: Digest, source: io::Error },
}

impl ContentError {
    /// The error class, for mapping to API status codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ContentError::DigestMismatch { .. } => ErrorKind::InvalidArgument,
            ContentError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            _ => ErrorKind::Internal,
        }
    }
}

/// The outcome of a blob write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Digest of the bytes written.
    pub digest: Digest,
    /// Number of bytes.
    pub size: u64,
    /// False when the blob was already present (the new copy was discarded).
    pub created: bool,
}

/// Blobs by digest under one directory.
#[derive(Debug, Clone)]
pub struct ContentStore {
    blobs: PathBuf,
    tmp: PathBuf,
}

impl ContentStore {
    /// Opens (creating if needed) the store rooted at `root` (`<data_root>/content`) and
    /// removes temp files left by an earlier crash.
    pub fn open(root: &Path) -> Result<Self, ContentError> {
        let blobs = root.join("sha256");
        let tmp = root.join("tmp");
        for dir in [&blobs, &tmp] {
            fs::create_dir_all(dir).map_err(|source| ContentError::CreateDir {
                path: dir.clone(),
                source,
            })?;
        }
        if let Ok(entries) = fs::read_dir(&tmp) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok(Self { blobs, tmp })
    }

    /// Path of a blob (whether or not it exists).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.blobs.join(digest.hex())
    }

    /// Whether the blob is present.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    /// Opens a blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, ContentError> {
        File::open(self.path(digest)).map_err(|source| ContentError::Open {
            digest: digest.clone(),
            source,
        })
    }

    /// Reads a (small) blob fully.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, ContentError> {
        let mut buf = Vec::new();
        self.open_blob(digest)?
            .read_to_end(&mut buf)
            .map_err(|source| ContentError::Open {
                digest: digest.clone(),
                source,
            })?;
        Ok(buf)
    }

    /// Streams `src` into the store. With `expected`, a different digest is an error and
    /// nothing is kept. If the blob already exists the new copy is dropped (`created: false`).
    pub fn write(
        &self,
        mut src: impl Read,
        expected: Option<&Digest>,
    ) -> Result<Written, ContentError> {
        if let Some(d) = expected {
            // Already present: still drain (the caller's stream must advance) but skip the copy.
            if self.contains(d) {
                let mut hasher = Hasher::new();
                let size =
                    copy_hashing(&mut src, &mut io::sink(), &mut hasher).map_err(|source| {
                        ContentError::Write {
                            path: self.path(d),
                            source,
                        }
                    })?;
                let actual = hasher.finish();
                if &actual != d {
                    return Err(ContentError::DigestMismatch {
                        expected: d.clone(),
                        actual,
                    });
                }
                return Ok(Written {
                    digest: actual,
                    size,
                    created: false,
                });
            }
        }
        let tmp_path = self.tmp.join(format!("{:016x}", rand::random::<u64>()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp_path)
            .map_err(|source| ContentError::CreateTemp {
                path: tmp_path.clone(),
                source,
            })?;
        let guard = TempGuard(&tmp_path);
        let mut hasher = Hasher::new();
        let size = copy_hashing(&mut src, &mut file, &mut hasher)
            .and_then(|n| file.sync_all().map(|()| n))
            .map_err(|source| ContentError::Write {
                path: tmp_path.clone(),
                source,
            })?;
        drop(file);
        let digest = hasher.finish();
        if let Some(e) = expected {
            if e != &digest {
                return Err(ContentError::DigestMismatch {
                    expected: e.clone(),
                    actual: digest,
                });
            }
        }
        let dest = self.path(&digest);
        if dest.is_file() {
            return Ok(Written {
                digest,
                size,
                created: false,
            });
        }
        fs::rename(&tmp_path, &dest).map_err(|source| ContentError::Commit {
            digest: digest.clone(),
            source,
        })?;
        std::mem::forget(guard);
        File::open(&self.blobs)
            .and_then(|d| d.sync_all())
            .map_err(|source| ContentError::Commit {
                digest: digest.clone(),
                source,
            })?;
        Ok(Written {
            digest,
            size,
            created: true,
        })
    }

    /// Writes an in-memory blob.
    pub fn write_bytes(
        &self,
        bytes: &[u8],
        expected: Option<&Digest>,
    ) -> Result<Written, ContentError> {
        self.write(bytes, expected)
    }

    /// Removes a blob; absent blobs are not an error.
    pub fn remove(&self, digest: &Digest) -> Result<(), ContentError> {
        match fs::remove_file(self.path(digest)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ContentError::Remove {
                digest: digest.clone(),
                source,
            }),
        }
    }
}

/// Removes the temp file unless forgotten after a successful rename.
struct TempGuard<'a>(&'a Path);

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.0);
    }
}

fn copy_hashing(src: &mut impl Read, dst: &mut impl Write, hasher: &mut Hasher) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_BUF];
    let mut total = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
        total += n as u64;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn write_verify_and_dedup() {
        let dir = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(dir.path()).unwrap();
        let w = cs.write_bytes(b"abc", None).unwrap();
        assert!(w.created);
        assert_eq!(w.size, 3);
        assert_eq!(cs.read_blob(&w.digest).unwrap(), b"abc");
        let again = cs.write_bytes(b"abc", Some(&w.digest)).unwrap();
        assert!(!again.created);
        cs.remove(&w.digest).unwrap();
        assert!(!cs.contains(&w.digest));
        assert_eq!(
            cs.open_blob(&w.digest).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn digest_mismatch_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(dir.path()).unwrap();
        let wrong = Digest::of_bytes(b"something else");
        let err = cs.write_bytes(b"abc", Some(&wrong)).unwrap_err();
        assert!(matches!(err, ContentError::DigestMismatch { .. }));
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert_eq!(fs::read_dir(dir.path().join("sha256")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
