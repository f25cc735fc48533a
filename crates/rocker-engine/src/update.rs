//! `docker update` and `docker restart`. An update changes a container's resources and
//! restart policy: the record's HostConfig is changed and persisted (a later start builds
//! its spec from it), and a running container's cgroup gets the new values at once. The
//! engine writes the cgroup files itself (v1 controllers or the v2 unified hierarchy, found
//! through mountinfo); the kernel's refusal (EBUSY for a memory limit below the usage) is
//! surfaced as Docker does. A restart is a stop with the timeout followed by a start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rocker_api::models::{HostConfig, RestartPolicy};
use serde::Deserialize;

use crate::error::{Error, Kind, Result};
use crate::{lock, Engine};

/// The body of `POST /containers/{id}/update` (Docker's `container.UpdateConfig`: the
/// Resources fields and RestartPolicy). Absent, null and zero values leave things as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateConfig {
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
    pub restart_policy: Option<RestartPolicy>,
}

fn set(v: Option<i64>) -> Option<i64> {
    v.filter(|v| *v != 0)
}

/// Docker's checks of an update against the container's current HostConfig, then the new
/// HostConfig.
pub fn updated_host_config(id: &str, hc: &HostConfig, u: &UpdateConfig) -> Result<HostConfig> {
    let mut n = hc.clone();
    let (memory, swap) = (set(u.memory), set(u.memory_swap));
    if let Some(m) = memory {
        if m < 6 << 20 {
            return Err(Error::invalid("Minimum memory limit allowed is 6MB"));
        }
    }
    if let (Some(m), Some(s)) = (memory, swap) {
        if s > 0 && s < m {
            return Err(Error::invalid(
                "Minimum memoryswap limit should be larger than memory limit, see usage",
            ));
        }
    }
    let cannot = |msg: &str| Error::invalid(format!("Cannot update container {id}: {msg}"));
    if let Some(m) = memory {
        if swap.is_none() && hc.memory_swap > 0 && m > hc.memory_swap {
            return Err(cannot("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"));
        }
        n.memory = m;
    }
    if let Some(s) = swap {
        if memory.is_none() && s > 0 && hc.memory > 0 && s < hc.memory {
            return Err(Error::invalid(
                "Minimum memoryswap limit should be larger than memory limit, see usage",
            ));
        }
        n.memory_swap = s;
    }
    if let Some(r) = set(u.memory_reservation) {
        n.memory_reservation = r;
    }
    if let Some(c) = set(u.nano_cpus) {
        if c < 0 {
            return Err(Error::invalid(
                "Range of CPUs is from 0.01 to the number of CPUs available",
            ));
        }
        if hc.cpu_period != 0 && set(u.cpu_period).is_none() {
            return Err(cannot(
                "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set",
            ));
        }
        if hc.cpu_quota != 0 && set(u.cpu_quota).is_none() {
            return Err(cannot(
                "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set",
            ));
        }
        n.nano_cpus = c;
    }
    if let Some(p) = set(u.cpu_period) {
        if hc.nano_cpus != 0 || set(u.nano_cpus).is_some() {
            return Err(cannot(
                "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set",
            ));
        }
        if !(1000..=1_000_000).contains(&p) {
            return Err(Error::invalid(
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
            ));
        }
        n.cpu_period = p;
    }
    if let Some(q) = set(u.cpu_quota) {
        if hc.nano_cpus != 0 || set(u.nano_cpus).is_some() {
            return Err(cannot(
                "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set",
            ));
        }
        if q > 0 && q < 1000 {
            return Err(Error::invalid(
                "CPU cfs quota can not be less than 1ms (i.e. 1000)",
            ));
        }
        n.cpu_quota = q;
    }
    if let Some(s) = set(u.cpu_shares) {
        n.cpu_shares = s;
    }
    if let Some(c) = u.cpuset_cpus.as_ref().filter(|c| !c.is_empty()) {
        n.cpuset_cpus = c.clone();
    }
    if let Some(m) = u.cpuset_mems.as_ref().filter(|m| !m.is_empty()) {
        n.cpuset_mems = m.clone();
    }
    if let Some(p) = u.pids_limit {
        n.pids_limit = Some(p);
    }
    if let Some(w) = u.blkio_weight.filter(|w| *w != 0) {
        if !(10..=1000).contains(&w) {
            return Err(Error::invalid("Range of blkio weight is from 10 to 1000"));
        }
        n.blkio_weight = w;
    }
    if let Some(rp) = u.restart_policy.as_ref().filter(|rp| !rp.name.is_empty()) {
        match rp.name.as_str() {
            "no" | "always" | "unless-stopped" | "on-failure" => {}
            other => {
                return Err(Error::invalid(format!("invalid restart policy '{other}'")));
            }
        }
        if rp.name != "no" && hc.auto_remove {
            return Err(cannot(
                "Restart policy cannot be updated because AutoRemove is enabled for the container",
            ));
        }
        if rp.name != "on-failure" && rp.maximum_retry_count != 0 {
            return Err(Error::invalid(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'",
            ));
        }
        n.restart_policy = rp.clone();
    }
    Ok(n)
}

