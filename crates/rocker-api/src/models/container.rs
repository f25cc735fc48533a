//! Container responses of the Engine API: create, wait, list (`ContainerSummary`) and inspect.
//!
//! These are what the daemon serializes and what the CLI, the docker CLI and the SDKs read
//! back, so names, omit rules and the `null`-vs-`[]` choices follow Docker's Go types
//! (`container.CreateResponse`, `container.WaitResponse`, `types.Container`,
//! `types.ContainerJSON`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::container_config::{ContainerConfig, EndpointSettings};
use super::de::nullable;
use super::host_config::{HostConfig, PortBinding};

/// `201` body of `POST /containers/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateResponse {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// `200` body of `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerWaitResponse {
    #[serde(deserialize_with = "nullable")]
    pub status_code: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<WaitExitError>,
}

/// Why waiting failed (the container could not be started, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WaitExitError {
    #[serde(deserialize_with = "nullable")]
    pub message: String,
}

/// One entry of `GET /containers/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerSummary {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    /// With a leading slash: `["/web"]`.
    #[serde(deserialize_with = "nullable")]
    pub names: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub image: String,
    #[serde(rename = "ImageID", deserialize_with = "nullable")]
    pub image_id: String,
    /// Path and args joined by spaces.
    #[serde(deserialize_with = "nullable")]
    pub command: String,
    /// Unix seconds.
    #[serde(deserialize_with = "nullable")]
    pub created: i64,
    #[serde(deserialize_with = "nullable")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    #[serde(deserialize_with = "nullable")]
    pub state: String,
    /// Human status: `Up 3 seconds`, `Exited (0) 2 seconds ago` (see [`crate::human`]).
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    #[serde(deserialize_with = "nullable")]
    pub host_config: SummaryHostConfig,
    pub network_settings: Option<SummaryNetworkSettings>,
    #[serde(deserialize_with = "nullable")]
    pub mounts: Vec<MountPoint>,
}

/// The slice of `HostConfig` shown in a container list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SummaryHostConfig {
    #[serde(deserialize_with = "nullable")]
    pub network_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Networks of a listed container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SummaryNetworkSettings {
    pub networks: Option<BTreeMap<String, EndpointSettings>>,
}

/// A port in a container list (`0.0.0.0:8080->80/tcp` when rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Port {
    #[serde(
        rename = "IP",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub ip: String,
    #[serde(deserialize_with = "nullable")]
    pub private_port: u16,
    #[serde(skip_serializing_if = "is_zero_u16", deserialize_with = "nullable")]
    pub public_port: u16,
    /// `tcp`, `udp`, `sctp`.
    #[serde(deserialize_with = "nullable")]
    pub r#type: String,
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

/// A mount as reported by list and inspect (`types.MountPoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub r#type: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub source: String,
    #[serde(deserialize_with = "nullable")]
    pub destination: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub driver: String,
    #[serde(deserialize_with = "nullable")]
    pub mode: String,
    #[serde(rename = "RW", deserialize_with = "nullable")]
    pub rw: bool,
    #[serde(deserialize_with = "nullable")]
    pub propagation: String,
}

/// `GET /containers/{id}/json` (`types.ContainerJSON`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerInspect {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    /// RFC 3339 with nanoseconds (see [`crate::gotime::rfc3339_nano`]).
    #[serde(deserialize_with = "nullable")]
    pub created: String,
    #[serde(deserialize_with = "nullable")]
    pub path: String,
    #[serde(deserialize_with = "nullable")]
    pub args: Vec<String>,
    pub state: Option<ContainerState>,
    /// Image id (`sha256:...`).
    #[serde(deserialize_with = "nullable")]
    pub image: String,
    #[serde(deserialize_with = "nullable")]
    pub resolv_conf_path: String,
    #[serde(deserialize_with = "nullable")]
    pub hostname_path: String,
    #[serde(deserialize_with = "nullable")]
    pub hosts_path: String,
    #[serde(deserialize_with = "nullable")]
    pub log_path: String,
    /// With a leading slash: `/web`.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub restart_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    #[serde(deserialize_with = "nullable")]
    pub platform: String,
    #[serde(deserialize_with = "nullable")]
    pub mount_label: String,
    #[serde(deserialize_with = "nullable")]
    pub process_label: String,
    #[serde(deserialize_with = "nullable")]
    pub app_armor_profile: String,
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    pub host_config: Option<HostConfig>,
    #[serde(deserialize_with = "nullable")]
    pub graph_driver: GraphDriverData,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub mounts: Vec<MountPoint>,
    pub config: Option<ContainerConfig>,
    pub network_settings: Option<NetworkSettings>,
}

/// `State` of an inspected container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    #[serde(deserialize_with = "nullable")]
    pub running: bool,
    #[serde(deserialize_with = "nullable")]
    pub paused: bool,
    #[serde(deserialize_with = "nullable")]
    pub restarting: bool,
    #[serde(rename = "OOMKilled", deserialize_with = "nullable")]
    pub oom_killed: bool,
    #[serde(deserialize_with = "nullable")]
    pub dead: bool,
    #[serde(deserialize_with = "nullable")]
    pub pid: i64,
    #[serde(deserialize_with = "nullable")]
    pub exit_code: i64,
    #[serde(deserialize_with = "nullable")]
    pub error: String,
    /// RFC 3339 nano; `0001-01-01T00:00:00Z` when never started.
    #[serde(deserialize_with = "nullable")]
    pub started_at: String,
    /// RFC 3339 nano; `0001-01-01T00:00:00Z` while it has not finished.
    #[serde(deserialize_with = "nullable")]
    pub finished_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// Healthcheck state (`starting`, `healthy`, `unhealthy`, `none`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Health {
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    #[serde(deserialize_with = "nullable")]
    pub failing_streak: i64,
    #[serde(deserialize_with = "nullable")]
    pub log: Vec<HealthcheckResult>,
}

