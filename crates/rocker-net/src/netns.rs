//! Persistent network namespaces, bind-mounted on files (as `ip netns` does), so a
//! container's network exists before its process and outlives a daemon restart.
//!
//! Namespace switches happen on short-lived threads: `unshare(CLONE_NEWNET)` and `setns`
//! change only the calling thread, so the daemon's own threads never leave the host
//! namespace. The parent directory is made a private bind mount of itself, so the nsfs
//! mounts do not propagate into container mount namespaces (where they would pin the
//! namespaces after removal).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::kind::ErrorKind;

/// Errors from namespace handling; each names the step and the path.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// Creating the directory for the namespace files.
    #[error("create netns directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Making the directory a private mount.
    #[error("make {path} a private mount: {source}")]
    PrivateMount {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: Errno,
    },
    /// The namespace file already exists.
    #[error("netns {0} already exists")]
    Exists(PathBuf),
    /// Creating the empty mount-point file.
    #[error("create netns file {path}: {source}")]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// unshare(CLONE_NEWNET).
    #[error("unshare network namespace for {path}: {source}")]
    Unshare {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: Errno,
    },
    /// Bringing `lo` up in the new namespace.
    #[error("bring lo up in netns {path}: {source}")]
    LoopbackUp {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: Errno,
    },
    /// Bind-mounting the namespace onto the file.
    #[error("bind-mount netns onto {path}: {source}")]
    BindMount {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: Errno,
    },
    /// Unmounting the namespace file.
    #[error("unmount netns {path}: {source}")]
    Unmount {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: Errno,
    },
    /// Removing the namespace file.
    #[error("remove netns file {path}: {source}")]
    RemoveFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Opening the namespace file.
    #[error("open netns {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// setns into the namespace.
    #[error("enter netns {path}: {source}")]
    Enter {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: Errno,
    },
    /// The helper thread could not be spawned or panicked.
    #[error("netns thread for {path}: {reason}")]
    Thread {
        /// The file.
        path: PathBuf,
        /// What happened.
        reason: String,
    },
}

impl NetnsError {
    /// The error class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Exists(_) => ErrorKind::AlreadyExists,
            Self::Open { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            _ => ErrorKind::Internal,
        }
    }
}

/// Directories already made private mounts by this process (checked once, so creating a
/// namespace does not rescan the mount table).
static PRIVATE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn mount_points() -> Vec<String> {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| p.replace("\\040", " "))
        .collect()
}

/// Makes `dir` exist and be a private bind mount of itself (once).
fn ensure_private_dir(dir: &Path) -> Result<PathBuf, NetnsError> {
    fs::create_dir_all(dir).map_err(|source| NetnsError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let dir = fs::canonicalize(dir).map_err(|source| NetnsError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut done = PRIVATE_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    if done.contains(&dir) {
        return Ok(dir);
    }
    let as_str = dir.to_string_lossy();
    if !mount_points().iter().any(|m| *m == as_str) {
        mount(
            Some(&dir),
            &dir,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|source| NetnsError::PrivateMount {
            path: dir.clone(),
            source,
        })?;
    }
    // Idempotent: re-marking an already private mount is harmless.
    mount(
        None::<&str>,
        &dir,
        None::<&str>,
        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|source| NetnsError::PrivateMount {
        path: dir.clone(),
        source,
    })?;
    done.push(dir.clone());
    Ok(dir)
}

/// Runs `f` on a fresh thread and returns its value, mapping a panic to an error.
fn on_thread<T: Send>(path: &Path, f: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("rocker-netns".into())
            .spawn_scoped(s, f)
            .map_err(|e| NetnsError::Thread {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        handle.join().map_err(|_| NetnsError::Thread {
            path: path.to_path_buf(),
            reason: "panicked".into(),
        })
    })
}

/// Creates a new network namespace bind-mounted at `path` (parent dir created), with `lo`
/// up. Does it on a short-lived thread (unshare(CLONE_NEWNET) affects only that thread) and
/// mounts /proc/thread-self/ns/net onto the file. On failure nothing is left behind.
pub fn create(path: &Path) -> Result<(), NetnsError> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    ensure_private_dir(parent)?;
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => drop(f),
        // A plain file left by a crash between creating and mounting is reused.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !is_netns(path) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(NetnsError::Exists(path.to_path_buf()))
        }
        Err(source) => {
            return Err(NetnsError::CreateFile {
                path: path.to_path_buf(),
                source,
            })
        }
    }
    let result = on_thread(path, || -> Result<(), NetnsError> {
        let p = || path.to_path_buf();
        unshare(CloneFlags::CLONE_NEWNET)
            .map_err(|source| NetnsError::Unshare { path: p(), source })?;
        rocker_sys::net::set_interface_up("lo")
            .map_err(|source| NetnsError::LoopbackUp { path: p(), source })?;
        mount(
            Some("/proc/thread-self/ns/net"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|source| NetnsError::BindMount { path: p(), source })
    })
    .and_then(|r| r);
    if result.is_err() {
        let _ = umount2(path, MntFlags::MNT_DETACH);
        let _ = fs::remove_file(path);
    }
    result
}