/// One cgroup file and its new content, written in order.
type Write = (&'static str, &'static str, String);

/// The cgroup v1 writes (controller, file, value) for a HostConfig; the memory pair is
/// ordered so that memory <= memory+swap holds at every step (`growing`: the new memory
/// limit is above the current one).
pub fn v1_writes(hc: &HostConfig, growing: bool) -> Vec<Write> {
    let mut w: Vec<Write> = Vec::new();
    if hc.memory != 0 {
        // Negative: unlimited (used to put back a container that had no limit).
        let mem = (
            "memory",
            "memory.limit_in_bytes",
            hc.memory.max(-1).to_string(),
        );
        let swap = match hc.memory_swap {
            _ if hc.memory < 0 => -1,
            0 => hc.memory * 2,
            s => s,
        };
        let sw = ("memory", "memory.memsw.limit_in_bytes", swap.to_string());
        if growing {
            w.push(sw);
            w.push(mem);
        } else {
            w.push(mem);
            w.push(sw);
        }
    }
    if hc.memory_reservation > 0 {
        w.push((
            "memory",
            "memory.soft_limit_in_bytes",
            hc.memory_reservation.to_string(),
        ));
    }
    if hc.cpu_shares > 0 {
        w.push(("cpu", "cpu.shares", hc.cpu_shares.to_string()));
    }
    let (period, quota) = cpu_period_quota(hc);
    if let Some(p) = period {
        w.push(("cpu", "cpu.cfs_period_us", p.to_string()));
    }
    if let Some(q) = quota {
        w.push(("cpu", "cpu.cfs_quota_us", q.to_string()));
    }
    if !hc.cpuset_cpus.is_empty() {
        w.push(("cpuset", "cpuset.cpus", hc.cpuset_cpus.clone()));
    }
    if !hc.cpuset_mems.is_empty() {
        w.push(("cpuset", "cpuset.mems", hc.cpuset_mems.clone()));
    }
    if let Some(p) = hc.pids_limit {
        w.push(("pids", "pids.max", pids_value(p)));
    }
    if hc.blkio_weight > 0 {
        w.push(("blkio", "blkio.weight", hc.blkio_weight.to_string()));
    }
    w
}

/// The cgroup v2 writes (file, value) for a HostConfig.
pub fn v2_writes(hc: &HostConfig, growing: bool) -> Vec<(&'static str, String)> {
    let mut w = Vec::new();
    if hc.memory < 0 {
        w.push(("memory.swap.max", "max".to_string()));
        w.push(("memory.max", "max".to_string()));
    } else if hc.memory > 0 {
        let mem = ("memory.max", hc.memory.to_string());
        let swap = match hc.memory_swap {
            0 => hc.memory.to_string(),
            s if s < 0 => "max".to_string(),
            s => (s - hc.memory).max(0).to_string(),
        };
        let sw = ("memory.swap.max", swap);
        if growing {
            w.push(sw);
            w.push(mem);
        } else {
            w.push(mem);
            w.push(sw);
        }
    }
    if hc.memory_reservation > 0 {
        w.push(("memory.low", hc.memory_reservation.to_string()));
    }
    if hc.cpu_shares > 0 {
        let weight = 1 + ((hc.cpu_shares.clamp(2, 262_144) - 2) * 9999) / 262_142;
        w.push(("cpu.weight", weight.to_string()));
    }
    let (period, quota) = cpu_period_quota(hc);
    if period.is_some() || quota.is_some() {
        let q = match quota {
            Some(q) if q > 0 => q.to_string(),
            _ => "max".to_string(),
        };
        w.push(("cpu.max", format!("{q} {}", period.unwrap_or(100_000))));
    }
    if !hc.cpuset_cpus.is_empty() {
        w.push(("cpuset.cpus", hc.cpuset_cpus.clone()));
    }
    if !hc.cpuset_mems.is_empty() {
        w.push(("cpuset.mems", hc.cpuset_mems.clone()));
    }
    if let Some(p) = hc.pids_limit {
        w.push(("pids.max", pids_value(p)));
    }
    if hc.blkio_weight > 0 {
        w.push(("io.weight", format!("default {}", hc.blkio_weight)));
    }
    w
}

