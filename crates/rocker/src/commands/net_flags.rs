//! The networking flags of `run`/`create` (`-p`, `-P`, `--expose`, `--ip`, `--network-alias`,
//! `--dns*`, `--mac-address`, `--link`, and the existing `--network`/`--add-host`) and how the
//! docker CLI turns them into `ExposedPorts`, `HostConfig` fields and `NetworkingConfig`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use clap::Args;
use rocker_api::models::{EndpointIpamConfig, EndpointSettings, NetworkingConfig};

use crate::ports::{parse_publish_expose, ExposedPorts, PortBindings};

/// Docker's networking flags of a container (flattened into `ContainerFlags`).
#[derive(Debug, Args, Default, Clone)]
pub struct NetFlags {
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long)]
    pub expose: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long)]
    pub ip6: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// Add link to another container
    #[arg(long)]
    pub link: Vec<String>,
    /// Set custom DNS servers
    #[arg(long, value_parser = parse_dns)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", alias = "dns-opt")]
    pub dns_option: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
}

/// What the networking flags contribute to a create body.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct NetParts {
    pub exposed_ports: Option<ExposedPorts>,
    pub port_bindings: PortBindings,
    pub publish_all: bool,
    pub network_mode: String,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub extra_hosts: Option<Vec<String>>,
    pub links: Option<Vec<String>>,
    pub mac_address: Option<String>,
    pub networking_config: NetworkingConfig,
}

/// `--dns` values must be IP addresses (docker's `ValidateIPAddress`).
fn parse_dns(s: &str) -> Result<String, String> {
    s.trim()
        .parse::<IpAddr>()
        .map(|_| s.trim().to_string())
        .map_err(|_| format!("IP address is not correctly formatted: {s}"))
}

/// Docker's `ValidateExtraHost`: `host:ip` or `host=ip` (`[v6]` allowed), sent as `host:ip`.
pub fn validate_extra_host(val: &str) -> Result<String, String> {
    let (k, v) = val
        .split_once('=')
        .or_else(|| val.split_once(':'))
        .filter(|(k, _)| !k.is_empty() && !k.contains(':'))
        .ok_or_else(|| {
            format!("invalid argument {val:?} for \"--add-host\" flag: bad format for add-host: {val:?}")
        })?;
    let mut ip = v;
    if ip != "host-gateway" {
        if let Some(inner) = ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            ip = inner;
        }
        if ip.parse::<IpAddr>().is_err() {
            return Err(format!(
                "invalid argument {val:?} for \"--add-host\" flag: invalid IP address in add-host: {ip:?}"
            ));
        }
    }
    Ok(format!("{k}:{ip}"))
}