/// Unmounts (MNT_DETACH) and unlinks; Ok if it does not exist.
pub fn remove(path: &Path) -> Result<(), NetnsError> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
        Err(source) => {
            return Err(NetnsError::Unmount {
                path: path.to_path_buf(),
                source,
            })
        }
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(NetnsError::RemoveFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Runs `f` on a thread that has joined the namespace at `path`; returns f's value.
pub fn run_in<T: Send>(path: &Path, f: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
    let file = File::open(path).map_err(|source| NetnsError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    on_thread(path, move || -> Result<T, NetnsError> {
        setns(&file, CloneFlags::CLONE_NEWNET).map_err(|source| NetnsError::Enter {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(f())
    })
    .and_then(|r| r)
}

/// Whether `path` is a bind-mounted namespace (an nsfs file).
pub fn is_netns(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| s.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
        .unwrap_or(false)
}

/// Bind-mounted namespaces under `dir` (names), for reconciliation after a crash.
pub fn list(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| is_netns(&e.path()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    pub(crate) fn require_root() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test needs root (run the suite as root)"
        );
    }

    fn current_ns_inode() -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
    }

    #[test]
    fn create_run_in_list_remove() {
        require_root();
        let dir = tempfile::tempdir().unwrap();
        let ns_dir = dir.path().join("netns");
        let a = ns_dir.join("a");
        let t = Instant::now();
        create(&a).unwrap();
        eprintln!("netns create: {:?}", t.elapsed());
        assert!(is_netns(&a));
        assert_eq!(create(&a).unwrap_err().kind(), ErrorKind::AlreadyExists);
        let host = current_ns_inode();
        let (inode, lo_up) = run_in(&a, || {
            let flags = fs::read_to_string("/sys/class/net/lo/flags").ok();
            let sock = std::net::TcpListener::bind("127.0.0.1:0");
            (current_ns_inode(), (flags, sock.is_ok()))
        })
        .unwrap();
        assert_ne!(inode, host);
        assert!(lo_up.1, "lo is usable in the new namespace");
        assert_eq!(current_ns_inode(), host);
        fs::write(ns_dir.join("plain"), b"").unwrap();
        assert_eq!(list(&ns_dir), vec!["a".to_string()]);
        // A stale plain file (crash before the mount) is reused.
        create(&ns_dir.join("plain")).unwrap();
        assert_eq!(list(&ns_dir), vec!["a".to_string(), "plain".to_string()]);
        remove(&ns_dir.join("plain")).unwrap();
        let t = Instant::now();
        remove(&a).unwrap();
        eprintln!("netns remove: {:?}", t.elapsed());
        assert!(!a.exists());
        remove(&a).unwrap();
        assert!(list(&ns_dir).is_empty());
        assert_eq!(run_in(&a, || ()).unwrap_err().kind(), ErrorKind::NotFound);
        let _ = umount2(&ns_dir, MntFlags::MNT_DETACH);
    }

    #[test]
    fn dir_is_private_mount() {
        require_root();
        let dir = tempfile::tempdir().unwrap();
        let ns_dir = dir.path().join("netns");
        let a = ns_dir.join("x");
        create(&a).unwrap();
        let canon = fs::canonicalize(&ns_dir).unwrap();
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let line = info
            .lines()
            .find(|l| l.split(' ').nth(4) == Some(canon.to_str().unwrap()))
            .expect("dir is a mount point");
        let optional: Vec<&str> = line.split(' ').skip(6).take_while(|f| *f != "-").collect();
        assert!(
            !optional.iter().any(|f| f.starts_with("shared:")),
            "not shared: {line}"
        );
        remove(&a).unwrap();
        let _ = umount2(&ns_dir, MntFlags::MNT_DETACH);
    }
}