fn pids_value(p: i64) -> String {
    if p > 0 {
        p.to_string()
    } else {
        "max".to_string()
    }
}

/// The CFS period and quota a HostConfig asks for (NanoCpus over a 100 ms period).
fn cpu_period_quota(hc: &HostConfig) -> (Option<u64>, Option<i64>) {
    if hc.nano_cpus > 0 {
        let period: u64 = 100_000;
        let quota = (hc.nano_cpus as u128 * period as u128 / 1_000_000_000) as i64;
        return (Some(period), Some(quota));
    }
    (
        (hc.cpu_period > 0).then_some(hc.cpu_period as u64),
        (hc.cpu_quota != 0).then_some(hc.cpu_quota),
    )
}

/// Cgroup mount points: v1 controller -> mount point, and the cgroup2 mount.
fn cgroup_mounts(text: &str) -> (HashMap<String, PathBuf>, Option<PathBuf>) {
    let mut v1 = HashMap::new();
    let mut unified = None;
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mp = left
            .split(' ')
            .nth(4)
            .map(|m| PathBuf::from(m.replace("\\040", " ")));
        let right: Vec<&str> = right.split(' ').collect();
        let Some(mp) = mp else { continue };
        match right.first().copied() {
            Some("cgroup2") if unified.is_none() => unified = Some(mp),
            Some("cgroup") => {
                for opt in right.get(2).copied().unwrap_or("").split(',') {
                    v1.entry(opt.to_string()).or_insert_with(|| mp.clone());
                }
            }
            _ => {}
        }
    }
    (v1, unified)
}

fn write_file(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value)
        .map_err(|e| Error::internal(format!("writing {} to {}: {}", value, path.display(), e)))
}

/// Writes the HostConfig's resources to the cgroup at `rel` (relative to the hierarchy
/// roots); files a hierarchy lacks (swap accounting off, no cpuset) are skipped.
fn apply_cgroup(rel: &str, new: &HostConfig, old: &HostConfig) -> Result<()> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Error::internal(format!("reading mountinfo: {e}")))?;
    let (v1, unified) = cgroup_mounts(&text);
    let rel = rel.trim_matches('/');
    // Whether the memory limit goes up (0 and negative: unlimited).
    let growing = new.memory < 0 || (old.memory > 0 && new.memory > old.memory);
    if v1.contains_key("memory") || unified.is_none() {
        for (ctrl, file, value) in v1_writes(new, growing) {
            let Some(mp) = v1.get(ctrl) else { continue };
            let path = mp.join(rel).join(file);
            if path.exists() {
                write_file(&path, &value)?;
            }
        }
    } else if let Some(u) = unified {
        for (file, value) in v2_writes(new, growing) {
            let path = u.join(rel).join(file);
            if path.exists() {
                write_file(&path, &value)?;
            }
        }
    }
    Ok(())
}

impl Engine {
    /// `POST /containers/{id}/update`: returns Docker's warnings.
    pub async fn update(&self, id: &str, u: &UpdateConfig) -> Result<Vec<String>> {
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        let rec = entry.record();
        let new = updated_host_config(&rec.id, &rec.host_config, u)?;
        if rec.state.status.is_alive() {
            let rel = format!("{}/{}", self.cfg.cgroup_parent.trim_matches('/'), rec.id);
            if let Err(e) = apply_cgroup(&rel, &new, &rec.host_config) {
                // Put back what was written before the failure (no limit: unlimited).
                let mut back = rec.host_config.clone();
                if back.memory == 0 && new.memory != 0 {
                    back.memory = -1;
                }
                let _ = apply_cgroup(&rel, &back, &new);
                return Err(Error::new(
                    Kind::Internal,
                    format!("Cannot update container {}: {}", rec.id, e.message),
                ));
            }
        }
        let snapshot = {
            let mut r = lock(&entry.record);
            r.host_config = new;
            r.clone()
        };
        self.persist(&snapshot)?;
        self.emit(&snapshot, "update", &[]);
        Ok(Vec::new())
    }

