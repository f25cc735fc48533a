//! Host-side facts the tests assert on and the harness cleans up: mounts (from
//! /proc/self/mountinfo), cgroup directories in every hierarchy (v1 controllers and cgroup2,
//! which on hybrid hosts are separate mounts), and processes.
//!
//! A daemon under test is identified by two unique markers: its private directory (every
//! mount and every daemon/shim command line mentions it) and its cgroup parent name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// One line of /proc/self/mountinfo, the parts we need.
#[derive(Debug, Clone)]
pub struct MountInfo {
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub super_options: Vec<String>,
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            let mount_point = pre.split(' ').nth(4)?;
            let mut post = post.split(' ');
            let fs_type = post.next()?.to_string();
            let _source = post.next()?;
            let super_options = post
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::to_string)
                .collect();
            Some(MountInfo {
                mount_point: PathBuf::from(unescape_octal(mount_point)),
                fs_type,
                super_options,
            })
        })
        .collect()
}

/// All mounts in our mount namespace.
pub fn mounts() -> Vec<MountInfo> {
    parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// Mount points at or below `root`.
pub fn mounts_under(root: &Path) -> Vec<PathBuf> {
    mounts()
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|p| p.starts_with(root))
        .collect()
}

/// Lazily unmount everything at or below `root`, deepest first. Returns what is still
/// mounted afterwards (should be nothing).
pub fn unmount_all_under(root: &Path) -> Vec<PathBuf> {
    for _ in 0..5 {
        let mut points = mounts_under(root);
        if points.is_empty() {
            break;
        }
        points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for p in points {
            let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
        }
    }
    mounts_under(root)
}

/// A cgroup hierarchy: where it is mounted and which controllers (or `name=`) it carries;
/// empty `controllers` means the unified (v2) hierarchy.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub mount_point: PathBuf,
    pub controllers: Vec<String>,
    /// Our own cgroup in this hierarchy (from /proc/self/cgroup), relative, may be empty.
    pub own_path: String,
}

const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "blkio",
    "pids",
    "net_cls",
    "net_prio",
    "perf_event",
    "hugetlb",
    "rdma",
    "misc",
];

/// The cgroup mounts of this host (each hierarchy once).
pub fn hierarchies() -> Vec<Hierarchy> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let own: Vec<(String, String)> = own
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in mounts() {
        let controllers: Vec<String> = match m.fs_type.as_str() {
            "cgroup" => m
                .super_options
                .iter()
                .filter(|o| V1_CONTROLLERS.contains(&o.as_str()) || o.starts_with("name="))
                .cloned()
                .collect(),
            "cgroup2" => Vec::new(),
            _ => continue,
        };
        if !seen.insert(controllers.clone()) {
            continue;
        }
        let own_path = own
            .iter()
            .find(|(ctrls, _)| {
                let set: BTreeSet<&str> = ctrls.split(',').filter(|c| !c.is_empty()).collect();
                let want: BTreeSet<&str> = controllers.iter().map(String::as_str).collect();
                set == want
            })
            .map(|(_, p)| p.trim_start_matches('/').to_string())
            .unwrap_or_default();
        out.push(Hierarchy {
            mount_point: m.mount_point,
            controllers,
            own_path,
        });
    }
    out
}

/// Existing directories named `parent` in every hierarchy: at the hierarchy root (Docker's
/// cgroupfs convention) and below our own cgroup (in case the daemon nests under itself).
pub fn cgroup_parent_dirs(parent: &str) -> Vec<PathBuf> {
    let mut dirs = BTreeSet::new();
    for h in hierarchies() {
        let at_root = h.mount_point.join(parent);
        if at_root.is_dir() {
            dirs.insert(at_root);
        }
        if !h.own_path.is_empty() {
            let nested = h.mount_point.join(&h.own_path).join(parent);
            if nested.is_dir() {
                dirs.insert(nested);
            }
        }
    }
    dirs.into_iter().collect()
}

fn subdirs_recursive(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            let p = e.path();
            out.push(p.clone());
            subdirs_recursive(&p, out);
        }
    }
}

/// Every cgroup directory below the `parent` dirs (not the parent dirs themselves).
pub fn cgroups_under_parent(parent: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in cgroup_parent_dirs(parent) {
        subdirs_recursive(&d, &mut out);
    }
    out
}

