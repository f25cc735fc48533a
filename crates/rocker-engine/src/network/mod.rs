//! Networks: the built-in `bridge`, `host` and `none`, user-defined bridge networks, and
//! what each running container is wired to.
//!
//! Network definitions live in the `networks` table. Addresses and published ports are not
//! stored separately: each running container's record carries its [`NetState`] (namespace,
//! endpoints with their addresses, bound ports), so the records are the one truth that
//! address management, `network inspect`, DNS and the nftables table are rebuilt from after a
//! restart. The mechanisms (netns, netlink, nftables, DNS) are in `rocker-net`.

mod dns;
mod endpoint;
mod ops;
mod ports;
mod store;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rocker_net::ipam::Subnet;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lock;

pub use endpoint::NetPlan;
pub use ops::{CreateNetwork, Member};
pub use store::NetworkRec;
pub(crate) use store::MIGRATIONS;

/// Names of the networks that always exist.
pub const BRIDGE: &str = "bridge";
pub const HOST: &str = "host";
pub const NONE: &str = "none";

/// Docker's default bridge subnet, used unless it overlaps a route of the host.
const DEFAULT_BRIDGE_SUBNET: &str = "172.17.0.0/16";

/// Daemon-wide network settings.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Name of the default bridge interface (`rocker0`).
    pub bridge: String,
    /// `--bip` / `default_bridge_subnet`: fixed subnet of the default bridge.
    pub bridge_subnet: Option<String>,
    pub bridge_gateway: Option<String>,
    /// Name of the nftables table Rocker owns.
    pub nft_table: String,
    /// The daemon's `dns`, `dns_search`, `dns_options` (containers' resolv.conf and the
    /// embedded DNS server's upstreams).
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// The host's resolver configuration (normally /etc/resolv.conf).
    pub host_resolv: PathBuf,
    pub mtu: Option<u32>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            bridge: "rocker0".into(),
            bridge_subnet: None,
            bridge_gateway: None,
            nft_table: "rocker".into(),
            dns: Vec::new(),
            dns_search: Vec::new(),
            dns_options: Vec::new(),
            host_resolv: PathBuf::from("/etc/resolv.conf"),
            mtu: None,
        }
    }
}

/// A container's wiring while it runs (persisted in its record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetState {
    /// Bind-mounted namespace (empty for host / none / container modes).
    #[serde(default)]
    pub sandbox: String,
    /// Network name -> endpoint.
    #[serde(default)]
    pub endpoints: BTreeMap<String, Attached>,
    #[serde(default)]
    pub ports: Vec<BoundPort>,
}

/// One endpoint of a container on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    pub network_id: String,
    pub endpoint_id: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: String,
    pub ifname: String,
    pub host_ifname: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A published port as bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundPort {
    /// `tcp` or `udp`.
    pub proto: String,
    pub container_port: u16,
    /// Empty: every address of the host.
    pub host_ip: String,
    pub host_port: u16,
}

/// In-memory view derived from the networks table and the running containers.
#[derive(Default)]
struct Inner {
    nets: BTreeMap<String, NetworkRec>,
    /// Network id -> addresses in use.
    used: HashMap<String, HashSet<Ipv4Addr>>,
    /// Network id -> last address handed out (Docker allocates sequentially).
    last: HashMap<String, Ipv4Addr>,
    /// (proto, host ip, host port) -> container id.
    ports: HashMap<(String, String, u16), String>,
    /// Container id -> its published ports as nftables rules.
    port_rules: BTreeMap<String, Vec<rocker_net::nft::PortRule>>,
}

/// The network service of the engine.
pub struct Networks {
    cfg: NetConfig,
    netns_dir: PathBuf,
    db: crate::db::Db,
    inner: Mutex<Inner>,
    names: Arc<dns::Names>,
    servers: Mutex<HashMap<String, rocker_net::dns::DnsServer>>,
}

