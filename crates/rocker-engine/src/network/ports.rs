//! Addresses and published ports: handing them out and taking them back.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use rocker_api::models::EndpointSettings;
use rocker_net::nft::{PortRule, Proto};

use super::{Attached, BoundPort, NetworkRec, Networks};
use crate::container::Record;
use crate::error::{Error, Result};
use crate::{lock, Engine};

impl Networks {
    /// An address for an endpoint: the one asked for, or the next free one.
    pub(crate) fn allocate(&self, net: &NetworkRec, s: &EndpointSettings) -> Result<Ipv4Addr> {
        let subnet = net.subnet()?;
        let gateway = net.gateway_ip()?;
        let range = net.ip_range()?;
        let mut inner = lock(&self.inner);
        let asked = s
            .ipam_config
            .as_ref()
            .and_then(|c| c.ipv4_address.as_deref())
            .filter(|a| !a.is_empty());
        let ip = match asked {
            Some(a) => {
                let ip: Ipv4Addr = a
                    .parse()
                    .map_err(|_| Error::invalid(format!("invalid IPv4 address: {a}")))?;
                let used = inner.used.get(&net.id);
                if ip == gateway || used.is_some_and(|u| u.contains(&ip)) {
                    return Err(Error::conflict(format!(
                        "Address already in use: {ip} on network {}",
                        net.name
                    )));
                }
                if !subnet.contains(ip) || ip == subnet.addr || ip == subnet.broadcast() {
                    return Err(Error::invalid(format!(
                        "invalid endpoint settings:\nno configured subnet or ip-range contain the IP address {ip}"
                    )));
                }
                ip
            }
            None => {
                let empty = HashSet::new();
                let used = inner.used.get(&net.id).unwrap_or(&empty);
                let last = inner.last.get(&net.id).copied();
                let ip = rocker_net::ipam::allocate(&subnet, range.as_ref(), gateway, used, last)
                    .map_err(|e| Error::conflict(e.to_string()))?;
                inner.last.insert(net.id.clone(), ip);
                ip
            }
        };
        inner.used.entry(net.id.clone()).or_default().insert(ip);
        Ok(ip)
    }

    pub(crate) fn release(&self, network_id: &str, ip: Ipv4Addr) {
        if let Some(u) = lock(&self.inner).used.get_mut(network_id) {
            u.remove(&ip);
        }
    }

    pub(crate) fn release_ports(&self, container_id: &str) {
        lock(&self.inner).ports.retain(|_, c| c != container_id);
    }

    /// Records what a running container holds (after a daemon restart).
    pub(crate) fn adopt(&self, rec: &Record) {
        let Some(state) = &rec.net else { return };
        let mut inner = lock(&self.inner);
        for ep in state.endpoints.values() {
            inner
                .used
                .entry(ep.network_id.clone())
                .or_default()
                .insert(ep.ip);
        }
        let mut rules = Vec::new();
        let first = state.endpoints.values().next();
        for p in &state.ports {
            inner.ports.insert(
                (p.proto.clone(), p.host_ip.clone(), p.host_port),
                rec.id.clone(),
            );
            if let Some(ep) = first {
                let bridge = inner
                    .nets
                    .get(&ep.network_id)
                    .map(|n| n.bridge.clone())
                    .unwrap_or_default();
                rules.push(port_rule(p, ep, &bridge));
            }
        }
        if !rules.is_empty() {
            inner.port_rules.insert(rec.id.clone(), rules);
        }
        drop(inner);
        for (name, ep) in &state.endpoints {
            if let Ok(net) = self.lookup(name) {
                if net.user_defined() {
                    self.names.add(&net.id, &rec.id, &rec.name, ep);
                }
            }
        }
    }

    /// The default bridge's gateway (`host-gateway` in --add-host).
    pub(crate) fn default_gateway(&self) -> Option<Ipv4Addr> {
        self.lookup(super::BRIDGE).ok()?.gateway_ip().ok()
    }
}

fn port_rule(p: &BoundPort, ep: &Attached, bridge: &str) -> PortRule {
    PortRule {
        proto: if p.proto == "udp" {
            Proto::Udp
        } else {
            Proto::Tcp
        },
        host_ip: p.host_ip.parse().ok(),
        host_port: p.host_port,
        container_ip: ep.ip,
        container_port: p.container_port,
        bridge: bridge.to_string(),
    }
}

/// `80/tcp` -> (80, "tcp").
fn parse_port_key(key: &str) -> Result<(u16, String)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if proto != "tcp" && proto != "udp" {
        return Err(Error::invalid(format!(
            "invalid proto '{proto}': Rocker publishes tcp and udp ports"
        )));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::invalid(format!("invalid port specification: \"{key}\"")))?;
    Ok((port, proto))
}

/// A host port field: "" (ephemeral), "8080", or a range "8000-8010" to pick from.
fn parse_host_port(s: &str) -> Result<Option<(u16, u16)>> {
    let s = s.trim();
    if s.is_empty() || s == "0" {
        return Ok(None);
    }
    let bad = || Error::invalid(format!("invalid hostPort: {s}"));
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok(Some((a, b)))
}