/// Pids listed in `cgroup.procs` anywhere in the `parent` subtrees.
pub fn pids_in_cgroup_parent(parent: &str) -> BTreeSet<i32> {
    let mut dirs = cgroup_parent_dirs(parent);
    dirs.extend(cgroups_under_parent(parent));
    dirs.iter()
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|s| {
            s.lines()
                .filter_map(|l| l.trim().parse::<i32>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Pids (other than ours) whose command line mentions `needle`.
pub fn pids_mentioning(needle: &Path) -> BTreeSet<i32> {
    let needle = needle.to_string_lossy().into_owned();
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(&needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// True while `pid` exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state is the first field after the parenthesised command name.
    match stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
    {
        Some('Z') | Some('X') | None => false,
        Some(_) => true,
    }
}

/// SIGKILL every process in the cgroup subtree of `parent` or mentioning `root` in its
/// command line (daemons and shims of one test instance), and wait briefly for them to go.
pub fn kill_leftovers(root: &Path, parent: &str) {
    for _ in 0..3 {
        let mut pids = pids_in_cgroup_parent(parent);
        pids.extend(pids_mentioning(root));
        pids.retain(|&p| p > 1 && p != std::process::id() as i32);
        if pids.is_empty() {
            return;
        }
        for &pid in &pids {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        crate::wait_until(Duration::from_secs(3), || {
            pids.iter().all(|&p| !process_alive(p))
        });
    }
}

/// Remove every cgroup directory below `parent` (deepest first) and the parent dirs
/// themselves, retrying while the kernel still reports them busy. Returns what is left.
pub fn remove_cgroups(parent: &str) -> Vec<PathBuf> {
    let attempt = || {
        let mut dirs = cgroups_under_parent(parent);
        dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        dirs.extend(cgroup_parent_dirs(parent));
        for d in &dirs {
            let _ = std::fs::remove_dir(d);
        }
        cgroup_parent_dirs(parent).is_empty()
    };
    crate::wait_until(Duration::from_secs(3), attempt);
    let mut left = cgroup_parent_dirs(parent);
    left.extend(cgroups_under_parent(parent));
    left
}

/// The directory of process `pid`'s cgroup in the hierarchy carrying `controller` (v1 name
/// such as "pids", "cpu", "memory"; "" for the unified hierarchy).
pub fn process_cgroup_dir(pid: i32, controller: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let rel = text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let _id = parts.next()?;
        let ctrls = parts.next()?;
        let path = parts.next()?;
        let matches = if controller.is_empty() {
            ctrls.is_empty()
        } else {
            ctrls.split(',').any(|c| c == controller)
        };
        matches.then(|| path.trim_start_matches('/').to_string())
    })?;
    let h = hierarchies().into_iter().find(|h| {
        if controller.is_empty() {
            h.controllers.is_empty()
        } else {
            h.controllers.iter().any(|c| c == controller)
        }
    })?;
    Some(h.mount_point.join(rel))
}

/// Read one cgroup file of `pid` (trimmed), e.g. `("pids", "pids.max")`.
pub fn read_cgroup_file(pid: i32, controller: &str, file: &str) -> Option<String> {
    let dir = process_cgroup_dir(pid, controller)?;
    std::fs::read_to_string(dir.join(file))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Relative paths (two levels deep) of the entries below `dir`, for before/after
/// comparisons of a store directory; empty if `dir` does not exist.
pub fn list_tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, depth: u32, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if let Ok(rel) = p.strip_prefix(base) {
                out.insert(rel.to_path_buf());
            }
            if depth > 0 && e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &p, depth - 1, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, 1, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_parsing_and_unescape() {
        let text = "36 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                    99 27 0:50 / /tmp/a\\040b rw - overlay overlay rw,lowerdir=/x\n";
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].fs_type, "cgroup");
        assert!(m[0].super_options.iter().any(|o| o == "memory"));
        assert_eq!(m[1].mount_point, PathBuf::from("/tmp/a b"));
    }

    #[test]
    fn own_process_is_alive_and_has_cgroups() {
        assert!(process_alive(std::process::id() as i32));
        assert!(!hierarchies().is_empty() || !Path::new("/sys/fs/cgroup").exists());
    }
}
