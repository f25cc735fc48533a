//! `GET /containers/{id}/stats`: one sample of a container's resource usage in Docker's
//! shape, read from its cgroup files (v1 controllers or the v2 unified hierarchy) plus the
//! host's `/proc/stat` for the system CPU time Docker's CPU% divides by.
//!
//! The engine does not depend on rocker-runtime, so it carries its own small mountinfo
//! reader; the file readers are pure functions over directories so both cgroup versions are
//! unit-tested against fake trees.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rocker_api::models::{
    BlkioStatEntry, BlkioStats, CpuStats, MemoryStats, PidsStats, StatsResponse, ZERO_TIME,
};

use crate::error::Result;
use crate::{lock, Engine};

/// Nanoseconds per USER_HZ tick (Linux fixes USER_HZ at 100 for userspace interfaces).
const NS_PER_TICK: u64 = 10_000_000;

/// Where the cgroup hierarchies are mounted: v1 controller -> mount point, and the cgroup2
/// mount if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mounts {
    pub v1: HashMap<String, PathBuf>,
    pub unified: Option<PathBuf>,
}

impl Mounts {
    /// Reads `/proc/self/mountinfo`.
    pub fn detect() -> Mounts {
        std::fs::read_to_string("/proc/self/mountinfo")
            .map(|t| Mounts::from_mountinfo(&t))
            .unwrap_or_default()
    }

