//! Wiring a container at start and unwiring it at exit: its network namespace, one veth
//! endpoint per network, published ports, DNS names and the /etc files that go with them.
//! Every step of a start that fails undoes the steps before it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use rand::RngCore;
use rocker_api::models::{EndpointSettings, HostConfig, NetworkingConfig};

use super::{Attached, NetState, NetworkRec, BRIDGE, HOST, NONE};
use crate::container::{Record, Status};
use crate::error::{Error, Result};
use crate::spec::NetNs;
use crate::{lock, Engine};

/// What a start gets from the network service.
#[derive(Debug, Clone, Default)]
pub struct NetPlan {
    pub ns: NetNs,
    /// Wiring to undo at exit (bridge networks only).
    pub state: Option<NetState>,
}

/// `NetworkMode` as the engine reads it.
enum Mode<'a> {
    None,
    Host,
    Container(&'a str),
    /// A bridge network (default or user-defined), by name.
    Network(&'a str),
}

fn mode(hc: &HostConfig) -> Mode<'_> {
    match hc.network_mode.as_str() {
        "" | "default" | BRIDGE => Mode::Network(BRIDGE),
        NONE => Mode::None,
        HOST => Mode::Host,
        m => match m.strip_prefix("container:") {
            Some(c) => Mode::Container(c),
            None => Mode::Network(m),
        },
    }
}

fn random_hex(n: usize) -> String {
    let mut raw = vec![0u8; n.div_ceil(2)];
    rand::thread_rng().fill_bytes(&mut raw);
    let mut s = hex::encode(raw);
    s.truncate(n);
    s
}

impl Engine {
    /// At create: checks the networking request and returns the endpoints the container
    /// joins at start (network name -> settings).
    pub(crate) fn plan_endpoints(
        &self,
        hc: &mut HostConfig,
        nc: Option<NetworkingConfig>,
    ) -> Result<BTreeMap<String, EndpointSettings>> {
        let mut asked = nc.and_then(|n| n.endpoints_config).unwrap_or_default();
        if hc.network_mode.is_empty() || hc.network_mode == "default" {
            hc.network_mode = BRIDGE.into();
        }
        let mut out = BTreeMap::new();
        match mode(hc) {
            Mode::None | Mode::Host => {
                if !hc.port_bindings.as_ref().is_none_or(|p| p.is_empty()) {
                    tracing::debug!(
                        "published ports are discarded with network mode {}",
                        hc.network_mode
                    );
                }
                return Ok(out);
            }
            Mode::Container(c) => {
                self.lookup(c)?;
                if !hc.port_bindings.as_ref().is_none_or(|p| p.is_empty()) || hc.publish_all_ports {
                    return Err(Error::invalid(
                        "conflicting options: port publishing and the container type network mode",
                    ));
                }
                return Ok(out);
            }
            Mode::Network(name) => {
                let net = self.net.lookup(name)?;
                if net.driver != "bridge" {
                    return Err(Error::invalid(format!(
                        "container cannot be connected to network {name} with mode {}",
                        net.driver
                    )));
                }
                // The docker CLI keys the main endpoint by the mode it sent ("default").
                let settings = asked
                    .remove(name)
                    .or_else(|| asked.remove(&net.id))
                    .or_else(|| asked.remove("default"))
                    .unwrap_or_default();
                self.check_endpoint(&net, &settings)?;
                if net.name != hc.network_mode {
                    hc.network_mode = net.name.clone();
                }
                out.insert(net.name.clone(), settings);
            }
        }
        // Docker accepts further networks in EndpointsConfig (API >= 1.44 clients).
        for (name, settings) in asked {
            let net = self.net.lookup(&name)?;
            self.check_endpoint(&net, &settings)?;
            out.insert(net.name.clone(), settings);
        }
        Ok(out)
    }

    /// Docker's rules for what an endpoint may ask for.
    pub(super) fn check_endpoint(&self, net: &NetworkRec, s: &EndpointSettings) -> Result<()> {
        let ip = s
            .ipam_config
            .as_ref()
            .and_then(|c| c.ipv4_address.as_deref())
            .filter(|a| !a.is_empty());
        if !net.user_defined() {
            if ip.is_some() {
                return Err(Error::invalid(
                    "user specified IP address is supported on user defined networks only",
                ));
            }
            if s.aliases.as_ref().is_some_and(|a| !a.is_empty()) {
                return Err(Error::invalid(
                    "network-scoped alias is supported only for containers in user defined networks",
                ));
            }
        }
        if let Some(ip) = ip {
            let addr: Ipv4Addr = ip
                .parse()
                .map_err(|_| Error::invalid(format!("invalid IPv4 address: {ip}")))?;
            let range = net.ip_range()?.unwrap_or(net.subnet()?);
            if !range.contains(addr) {
                return Err(Error::invalid(format!(
                    "invalid endpoint settings:\nno configured subnet or ip-range contain the IP address {addr}"
                )));
            }
        }
        if !s.mac_address.is_empty() {
            rocker_net::ipam::parse_mac(&s.mac_address)
                .map_err(|_| Error::invalid(format!("invalid MAC address: {}", s.mac_address)))?;
        }
        Ok(())
    }

