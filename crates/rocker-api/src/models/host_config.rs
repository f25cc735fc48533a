//! The non-portable half of a container's configuration (`HostConfig` in Docker's API).
//!
//! Resources, namespaces modes, mounts, ports and restart policy: everything that depends on
//! the host rather than the image. Mirrors Docker's Go `container.HostConfig` (with its
//! embedded `Resources`) field for field, including the JSON spellings that do not follow
//! PascalCase (`ContainerIDFile`, `UTSMode`, `IOMaximumIOps`, ...).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{nullable, str_slice};

/// Docker's `container.HostConfig` including `Resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// `src:dst[:opts]` bind or volume specs.
    pub binds: Option<Vec<String>>,
    #[serde(rename = "ContainerIDFile", deserialize_with = "nullable")]
    pub container_id_file: String,
    #[serde(deserialize_with = "nullable")]
    pub log_config: LogConfig,
    /// `default`, `bridge`, `host`, `none`, `container:<id>` or a network name.
    #[serde(deserialize_with = "nullable")]
    pub network_mode: String,
    /// `"80/tcp"` -> host bindings.
    pub port_bindings: Option<BTreeMap<String, Vec<PortBinding>>>,
    #[serde(deserialize_with = "nullable")]
    pub restart_policy: RestartPolicy,
    #[serde(deserialize_with = "nullable")]
    pub auto_remove: bool,
    #[serde(deserialize_with = "nullable")]
    pub volume_driver: String,
    pub volumes_from: Option<Vec<String>>,
    /// `[height, width]` of the initial tty.
    pub console_size: Option<[u32; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(deserialize_with = "str_slice")]
    pub cap_add: Option<Vec<String>>,
    #[serde(deserialize_with = "str_slice")]
    pub cap_drop: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub cgroupns_mode: String,
    pub dns: Option<Vec<String>>,
    pub dns_options: Option<Vec<String>>,
    pub dns_search: Option<Vec<String>>,
    /// `host:ip` entries for /etc/hosts.
    pub extra_hosts: Option<Vec<String>>,
    pub group_add: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub ipc_mode: String,
    #[serde(deserialize_with = "nullable")]
    pub cgroup: String,
    pub links: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub oom_score_adj: i64,
    #[serde(deserialize_with = "nullable")]
    pub pid_mode: String,
    #[serde(deserialize_with = "nullable")]
    pub privileged: bool,
    #[serde(deserialize_with = "nullable")]
    pub publish_all_ports: bool,
    #[serde(deserialize_with = "nullable")]
    pub readonly_rootfs: bool,
    pub security_opt: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_opt: Option<BTreeMap<String, String>>,
    /// Mount point -> tmpfs options (`"size=64m,noexec"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    #[serde(rename = "UTSMode", deserialize_with = "nullable")]
    pub uts_mode: String,
    #[serde(deserialize_with = "nullable")]
    pub userns_mode: String,
    /// Bytes; 0 means the daemon default (64 MiB).
    #[serde(deserialize_with = "nullable")]
    pub shm_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub isolation: String,

    // Resources.
    /// Relative CPU weight (cgroup v1 `cpu.shares`); 0 means unset.
    #[serde(deserialize_with = "nullable")]
    pub cpu_shares: i64,
    /// Bytes; 0 means unlimited.
    #[serde(deserialize_with = "nullable")]
    pub memory: i64,
    /// CPU quota in units of 1e-9 CPUs (`--cpus 1.5` = 1_500_000_000).
    #[serde(deserialize_with = "nullable")]
    pub nano_cpus: i64,
    #[serde(deserialize_with = "nullable")]
    pub cgroup_parent: String,
    #[serde(deserialize_with = "nullable")]
    pub blkio_weight: u16,
    pub blkio_weight_device: Option<Vec<WeightDevice>>,
    pub blkio_device_read_bps: Option<Vec<ThrottleDevice>>,
    pub blkio_device_write_bps: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "BlkioDeviceReadIOps")]
    pub blkio_device_read_iops: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "BlkioDeviceWriteIOps")]
    pub blkio_device_write_iops: Option<Vec<ThrottleDevice>>,
    /// Microseconds.
    #[serde(deserialize_with = "nullable")]
    pub cpu_period: i64,
    /// Microseconds per period.
    #[serde(deserialize_with = "nullable")]
    pub cpu_quota: i64,
    #[serde(deserialize_with = "nullable")]
    pub cpu_realtime_period: i64,
    #[serde(deserialize_with = "nullable")]
    pub cpu_realtime_runtime: i64,
    #[serde(deserialize_with = "nullable")]
    pub cpuset_cpus: String,
    #[serde(deserialize_with = "nullable")]
    pub cpuset_mems: String,
    pub devices: Option<Vec<DeviceMapping>>,
    pub device_cgroup_rules: Option<Vec<String>>,
    pub device_requests: Option<Vec<DeviceRequest>>,
    #[serde(rename = "KernelMemoryTCP", skip_serializing_if = "Option::is_none")]
    pub kernel_memory_tcp: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub memory_reservation: i64,
    /// Memory plus swap in bytes; -1 unlimited swap, 0 unset (= 2 x Memory).
    #[serde(deserialize_with = "nullable")]
    pub memory_swap: i64,
    /// 0..=100, or None/-1 to inherit.
    pub memory_swappiness: Option<i64>,
    pub oom_kill_disable: Option<bool>,
    /// None, 0 or -1: unlimited.
    pub pids_limit: Option<i64>,
    pub ulimits: Option<Vec<Ulimit>>,
    #[serde(deserialize_with = "nullable")]
    pub cpu_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub cpu_percent: i64,
    #[serde(rename = "IOMaximumIOps", deserialize_with = "nullable")]
    pub io_maximum_iops: u64,
    #[serde(rename = "IOMaximumBandwidth", deserialize_with = "nullable")]
    pub io_maximum_bandwidth: u64,

    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<Mount>>,
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
    /// Run an init (tini-like) as pid 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
}