    /// Parses the text of a mountinfo file.
    pub fn from_mountinfo(text: &str) -> Mounts {
        let mut m = Mounts::default();
        for line in text.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let fields: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let (Some(mp), Some(fstype)) = (fields.get(4), right.first()) else {
                continue;
            };
            let mp = PathBuf::from(mp.replace("\\040", " "));
            match *fstype {
                "cgroup2" if m.unified.is_none() => m.unified = Some(mp),
                "cgroup" => {
                    for opt in right.get(2).copied().unwrap_or("").split(',') {
                        if matches!(opt, "cpu" | "cpuacct" | "memory" | "pids" | "blkio") {
                            m.v1.entry(opt.to_string()).or_insert_with(|| mp.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        m
    }

    /// The directories of the cgroup at `rel` (relative to each hierarchy's root).
    pub fn dirs(&self, rel: &str) -> CgroupDirs {
        let rel = rel.trim_matches('/');
        if self.v1.contains_key("memory") || self.unified.is_none() {
            let d = |c: &str| self.v1.get(c).map(|mp| mp.join(rel));
            CgroupDirs::V1(V1Dirs {
                cpu: d("cpu"),
                cpuacct: d("cpuacct"),
                memory: d("memory"),
                pids: d("pids"),
                blkio: d("blkio"),
            })
        } else {
            CgroupDirs::V2(self.unified.clone().unwrap_or_default().join(rel))
        }
    }
}

/// One container's v1 directories (a controller may be absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1Dirs {
    pub cpu: Option<PathBuf>,
    pub cpuacct: Option<PathBuf>,
    pub memory: Option<PathBuf>,
    pub pids: Option<PathBuf>,
    pub blkio: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupDirs {
    V1(V1Dirs),
    V2(PathBuf),
}

/// The cgroup part of a sample (the host part is added by the engine).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupSample {
    pub cpu: CpuStats,
    pub memory: MemoryStats,
    pub pids: PidsStats,
    pub blkio: BlkioStats,
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

fn read_u64(dir: &Path, file: &str) -> Option<u64> {
    read(dir, file)?.trim().parse().ok()
}

/// `key value` lines (memory.stat, cpu.stat, cpuacct.stat).
fn flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn major_minor(dev: &str) -> Option<(u64, u64)> {
    let (a, b) = dev.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Reads a v1 cgroup. `host_memory` caps an unlimited memory limit, as Docker does.
pub fn read_v1(d: &V1Dirs, host_memory: u64) -> CgroupSample {
    let mut s = CgroupSample::default();
    if let Some(dir) = &d.cpuacct {
        s.cpu.cpu_usage.total_usage = read_u64(dir, "cpuacct.usage").unwrap_or(0);
        s.cpu.cpu_usage.percpu_usage = read(dir, "cpuacct.usage_percpu").map(|t| {
            t.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        });
        let st = read(dir, "cpuacct.stat")
            .map(|t| flat_keyed(&t))
            .unwrap_or_default();
        s.cpu.cpu_usage.usage_in_usermode = st.get("user").copied().unwrap_or(0) * NS_PER_TICK;
        s.cpu.cpu_usage.usage_in_kernelmode = st.get("system").copied().unwrap_or(0) * NS_PER_TICK;
    }
    if let Some(dir) = &d.cpu {
        let st = read(dir, "cpu.stat")
            .map(|t| flat_keyed(&t))
            .unwrap_or_default();
        s.cpu.throttling_data.periods = st.get("nr_periods").copied().unwrap_or(0);
        s.cpu.throttling_data.throttled_periods = st.get("nr_throttled").copied().unwrap_or(0);
        s.cpu.throttling_data.throttled_time = st.get("throttled_time").copied().unwrap_or(0);
    }
    if let Some(dir) = &d.memory {
        s.memory.usage = read_u64(dir, "memory.usage_in_bytes");
        s.memory.max_usage = read_u64(dir, "memory.max_usage_in_bytes");
        s.memory.failcnt = read_u64(dir, "memory.failcnt");
        s.memory.limit = read_u64(dir, "memory.limit_in_bytes").map(|l| cap(l, host_memory));
        s.memory.stats = read(dir, "memory.stat")
            .map(|t| flat_keyed(&t))
            .unwrap_or_default();
    }
    if let Some(dir) = &d.pids {
        s.pids.current = read_u64(dir, "pids.current");
        s.pids.limit = read_u64(dir, "pids.max");
    }
    if let Some(dir) = &d.blkio {
        let text = read(dir, "blkio.throttle.io_service_bytes_recursive")
            .or_else(|| read(dir, "blkio.throttle.io_service_bytes"));
        s.blkio.io_service_bytes_recursive = text.map(|t| {
            t.lines()
                .filter_map(|l| {
                    let mut f = l.split_whitespace();
                    let (major, minor) = major_minor(f.next()?)?;
                    let op = f.next()?.to_string();
                    let value = f.next()?.parse().ok()?;
                    Some(BlkioStatEntry {
                        major,
                        minor,
                        op,
                        value,
                    })
                })
                .collect()
        });
    }
    s
}

fn cap(limit: u64, host_memory: u64) -> u64 {
    if host_memory > 0 && limit > host_memory {
        host_memory
    } else {
        limit
    }
}

/// Reads a v2 cgroup directory.
pub fn read_v2(dir: &Path, host_memory: u64) -> CgroupSample {
    let mut s = CgroupSample::default();
    let cpu = read(dir, "cpu.stat")
        .map(|t| flat_keyed(&t))
        .unwrap_or_default();
    let us = |k: &str| cpu.get(k).copied().unwrap_or(0) * 1000;
    s.cpu.cpu_usage.total_usage = us("usage_usec");
    s.cpu.cpu_usage.usage_in_usermode = us("user_usec");
    s.cpu.cpu_usage.usage_in_kernelmode = us("system_usec");
    s.cpu.throttling_data.periods = cpu.get("nr_periods").copied().unwrap_or(0);
    s.cpu.throttling_data.throttled_periods = cpu.get("nr_throttled").copied().unwrap_or(0);
    s.cpu.throttling_data.throttled_time = us("throttled_usec");

    s.memory.usage = read_u64(dir, "memory.current");
    s.memory.limit = match read(dir, "memory.max") {
        Some(t) if t.trim() == "max" => Some(host_memory),
        Some(t) => t.trim().parse().ok().map(|l| cap(l, host_memory)),
        None => None,
    };
    s.memory.stats = read(dir, "memory.stat")
        .map(|t| flat_keyed(&t))
        .unwrap_or_default();

    s.pids.current = read_u64(dir, "pids.current");
    s.pids.limit = read_u64(dir, "pids.max");

    s.blkio.io_service_bytes_recursive = read(dir, "io.stat").map(|t| {
        let mut out = Vec::new();
        for l in t.lines() {
            let mut f = l.split_whitespace();
            let Some((major, minor)) = f.next().and_then(major_minor) else {
                continue;
            };
            for kv in f {
                let (op, key) = match kv.split_once('=') {
                    Some(("rbytes", v)) => ("read", v),
                    Some(("wbytes", v)) => ("write", v),
                    _ => continue,
                };
                if let Ok(value) = key.parse() {
                    out.push(BlkioStatEntry {
                        major,
                        minor,
                        op: op.to_string(),
                        value,
                    });
                }
            }
        }
        out
    });
    s
}

/// Host CPU time in ns (the first line of /proc/stat) and the number of CPUs listed.
pub fn parse_proc_stat(text: &str) -> (u64, u32) {
    let mut total = 0;
    let mut cpus = 0;
    for line in text.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("cpu") => {
                total = f.take(7).filter_map(|v| v.parse::<u64>().ok()).sum::<u64>() * NS_PER_TICK
            }
            Some(c) if c.starts_with("cpu") => cpus += 1,
            _ => {}
        }
    }
    (total, cpus)
}

fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}

/// `/proc/<pid>/net/dev` of the container's namespace: every interface but `lo`.
pub fn parse_net_dev(
    text: &str,
) -> std::collections::BTreeMap<String, rocker_api::models::NetworkStats> {
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name == "lo" {
            continue;
        }
        let v: Vec<u64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        if v.len() < 12 {
            continue;
        }
        out.insert(
            name.to_string(),
            rocker_api::models::NetworkStats {
                rx_bytes: v[0],
                rx_packets: v[1],
                rx_errors: v[2],
                rx_dropped: v[3],
                tx_bytes: v[8],
                tx_packets: v[9],
                tx_errors: v[10],
                tx_dropped: v[11],
            },
        );
    }
    out
}

impl Engine {
    /// One sample for `id`; `prev` (the previous sample of the same stream) fills `preread`
    /// and `precpu_stats`. A container that is not running gives Docker's zeros (with its
    /// name and id). Returns the sample and whether the container is running.
    pub fn stats(&self, id: &str, prev: Option<&StatsResponse>) -> Result<(StatsResponse, bool)> {
        let entry = self.lookup(id)?;
        let (name, alive) = {
            let r = lock(&entry.record);
            (format!("/{}", r.name), r.state.status.is_alive())
        };
        let mut out = StatsResponse {
            name,
            id: entry.id.clone(),
            read: ZERO_TIME.to_string(),
            preread: ZERO_TIME.to_string(),
            ..Default::default()
        };
        if !alive {
            return Ok((out, false));
        }
        let rel = format!(
            "{}/{}",
            self.config().cgroup_parent.trim_matches('/'),
            entry.id
        );
        let mem = host_memory();
        let sample = match Mounts::detect().dirs(&rel) {
            CgroupDirs::V1(d) => read_v1(&d, mem),
            CgroupDirs::V2(d) => read_v2(&d, mem),
        };
        let (system, cpus) = std::fs::read_to_string("/proc/stat")
            .map(|t| parse_proc_stat(&t))
            .unwrap_or((0, 0));
        out.read = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        out.cpu_stats = sample.cpu;
        out.cpu_stats.system_cpu_usage = Some(system);
        out.cpu_stats.online_cpus = Some(cpus);
        out.memory_stats = sample.memory;
        out.pids_stats = sample.pids;
        out.blkio_stats = sample.blkio;
        let pid = lock(&entry.record).state.pid;
        out.networks = std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
            .ok()
            .map(|t| parse_net_dev(&t))
            .filter(|n| !n.is_empty());
        if let Some(p) = prev {
            out.preread = p.read.clone();
            out.precpu_stats = p.cpu_stats.clone();
        }
        Ok((out, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
30 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
35 30 0:31 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
36 30 0:32 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
37 30 0:33 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
38 30 0:34 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
";

    #[test]
    fn hybrid_mounts_pick_v1_with_separate_cpuacct() {
        let m = Mounts::from_mountinfo(MOUNTINFO);
        let CgroupDirs::V1(d) = m.dirs("/rocker/abc") else {
            panic!("expected v1")
        };
        assert_eq!(
            d.cpuacct,
            Some(PathBuf::from("/sys/fs/cgroup/cpuacct/rocker/abc"))
        );
        assert_eq!(d.cpu, Some(PathBuf::from("/sys/fs/cgroup/cpu/rocker/abc")));
        assert_eq!(d.blkio, None);
    }

    #[test]
    fn pure_v2_mounts() {
        let m = Mounts::from_mountinfo("31 24 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        assert_eq!(
            m.dirs("rocker/abc"),
            CgroupDirs::V2(PathBuf::from("/sys/fs/cgroup/rocker/abc"))
        );
    }

    fn write(dir: &Path, file: &str, text: &str) {
        std::fs::write(dir.join(file), text).unwrap();
    }

    #[test]
    fn reads_a_fake_v2_tree() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(
            d,
            "cpu.stat",
            "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 7\nnr_throttled 2\nthrottled_usec 40\n",
        );
        write(d, "memory.current", "1048576\n");
        write(d, "memory.max", "67108864\n");
        write(
            d,
            "memory.stat",
            "anon 4096\nfile 8192\ninactive_file 4096\n",
        );
        write(d, "pids.current", "3\n");
        write(d, "pids.max", "max\n");
        write(
            d,
            "io.stat",
            "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
        );
        let s = read_v2(d, 1 << 40);
        assert_eq!(s.cpu.cpu_usage.total_usage, 5_000_000);
        assert_eq!(s.cpu.cpu_usage.usage_in_usermode, 3_000_000);
        assert_eq!(s.cpu.cpu_usage.usage_in_kernelmode, 2_000_000);
        assert_eq!(s.cpu.cpu_usage.percpu_usage, None);
        assert_eq!(s.cpu.throttling_data.periods, 7);
        assert_eq!(s.cpu.throttling_data.throttled_periods, 2);
        assert_eq!(s.cpu.throttling_data.throttled_time, 40_000);
        assert_eq!(s.memory.usage, Some(1_048_576));
        assert_eq!(s.memory.limit, Some(67_108_864));
        assert_eq!(s.memory.max_usage, None);
        assert_eq!(s.memory.stats.get("inactive_file"), Some(&4096));
        assert_eq!(s.pids.current, Some(3));
        assert_eq!(s.pids.limit, None);
        let io = s.blkio.io_service_bytes_recursive.unwrap();
        assert_eq!(io.len(), 2);
        assert_eq!(
            (io[0].major, io[0].op.as_str(), io[0].value),
            (8, "read", 100)
        );
        assert_eq!((io[1].op.as_str(), io[1].value), ("write", 200));
    }

    #[test]
    fn v2_unlimited_memory_is_the_host_memory() {
        let t = tempfile::tempdir().unwrap();
        write(t.path(), "memory.max", "max\n");
        assert_eq!(read_v2(t.path(), 4096).memory.limit, Some(4096));
    }

    #[test]
    fn reads_a_fake_v1_tree() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(d, "cpuacct.usage", "123456\n");
        write(d, "cpuacct.usage_percpu", "100000 23456 \n");
        write(d, "cpuacct.stat", "user 3\nsystem 1\n");
        write(d, "memory.usage_in_bytes", "2048\n");
        write(d, "memory.limit_in_bytes", "9223372036854771712\n");
        write(d, "memory.max_usage_in_bytes", "4096\n");
        write(
            d,
            "memory.stat",
            "cache 0\nrss 2048\ntotal_inactive_file 0\n",
        );
        write(d, "pids.current", "1\n");
        write(
            d,
            "blkio.throttle.io_service_bytes",
            "8:0 Read 10\n8:0 Write 20\nTotal 30\n",
        );
        let dirs = V1Dirs {
            cpu: None,
            cpuacct: Some(d.into()),
            memory: Some(d.into()),
            pids: Some(d.into()),
            blkio: Some(d.into()),
        };
        let s = read_v1(&dirs, 1 << 30);
        assert_eq!(s.cpu.cpu_usage.total_usage, 123_456);
        assert_eq!(s.cpu.cpu_usage.percpu_usage, Some(vec![100_000, 23_456]));
        assert_eq!(s.cpu.cpu_usage.usage_in_usermode, 30_000_000);
        assert_eq!(s.memory.limit, Some(1 << 30));
        assert_eq!(s.memory.max_usage, Some(4096));
        assert_eq!(s.memory.stats.get("rss"), Some(&2048));
        assert_eq!(s.pids.current, Some(1));
        assert_eq!(s.blkio.io_service_bytes_recursive.unwrap().len(), 2);
    }

    #[test]
    fn proc_stat_total_and_cpus() {
        let text = "cpu  10 0 5 100 1 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\ncpu1 5 0 3 50 1 0 0 0 0 0\nintr 1\n";
        assert_eq!(parse_proc_stat(text), (116 * NS_PER_TICK, 2));
    }

    #[test]
    fn net_dev_counters() {
        let t = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n  eth0:    1500      10    1    2    0     0          0         0      700       5    0    3    0     0       0          0\n";
        let n = parse_net_dev(t);
        assert_eq!(n.len(), 1);
        let e = &n["eth0"];
        assert_eq!(
            (e.rx_bytes, e.rx_packets, e.rx_errors, e.rx_dropped),
            (1500, 10, 1, 2)
        );
        assert_eq!((e.tx_bytes, e.tx_packets, e.tx_dropped), (700, 5, 3));
    }
}
