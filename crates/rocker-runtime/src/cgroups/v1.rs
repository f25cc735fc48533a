//! cgroup v1 backend: one directory per mounted hierarchy, limits written to the
//! controller files (memory.limit_in_bytes, cpu.cfs_quota_us, pids.max, devices.allow …).

use std::path::{Path, PathBuf};
use std::time::Duration;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, LinuxResources};

use super::{read_file, write_file, Error, Result, V1Dir};

/// Copies cpuset.cpus and cpuset.mems from the parent into a new cpuset cgroup: v1 leaves
/// them empty, and no process can join a cpuset cgroup with empty sets.
pub(super) fn inherit_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for name in ["cpuset.cpus", "cpuset.mems"] {
        let own = read_file(&dir.join(name)).unwrap_or_default();
        if own.trim().is_empty() {
            let value = read_file(&parent.join(name))?;
            write_file(&dir.join(name), value.trim())?;
        }
    }
    Ok(())
}

/// Makes sure every cpuset level from the first initialised ancestor down to `dir` has its
/// sets: a parent made by a concurrent start may exist with its sets still empty (its
/// creator initialises it a moment later), and joining below it would fail with ENOSPC.
pub(super) fn ensure_cpuset_chain(dir: &Path) -> Result<()> {
    let mut chain = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        match read_file(&d.join("cpuset.cpus")) {
            Ok(v) if !v.trim().is_empty() && d != dir => break,
            Ok(_) => chain.push(d.to_path_buf()),
            Err(_) => break,
        }
        cur = d.parent();
    }
    for d in chain.iter().rev() {
        inherit_cpuset(d)?;
    }
    Ok(())
}

struct Files<'a> {
    dirs: &'a [V1Dir],
}

impl Files<'_> {
    fn path(
        &self,
        controller: &'static str,
        file: &str,
        resource: &'static str,
    ) -> Result<PathBuf> {
        self.dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == controller))
            .map(|d| d.dir.join(file))
            .ok_or(Error::ControllerMissing {
                controller,
                resource,
            })
    }

    fn write(
        &self,
        controller: &'static str,
        file: &str,
        resource: &'static str,
        value: &str,
    ) -> Result<()> {
        write_file(&self.path(controller, file, resource)?, value)
    }
}

