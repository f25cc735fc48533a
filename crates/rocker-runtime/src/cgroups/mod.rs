//! Control groups for containers on cgroup v1, v2 and hybrid hosts.
//!
//! A [`Layout`] says where the hierarchies are mounted (detected from /proc/self/mountinfo,
//! or built by hand over a fake tree in tests). A [`Cgroup`] is one container's group:
//! a directory under every v1 hierarchy and/or one under the unified (v2) hierarchy.
//! Hybrid hosts are simply both at once, so there is no third backend: v1 files carry the
//! limits, the unified directory tracks processes (and carries the controllers that are
//! only available there, e.g. hugetlb on the development machines).

mod v1;
mod v2;

use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

use crate::ErrorKind;

/// Errors of cgroup operations; every message names the file or directory involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("read mountinfo: {0}")]
    ReadMountinfo(#[source] io::Error),
    #[error("no cgroup hierarchy is mounted")]
    NoHierarchy,
    #[error("invalid cgroups path {0:?}: must not contain '..'")]
    InvalidPath(PathBuf),
    #[error("cgroup {0} does not exist")]
    NotFound(PathBuf),
    #[error("cgroup {0} is already in use by other processes")]
    InUse(PathBuf),
    #[error("create cgroup directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("write {value:?} to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        source: io::Error,
    },
    #[error("read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("parse {path}: unexpected content {content:?}")]
    Parse { path: PathBuf, content: String },
    #[error("{resource} requested but the {controller} controller is not available")]
    ControllerMissing {
        controller: &'static str,
        resource: &'static str,
    },
    #[error("remove cgroup directory {path}: {source}")]
    Remove { path: PathBuf, source: io::Error },
    #[error("signal process {pid} of cgroup {path}: {source}")]
    Signal {
        pid: i32,
        path: PathBuf,
        source: nix::Error,
    },
    #[error("freeze cgroup {0}: did not reach FROZEN")]
    Freeze(PathBuf),
}

impl Error {
    /// The kind of failure, for mapping to API errors.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidPath(_) | Error::ControllerMissing { .. } => ErrorKind::InvalidArgument,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InUse(_) => ErrorKind::AlreadyExists,
            _ => ErrorKind::Internal,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// One mounted v1 hierarchy: its mount point and the controllers bound to it
/// (`["cpu"]`, `["cpu", "cpuacct"]`, or a named hierarchy like `["name=systemd"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    pub mountpoint: PathBuf,
    pub controllers: Vec<String>,
}

/// Where the cgroup hierarchies of this host are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// Only v1 hierarchies.
    V1 { hierarchies: Vec<V1Hierarchy> },
    /// v1 hierarchies plus a cgroup2 mount (usually /sys/fs/cgroup/unified).
    Hybrid {
        hierarchies: Vec<V1Hierarchy>,
        unified: PathBuf,
    },
    /// Only the unified hierarchy (usually /sys/fs/cgroup).
    V2 { root: PathBuf },
}

const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "blkio",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

impl Layout {
    /// Detects the layout of the calling process's mount namespace.
    pub fn detect() -> Result<Layout> {
        let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(Error::ReadMountinfo)?;
        Layout::from_mountinfo(&text)
    }

    /// Builds the layout from the text of a mountinfo file.
    pub fn from_mountinfo(text: &str) -> Result<Layout> {
        let mut hierarchies = Vec::new();
        let mut unified = None;
        for line in text.lines() {
            // id parent major:minor root mountpoint options [optional...] - fstype source superopts
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let fields: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let (Some(mountpoint), Some(fstype)) = (fields.get(4), right.first()) else {
                continue;
            };
            let mountpoint = PathBuf::from(unescape_mountinfo(mountpoint));
            match *fstype {
                "cgroup2" if unified.is_none() => unified = Some(mountpoint),
                "cgroup" => {
                    let superopts = right.get(2).copied().unwrap_or("");
                    let controllers: Vec<String> = superopts
                        .split(',')
                        .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
                        .map(str::to_string)
                        .collect();
                    if !controllers.is_empty()
                        && !hierarchies
                            .iter()
                            .any(|h: &V1Hierarchy| h.controllers == controllers)
                    {
                        hierarchies.push(V1Hierarchy {
                            mountpoint,
                            controllers,
                        });
                    }
                }
                _ => {}
            }
        }
        match (hierarchies.is_empty(), unified) {
            (true, None) => Err(Error::NoHierarchy),
            (true, Some(root)) => Ok(Layout::V2 { root }),
            (false, None) => Ok(Layout::V1 { hierarchies }),
            (false, Some(unified)) => Ok(Layout::Hybrid {
                hierarchies,
                unified,
            }),
        }
    }

