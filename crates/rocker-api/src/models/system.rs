//! System responses of the Engine API: `GET /version` and `GET /info`.
//!
//! Mirrors Docker's Go `types.Version` and `system.Info` so `docker version`, `docker info`
//! and the SDKs' version negotiation read them unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::nullable;

/// API version this crate speaks and the daemon reports.
pub const API_VERSION: &str = "1.43";
/// Oldest API version the daemon accepts in a `/v1.xx/` prefix.
pub const MIN_API_VERSION: &str = "1.24";

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemVersion {
    #[serde(deserialize_with = "nullable")]
    pub platform: Platform,
    /// When present, the docker CLI prints the `Engine` section from the `Engine`
    /// component's `Details` (`ApiVersion`, `MinAPIVersion`, `GitCommit`, `GoVersion`, `Os`,
    /// `Arch`, `BuildTime`, `Experimental`) instead of the top-level fields: build it with
    /// [`SystemVersion::with_engine_component`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<ComponentVersion>>,
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    #[serde(deserialize_with = "nullable")]
    pub api_version: String,
    #[serde(rename = "MinAPIVersion", skip_serializing_if = "Option::is_none")]
    pub min_api_version: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub git_commit: String,
    #[serde(deserialize_with = "nullable")]
    pub go_version: String,
    #[serde(deserialize_with = "nullable")]
    pub os: String,
    #[serde(deserialize_with = "nullable")]
    pub arch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experimental: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_time: Option<String>,
}

impl SystemVersion {
    /// Prepends an `Engine` component whose details mirror the top-level fields, as dockerd
    /// does, so `docker version` shows them.
    pub fn with_engine_component(mut self) -> Self {
        let mut details = BTreeMap::new();
        details.insert("ApiVersion".to_string(), self.api_version.clone());
        if let Some(min) = &self.min_api_version {
            details.insert("MinAPIVersion".to_string(), min.clone());
        }
        details.insert("GitCommit".to_string(), self.git_commit.clone());
        details.insert("GoVersion".to_string(), self.go_version.clone());
        details.insert("Os".to_string(), self.os.clone());
        details.insert("Arch".to_string(), self.arch.clone());
        if let Some(k) = &self.kernel_version {
            details.insert("KernelVersion".to_string(), k.clone());
        }
        if let Some(b) = &self.build_time {
            details.insert("BuildTime".to_string(), b.clone());
        }
        details.insert(
            "Experimental".to_string(),
            self.experimental.unwrap_or(false).to_string(),
        );
        let engine = ComponentVersion {
            name: "Engine".to_string(),
            version: self.version.clone(),
            details: Some(details),
        };
        let mut components = self.components.take().unwrap_or_default();
        components.retain(|c| c.name != "Engine");
        components.insert(0, engine);
        self.components = Some(components);
        self
    }
}

/// Product name (`Rocker Engine`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Platform {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
}

/// Version of one server component (`Engine`, `rocker-runtime`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ComponentVersion {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
}

/// `GET /info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemInfo {
    #[serde(rename = "ID", deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub containers: i64,
    #[serde(deserialize_with = "nullable")]
    pub containers_running: i64,
    #[serde(deserialize_with = "nullable")]
    pub containers_paused: i64,
    #[serde(deserialize_with = "nullable")]
    pub containers_stopped: i64,
    #[serde(deserialize_with = "nullable")]
    pub images: i64,
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    /// `[["Backing Filesystem", "extfs"], ...]`.
    pub driver_status: Option<Vec<[String; 2]>>,
    #[serde(deserialize_with = "nullable")]
    pub plugins: PluginsInfo,
    #[serde(deserialize_with = "nullable")]
    pub memory_limit: bool,
    #[serde(deserialize_with = "nullable")]
    pub swap_limit: bool,
    #[serde(rename = "KernelMemoryTCP", skip_serializing_if = "Option::is_none")]
    pub kernel_memory_tcp: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    pub cpu_cfs_period: bool,
    #[serde(deserialize_with = "nullable")]
    pub cpu_cfs_quota: bool,
    #[serde(rename = "CPUShares", deserialize_with = "nullable")]
    pub cpu_shares: bool,
    #[serde(rename = "CPUSet", deserialize_with = "nullable")]
    pub cpu_set: bool,
    #[serde(deserialize_with = "nullable")]
    pub pids_limit: bool,
    #[serde(rename = "IPv4Forwarding", deserialize_with = "nullable")]
    pub ipv4_forwarding: bool,
    #[serde(deserialize_with = "nullable")]
    pub bridge_nf_iptables: bool,
    #[serde(deserialize_with = "nullable")]
    pub bridge_nf_ip6tables: bool,
    #[serde(deserialize_with = "nullable")]
    pub debug: bool,
    #[serde(rename = "NFd", deserialize_with = "nullable")]
    pub nfd: i64,
    #[serde(deserialize_with = "nullable")]
    pub oom_kill_disable: bool,
    #[serde(rename = "NGoroutines", deserialize_with = "nullable")]
    pub ngoroutines: i64,
    /// RFC 3339 nano.
    #[serde(deserialize_with = "nullable")]
    pub system_time: String,
    #[serde(deserialize_with = "nullable")]
    pub logging_driver: String,
    /// `cgroupfs` or `systemd`.
    #[serde(deserialize_with = "nullable")]
    pub cgroup_driver: String,
    /// `"1"` or `"2"`.
    #[serde(deserialize_with = "nullable")]
    pub cgroup_version: String,
    #[serde(rename = "NEventsListener", deserialize_with = "nullable")]
    pub nevents_listener: i64,
    #[serde(deserialize_with = "nullable")]
    pub kernel_version: String,
    #[serde(deserialize_with = "nullable")]
    pub operating_system: String,
    #[serde(rename = "OSVersion", deserialize_with = "nullable")]
    pub os_version: String,
    #[serde(rename = "OSType", deserialize_with = "nullable")]
    pub os_type: String,
    #[serde(deserialize_with = "nullable")]
    pub architecture: String,
    #[serde(deserialize_with = "nullable")]
    pub index_server_address: String,
    pub registry_config: Option<RegistryServiceConfig>,
    #[serde(rename = "NCPU", deserialize_with = "nullable")]
    pub ncpu: i64,
    #[serde(deserialize_with = "nullable")]
    pub mem_total: i64,
    pub generic_resources: Option<Vec<serde_json::Value>>,
    #[serde(deserialize_with = "nullable")]
    pub docker_root_dir: String,
    #[serde(deserialize_with = "nullable")]
    pub http_proxy: String,
    #[serde(deserialize_with = "nullable")]
    pub https_proxy: String,
    #[serde(deserialize_with = "nullable")]
    pub no_proxy: String,
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    pub labels: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub experimental_build: bool,
    #[serde(deserialize_with = "nullable")]
    pub server_version: String,
    #[serde(deserialize_with = "nullable")]
    pub runtimes: BTreeMap<String, RuntimeInfo>,
    #[serde(deserialize_with = "nullable")]
    pub default_runtime: String,
    #[serde(deserialize_with = "nullable")]
    pub swarm: SwarmInfo,
    #[serde(deserialize_with = "nullable")]
    pub live_restore_enabled: bool,
    #[serde(deserialize_with = "nullable")]
    pub isolation: String,
    #[serde(deserialize_with = "nullable")]
    pub init_binary: String,
    #[serde(deserialize_with = "nullable")]
    pub containerd_commit: Commit,
    #[serde(deserialize_with = "nullable")]
    pub runc_commit: Commit,
    #[serde(deserialize_with = "nullable")]
    pub init_commit: Commit,
    /// e.g. `["name=seccomp,profile=builtin", "name=cgroupns"]`.
    pub security_options: Option<Vec<String>>,
    pub warnings: Option<Vec<String>>,
}