impl Engine {
    /// Binds the container's published ports (`-p`, `-P`): conflicts with other containers
    /// and with host processes are refused with Docker's message.
    pub(crate) fn bind_ports(
        &self,
        rec: &Record,
        ep: &Attached,
        bridge: &str,
    ) -> Result<(Vec<BoundPort>, Vec<PortRule>)> {
        let hc = &rec.host_config;
        let mut wanted: Vec<(String, String, String)> = Vec::new();
        for (key, binds) in hc.port_bindings.iter().flatten() {
            if binds.is_empty() {
                wanted.push((key.clone(), String::new(), String::new()));
            }
            for b in binds {
                wanted.push((key.clone(), b.host_ip.clone(), b.host_port.clone()));
            }
        }
        if hc.publish_all_ports {
            for key in rec.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
                if !hc
                    .port_bindings
                    .as_ref()
                    .is_some_and(|p| p.contains_key(key))
                {
                    wanted.push((key.clone(), String::new(), String::new()));
                }
            }
        }
        let mut bound: Vec<BoundPort> = Vec::new();
        let result = self.bind_each(rec, &wanted, &mut bound);
        if let Err(e) = result {
            self.net.release_ports(&rec.id);
            return Err(e);
        }
        let rules = bound.iter().map(|p| port_rule(p, ep, bridge)).collect();
        Ok((bound, rules))
    }

    fn bind_each(
        &self,
        rec: &Record,
        wanted: &[(String, String, String)],
        bound: &mut Vec<BoundPort>,
    ) -> Result<()> {
        for (key, host_ip, host_port) in wanted {
            let (container_port, proto) = parse_port_key(key)?;
            let ip_str = match host_ip.as_str() {
                "" | "0.0.0.0" => String::new(),
                ip => ip.to_string(),
            };
            let host_ip: Option<Ipv4Addr> = if ip_str.is_empty() {
                None
            } else {
                match ip_str.parse() {
                    Ok(ip) => Some(ip),
                    // IPv6 bindings (`::`, `[::1]`): Rocker's networks are IPv4 only.
                    Err(_) if ip_str.contains(':') => continue,
                    Err(_) => {
                        return Err(Error::invalid(format!("invalid host IP: {ip_str}")));
                    }
                }
            };
            let nft_proto = if proto == "udp" {
                Proto::Udp
            } else {
                Proto::Tcp
            };
            let shown_ip = host_ip.map_or("0.0.0.0".to_string(), |i| i.to_string());
            let port = {
                let mut inner = lock(&self.net.inner);
                let clash = |inner: &super::Inner, port: u16| {
                    inner.ports.keys().any(|(p, ip, hp)| {
                        *p == proto
                            && *hp == port
                            && (ip.is_empty() || ip_str.is_empty() || *ip == ip_str)
                    })
                };
                let port = match parse_host_port(host_port)? {
                    Some((a, b)) => {
                        let mut chosen = None;
                        for port in a..=b {
                            if !clash(&inner, port)
                                && rocker_net::ports::check_free(nft_proto, host_ip, port).is_ok()
                            {
                                chosen = Some(port);
                                break;
                            }
                        }
                        match chosen {
                            Some(p) => p,
                            None => {
                                let shown = if a == b {
                                    a.to_string()
                                } else {
                                    format!("{a}-{b}")
                                };
                                return Err(Error::internal(format!(
                                    "driver failed programming external connectivity on endpoint {}: Bind for {shown_ip}:{shown} failed: port is already allocated",
                                    rec.name
                                )));
                            }
                        }
                    }
                    None => {
                        let taken: HashSet<u16> = inner
                            .ports
                            .keys()
                            .filter(|(p, _, _)| *p == proto)
                            .map(|(_, _, hp)| *hp)
                            .collect();
                        rocker_net::ports::ephemeral(nft_proto, host_ip, &taken)
                            .map_err(|e| Error::internal(e.to_string()))?
                    }
                };
                inner
                    .ports
                    .insert((proto.clone(), ip_str.clone(), port), rec.id.clone());
                port
            };
            bound.push(BoundPort {
                proto: proto.clone(),
                container_port,
                host_ip: ip_str,
                host_port: port,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_keys_and_host_ports() {
        assert_eq!(parse_port_key("80/tcp").unwrap(), (80, "tcp".into()));
        assert_eq!(parse_port_key("53/UDP").unwrap(), (53, "udp".into()));
        assert_eq!(parse_port_key("8080").unwrap(), (8080, "tcp".into()));
        assert!(parse_port_key("0/tcp").is_err());
        assert!(parse_port_key("80/sctp").is_err());
        assert!(parse_port_key("x/tcp").is_err());
        assert_eq!(parse_host_port("").unwrap(), None);
        assert_eq!(parse_host_port("8080").unwrap(), Some((8080, 8080)));
        assert_eq!(parse_host_port("8000-8010").unwrap(), Some((8000, 8010)));
        assert!(parse_host_port("9-1").is_err());
        assert!(parse_host_port("70000").is_err());
    }
}
