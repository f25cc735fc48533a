//! Networks in Docker's API: `GET /networks`, `POST /networks/create`, connect, disconnect
//! and prune bodies.
//!
//! Field names, order and omit rules follow Docker's Go types (`types.NetworkResource`,
//! `types.NetworkCreateRequest`, `network.IPAM`, ...) so the docker CLI, the Python SDK and
//! compose read our answers and we read their requests unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::container_config::EndpointSettings;
use super::de::nullable;

/// Docker's `types.NetworkResource`: one network as listed and inspected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkResource {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(rename = "Id", deserialize_with = "nullable")]
    pub id: String,
    /// RFC 3339 with nanoseconds.
    #[serde(deserialize_with = "nullable")]
    pub created: String,
    /// `local`, `global` or `swarm`.
    #[serde(deserialize_with = "nullable")]
    pub scope: String,
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    #[serde(rename = "EnableIPv6", deserialize_with = "nullable")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM", deserialize_with = "nullable")]
    pub ipam: Ipam,
    #[serde(deserialize_with = "nullable")]
    pub internal: bool,
    #[serde(deserialize_with = "nullable")]
    pub attachable: bool,
    #[serde(deserialize_with = "nullable")]
    pub ingress: bool,
    #[serde(deserialize_with = "nullable")]
    pub config_from: ConfigReference,
    #[serde(deserialize_with = "nullable")]
    pub config_only: bool,
    /// Container id -> its endpoint on this network (empty in `GET /networks`).
    #[serde(deserialize_with = "nullable")]
    pub containers: BTreeMap<String, EndpointResource>,
    #[serde(deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// Docker's `network.IPAM`: address management of a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    /// `default` for the built-in allocator.
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    pub options: Option<BTreeMap<String, String>>,
    pub config: Option<Vec<IpamConfig>>,
}

/// Docker's `network.IPAMConfig`: one address pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamConfig {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub subnet: String,
    #[serde(
        rename = "IPRange",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub ip_range: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub gateway: String,
    #[serde(rename = "AuxiliaryAddresses", skip_serializing_if = "Option::is_none")]
    pub auxiliary_addresses: Option<BTreeMap<String, String>>,
}

/// Docker's `network.ConfigReference`: the config-only network a network was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigReference {
    #[serde(deserialize_with = "nullable")]
    pub network: String,
}

/// Docker's `types.EndpointResource`: a container's endpoint as shown by network inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointResource {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(rename = "EndpointID", deserialize_with = "nullable")]
    pub endpoint_id: String,
    #[serde(deserialize_with = "nullable")]
    pub mac_address: String,
    /// CIDR form, `172.19.0.2/16`.
    #[serde(rename = "IPv4Address", deserialize_with = "nullable")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address", deserialize_with = "nullable")]
    pub ipv6_address: String,
}

/// Body of `POST /networks/create` (Docker's `types.NetworkCreateRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateRequest {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Deprecated by Docker (always checked); kept for old clients.
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub check_duplicate: bool,
    /// Empty means `bridge`.
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub scope: String,
    #[serde(deserialize_with = "nullable")]
    pub internal: bool,
    #[serde(deserialize_with = "nullable")]
    pub attachable: bool,
    #[serde(deserialize_with = "nullable")]
    pub ingress: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Option<Ipam>,
    /// `null` (daemon default) or a bool (API 1.45 made it optional).
    #[serde(rename = "EnableIPv6", skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub config_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_from: Option<ConfigReference>,
    pub options: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Answer of `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateResponse {
    #[serde(rename = "Id", deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub warning: String,
}

/// Body of `POST /networks/{id}/connect`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnectRequest {
    #[serde(deserialize_with = "nullable")]
    pub container: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_config: Option<EndpointSettings>,
}

/// Body of `POST /networks/{id}/disconnect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkDisconnectRequest {
    #[serde(deserialize_with = "nullable")]
    pub container: String,
    #[serde(deserialize_with = "nullable")]
    pub force: bool,
}