/// Plugins by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginsInfo {
    pub volume: Option<Vec<String>>,
    pub network: Option<Vec<String>>,
    pub authorization: Option<Vec<String>>,
    pub log: Option<Vec<String>>,
}

/// An OCI runtime known to the daemon. Lowercase keys, as Docker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeInfo {
    #[serde(deserialize_with = "nullable")]
    pub path: String,
    #[serde(rename = "runtimeArgs", skip_serializing_if = "Option::is_none")]
    pub runtime_args: Option<Vec<String>>,
}

/// Registry settings (`InsecureRegistryCIDRs`, mirrors, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RegistryServiceConfig {
    #[serde(rename = "AllowNondistributableArtifactsCIDRs")]
    pub allow_nondistributable_artifacts_cidrs: Option<Vec<String>>,
    pub allow_nondistributable_artifacts_hostnames: Option<Vec<String>>,
    #[serde(rename = "InsecureRegistryCIDRs")]
    pub insecure_registry_cidrs: Option<Vec<String>>,
    pub index_configs: Option<BTreeMap<String, IndexInfo>>,
    pub mirrors: Option<Vec<String>>,
}

/// One registry index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IndexInfo {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    pub mirrors: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub secure: bool,
    #[serde(deserialize_with = "nullable")]
    pub official: bool,
}

/// Swarm state; Rocker is never part of a swarm (`LocalNodeState: "inactive"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SwarmInfo {
    #[serde(rename = "NodeID", deserialize_with = "nullable")]
    pub node_id: String,
    #[serde(deserialize_with = "nullable")]
    pub node_addr: String,
    #[serde(deserialize_with = "nullable")]
    pub local_node_state: String,
    #[serde(deserialize_with = "nullable")]
    pub control_available: bool,
    #[serde(deserialize_with = "nullable")]
    pub error: String,
    pub remote_managers: Option<Vec<serde_json::Value>>,
}

/// A component's commit (`ID`) and the one the daemon expected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Commit {
    #[serde(rename = "ID", deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub expected: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_info_wire_names() {
        let v = SystemVersion {
            api_version: API_VERSION.into(),
            min_api_version: Some(MIN_API_VERSION.into()),
            ..Default::default()
        };
        let j = serde_json::to_value(&v).expect("serialize");
        assert_eq!(j["ApiVersion"], "1.43");
        assert_eq!(j["MinAPIVersion"], "1.24");
        assert_eq!(j["Platform"]["Name"], "");

        let mut info = SystemInfo {
            ncpu: 2,
            cgroup_version: "1".into(),
            ..Default::default()
        };
        info.runtimes.insert(
            "rocker-runtime".into(),
            RuntimeInfo {
                path: "/usr/bin/rocker-runtime".into(),
                runtime_args: None,
            },
        );
        let j = serde_json::to_value(&info).expect("serialize");
        for key in [
            "ID",
            "NCPU",
            "MemTotal",
            "OSType",
            "CPUShares",
            "IPv4Forwarding",
            "NFd",
            "NGoroutines",
            "NEventsListener",
            "BridgeNfIp6tables",
            "HttpProxy",
            "DockerRootDir",
            "LiveRestoreEnabled",
        ] {
            assert!(j.get(key).is_some(), "missing {key}");
        }
        assert_eq!(
            j["Runtimes"]["rocker-runtime"]["path"],
            "/usr/bin/rocker-runtime"
        );
        assert_eq!(j["ContainerdCommit"]["ID"], "");
    }
}