/// Go's `net.ParseMAC` for the 6-byte colon or dash forms.
fn valid_mac(m: &str) -> bool {
    let parts: Vec<&str> = m.split([':', '-']).collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Docker's `IsUserDefined`: not `default`, `bridge`, `host`, `none` or `container:<id>`.
fn is_user_defined(mode: &str) -> bool {
    !matches!(mode, "default" | "bridge" | "host" | "none") && !mode.starts_with("container:")
}

impl NetFlags {
    /// The body parts for these flags plus `--network` and `--add-host`, as the docker CLI
    /// builds them (validation the daemon does, like `--ip` on the default bridge, is left to
    /// it).
    pub fn to_parts(&self, network: Option<&str>, add_host: &[String]) -> Result<NetParts, String> {
        let (exposed, bindings) = parse_publish_expose(&self.publish, &self.expose)?;
        let extra_hosts = (!add_host.is_empty())
            .then(|| {
                add_host
                    .iter()
                    .map(|h| validate_extra_host(h))
                    .collect::<Result<Vec<String>, String>>()
            })
            .transpose()?;
        if let Some(m) = &self.mac_address {
            if !valid_mac(m.trim()) {
                return Err(format!("{m} is not a valid mac address"));
            }
        }
        let network_mode = network
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
            .to_string();
        let target = network_mode.as_str();
        if !self.network_alias.is_empty() && !is_user_defined(target) {
            return Err(
                "network-scoped aliases are only supported for user-defined networks".into(),
            );
        }
        let ipam = (self.ip.is_some() || self.ip6.is_some()).then(|| EndpointIpamConfig {
            ipv4_address: self.ip.clone(),
            ipv6_address: self.ip6.clone(),
            link_local_ips: None,
        });
        let endpoint = EndpointSettings {
            ipam_config: ipam,
            links: (is_user_defined(target) && !self.link.is_empty()).then(|| self.link.clone()),
            aliases: (!self.network_alias.is_empty()).then(|| self.network_alias.clone()),
            mac_address: self.mac_address.clone().unwrap_or_default(),
            ..Default::default()
        };
        // Docker always names the implicit "default" endpoint, and omits an empty endpoint of
        // a single explicit network.
        let mut endpoints = BTreeMap::new();
        if network.is_none() || endpoint != EndpointSettings::default() {
            endpoints.insert(network_mode.clone(), endpoint);
        }
        Ok(NetParts {
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            port_bindings: bindings,
            publish_all: self.publish_all,
            network_mode,
            dns: self.dns.clone(),
            dns_search: self.dns_search.clone(),
            dns_options: self.dns_option.clone(),
            extra_hosts,
            links: (!self.link.is_empty()).then(|| self.link.clone()),
            mac_address: self.mac_address.clone(),
            networking_config: NetworkingConfig {
                endpoints_config: Some(endpoints),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> NetFlags {
        NetFlags::default()
    }

    #[test]
    fn no_flags_like_docker() {
        let p = flags().to_parts(None, &[]).expect("parts");
        assert_eq!(p.network_mode, "default");
        assert!(p.exposed_ports.is_none() && p.port_bindings.is_empty());
        assert!(p.extra_hosts.is_none() && p.links.is_none());
        let v = serde_json::to_value(&p.networking_config).expect("ser");
        assert_eq!(
            v["EndpointsConfig"]["default"]["IPAMConfig"],
            serde_json::Value::Null
        );
        // `--network host` alone: an empty endpoint map.
        let p = flags().to_parts(Some("host"), &[]).expect("parts");
        assert_eq!(
            serde_json::to_value(&p.networking_config).expect("ser"),
            serde_json::json!({"EndpointsConfig": {}})
        );
    }

    #[test]
    fn user_network_endpoint_like_docker() {
        let f = NetFlags {
            ip: Some("10.0.0.5".into()),
            network_alias: vec!["a".into()],
            link: vec!["x:y".into()],
            dns: vec!["1.1.1.1".into()],
            dns_search: vec!["s".into()],
            dns_option: vec!["o".into()],
            mac_address: Some("02:42:ac:11:00:02".into()),
            ..flags()
        };
        let p = f
            .to_parts(Some("n1"), &["h:1.2.3.4".into(), "h2=::1".into()])
            .expect("parts");
        assert_eq!(p.network_mode, "n1");
        assert_eq!(p.links, Some(vec!["x:y".to_string()]));
        assert_eq!(
            p.extra_hosts,
            Some(vec!["h:1.2.3.4".to_string(), "h2:::1".to_string()])
        );
        let ep = &p.networking_config.endpoints_config.as_ref().expect("eps")["n1"];
        assert_eq!(
            ep.ipam_config
                .as_ref()
                .and_then(|i| i.ipv4_address.as_deref()),
            Some("10.0.0.5")
        );
        assert_eq!(ep.aliases, Some(vec!["a".to_string()]));
        assert_eq!(ep.links, Some(vec!["x:y".to_string()]));
        assert_eq!(ep.mac_address, "02:42:ac:11:00:02");
        assert_eq!(p.mac_address.as_deref(), Some("02:42:ac:11:00:02"));
    }

    #[test]
    fn ip_on_default_network_is_left_to_the_daemon() {
        let f = NetFlags {
            ip: Some("10.0.0.5".into()),
            publish_all: true,
            ..flags()
        };
        let p = f.to_parts(None, &[]).expect("parts");
        assert!(p.publish_all);
        let ep = &p.networking_config.endpoints_config.expect("eps")["default"];
        assert!(ep.ipam_config.is_some());
    }

    #[test]
    fn validation_errors_like_docker() {
        let alias = NetFlags {
            network_alias: vec!["a".into()],
            ..flags()
        };
        assert_eq!(
            alias.to_parts(None, &[]).unwrap_err(),
            "network-scoped aliases are only supported for user-defined networks"
        );
        assert_eq!(
            alias.to_parts(Some("bridge"), &[]).unwrap_err(),
            "network-scoped aliases are only supported for user-defined networks"
        );
        let mac = NetFlags {
            mac_address: Some("zz".into()),
            ..flags()
        };
        assert_eq!(
            mac.to_parts(None, &[]).unwrap_err(),
            "zz is not a valid mac address"
        );
        assert_eq!(
            flags().to_parts(None, &["foo".into()]).unwrap_err(),
            "invalid argument \"foo\" for \"--add-host\" flag: bad format for add-host: \"foo\""
        );
        assert_eq!(
            validate_extra_host("h:host-gateway"),
            Ok("h:host-gateway".into())
        );
        assert_eq!(validate_extra_host("h=[::1]"), Ok("h:::1".into()));
        assert!(validate_extra_host("h:nope").is_err());
        assert!(parse_dns("x").is_err());
        assert_eq!(parse_dns("8.8.8.8"), Ok("8.8.8.8".into()));
        let bad_port = NetFlags {
            publish: vec!["x:80".into()],
            ..flags()
        };
        assert_eq!(
            bad_port.to_parts(None, &[]).unwrap_err(),
            "invalid hostPort: x"
        );
    }
}

#[cfg(test)]
mod cli_tests {
    use clap::Parser;

    use crate::commands::Command;
    use crate::Cli;

    #[test]
    fn run_flags_reach_the_create_body() {
        let cli = Cli::try_parse_from([
            "rocker",
            "run",
            "-p",
            "8080:80",
            "-P",
            "--expose",
            "90",
            "--network",
            "n1",
            "--ip",
            "10.0.0.5",
            "--network-alias",
            "web",
            "--dns",
            "1.1.1.1",
            "--add-host",
            "h=1.2.3.4",
            "busybox",
        ])
        .expect("parse");
        let Some(Command::Run(r)) = cli.command else {
            panic!("not run");
        };
        let b = r
            .flags
            .to_create_body(&r.image, &r.command, r.detach)
            .expect("body");
        let v = serde_json::to_value(&b).expect("ser");
        assert_eq!(
            v["ExposedPorts"],
            serde_json::json!({"80/tcp": {}, "90/tcp": {}})
        );
        let hc = &v["HostConfig"];
        assert_eq!(
            hc["PortBindings"],
            serde_json::json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]})
        );
        assert_eq!(hc["PublishAllPorts"], true);
        assert_eq!(hc["NetworkMode"], "n1");
        assert_eq!(hc["Dns"], serde_json::json!(["1.1.1.1"]));
        assert_eq!(hc["ExtraHosts"], serde_json::json!(["h:1.2.3.4"]));
        let ep = &v["NetworkingConfig"]["EndpointsConfig"]["n1"];
        assert_eq!(ep["IPAMConfig"]["IPv4Address"], "10.0.0.5");
        assert_eq!(ep["Aliases"], serde_json::json!(["web"]));
        assert!(Cli::try_parse_from(["rocker", "run", "--dns", "x", "busybox"]).is_err());
    }
}