    fn v1_hierarchies(&self) -> &[V1Hierarchy] {
        match self {
            Layout::V1 { hierarchies } | Layout::Hybrid { hierarchies, .. } => hierarchies,
            Layout::V2 { .. } => &[],
        }
    }

    fn unified_root(&self) -> Option<&Path> {
        match self {
            Layout::V1 { .. } => None,
            Layout::Hybrid { unified, .. } => Some(unified),
            Layout::V2 { root } => Some(root),
        }
    }
}

fn unescape_mountinfo(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// A v1 directory of a cgroup, with the controllers of its hierarchy.
#[derive(Debug, Clone)]
pub(crate) struct V1Dir {
    pub(crate) controllers: Vec<String>,
    pub(crate) dir: PathBuf,
    pub(crate) mountpoint: PathBuf,
}

/// One container's control group across all hierarchies.
#[derive(Debug)]
pub struct Cgroup {
    path: PathBuf,
    v1: Vec<V1Dir>,
    unified: Option<PathBuf>,
    pure_v2: bool,
    /// Directories this value created, parents first (removed again by `abandon`).
    created: Vec<PathBuf>,
}

/// Turns a cgroupsPath (absolute or relative; both are taken from the hierarchy root)
/// into a clean relative path.
fn relative_path(path: &Path) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(Error::InvalidPath(path.to_path_buf()))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(Error::InvalidPath(path.to_path_buf()));
    }
    Ok(out)
}

pub(crate) fn write_file(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

pub(crate) fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_procs(file: &Path) -> Result<Vec<i32>> {
    let text = read_file(file)?;
    Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
}

/// Reads `key N` from a flat-keyed file such as memory.events or memory.oom_control.
fn read_keyed(file: &Path, key: &str) -> Result<Option<u64>> {
    let text = read_file(file)?;
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(' ') {
            if k == key {
                return v.trim().parse().map(Some).map_err(|_| Error::Parse {
                    path: file.to_path_buf(),
                    content: line.to_string(),
                });
            }
        }
    }
    Ok(None)
}