    fn netns_path(&self, id: &str) -> PathBuf {
        self.net.netns_dir.join(id)
    }

    /// At start: namespace, endpoints, ports, DNS names, /etc files.
    pub(crate) async fn net_up(&self, rec: &Record) -> Result<NetPlan> {
        let dir = self.container_dir(&rec.id);
        let hc = &rec.host_config;
        match mode(hc) {
            Mode::None => {
                self.write_net_files(rec, &[], None)?;
                Ok(NetPlan::default())
            }
            Mode::Host => {
                copy_file(Path::new("/etc/hosts"), &dir.join("hosts"))?;
                let host = std::fs::read_to_string(&self.net.cfg.host_resolv).unwrap_or_default();
                std::fs::write(dir.join("resolv.conf"), host)?;
                Ok(NetPlan {
                    ns: NetNs::Host,
                    state: None,
                })
            }
            Mode::Container(other) => {
                let other = self.lookup(other)?.record();
                if other.state.status != Status::Running && other.state.status != Status::Paused {
                    return Err(Error::conflict(format!(
                        "cannot join network namespace of a non running container: {}",
                        other.id
                    )));
                }
                let odir = self.container_dir(&other.id);
                for f in ["hosts", "resolv.conf", "hostname"] {
                    copy_file(&odir.join(f), &dir.join(f))?;
                }
                let path = match other.net.as_ref().filter(|n| !n.sandbox.is_empty()) {
                    Some(n) => PathBuf::from(&n.sandbox),
                    None => PathBuf::from(format!("/proc/{}/ns/net", other.state.pid)),
                };
                Ok(NetPlan {
                    ns: NetNs::Path(path),
                    state: None,
                })
            }
            Mode::Network(_) => {
                let mut state = NetState {
                    sandbox: self.netns_path(&rec.id).to_string_lossy().into_owned(),
                    ..Default::default()
                };
                match self.wire(rec, &mut state).await {
                    Ok(()) => Ok(NetPlan {
                        ns: NetNs::Path(PathBuf::from(&state.sandbox)),
                        state: Some(state),
                    }),
                    Err(e) => {
                        self.net_down(&rec.id, Some(state));
                        Err(e)
                    }
                }
            }
        }
    }

    /// Fills `state` step by step so that a failure can be undone from it.
    async fn wire(&self, rec: &Record, state: &mut NetState) -> Result<()> {
        let ns = PathBuf::from(&state.sandbox);
        rocker_net::netns::create(&ns)
            .map_err(|e| Error::internal(format!("creating network namespace: {e}")))?;
        let primary = rec.host_config.network_mode.clone();
        let mut order: Vec<&String> = rec.endpoints_config.keys().collect();
        order.sort_by_key(|n| **n != primary);
        let mut addrs = Vec::new();
        let mut first: Option<(NetworkRec, Attached)> = None;
        for (i, name) in order.into_iter().enumerate() {
            let settings = &rec.endpoints_config[name];
            let net = self.net.lookup(name)?;
            let ep = self.attach_endpoint(rec, &ns, &net, settings, i, i == 0)?;
            addrs.push(ep.ip);
            state.endpoints.insert(net.name.clone(), ep.clone());
            if first.is_none() {
                first = Some((net, ep));
            }
        }
        if let Some((net, ep)) = &first {
            if !net.internal {
                let (bound, rules) = self.bind_ports(rec, ep, &net.bridge)?;
                state.ports = bound;
                if !rules.is_empty() {
                    lock(&self.net.inner)
                        .port_rules
                        .insert(rec.id.clone(), rules);
                    self.net.apply_rules()?;
                }
            }
        }
        let embedded = first
            .as_ref()
            .filter(|(n, _)| n.user_defined())
            .map(|(_, ep)| ep.gateway);
        self.write_net_files(rec, &addrs, embedded)?;
        Ok(())
    }

