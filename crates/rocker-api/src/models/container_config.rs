//! The container's portable configuration (`Config` in Docker's API) and the create body.
//!
//! `ContainerConfig` is what an image carries in its config and what `POST /containers/create`
//! sends at the top level of its body; `HostConfig` and `NetworkingConfig` sit beside it.
//! Field names and omit rules follow Docker's Go `container.Config` exactly so the docker CLI,
//! the Python SDK and docker-compose round-trip through these types unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{nullable, str_slice};
use super::host_config::HostConfig;

/// Go's `struct{}` as a map value (`ExposedPorts`, `Volumes`): always `{}` on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyObject {}

/// Docker's `container.Config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    #[serde(deserialize_with = "nullable")]
    pub hostname: String,
    #[serde(deserialize_with = "nullable")]
    pub domainname: String,
    #[serde(deserialize_with = "nullable")]
    pub user: String,
    #[serde(deserialize_with = "nullable")]
    pub attach_stdin: bool,
    #[serde(deserialize_with = "nullable")]
    pub attach_stdout: bool,
    #[serde(deserialize_with = "nullable")]
    pub attach_stderr: bool,
    /// Keys like `"80/tcp"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, EmptyObject>>,
    #[serde(deserialize_with = "nullable")]
    pub tty: bool,
    #[serde(deserialize_with = "nullable")]
    pub open_stdin: bool,
    #[serde(deserialize_with = "nullable")]
    pub stdin_once: bool,
    /// `KEY=VALUE` entries.
    pub env: Option<Vec<String>>,
    #[serde(deserialize_with = "str_slice")]
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    pub image: String,
    pub volumes: Option<BTreeMap<String, EmptyObject>>,
    #[serde(deserialize_with = "nullable")]
    pub working_dir: String,
    #[serde(deserialize_with = "str_slice")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_disabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    pub on_build: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "str_slice"
    )]
    pub shell: Option<Vec<String>>,
}

/// Docker's `container.HealthConfig`; durations are nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    /// `[]`, `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "str_slice"
    )]
    pub test: Option<Vec<String>>,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nullable")]
    pub interval: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nullable")]
    pub timeout: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nullable")]
    pub start_period: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nullable")]
    pub start_interval: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nullable")]
    pub retries: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// Body of `POST /containers/create`: the config at the top level plus two nested objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateBody {
    #[serde(flatten)]
    pub config: ContainerConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_config: Option<HostConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networking_config: Option<NetworkingConfig>,
}

/// Docker's `network.NetworkingConfig`: which networks to join at create time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, EndpointSettings>>,
}

/// Docker's `network.EndpointSettings`, used both in requests and in inspect output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    pub links: Option<Vec<String>>,
    pub aliases: Option<Vec<String>>,
    #[serde(rename = "NetworkID", deserialize_with = "nullable")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "nullable")]
    pub endpoint_id: String,
    #[serde(deserialize_with = "nullable")]
    pub gateway: String,
    #[serde(rename = "IPAddress", deserialize_with = "nullable")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen", deserialize_with = "nullable")]
    pub ip_prefix_len: i64,
    #[serde(rename = "IPv6Gateway", deserialize_with = "nullable")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "nullable")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen", deserialize_with = "nullable")]
    pub global_ipv6_prefix_len: i64,
    #[serde(deserialize_with = "nullable")]
    pub mac_address: String,
    pub driver_opts: Option<BTreeMap<String, String>>,
    /// DNS names of the endpoint (API 1.44; sent by newer docker CLIs).
    #[serde(rename = "DNSNames", skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Vec<String>>,
}

/// Static addresses requested for an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointIpamConfig {
    #[serde(rename = "IPv4Address", skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    #[serde(rename = "IPv6Address", skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
    #[serde(rename = "LinkLocalIPs", skip_serializing_if = "Option::is_none")]
    pub link_local_ips: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_sdk_create_body_with_nulls_parses() {
        // Shape of docker-py's `create_container` body: nulls everywhere it has no value.
        let body = r#"{"Hostname":null,"Domainname":null,"ExposedPorts":null,"User":null,
            "Tty":false,"OpenStdin":false,"StdinOnce":false,"AttachStdin":false,
            "AttachStdout":true,"AttachStderr":true,"Env":null,"Cmd":"echo hi","Image":"busybox",
            "Volumes":null,"NetworkDisabled":false,"Entrypoint":null,"WorkingDir":null,
            "Labels":null,"StopSignal":null,"Healthcheck":null,
            "StopTimeout":null,"Runtime":null,
            "HostConfig":{"NetworkMode":"default","Memory":null,"PidsLimit":null,
              "Binds":null,"Init":null,"RestartPolicy":null},
            "NetworkingConfig":null}"#;
        let b: ContainerCreateBody = serde_json::from_str(body).expect("parse");
        assert_eq!(b.config.image, "busybox");
        assert_eq!(b.config.cmd, Some(vec!["echo hi".to_string()]));
        assert!(b.config.attach_stdout);
        let hc = b.host_config.expect("host config");
        assert_eq!(hc.network_mode, "default");
        assert_eq!(hc.memory, 0);
        assert!(hc.pids_limit.is_none());
        assert!(b.networking_config.is_none());
    }

    #[test]
    fn docker_cli_create_body_round_trips() {
        let body = r#"{"Hostname":"h","User":"1000:1000","AttachStdin":true,"AttachStdout":true,
            "AttachStderr":true,"Tty":true,"OpenStdin":true,"StdinOnce":true,
            "Env":["A=1"],"Cmd":["sh","-c","true"],"Image":"busybox","Volumes":{"/data":{}},
            "WorkingDir":"/tmp","Entrypoint":null,"OnBuild":null,"Labels":{"a":"b"},
            "ExposedPorts":{"80/tcp":{}},
            "HostConfig":{"Memory":33554432,"NanoCpus":1500000000,"AutoRemove":true,
              "PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},
              "RestartPolicy":{"Name":"no","MaximumRetryCount":0},"UTSMode":"",
              "ContainerIDFile":"","Ulimits":[{"Name":"nofile","Soft":10,"Hard":20}]},
            "NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":["x"]}}}}"#;
        let b: ContainerCreateBody = serde_json::from_str(body).expect("parse");
        let hc = b.host_config.as_ref().expect("host config");
        assert_eq!(hc.nano_cpus, 1_500_000_000);
        assert!(hc.auto_remove);
        assert_eq!(hc.ulimits.as_ref().map(|u| u[0].hard), Some(20));
        let back = serde_json::to_value(&b).expect("serialize");
        assert_eq!(back["Cmd"][1], "-c");
        assert_eq!(back["HostConfig"]["Memory"], 33554432);
        assert_eq!(back["HostConfig"]["ContainerIDFile"], "");
        assert_eq!(back["ExposedPorts"]["80/tcp"], serde_json::json!({}));
        assert_eq!(
            back["NetworkingConfig"]["EndpointsConfig"]["bridge"]["Aliases"][0],
            "x"
        );
        let again: ContainerCreateBody = serde_json::from_value(back).expect("reparse");
        assert_eq!(again, b);
    }
}