/// Applies `r` to the v1 directories.
pub(super) fn apply(dirs: &[V1Dir], r: &LinuxResources) -> Result<()> {
    let f = Files { dirs };
    if let Some(m) = r.memory() {
        apply_memory(&f, m.limit(), m.swap())?;
        if let Some(v) = m.reservation() {
            f.write(
                "memory",
                "memory.soft_limit_in_bytes",
                "memory reservation",
                &v.to_string(),
            )?;
        }
        if let Some(v) = m.swappiness() {
            if v <= 100 {
                f.write(
                    "memory",
                    "memory.swappiness",
                    "memory swappiness",
                    &v.to_string(),
                )?;
            }
        }
        if m.disable_oom_killer() == Some(true) {
            f.write("memory", "memory.oom_control", "oom kill disable", "1")?;
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(v) = c.shares() {
            f.write("cpu", "cpu.shares", "cpu shares", &v.to_string())?;
        }
        if let Some(v) = c.period() {
            f.write("cpu", "cpu.cfs_period_us", "cpu period", &v.to_string())?;
        }
        if let Some(v) = c.quota() {
            f.write("cpu", "cpu.cfs_quota_us", "cpu quota", &v.to_string())?;
        }
        if let Some(v) = c.realtime_period() {
            f.write(
                "cpu",
                "cpu.rt_period_us",
                "cpu realtime period",
                &v.to_string(),
            )?;
        }
        if let Some(v) = c.realtime_runtime() {
            f.write(
                "cpu",
                "cpu.rt_runtime_us",
                "cpu realtime runtime",
                &v.to_string(),
            )?;
        }
        if let Some(v) = c.cpus().as_deref().filter(|v| !v.is_empty()) {
            f.write("cpuset", "cpuset.cpus", "cpuset cpus", v)?;
        }
        if let Some(v) = c.mems().as_deref().filter(|v| !v.is_empty()) {
            f.write("cpuset", "cpuset.mems", "cpuset mems", v)?;
        }
    }
    if let Some(p) = r.pids() {
        let v = if p.limit() > 0 {
            p.limit().to_string()
        } else {
            "max".to_string()
        };
        f.write("pids", "pids.max", "pids limit", &v)?;
    }
    if let Some(rules) = r.devices() {
        for rule in rules {
            let file = if rule.allow() {
                "devices.allow"
            } else {
                "devices.deny"
            };
            f.write("devices", file, "device rules", &device_rule(rule))?;
        }
    }
    if let Some(b) = r.block_io() {
        if let Some(w) = b.weight() {
            f.write("blkio", "blkio.weight", "blkio weight", &w.to_string())?;
        }
    }
    if let Some(limits) = r.hugepage_limits() {
        if dirs
            .iter()
            .any(|d| d.controllers.iter().any(|c| c == "hugetlb"))
        {
            for l in limits {
                let file = format!("hugetlb.{}.limit_in_bytes", l.page_size());
                f.write("hugetlb", &file, "hugepage limit", &l.limit().to_string())?;
            }
        }
    }
    if let Some(class_id) = r.network().as_ref().and_then(|n| n.class_id()) {
        f.write(
            "net_cls",
            "net_cls.classid",
            "network class id",
            &class_id.to_string(),
        )?;
    }
    Ok(())
}

/// memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at every step, so the
/// order of the two writes depends on whether the limits grow or shrink.
fn apply_memory(f: &Files<'_>, limit: Option<i64>, swap: Option<i64>) -> Result<()> {
    let limit_file = f.path("memory", "memory.limit_in_bytes", "memory limit")?;
    let swap_file = f.path("memory", "memory.memsw.limit_in_bytes", "memory swap limit")?;
    let swap = match swap {
        Some(s) if swap_file.exists() => Some(s),
        Some(_) => {
            tracing::warn!(
                "swap accounting is not enabled in the kernel; memory swap limit ignored"
            );
            None
        }
        None => None,
    };
    match (limit, swap) {
        (Some(l), Some(s)) => {
            if write_file(&limit_file, &l.to_string()).is_err() {
                write_file(&swap_file, &s.to_string())?;
                write_file(&limit_file, &l.to_string())
            } else {
                write_file(&swap_file, &s.to_string())
            }
        }
        (Some(l), None) => write_file(&limit_file, &l.to_string()),
        (None, Some(s)) => write_file(&swap_file, &s.to_string()),
        (None, None) => Ok(()),
    }
}

/// Formats a device rule as devices.allow / devices.deny expect ("c 1:3 rwm", "a *:* rwm").
pub(super) fn device_rule(rule: &LinuxDeviceCgroup) -> String {
    let typ = match rule.typ() {
        Some(LinuxDeviceType::B) => "b",
        Some(LinuxDeviceType::C | LinuxDeviceType::U) => "c",
        Some(LinuxDeviceType::P) => "p",
        Some(LinuxDeviceType::A) | None => "a",
    };
    let num = |n: Option<i64>| {
        n.filter(|n| *n >= 0)
            .map_or("*".to_string(), |n| n.to_string())
    };
    let access = rule.access().as_deref().unwrap_or("rwm");
    format!("{typ} {}:{} {access}", num(rule.major()), num(rule.minor()))
}

/// Writes freezer.state and waits (bounded) until the kernel reports the new state.
pub(super) fn set_frozen(dir: &Path, frozen: bool) -> Result<()> {
    let want = if frozen { "FROZEN" } else { "THAWED" };
    let file = dir.join("freezer.state");
    let mut delay = Duration::from_micros(100);
    for _ in 0..20 {
        write_file(&file, want)?;
        if read_file(&file)?.trim() == want {
            return Ok(());
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
    Err(Error::Freeze(dir.to_path_buf()))
}