/// One healthcheck probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthcheckResult {
    #[serde(deserialize_with = "nullable")]
    pub start: String,
    #[serde(deserialize_with = "nullable")]
    pub end: String,
    #[serde(deserialize_with = "nullable")]
    pub exit_code: i64,
    #[serde(deserialize_with = "nullable")]
    pub output: String,
}

/// Storage driver and its data (`LowerDir`, `UpperDir`, `WorkDir`, `MergedDir`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GraphDriverData {
    #[serde(deserialize_with = "nullable")]
    pub data: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub name: String,
}

/// `NetworkSettings` of an inspected container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkSettings {
    #[serde(deserialize_with = "nullable")]
    pub bridge: String,
    #[serde(rename = "SandboxID", deserialize_with = "nullable")]
    pub sandbox_id: String,
    #[serde(deserialize_with = "nullable")]
    pub hairpin_mode: bool,
    #[serde(rename = "LinkLocalIPv6Address", deserialize_with = "nullable")]
    pub link_local_ipv6_address: String,
    #[serde(rename = "LinkLocalIPv6PrefixLen", deserialize_with = "nullable")]
    pub link_local_ipv6_prefix_len: i64,
    /// `"80/tcp"` -> bindings, `null` for exposed but unpublished ports.
    #[serde(deserialize_with = "nullable")]
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
    #[serde(deserialize_with = "nullable")]
    pub sandbox_key: String,
    #[serde(rename = "SecondaryIPAddresses")]
    pub secondary_ip_addresses: Option<Vec<Address>>,
    #[serde(rename = "SecondaryIPv6Addresses")]
    pub secondary_ipv6_addresses: Option<Vec<Address>>,
    #[serde(rename = "EndpointID", deserialize_with = "nullable")]
    pub endpoint_id: String,
    #[serde(deserialize_with = "nullable")]
    pub gateway: String,
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "nullable")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen", deserialize_with = "nullable")]
    pub global_ipv6_prefix_len: i64,
    #[serde(rename = "IPAddress", deserialize_with = "nullable")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen", deserialize_with = "nullable")]
    pub ip_prefix_len: i64,
    #[serde(rename = "IPv6Gateway", deserialize_with = "nullable")]
    pub ipv6_gateway: String,
    #[serde(deserialize_with = "nullable")]
    pub mac_address: String,
    #[serde(deserialize_with = "nullable")]
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// An extra address of an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Address {
    #[serde(deserialize_with = "nullable")]
    pub addr: String,
    #[serde(deserialize_with = "nullable")]
    pub prefix_len: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_wire_names() {
        let s = ContainerSummary {
            id: "abc".into(),
            names: vec!["/web".into()],
            image_id: "sha256:1".into(),
            ports: vec![Port {
                private_port: 80,
                r#type: "tcp".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let v = serde_json::to_value(&s).expect("serialize");
        assert_eq!(v["Id"], "abc");
        assert_eq!(v["ImageID"], "sha256:1");
        assert_eq!(
            v["Ports"][0],
            serde_json::json!({"PrivatePort": 80, "Type": "tcp"})
        );
        assert!(v.get("SizeRw").is_none());
        assert_eq!(v["HostConfig"]["NetworkMode"], "");
    }

    #[test]
    fn inspect_parses_docker_output_fragment() {
        let body = r#"{"Id":"x","Created":"2024-01-01T00:00:00.5Z","Path":"sh","Args":null,
            "State":{"Status":"exited","Running":false,"OOMKilled":false,"Pid":0,"ExitCode":3,
              "StartedAt":"2024-01-01T00:00:01Z","FinishedAt":"2024-01-01T00:00:02Z"},
            "Name":"/x","ExecIDs":null,"GraphDriver":{"Data":null,"Name":"overlay2"},
            "Mounts":[{"Type":"volume","Name":"v","Source":"/s","Destination":"/d",
              "Driver":"local","Mode":"z","RW":true,"Propagation":""}],
            "NetworkSettings":{"Ports":{"80/tcp":null},"Networks":{"bridge":{"IPAddress":"10.0.0.2"}}}}"#;
        let c: ContainerInspect = serde_json::from_str(body).expect("parse");
        assert_eq!(c.state.as_ref().map(|s| s.exit_code), Some(3));
        assert!(c.mounts[0].rw);
        let ns = c.network_settings.expect("network settings");
        assert_eq!(ns.ports.get("80/tcp"), Some(&None));
        assert_eq!(ns.networks["bridge"].ip_address, "10.0.0.2");
        let wait: ContainerWaitResponse =
            serde_json::from_str(r#"{"StatusCode":137,"Error":null}"#).expect("parse");
        assert_eq!(wait.status_code, 137);
    }
}
