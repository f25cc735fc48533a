//! The daemon's configuration: `/etc/rocker/config.toml` (the keys of Rocker's original
//! config file), overridden by dockerd-style command-line flags.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct File {
    pub daemon: Daemon,
    pub registry: Registry,
    pub network: Network,
    pub log: Log,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Daemon {
    pub debug: bool,
    pub log_level: Option<String>,
    /// Socket path (`/run/rocker/rocker.sock`) or `unix://` URL.
    pub socket: Option<String>,
    pub data_root: Option<PathBuf>,
    pub exec_root: Option<PathBuf>,
    pub pidfile: Option<PathBuf>,
    pub cgroup_parent: Option<String>,
    /// Run containers under the init unless they say otherwise (dockerd's `init`; P5).
    pub init: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Registry {
    pub mirrors: Vec<String>,
    pub insecure_registries: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    pub default_bridge_subnet: Option<String>,
    pub default_bridge_gateway: Option<String>,
    /// Default bridge interface name (`rocker0`).
    pub bridge: Option<String>,
    /// The nftables table Rocker owns (`rocker`).
    pub nft_table: Option<String>,
    /// Name servers for containers; upstreams of the embedded DNS server.
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// The host's resolver file (default /etc/resolv.conf).
    pub resolv_conf: Option<PathBuf>,
    pub mtu: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// Docker's size syntax: `10m`, `1g`, or bytes.
    pub max_size: Option<String>,
    pub max_file: Option<u32>,
}

/// Reads the config file. A missing file is fine only when it is the default path.
pub fn load(path: &Path, explicit: bool) -> Result<File> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("parsing {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(File::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Parses Docker's size syntax (`10m`, `512k`, `1g`, `100`) into bytes.
pub fn parse_size(s: &str) -> Result<u64> {
    rocker_engine::log_opts::parse_size(s).map_err(|e| anyhow::anyhow!(e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10m").unwrap(), 10 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("x").is_err());
    }

    #[test]
    fn seed_config_parses() {
        let f: File = toml::from_str(
            r#"
[daemon]
debug = false
log_level = "info"
socket = "/var/run/rocker/rocker.sock"
data_root = "/var/lib/rocker"

[registry]
mirrors = ["https://mirror.example"]
insecure_registries = []

[network]
default_bridge_subnet = "172.17.0.0/16"
default_bridge_gateway = "172.17.0.1"
"#,
        )
        .unwrap();
        assert_eq!(
            f.daemon.data_root.unwrap(),
            PathBuf::from("/var/lib/rocker")
        );
        assert!(toml::from_str::<File>("[daemon]\nbogus = 1\n").is_err());
    }
}