/// Answer of `POST /networks/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworksPruneResponse {
    pub networks_deleted: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `NetworkInspect` example of Docker's Engine API reference.
    const INSPECT: &str = r#"{
      "Name": "net01",
      "Id": "7d86d31b1478e7cca9ebed7e73aa0fdeec46c5ca29497431d3007d2d9e15ed99",
      "Created": "2016-10-19T04:33:30.360899459Z",
      "Scope": "local",
      "Driver": "bridge",
      "EnableIPv6": false,
      "IPAM": {
        "Driver": "default",
        "Options": {"foo": "bar"},
        "Config": [{"Subnet": "172.19.0.0/16", "Gateway": "172.19.0.1"}]
      },
      "Internal": false,
      "Attachable": false,
      "Ingress": false,
      "ConfigFrom": {"Network": ""},
      "ConfigOnly": false,
      "Containers": {
        "19a4d5d687db25203351ed79d478946f861258f018fe384f229f2efa4b23513c": {
          "Name": "test",
          "EndpointID": "628cadb8bcb92de107b2a1e516cbffe463e321f548feb37697cce00ad694f21a",
          "MacAddress": "02:42:ac:13:00:02",
          "IPv4Address": "172.19.0.2/16",
          "IPv6Address": ""
        }
      },
      "Options": {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.name": "docker0",
        "com.docker.network.driver.mtu": "1500"
      },
      "Labels": {"com.example.some-label": "some-value"}
    }"#;

    #[test]
    fn inspect_example_round_trips() {
        let n: NetworkResource = serde_json::from_str(INSPECT).expect("parse");
        assert_eq!(n.name, "net01");
        assert_eq!(
            n.ipam.config.as_ref().map(|c| c[0].gateway.as_str()),
            Some("172.19.0.1")
        );
        let ep = n.containers.values().next().expect("endpoint");
        assert_eq!(ep.ipv4_address, "172.19.0.2/16");
        assert_eq!(ep.endpoint_id.len(), 64);
        let back = serde_json::to_value(&n).expect("serialize");
        let want: serde_json::Value = serde_json::from_str(INSPECT).expect("value");
        assert_eq!(back, want);
    }

    #[test]
    fn nulls_and_missing_fields_take_zero_values() {
        let n: NetworkResource = serde_json::from_str(
            r#"{"Name":"x","Containers":null,"Options":null,"Labels":null,"IPAM":null}"#,
        )
        .expect("parse");
        assert!(n.containers.is_empty() && n.options.is_empty());
        let v = serde_json::to_value(&n).expect("serialize");
        assert_eq!(v["Containers"], serde_json::json!({}));
        assert_eq!(v["IPAM"]["Config"], serde_json::Value::Null);
        assert_eq!(v["ConfigFrom"]["Network"], "");
    }

    #[test]
    fn create_request_from_docker_cli_and_sdk() {
        // docker CLI (API 1.43): `network create --subnet 10.5.0.0/16 --gateway 10.5.0.1 -o a=b n`.
        let cli = r#"{"CheckDuplicate":true,"Driver":"bridge","Scope":"","EnableIPv6":false,
            "IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.5.0.0/16",
            "IPRange":"10.5.1.0/24","Gateway":"10.5.0.1","AuxiliaryAddresses":{"h":"10.5.0.9"}}]},
            "Internal":true,"Attachable":false,"Ingress":false,"ConfigOnly":false,
            "ConfigFrom":null,"Options":{"a":"b"},"Labels":{"l":"v"},"Name":"n"}"#;
        let r: NetworkCreateRequest = serde_json::from_str(cli).expect("parse");
        assert_eq!(r.name, "n");
        assert!(r.check_duplicate && r.internal);
        let pool = &r
            .ipam
            .as_ref()
            .and_then(|i| i.config.clone())
            .expect("config")[0];
        assert_eq!(pool.ip_range, "10.5.1.0/24");
        assert_eq!(
            pool.auxiliary_addresses.as_ref().map(|a| a["h"].as_str()),
            Some("10.5.0.9")
        );
        assert_eq!(r.enable_ipv6, Some(false));
        let again: NetworkCreateRequest =
            serde_json::from_value(serde_json::to_value(&r).expect("ser")).expect("reparse");
        assert_eq!(again, r);
        // docker-py: nulls for everything unset.
        let py = r#"{"Name":"n2","Driver":null,"Options":null,"IPAM":null,"CheckDuplicate":null,
            "Internal":false,"Labels":null,"EnableIPv6":null,"Attachable":null,"Ingress":null}"#;
        let r: NetworkCreateRequest = serde_json::from_str(py).expect("parse py");
        assert_eq!((r.name.as_str(), r.driver.as_str()), ("n2", ""));
        assert!(r.ipam.is_none() && r.enable_ipv6.is_none());
        let v = serde_json::to_value(&r).expect("ser");
        assert!(v.get("CheckDuplicate").is_none() && v.get("Scope").is_none());
    }

    #[test]
    fn ipam_config_omits_empty_fields() {
        let c = IpamConfig {
            subnet: "10.0.0.0/24".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&c).expect("ser"),
            r#"{"Subnet":"10.0.0.0/24"}"#
        );
    }

    #[test]
    fn connect_disconnect_prune_create_response() {
        let body = r#"{"Container":"3613f73ba0e4","EndpointConfig":{"IPAMConfig":
            {"IPv4Address":"172.24.56.89","IPv6Address":"2001:db8::5689"},
            "MacAddress":"02:42:ac:12:05:02","Aliases":["web"],"Links":null}}"#;
        let c: NetworkConnectRequest = serde_json::from_str(body).expect("parse");
        let ep = c.endpoint_config.as_ref().expect("endpoint");
        assert_eq!(
            ep.ipam_config
                .as_ref()
                .and_then(|i| i.ipv4_address.as_deref()),
            Some("172.24.56.89")
        );
        assert_eq!(ep.aliases, Some(vec!["web".to_string()]));
        let bare = NetworkConnectRequest {
            container: "x".into(),
            endpoint_config: None,
        };
        assert_eq!(
            serde_json::to_string(&bare).expect("ser"),
            r#"{"Container":"x"}"#
        );
        let d: NetworkDisconnectRequest =
            serde_json::from_str(r#"{"Container":"x","Force":true}"#).expect("parse");
        assert!(d.force);
        let p: NetworksPruneResponse =
            serde_json::from_str(r#"{"NetworksDeleted":["a","b"]}"#).expect("parse");
        assert_eq!(p.networks_deleted.map(|d| d.len()), Some(2));
        let r: NetworkCreateResponse = serde_json::from_str(
            r#"{"Id":"22be93d5babb089c5aab8dbc369042fad48ff791584ca2da2100db837a1c7c30","Warning":""}"#,
        )
        .expect("parse");
        assert_eq!(r.id.len(), 64);
        assert_eq!(
            serde_json::to_value(&r).expect("ser")["Warning"],
            serde_json::json!("")
        );
    }
}
