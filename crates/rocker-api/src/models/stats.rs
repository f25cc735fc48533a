//! `GET /containers/{id}/stats` in Docker's JSON shape (`types.StatsJSON`), shared by the
//! daemon (which fills it from cgroup files) and the CLI (which prints `rocker stats`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One stats sample of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsResponse {
    pub name: String,
    pub id: String,
    /// RFC 3339 nano of this sample; `0001-01-01T00:00:00Z` when empty.
    pub read: String,
    /// RFC 3339 nano of the previous sample.
    pub preread: String,
    pub pids_stats: PidsStats,
    pub blkio_stats: BlkioStats,
    pub num_procs: u32,
    pub storage_stats: StorageStats,
    pub cpu_stats: CpuStats,
    pub precpu_stats: CpuStats,
    pub memory_stats: MemoryStats,
    /// Per interface of the container's network namespace (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networks: Option<BTreeMap<String, NetworkStats>>,
}

/// Counters of one interface (`types.NetworkStats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

impl StatsResponse {
    /// Bytes received and sent over all interfaces (`NET I/O` of `docker stats`).
    pub fn net_io(&self) -> (u64, u64) {
        self.networks
            .iter()
            .flatten()
            .fold((0, 0), |(rx, tx), (_, n)| {
                (rx + n.rx_bytes, tx + n.tx_bytes)
            })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PidsStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioStatEntry {
    pub major: u64,
    pub minor: u64,
    pub op: String,
    pub value: u64,
}

/// Docker serialises absent lists as `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioStats {
    pub io_service_bytes_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_serviced_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_queue_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_service_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_wait_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_merged_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub sectors_recursive: Option<Vec<BlkioStatEntry>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageStats {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    pub total_usage: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percpu_usage: Option<Vec<u64>>,
    pub usage_in_kernelmode: u64,
    pub usage_in_usermode: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottlingData {
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuStats {
    pub cpu_usage: CpuUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_cpu_usage: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_cpus: Option<u32>,
    pub throttling_data: ThrottlingData,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_usage: Option<u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stats: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failcnt: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// The zero time Go prints for an unset `time.Time`.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl StatsResponse {
    /// Docker's CLI CPU%: container CPU delta over system CPU delta, times online CPUs.
    pub fn cpu_percent(&self) -> f64 {
        let cpu = self.cpu_stats.cpu_usage.total_usage as f64
            - self.precpu_stats.cpu_usage.total_usage as f64;
        let system = self.cpu_stats.system_cpu_usage.unwrap_or(0) as f64
            - self.precpu_stats.system_cpu_usage.unwrap_or(0) as f64;
        let mut online = self.cpu_stats.online_cpus.unwrap_or(0) as f64;
        if online == 0.0 {
            online = self
                .cpu_stats
                .cpu_usage
                .percpu_usage
                .as_ref()
                .map_or(0, Vec::len) as f64;
        }
        if system > 0.0 && cpu > 0.0 {
            cpu / system * online * 100.0
        } else {
            0.0
        }
    }

    /// Docker's CLI memory usage: usage minus the inactive file cache (v2 `inactive_file`,
    /// v1 `total_inactive_file`).
    pub fn memory_used(&self) -> u64 {
        let usage = self.memory_stats.usage.unwrap_or(0);
        let s = &self.memory_stats.stats;
        let inactive = if let Some(v) = s.get("total_inactive_file") {
            *v
        } else {
            s.get("inactive_file").copied().unwrap_or(0)
        };
        usage.saturating_sub(inactive)
    }

    /// Total bytes read and written from `io_service_bytes_recursive`.
    pub fn block_io(&self) -> (u64, u64) {
        let mut read = 0;
        let mut write = 0;
        for e in self.blkio_stats.io_service_bytes_recursive.iter().flatten() {
            match e.op.to_ascii_lowercase().as_str() {
                "read" => read += e.value,
                "write" => write += e.value,
                _ => {}
            }
        }
        (read, write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_follows_dockers_formula() {
        let mut s = StatsResponse::default();
        s.precpu_stats.cpu_usage.total_usage = 100;
        s.precpu_stats.system_cpu_usage = Some(1000);
        s.cpu_stats.cpu_usage.total_usage = 200;
        s.cpu_stats.system_cpu_usage = Some(2000);
        s.cpu_stats.online_cpus = Some(2);
        assert!((s.cpu_percent() - 20.0).abs() < 1e-9);
    }

    #[test]
    fn memory_used_subtracts_inactive_file() {
        let mut s = StatsResponse::default();
        s.memory_stats.usage = Some(1000);
        s.memory_stats.stats.insert("inactive_file".into(), 300);
        assert_eq!(s.memory_used(), 700);
        s.memory_stats
            .stats
            .insert("total_inactive_file".into(), 100);
        assert_eq!(s.memory_used(), 900);
    }
}