impl Networks {
    pub(crate) fn new(cfg: NetConfig, exec_root: &std::path::Path, db: crate::db::Db) -> Networks {
        Networks {
            cfg,
            netns_dir: exec_root.join("netns"),
            db,
            inner: Mutex::new(Inner::default()),
            names: Arc::new(dns::Names::default()),
            servers: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// Loads the networks table, creates the built-in networks on first start and brings up
    /// the default bridge (choosing a free subnet when Docker's default is taken).
    pub(crate) fn open(&self) -> Result<()> {
        let nets = store::load(&self.db)?;
        lock(&self.inner).nets = nets.into_iter().map(|n| (n.id.clone(), n)).collect();
        for (name, driver) in [(HOST, "host"), (NONE, "null")] {
            if self.by_name(name).is_none() {
                let rec = NetworkRec::builtin(name, driver);
                store::save(&self.db, &rec)?;
                lock(&self.inner).nets.insert(rec.id.clone(), rec);
            }
        }
        self.open_default_bridge()?;
        Ok(())
    }

    fn open_default_bridge(&self) -> Result<()> {
        let existing = self.by_name(BRIDGE);
        // Our own bridge's route (from an earlier run) is not a conflict.
        let ours = existing
            .as_ref()
            .filter(|r| r.bridge == self.cfg.bridge)
            .and_then(|r| r.subnet().ok());
        let mut taken = self.taken_subnets(existing.as_ref().map(|r| r.id.as_str()))?;
        taken.retain(|t| Some(*t) != ours);
        let (wanted, configured) = match &self.cfg.bridge_subnet {
            Some(s) => (parse_subnet(s)?, true),
            None => match ours {
                Some(s) => (s, false),
                None => (parse_subnet(DEFAULT_BRIDGE_SUBNET)?, false),
            },
        };
        let subnet = match taken.iter().find(|t| t.overlaps(&wanted)) {
            None => wanted,
            Some(route) => {
                let s = rocker_net::ipam::pick_free_subnet(&taken)
                    .ok_or_else(|| Error::internal("no free subnet for the default bridge"))?;
                tracing::warn!(
                    "default bridge subnet {wanted}{} overlaps the host route {route}; using {s} instead",
                    if configured { " (configured)" } else { "" }
                );
                s
            }
        };
        let configured_gateway = self
            .cfg
            .bridge_gateway
            .as_deref()
            .filter(|_| subnet == wanted);
        let gateway = match configured_gateway {
            Some(g) => {
                let gw = parse_ip(g, "default bridge gateway")?;
                if !subnet.contains(gw) {
                    return Err(Error::invalid(format!(
                        "default bridge gateway {gw} is not in its subnet {subnet}"
                    )));
                }
                gw
            }
            None => subnet.first_host(),
        };
        let mut rec = existing.unwrap_or_else(|| NetworkRec::builtin(BRIDGE, "bridge"));
        rec.bridge = self.cfg.bridge.clone();
        rec.subnet = Some(subnet.to_string());
        rec.gateway = Some(gateway.to_string());
        rec.options.insert(
            "com.docker.network.bridge.name".into(),
            self.cfg.bridge.clone(),
        );
        rec.options.insert(
            "com.docker.network.bridge.default_bridge".into(),
            "true".into(),
        );
        self.bring_up(&rec)?;
        store::save(&self.db, &rec)?;
        lock(&self.inner).nets.insert(rec.id.clone(), rec);
        Ok(())
    }

    /// Creates (idempotently) the bridge of a bridge network.
    fn bring_up(&self, rec: &NetworkRec) -> Result<()> {
        if rec.driver != "bridge" {
            return Ok(());
        }
        let subnet = rec.subnet()?;
        let gw = rec.gateway_ip()?;
        rocker_net::link::ensure_bridge(&rec.bridge, gw, subnet.prefix, self.cfg.mtu)
            .map_err(|e| Error::internal(format!("creating bridge {}: {e}", rec.bridge)))?;
        rocker_net::link::enable_forwarding(&rec.bridge)
            .map_err(|e| Error::internal(format!("enabling forwarding: {e}")))?;
        // A dockerd on the same host leaves a FORWARD policy of DROP that no rule of ours
        // can override; Docker's DOCKER-USER chain is where it lets others through.
        match rocker_net::nft::allow_in_docker_user(&rec.bridge) {
            Ok(true) => {
                tracing::info!(bridge = %rec.bridge, "allowed in Docker's DOCKER-USER chain")
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(bridge = %rec.bridge, "DOCKER-USER: {e}"),
        }
        Ok(())
    }

    /// Subnets in use: the host's routes (minus our own bridges) and every network's.
    fn taken_subnets(&self, except: Option<&str>) -> Result<Vec<Subnet>> {
        let mut taken = rocker_net::link::host_routes()
            .map_err(|e| Error::internal(format!("reading host routes: {e}")))?;
        let inner = lock(&self.inner);
        for n in inner.nets.values() {
            if Some(n.id.as_str()) == except {
                continue;
            }
            if let Ok(s) = n.subnet() {
                taken.push(s);
            }
        }
        Ok(taken)
    }

    /// A network by exact id, name, or unique id prefix.
    pub fn lookup(&self, id_or_name: &str) -> Result<NetworkRec> {
        let inner = lock(&self.inner);
        if let Some(n) = inner.nets.get(id_or_name) {
            return Ok(n.clone());
        }
        if let Some(n) = inner.nets.values().find(|n| n.name == id_or_name) {
            return Ok(n.clone());
        }
        let mut found = inner
            .nets
            .values()
            .filter(|n| !id_or_name.is_empty() && n.id.starts_with(id_or_name));
        if let Some(n) = found.next() {
            if found.next().is_some() {
                return Err(Error::not_found(format!(
                    "network {id_or_name} is ambiguous"
                )));
            }
            return Ok(n.clone());
        }
        Err(Error::not_found(format!("network {id_or_name} not found")))
    }

    fn by_name(&self, name: &str) -> Option<NetworkRec> {
        lock(&self.inner)
            .nets
            .values()
            .find(|n| n.name == name)
            .cloned()
    }

    /// Every network, built-in first then by name.
    pub fn list(&self) -> Vec<NetworkRec> {
        let mut v: Vec<NetworkRec> = lock(&self.inner).nets.values().cloned().collect();
        v.sort_by(|a, b| (!a.builtin, &a.name).cmp(&(!b.builtin, &b.name)));
        v
    }

    /// Applies the whole nftables table for the current state (one transaction).
    fn apply_rules(&self) -> Result<()> {
        let ruleset = {
            let inner = lock(&self.inner);
            let mut networks = Vec::new();
            for n in inner.nets.values().filter(|n| n.driver == "bridge") {
                if let Ok(subnet) = n.subnet() {
                    networks.push(rocker_net::nft::NetRules {
                        bridge: n.bridge.clone(),
                        subnet,
                        internal: n.internal,
                        masquerade: n.masquerade(),
                    });
                }
            }
            rocker_net::nft::Ruleset {
                table: self.cfg.nft_table.clone(),
                networks,
                ports: inner.port_rules.values().flatten().cloned().collect(),
            }
        };
        ruleset
            .apply()
            .map_err(|e| Error::internal(format!("updating nftables table: {e}")))
    }

    /// The embedded DNS server of a user-defined network, on its gateway address.
    async fn start_dns(&self, rec: &NetworkRec) {
        if rec.builtin || rec.driver != "bridge" {
            return;
        }
        let Ok(gw) = rec.gateway_ip() else { return };
        let host = std::fs::read_to_string(&self.cfg.host_resolv).unwrap_or_default();
        let upstreams = if rec.internal {
            Vec::new()
        } else {
            rocker_net::files::upstreams(&host, &self.cfg.dns)
        };
        let listen = std::net::SocketAddr::from((gw, 53));
        let resolver: Arc<dyn rocker_net::dns::Resolver> = self.names.clone();
        match rocker_net::dns::DnsServer::start(listen, resolver, upstreams).await {
            Ok(server) => {
                if let Some(old) = lock(&self.servers).insert(rec.id.clone(), server) {
                    old.shutdown();
                }
            }
            Err(e) => tracing::warn!(network = %rec.name, "starting DNS on {listen}: {e}"),
        }
    }

    fn stop_dns(&self, network_id: &str) {
        if let Some(s) = lock(&self.servers).remove(network_id) {
            s.shutdown();
        }
    }
}

fn parse_subnet(s: &str) -> Result<Subnet> {
    Subnet::parse(s).map_err(|e| Error::invalid(format!("invalid subnet {s}: {e}")))
}

fn parse_ip(s: &str, what: &str) -> Result<Ipv4Addr> {
    s.parse()
        .map_err(|_| Error::invalid(format!("invalid {what} address: {s}")))
}
