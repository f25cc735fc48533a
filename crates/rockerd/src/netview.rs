//! A container's networking as `inspect` (`NetworkSettings`) and `ps` (`Ports`,
//! `NetworkSettings.Networks`) show it.

use std::collections::BTreeMap;

use rocker_api::models::{EndpointSettings, NetworkSettings, Port, PortBinding};
use rocker_engine::{Engine, Record};

/// Endpoint settings per network: what was asked, plus the live wiring when running.
fn endpoints(engine: &Engine, rec: &Record) -> BTreeMap<String, EndpointSettings> {
    let mut out = BTreeMap::new();
    for (name, asked) in &rec.endpoints_config {
        let mut s = asked.clone();
        if let Ok(n) = engine.networks().lookup(name) {
            s.network_id = n.id;
        }
        if let Some(ep) = rec.net.as_ref().and_then(|n| n.endpoints.get(name)) {
            s.endpoint_id = ep.endpoint_id.clone();
            s.gateway = ep.gateway.to_string();
            s.ip_address = ep.ip.to_string();
            s.ip_prefix_len = i64::from(ep.prefix);
            s.mac_address = ep.mac.clone();
            if !ep.aliases.is_empty() {
                s.aliases = Some(ep.aliases.clone());
            }
        }
        out.insert(name.clone(), s);
    }
    if out.is_empty() {
        // host / none / container modes: Docker lists the mode's network.
        let mode = rec.host_config.network_mode.as_str();
        if mode == "host" || mode == "none" {
            let mut s = EndpointSettings::default();
            if let Ok(n) = engine.networks().lookup(mode) {
                s.network_id = n.id;
            }
            out.insert(mode.to_string(), s);
        }
    }
    out
}

/// `NetworkSettings.Ports`: bound ports, and exposed ones as `null`.
fn ports(rec: &Record) -> BTreeMap<String, Option<Vec<PortBinding>>> {
    let mut out: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for key in rec.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
        out.insert(key.clone(), None);
    }
    for p in rec.net.iter().flat_map(|n| &n.ports) {
        out.entry(format!("{}/{}", p.container_port, p.proto))
            .or_insert(None)
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: if p.host_ip.is_empty() {
                    "0.0.0.0".into()
                } else {
                    p.host_ip.clone()
                },
                host_port: p.host_port.to_string(),
            });
    }
    out
}

pub fn settings(engine: &Engine, rec: &Record) -> NetworkSettings {
    let networks = endpoints(engine, rec);
    let mut s = NetworkSettings {
        ports: ports(rec),
        sandbox_key: rec
            .net
            .as_ref()
            .map(|n| n.sandbox.clone())
            .unwrap_or_default(),
        sandbox_id: rec
            .net
            .as_ref()
            .filter(|n| !n.sandbox.is_empty())
            .map(|_| rec.id.clone())
            .unwrap_or_default(),
        ..Default::default()
    };
    // The legacy top-level fields describe the default bridge endpoint.
    if let Some(b) = networks.get("bridge") {
        s.endpoint_id = b.endpoint_id.clone();
        s.gateway = b.gateway.clone();
        s.ip_address = b.ip_address.clone();
        s.ip_prefix_len = b.ip_prefix_len;
        s.mac_address = b.mac_address.clone();
        s.bridge = String::new();
    }
    s.networks = networks;
    s
}

/// `Ports` of a `ps` entry.
pub fn summary_ports(rec: &Record) -> Vec<Port> {
    let mut out = Vec::new();
    for (key, binds) in ports(rec) {
        let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let private_port = port.parse().unwrap_or(0);
        match binds {
            None => out.push(Port {
                private_port,
                r#type: proto.to_string(),
                ..Default::default()
            }),
            Some(binds) => {
                for b in binds {
                    out.push(Port {
                        ip: b.host_ip,
                        private_port,
                        public_port: b.host_port.parse().unwrap_or(0),
                        r#type: proto.to_string(),
                    });
                }
            }
        }
    }
    out
}

pub fn summary_networks(engine: &Engine, rec: &Record) -> BTreeMap<String, EndpointSettings> {
    endpoints(engine, rec)
}