    /// `POST /containers/{id}/restart?t=&signal=`: stop (when running) with the timeout,
    /// then start; Docker's `restart` event.
    pub async fn restart(
        self: &Arc<Self>,
        id: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        if let Some(s) = signal {
            crate::signal::parse(s)?;
        }
        // As Docker: an auto-remove container is not removed by the stop of a restart.
        let auto_remove = std::mem::take(&mut lock(&entry.record).host_config.auto_remove);
        let result = self.stop_then_start(&entry, timeout, signal).await;
        if auto_remove {
            let snapshot = {
                let mut r = lock(&entry.record);
                r.host_config.auto_remove = true;
                r.clone()
            };
            self.persist(&snapshot)?;
            if result.is_err() && !snapshot.state.status.is_alive() {
                let (engine, id) = (self.clone(), entry.id.clone());
                tokio::spawn(async move {
                    let _ = engine.remove_opts(&id, true, true).await;
                });
            }
        }
        result?;
        self.emit(&entry.record(), "restart", &[]);
        Ok(())
    }

    async fn stop_then_start(
        self: &Arc<Self>,
        entry: &Arc<crate::Entry>,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        match self.stop_locked(entry, timeout, signal).await {
            Ok(()) => {}
            Err(e) if e.kind == Kind::NotModified => {}
            Err(e) => return Err(e),
        }
        self.reset_restart(entry)?;
        self.start_locked(entry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc() -> HostConfig {
        HostConfig::default()
    }

    #[test]
    fn update_checks_docker_rules() {
        let u = UpdateConfig {
            memory: Some(64 << 20),
            memory_swap: Some(32 << 20),
            ..Default::default()
        };
        let e = updated_host_config("c", &hc(), &u).unwrap_err();
        assert_eq!(e.kind, Kind::InvalidArgument);
        assert_eq!(
            e.message,
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        );
        let mut auto = hc();
        auto.auto_remove = true;
        let u = UpdateConfig {
            restart_policy: Some(RestartPolicy {
                name: "always".into(),
                maximum_retry_count: 0,
            }),
            ..Default::default()
        };
        let e = updated_host_config("c", &auto, &u).unwrap_err();
        assert_eq!(e.kind, Kind::InvalidArgument);
        assert!(e.message.contains("AutoRemove"), "{}", e.message);
        let n = updated_host_config("c", &hc(), &u).unwrap();
        assert_eq!(n.restart_policy.name, "always");
        let u = UpdateConfig {
            memory: Some(64 << 20),
            pids_limit: Some(50),
            cpu_shares: Some(0),
            ..Default::default()
        };
        let n = updated_host_config("c", &hc(), &u).unwrap();
        assert_eq!(
            (n.memory, n.pids_limit, n.cpu_shares),
            (64 << 20, Some(50), 0)
        );
    }

    #[test]
    fn memory_writes_keep_memory_below_swap() {
        let mut h = hc();
        h.memory = 64 << 20;
        let w = v1_writes(&h, true);
        assert_eq!(w[0].1, "memory.memsw.limit_in_bytes");
        assert_eq!(w[0].2, (128u64 << 20).to_string());
        assert_eq!(w[1].1, "memory.limit_in_bytes");
        let w = v1_writes(&h, false);
        assert_eq!(w[0].1, "memory.limit_in_bytes");
        h.nano_cpus = 1_500_000_000;
        h.pids_limit = Some(0);
        let w = v2_writes(&h, false);
        assert!(w.contains(&("cpu.max", "150000 100000".to_string())));
        assert!(w.contains(&("pids.max", "max".to_string())));
        assert!(w.contains(&("memory.swap.max", (64u64 << 20).to_string())));
    }

    #[test]
    fn finds_hybrid_mounts() {
        let text = "30 23 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                    31 23 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                    32 23 0:28 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n";
        let (v1, u) = cgroup_mounts(text);
        assert_eq!(v1["memory"], PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(v1["cpuset"], PathBuf::from("/sys/fs/cgroup/cpuset"));
        assert_eq!(u, Some(PathBuf::from("/sys/fs/cgroup/unified")));
    }
}
