//! The names the embedded DNS servers answer: per user-defined network, each attached
//! container's name, its aliases and its short id.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::RwLock;

use super::Attached;

/// One container's endpoint on a network.
struct Entry {
    container_id: String,
    name: String,
    ip: Ipv4Addr,
    names: Vec<String>,
}

#[derive(Default)]
struct Net {
    subnet: Option<rocker_net::ipam::Subnet>,
    entries: Vec<Entry>,
}

/// Network id -> entries. Read on every query, written on connect/disconnect.
#[derive(Default)]
pub(crate) struct Names {
    nets: RwLock<HashMap<String, Net>>,
}

impl Names {
    pub(crate) fn set_subnet(&self, network_id: &str, subnet: rocker_net::ipam::Subnet) {
        let mut nets = self.nets.write().unwrap_or_else(|p| p.into_inner());
        nets.entry(network_id.to_string()).or_default().subnet = Some(subnet);
    }

    pub(crate) fn drop_network(&self, network_id: &str) {
        let mut nets = self.nets.write().unwrap_or_else(|p| p.into_inner());
        nets.remove(network_id);
    }

    pub(crate) fn add(&self, network_id: &str, container_id: &str, name: &str, ep: &Attached) {
        let mut names = vec![name.to_ascii_lowercase()];
        names.extend(ep.aliases.iter().map(|a| a.to_ascii_lowercase()));
        names.push(container_id[..container_id.len().min(12)].to_string());
        let mut nets = self.nets.write().unwrap_or_else(|p| p.into_inner());
        let net = nets.entry(network_id.to_string()).or_default();
        net.entries.retain(|e| e.container_id != container_id);
        net.entries.push(Entry {
            container_id: container_id.to_string(),
            name: name.to_string(),
            ip: ep.ip,
            names,
        });
    }

    pub(crate) fn remove(&self, network_id: &str, container_id: &str) {
        let mut nets = self.nets.write().unwrap_or_else(|p| p.into_inner());
        if let Some(net) = nets.get_mut(network_id) {
            net.entries.retain(|e| e.container_id != container_id);
        }
    }

    /// The network a client address belongs to.
    fn with_client<T>(&self, client: Ipv4Addr, f: impl FnOnce(&Net) -> Option<T>) -> Option<T> {
        let nets = self.nets.read().unwrap_or_else(|p| p.into_inner());
        let net = nets
            .values()
            .find(|n| n.subnet.is_some_and(|s| s.contains(client)))?;
        f(net)
    }
}

impl rocker_net::dns::Resolver for Names {
    fn lookup(&self, client: Ipv4Addr, name: &str) -> Option<Vec<Ipv4Addr>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.with_client(client, |net| {
            let ips: Vec<Ipv4Addr> = net
                .entries
                .iter()
                .filter(|e| e.names.contains(&name))
                .map(|e| e.ip)
                .collect();
            (!ips.is_empty()).then_some(ips)
        })
    }

    fn reverse(&self, client: Ipv4Addr, ip: Ipv4Addr) -> Option<String> {
        self.with_client(client, |net| {
            net.entries
                .iter()
                .find(|e| e.ip == ip)
                .map(|e| e.name.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocker_net::dns::Resolver;

    fn ep(ip: [u8; 4], aliases: &[&str]) -> Attached {
        Attached {
            network_id: "n1".into(),
            endpoint_id: "e".into(),
            ip: Ipv4Addr::from(ip),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 9, 0, 1),
            mac: String::new(),
            ifname: "eth0".into(),
            host_ifname: "veth".into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn names_aliases_and_scope() {
        let n = Names::default();
        n.set_subnet(
            "n1",
            rocker_net::ipam::Subnet::parse("10.9.0.0/24").unwrap(),
        );
        n.add(
            "n1",
            "0123456789abcdef",
            "web",
            &ep([10, 9, 0, 2], &["site"]),
        );
        let client = Ipv4Addr::new(10, 9, 0, 3);
        assert_eq!(
            n.lookup(client, "web."),
            Some(vec![Ipv4Addr::new(10, 9, 0, 2)])
        );
        assert_eq!(
            n.lookup(client, "SITE"),
            Some(vec![Ipv4Addr::new(10, 9, 0, 2)])
        );
        assert!(n.lookup(client, "0123456789ab").is_some());
        assert_eq!(n.lookup(client, "other"), None);
        // A client of another network sees nothing.
        assert_eq!(n.lookup(Ipv4Addr::new(10, 8, 0, 3), "web"), None);
        assert_eq!(
            n.reverse(client, Ipv4Addr::new(10, 9, 0, 2)).as_deref(),
            Some("web")
        );
        n.remove("n1", "0123456789abcdef");
        assert_eq!(n.lookup(client, "web"), None);
    }
}