/// mkdir -p that records which directories it created; existing ones are fine.
fn mkdir_all(
    dir: &Path,
    created: &mut Vec<PathBuf>,
    on_new: &mut dyn FnMut(&Path) -> Result<()>,
) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        mkdir_all(parent, created, on_new)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {
            created.push(dir.to_path_buf());
            on_new(dir)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(Error::CreateDir {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// rmdir that tolerates a missing directory and retries briefly while the kernel still
/// counts exiting processes (EBUSY). Never on the start path.
fn remove_dir(dir: &Path) -> Result<()> {
    let mut delay = Duration::from_millis(1);
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e)
                if e.raw_os_error() == Some(libc::EBUSY) && delay < Duration::from_millis(600) =>
            {
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(source) => {
                return Err(Error::Remove {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

impl Cgroup {
    /// Creates (or reuses an empty) cgroup at `path` under every hierarchy of `layout` and
    /// applies `resources`. On error, directories created here are removed again.
    pub fn create(
        layout: &Layout,
        path: &Path,
        resources: Option<&LinuxResources>,
    ) -> Result<Cgroup> {
        let mut cg = Cgroup::locate(layout, path)?;
        let result = cg.create_dirs(layout).and_then(|()| match resources {
            Some(r) => cg.apply(r),
            None => Ok(()),
        });
        match result {
            Ok(()) => Ok(cg),
            Err(e) => {
                cg.abandon();
                Err(e)
            }
        }
    }

    /// Opens the existing cgroup at `path` on this host.
    pub fn open(path: &Path) -> Result<Cgroup> {
        Cgroup::open_in(&Layout::detect()?, path)
    }

    /// Opens the existing cgroup at `path` in `layout`; hierarchies where it is missing are
    /// skipped, and it is an error only if it is missing everywhere.
    pub fn open_in(layout: &Layout, path: &Path) -> Result<Cgroup> {
        let mut cg = Cgroup::locate(layout, path)?;
        cg.v1.retain(|d| d.dir.is_dir());
        if cg.unified.as_deref().is_some_and(|u| !u.is_dir()) {
            cg.unified = None;
        }
        if cg.v1.is_empty() && cg.unified.is_none() {
            return Err(Error::NotFound(cg.path));
        }
        Ok(cg)
    }

    fn locate(layout: &Layout, path: &Path) -> Result<Cgroup> {
        let rel = relative_path(path)?;
        let v1 = layout
            .v1_hierarchies()
            .iter()
            .map(|h| V1Dir {
                controllers: h.controllers.clone(),
                dir: h.mountpoint.join(&rel),
                mountpoint: h.mountpoint.clone(),
            })
            .collect();
        Ok(Cgroup {
            path: Path::new("/").join(&rel),
            v1,
            unified: layout.unified_root().map(|u| u.join(&rel)),
            pure_v2: matches!(layout, Layout::V2 { .. }),
            created: Vec::new(),
        })
    }

    fn create_dirs(&mut self, layout: &Layout) -> Result<()> {
        let mut created = Vec::new();
        let result = (|| {
            for d in &self.v1 {
                let cpuset = d.controllers.iter().any(|c| c == "cpuset");
                mkdir_all(&d.dir, &mut created, &mut |dir| {
                    if cpuset {
                        v1::inherit_cpuset(dir)
                    } else {
                        Ok(())
                    }
                })?;
                if cpuset {
                    v1::ensure_cpuset_chain(&d.dir)?;
                }
                if !read_procs(&d.dir.join("cgroup.procs"))
                    .unwrap_or_default()
                    .is_empty()
                {
                    return Err(Error::InUse(d.dir.clone()));
                }
            }
            if let (Some(u), Some(root)) = (&self.unified, layout.unified_root()) {
                mkdir_all(u, &mut created, &mut |_| Ok(()))?;
                if !read_procs(&u.join("cgroup.procs"))
                    .unwrap_or_default()
                    .is_empty()
                {
                    return Err(Error::InUse(u.clone()));
                }
                if self.pure_v2 {
                    v2::enable_controllers(root, u)?;
                }
            }
            Ok(())
        })();
        self.created = created;
        result
    }

    /// Applies (or updates) resource limits.
    pub fn apply(&self, resources: &LinuxResources) -> Result<()> {
        if !self.v1.is_empty() {
            v1::apply(&self.v1, resources)?;
        }
        if let Some(u) = &self.unified {
            // On hybrid hosts the unified hierarchy only gets what v1 cannot carry.
            let v1_controllers: Vec<&str> = self
                .v1
                .iter()
                .flat_map(|d| d.controllers.iter().map(String::as_str))
                .collect();
            v2::apply(u, resources, &v1_controllers, self.pure_v2)?;
        }
        Ok(())
    }

    /// The cgroups path, absolute from the hierarchy roots (e.g. `/rocker/<id>`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory in the unified hierarchy (v2 and hybrid), for CLONE_INTO_CGROUP.
    pub fn unified_dir(&self) -> Option<&Path> {
        self.unified.as_deref()
    }

    /// True on a pure v2 host.
    pub fn is_pure_v2(&self) -> bool {
        self.pure_v2
    }

    pub(crate) fn v1_dirs(&self) -> &[V1Dir] {
        &self.v1
    }

    /// Moves `pid` into the cgroup: every v1 directory, and the unified one unless
    /// `unified_done` (the process was cloned straight into it).
    pub fn add_process(&self, pid: Pid, unified_done: bool) -> Result<()> {
        let value = pid.as_raw().to_string();
        for d in &self.v1 {
            write_file(&d.dir.join("cgroup.procs"), &value)?;
        }
        if let (Some(u), false) = (&self.unified, unified_done) {
            write_file(&u.join("cgroup.procs"), &value)?;
        }
        Ok(())
    }

    /// The file listing the member processes that is most likely complete.
    fn procs_file(&self) -> Option<PathBuf> {
        if let Some(u) = &self.unified {
            return Some(u.join("cgroup.procs"));
        }
        let pick = |name: &str| {
            self.v1
                .iter()
                .find(|d| d.controllers.iter().any(|c| c == name))
        };
        pick("pids")
            .or_else(|| pick("freezer"))
            .or_else(|| pick("memory"))
            .or_else(|| self.v1.first())
            .map(|d| d.dir.join("cgroup.procs"))
    }

    /// Pids (in the caller's pid namespace) of every process in the cgroup.
    pub fn pids(&self) -> Result<Vec<i32>> {
        match self.procs_file() {
            Some(f) => match read_procs(&f) {
                Err(Error::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                    Ok(Vec::new())
                }
                other => other,
            },
            None => Ok(Vec::new()),
        }
    }

    /// True when the kernel OOM killer killed a process of this cgroup.
    pub fn oom_killed(&self) -> Result<bool> {
        if let Some(d) = self
            .v1
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "memory"))
        {
            return Ok(read_keyed(&d.dir.join("memory.oom_control"), "oom_kill")?.unwrap_or(0) > 0);
        }
        if let (Some(u), true) = (&self.unified, self.pure_v2) {
            return Ok(read_keyed(&u.join("memory.events"), "oom_kill")?.unwrap_or(0) > 0);
        }
        Ok(false)
    }

    /// Sends `signal` to every process of the cgroup. SIGKILL uses cgroup.kill on v2 and
    /// freezes the group on v1 first, so a forking process cannot escape.
    pub fn kill_all(&self, signal: Signal) -> Result<()> {
        if signal == Signal::SIGKILL && self.pure_v2 {
            if let Some(u) = &self.unified {
                let kill = u.join("cgroup.kill");
                if kill.exists() {
                    return write_file(&kill, "1");
                }
            }
        }
        let frozen = signal == Signal::SIGKILL && self.freeze().is_ok();
        let result = self.signal_each(signal);
        if frozen {
            self.thaw()?;
        }
        result
    }

    fn signal_each(&self, signal: Signal) -> Result<()> {
        for pid in self.pids()? {
            match nix::sys::signal::kill(Pid::from_raw(pid), signal) {
                Ok(()) | Err(nix::Error::ESRCH) => {}
                Err(source) => {
                    return Err(Error::Signal {
                        pid,
                        path: self.path.clone(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Freezes every process of the cgroup (v1 freezer or v2 cgroup.freeze).
    pub fn freeze(&self) -> Result<()> {
        self.set_frozen(true)
    }

    /// Undoes [`Cgroup::freeze`].
    pub fn thaw(&self) -> Result<()> {
        self.set_frozen(false)
    }

    fn set_frozen(&self, frozen: bool) -> Result<()> {
        if let Some(d) = self
            .v1
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "freezer"))
        {
            return v1::set_frozen(&d.dir, frozen);
        }
        match &self.unified {
            Some(u) if self.pure_v2 => v2::set_frozen(u, frozen),
            _ => Err(Error::ControllerMissing {
                controller: "freezer",
                resource: "freeze",
            }),
        }
    }

    /// Removes the cgroup's directories (not the parents). Processes must be gone; retries
    /// briefly while they are still exiting.
    pub fn destroy(&self) -> Result<()> {
        let mut first_err = None;
        for dir in self.v1.iter().map(|d| &d.dir).chain(self.unified.iter()) {
            if let Err(e) = remove_dir(dir) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Best-effort removal of everything `create` made, parents included (for failed
    /// creates, where nothing may be left behind).
    pub(crate) fn abandon(&mut self) {
        // One attempt each: a shared parent may hold another container's cgroup.
        for dir in self.created.drain(..).rev() {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

#[cfg(test)]
mod tests;