    /// Allocates an address and wires one veth endpoint into the namespace.
    pub(super) fn attach_endpoint(
        &self,
        rec: &Record,
        ns: &Path,
        net: &NetworkRec,
        settings: &EndpointSettings,
        index: usize,
        default_route: bool,
    ) -> Result<Attached> {
        let subnet = net.subnet()?;
        let gateway = net.gateway_ip()?;
        let ip = self.net.allocate(net, settings)?;
        let mac = if settings.mac_address.is_empty() {
            rocker_net::ipam::mac_for(ip)
        } else {
            rocker_net::ipam::parse_mac(&settings.mac_address).map_err(|_| {
                Error::invalid(format!("invalid MAC address: {}", settings.mac_address))
            })?
        };
        let host_ifname = format!("veth{}", random_hex(7));
        let ifname = format!("eth{index}");
        let ep = rocker_net::link::Endpoint {
            netns: ns,
            host_ifname: &host_ifname,
            ifname: &ifname,
            bridge: &net.bridge,
            mac,
            addr: ip,
            prefix: subnet.prefix,
            gateway: (default_route && !net.internal).then_some(gateway),
            mtu: self.net.cfg.mtu,
        };
        if let Err(e) = rocker_net::link::attach(&ep) {
            self.net.release(&net.id, ip);
            return Err(Error::internal(format!(
                "failed to set up container networking on {}: {e}",
                net.name
            )));
        }
        let mut aliases = settings.aliases.clone().unwrap_or_default();
        aliases.retain(|a| !a.is_empty());
        let attached = Attached {
            network_id: net.id.clone(),
            endpoint_id: super::store::random_id(),
            ip,
            prefix: subnet.prefix,
            gateway,
            mac: rocker_net::ipam::format_mac(&mac),
            ifname,
            host_ifname,
            aliases,
        };
        if net.user_defined() {
            self.net.names.add(&net.id, &rec.id, &rec.name, &attached);
        }
        Ok(attached)
    }

    /// Writes hosts and resolv.conf for the container's addresses.
    fn write_net_files(
        &self,
        rec: &Record,
        addrs: &[Ipv4Addr],
        embedded: Option<Ipv4Addr>,
    ) -> Result<()> {
        let dir = self.container_dir(&rec.id);
        let hc = &rec.host_config;
        let gateway = rec
            .net
            .as_ref()
            .and_then(|n| n.endpoints.values().next().map(|e| e.gateway));
        let mut extra = Vec::new();
        for h in hc.extra_hosts.iter().flatten() {
            let (name, mut ip) = rocker_net::files::parse_extra_host(h)
                .map_err(|e| Error::invalid(e.to_string()))?;
            if ip == "host-gateway" {
                ip = match gateway.or_else(|| self.net.default_gateway()) {
                    Some(g) => g.to_string(),
                    None => continue,
                };
            }
            extra.push((name, ip));
        }
        let hosts =
            rocker_net::files::hosts(&rec.config.hostname, &rec.config.domainname, addrs, &extra);
        std::fs::write(dir.join("hosts"), hosts)?;
        let host = std::fs::read_to_string(&self.net.cfg.host_resolv).unwrap_or_default();
        let pick = |mine: &Option<Vec<String>>, daemon: &Vec<String>| -> Vec<String> {
            match mine {
                Some(v) if !v.is_empty() => v.clone(),
                _ => daemon.clone(),
            }
        };
        let resolv = rocker_net::files::resolv_conf(
            &host,
            embedded,
            &pick(&hc.dns, &self.net.cfg.dns),
            &pick(&hc.dns_search, &self.net.cfg.dns_search),
            &pick(&hc.dns_options, &self.net.cfg.dns_options),
        );
        std::fs::write(dir.join("resolv.conf"), resolv)?;
        Ok(())
    }

    /// Undoes a container's wiring (at exit, after a failed start, at reconciliation).
    pub(crate) fn net_down(&self, id: &str, state: Option<NetState>) {
        let Some(state) = state else { return };
        // Removing the namespace takes the veth pairs with it (the kernel finishes that
        // asynchronously; deleting each host end first would cost ~30 ms apiece). Host-side
        // names are random per start, so a quick restart never collides with a dying pair.
        for ep in state.endpoints.values() {
            self.net.release(&ep.network_id, ep.ip);
            self.net.names.remove(&ep.network_id, id);
        }
        let had_rules = lock(&self.net.inner).port_rules.remove(id).is_some();
        self.net.release_ports(id);
        if had_rules {
            if let Err(e) = self.net.apply_rules() {
                tracing::warn!(%id, "{e}");
            }
        }
        if !state.sandbox.is_empty() {
            if let Err(e) = rocker_net::netns::remove(Path::new(&state.sandbox)) {
                tracing::warn!(%id, "removing network namespace: {e}");
            }
        } else {
            for ep in state.endpoints.values() {
                let _ = rocker_net::link::detach(&ep.host_ifname);
            }
        }
    }
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let data = std::fs::read(from)
        .map_err(|e| Error::internal(format!("reading {}: {e}", from.display())))?;
    std::fs::write(to, data)?;
    Ok(())
}