/// Log driver and its options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(deserialize_with = "nullable")]
    pub r#type: String,
    pub config: Option<BTreeMap<String, String>>,
}

/// One host side of a published port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    #[serde(deserialize_with = "nullable")]
    pub host_ip: String,
    #[serde(deserialize_with = "nullable")]
    pub host_port: String,
}

/// `no`, `always`, `unless-stopped`, `on-failure` (with a retry count); empty means `no`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub maximum_retry_count: i64,
}

/// Block IO weight for one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WeightDevice {
    #[serde(deserialize_with = "nullable")]
    pub path: String,
    #[serde(deserialize_with = "nullable")]
    pub weight: u16,
}

/// Block IO rate limit for one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ThrottleDevice {
    #[serde(deserialize_with = "nullable")]
    pub path: String,
    #[serde(deserialize_with = "nullable")]
    pub rate: u64,
}

/// A host device exposed in the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    #[serde(deserialize_with = "nullable")]
    pub path_on_host: String,
    #[serde(deserialize_with = "nullable")]
    pub path_in_container: String,
    /// e.g. `rwm`.
    #[serde(deserialize_with = "nullable")]
    pub cgroup_permissions: String,
}

/// GPU-style device request (`--gpus`); accepted and stored, not acted on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceRequest {
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    #[serde(deserialize_with = "nullable")]
    pub count: i64,
    #[serde(rename = "DeviceIDs")]
    pub device_ids: Option<Vec<String>>,
    pub capabilities: Option<Vec<Vec<String>>>,
    pub options: Option<BTreeMap<String, String>>,
}

/// An rlimit (`--ulimit nofile=1024:2048`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub hard: i64,
    #[serde(deserialize_with = "nullable")]
    pub soft: i64,
}

/// Docker's `mount.Mount` (`--mount` / `HostConfig.Mounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub target: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub source: String,
    /// `bind`, `volume`, `tmpfs`, `npipe`, `cluster`.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub r#type: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub read_only: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub consistency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Options of a bind mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub propagation: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub non_recursive: bool,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub create_mountpoint: bool,
}

/// Options of a volume mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub no_copy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<VolumeDriverConfig>,
}

/// Volume driver name and options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeDriverConfig {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<String, String>>,
}

/// Options of a tmpfs mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    /// Bytes; 0 means unlimited.
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nullable")]
    pub size_bytes: i64,
    /// Octal permission bits as a number (e.g. 1777 octal = 1023).
    #[serde(skip_serializing_if = "is_zero_u32", deserialize_with = "nullable")]
    pub mode: u32,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirky_names_serialize_as_docker() {
        let hc = HostConfig {
            uts_mode: "host".into(),
            io_maximum_iops: 5,
            blkio_device_read_iops: Some(vec![]),
            cap_add: Some(vec!["NET_ADMIN".into()]),
            ..Default::default()
        };
        let v = serde_json::to_value(&hc).expect("serialize");
        for key in [
            "UTSMode",
            "IOMaximumIOps",
            "BlkioDeviceReadIOps",
            "ContainerIDFile",
            "CpuShares",
            "NanoCpus",
            "OomKillDisable",
            "PidsLimit",
            "Dns",
            "DnsOptions",
            "CgroupnsMode",
            "CapAdd",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
        assert!(v.get("Init").is_none());
        assert_eq!(
            v["LogConfig"],
            serde_json::json!({"Type": "", "Config": null})
        );
    }

    #[test]
    fn cap_add_accepts_string() {
        let hc: HostConfig = serde_json::from_str(r#"{"CapAdd":"SYS_ADMIN"}"#).expect("parse");
        assert_eq!(hc.cap_add, Some(vec!["SYS_ADMIN".to_string()]));
    }

    #[test]
    fn mount_parses() {
        let m: Mount = serde_json::from_str(
            r#"{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1024,"Mode":null}}"#,
        )
        .expect("parse");
        assert_eq!(m.tmpfs_options.map(|t| t.size_bytes), Some(1024));
    }
}
