//! The `/networks` operations: create, remove, prune, connect, disconnect; and bringing the
//! networks back after a daemon restart.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rocker_api::models::EndpointSettings;

use super::store::{self, random_id, NetworkRec};
use super::{parse_ip, parse_subnet, Attached, BRIDGE};
use crate::container::Status;
use crate::error::{Error, Result};
use crate::{lock, Engine};

/// What `network create` asks for (the API layer translates Docker's body into this).
#[derive(Debug, Clone, Default)]
pub struct CreateNetwork {
    pub name: String,
    pub driver: String,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub internal: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// A container attached to a network (for `network inspect`).
#[derive(Debug, Clone)]
pub struct Member {
    pub container_id: String,
    pub name: String,
    pub endpoint: Attached,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Engine {
    /// `POST /networks/create`.
    pub async fn network_create(&self, req: CreateNetwork) -> Result<NetworkRec> {
        if req.name.is_empty() {
            return Err(Error::invalid("network name must not be empty"));
        }
        if !valid_name(&req.name) {
            return Err(Error::invalid(format!(
                "invalid network name \"{}\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                req.name
            )));
        }
        match req.driver.as_str() {
            "" | "bridge" => {}
            "host" | "null" => {
                return Err(Error::forbidden(format!(
                    "only one instance of \"{}\" network is allowed",
                    req.driver
                )))
            }
            d => {
                return Err(Error::not_found(format!(
                    "plugin \"{d}\" not found: Rocker supports the bridge driver"
                )))
            }
        }
        if self.net.lookup(&req.name).is_ok_and(|n| n.name == req.name) {
            return Err(Error::conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        let id = random_id();
        let taken = self.net.taken_subnets(None)?;
        let subnet = match &req.subnet {
            Some(s) => {
                let subnet = parse_subnet(s)?;
                let nets = self.net.list();
                if nets
                    .iter()
                    .filter_map(|n| n.subnet().ok())
                    .any(|t| t.overlaps(&subnet))
                {
                    return Err(Error::forbidden(format!(
                        "invalid pool request: Pool overlaps with other one on this address space ({subnet})"
                    )));
                }
                subnet
            }
            None => {
                if req.gateway.is_some() || req.ip_range.is_some() {
                    return Err(Error::invalid(
                        "invalid pool request: --gateway and --ip-range need --subnet",
                    ));
                }
                rocker_net::ipam::pick_free_subnet(&taken).ok_or_else(|| {
                    Error::forbidden("all predefined address pools have been fully subnetted")
                })?
            }
        };
        let gateway = match &req.gateway {
            Some(g) => {
                let gw = parse_ip(g, "gateway")?;
                if !subnet.contains(gw) {
                    return Err(Error::forbidden(format!(
                        "no matching subnet for gateway {gw}"
                    )));
                }
                gw
            }
            None => subnet.first_host(),
        };
        if let Some(r) = &req.ip_range {
            let range = parse_subnet(r)?;
            if !subnet.contains_subnet(&range) {
                return Err(Error::invalid(format!(
                    "invalid pool request: ip range {range} is not contained in subnet {subnet}"
                )));
            }
        }
        let bridge = match req.options.get("com.docker.network.bridge.name") {
            Some(b) if !b.is_empty() => {
                if b.len() > 15 || b.contains('/') || b.contains(char::is_whitespace) {
                    return Err(Error::invalid(format!("invalid bridge name: {b}")));
                }
                b.clone()
            }
            _ => format!("br-{}", &id[..12]),
        };
        if self.net.list().iter().any(|n| n.bridge == bridge) {
            return Err(Error::conflict(format!(
                "bridge name {bridge} is already in use"
            )));
        }
        let rec = NetworkRec {
            id,
            name: req.name,
            driver: "bridge".into(),
            created: crate::container::now_rfc3339(),
            subnet: Some(subnet.to_string()),
            gateway: Some(gateway.to_string()),
            ip_range: req.ip_range,
            internal: req.internal,
            attachable: req.attachable,
            labels: req.labels,
            options: req.options,
            bridge,
            builtin: false,
        };
        if let Err(e) = self.net.bring_up(&rec) {
            let _ = rocker_net::link::delete_link(&rec.bridge);
            return Err(e);
        }
        if let Err(e) = store::save(&self.db, &rec) {
            let _ = rocker_net::link::delete_link(&rec.bridge);
            return Err(e);
        }
        lock(&self.net.inner)
            .nets
            .insert(rec.id.clone(), rec.clone());
        self.net.names.set_subnet(&rec.id, subnet);
        if let Err(e) = self.net.apply_rules() {
            self.drop_network(&rec);
            return Err(e);
        }
        self.net.start_dns(&rec).await;
        self.emit_network(&rec, "create", None);
        Ok(rec)
    }

    /// Containers with an endpoint on `network_id` now.
    pub fn network_members(&self, network_id: &str) -> Vec<Member> {
        let mut out = Vec::new();
        for rec in self.list() {
            if let Some(net) = &rec.net {
                for ep in net.endpoints.values() {
                    if ep.network_id == network_id {
                        out.push(Member {
                            container_id: rec.id.clone(),
                            name: rec.name.clone(),
                            endpoint: ep.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// `DELETE /networks/{id}`.
    pub async fn network_remove(&self, id_or_name: &str) -> Result<()> {
        let rec = self.net.lookup(id_or_name)?;
        if rec.builtin {
            return Err(Error::forbidden(format!(
                "{} is a pre-defined network and cannot be removed",
                rec.name
            )));
        }
        if !self.network_members(&rec.id).is_empty() {
            return Err(Error::forbidden(format!(
                "error while removing network: network {} id {} has active endpoints",
                rec.name, rec.id
            )));
        }
        self.drop_network(&rec);
        Ok(())
    }

    fn drop_network(&self, rec: &NetworkRec) {
        self.net.stop_dns(&rec.id);
        if let Err(e) = store::delete(&self.db, &rec.id) {
            tracing::warn!(network = %rec.name, "{e}");
        }
        lock(&self.net.inner).nets.remove(&rec.id);
        self.net.names.drop_network(&rec.id);
        let _ = rocker_net::nft::revoke_in_docker_user(&rec.bridge);
        if let Err(e) = rocker_net::link::delete_link(&rec.bridge) {
            tracing::warn!(network = %rec.name, "removing bridge {}: {e}", rec.bridge);
        }
        if let Err(e) = self.net.apply_rules() {
            tracing::warn!(network = %rec.name, "{e}");
        }
        self.emit_network(rec, "destroy", None);
    }

    /// `POST /networks/prune`: user-defined networks without endpoints that `keep` spares.
    pub async fn network_prune(&self, keep: impl Fn(&NetworkRec) -> bool) -> Vec<String> {
        let mut deleted = Vec::new();
        for rec in self.net.list() {
            if rec.builtin || keep(&rec) || !self.network_members(&rec.id).is_empty() {
                continue;
            }
            self.drop_network(&rec);
            deleted.push(rec.name);
        }
        deleted
    }

    /// `POST /networks/{id}/connect`.
    pub async fn network_connect(
        &self,
        network: &str,
        container: &str,
        settings: EndpointSettings,
    ) -> Result<()> {
        let net = self.net.lookup(network)?;
        let entry = self.lookup(container)?;
        let _op = entry.op.lock().await;
        let rec = entry.record();
        if net.driver != "bridge" {
            return Err(Error::forbidden(
                "container cannot be disconnected from host network or connected to host network",
            ));
        }
        match rec.host_config.network_mode.as_str() {
            "host" | "none" => {
                return Err(Error::forbidden(format!(
                    "container cannot be connected to multiple networks with one of the networks in private ({}) mode",
                    rec.host_config.network_mode
                )))
            }
            m if m.starts_with("container:") => {
                return Err(Error::forbidden(
                    "conflicting options: container type network can't be used with multiple networks",
                ))
            }
            _ => {}
        }
        if rec.endpoints_config.contains_key(&net.name) {
            return Err(Error::forbidden(format!(
                "endpoint with name {} already exists in network {}",
                rec.name, net.name
            )));
        }
        self.check_endpoint(&net, &settings)?;
        let running = matches!(rec.state.status, Status::Running | Status::Paused);
        let attached = match (&rec.net, running) {
            (Some(state), true) if !state.sandbox.is_empty() => {
                let index = state.endpoints.len();
                let ep = self.attach_endpoint(
                    &rec,
                    Path::new(&state.sandbox),
                    &net,
                    &settings,
                    index,
                    false,
                )?;
                Some(ep)
            }
            _ => None,
        };
        let snapshot = {
            let mut r = lock(&entry.record);
            r.endpoints_config.insert(net.name.clone(), settings);
            if let (Some(ep), Some(state)) = (attached, r.net.as_mut()) {
                state.endpoints.insert(net.name.clone(), ep);
            }
            r.clone()
        };
        self.persist(&snapshot)?;
        self.emit_network(&net, "connect", Some(&rec.id));
        Ok(())
    }

    /// `POST /networks/{id}/disconnect`.
    pub async fn network_disconnect(
        &self,
        network: &str,
        container: &str,
        force: bool,
    ) -> Result<()> {
        let net = self.net.lookup(network)?;
        let entry = match self.lookup(container) {
            Ok(e) => e,
            Err(e) if force => {
                tracing::debug!("disconnect {container}: {}", e.message);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let _op = entry.op.lock().await;
        let rec = entry.record();
        if !rec.endpoints_config.contains_key(&net.name) {
            return Err(Error::forbidden(format!(
                "container {} is not connected to network {}",
                rec.id, net.name
            )));
        }
        let snapshot = {
            let mut r = lock(&entry.record);
            r.endpoints_config.remove(&net.name);
            let ep = r.net.as_mut().and_then(|s| s.endpoints.remove(&net.name));
            if let Some(ep) = ep {
                if let Err(e) = rocker_net::link::detach(&ep.host_ifname) {
                    tracing::warn!(id = %rec.id, "removing {}: {e}", ep.host_ifname);
                }
                self.net.release(&ep.network_id, ep.ip);
                self.net.names.remove(&ep.network_id, &rec.id);
            }
            // NetworkMode stays as created (Docker's behaviour; Compose disconnects and
            // reconnects the main network to set aliases).
            r.clone()
        };
        self.persist(&snapshot)?;
        self.emit_network(&net, "disconnect", Some(&rec.id));
        Ok(())
    }

    /// After loading containers: take back what running ones hold.
    pub(crate) fn net_adopt(&self) {
        for rec in self.list() {
            if rec.state.status.is_alive() {
                self.net.adopt(&rec);
            }
        }
        for n in self.net.list() {
            if n.user_defined() {
                if let Ok(s) = n.subnet() {
                    self.net.names.set_subnet(&n.id, s);
                }
            }
        }
    }

    /// After reconciling containers: bridges, namespaces nobody uses, the nftables table,
    /// the DNS servers.
    pub(crate) async fn net_reconcile(self: &Arc<Self>) {
        let live: Vec<String> = self
            .list()
            .into_iter()
            .filter(|r| r.state.status.is_alive())
            .filter_map(|r| r.net.map(|n| n.sandbox))
            .collect();
        for name in rocker_net::netns::list(&self.net.netns_dir) {
            let path = self.net.netns_dir.join(&name);
            if !live.iter().any(|l| Path::new(l) == path) {
                tracing::info!("removing stale network namespace {}", path.display());
                let _ = rocker_net::netns::remove(&path);
            }
        }
        for n in self.net.list() {
            if n.driver == "bridge" && n.name != BRIDGE {
                if let Err(e) = self.net.bring_up(&n) {
                    tracing::warn!(network = %n.name, "{}", e.message);
                }
            }
        }
        if let Err(e) = self.net.apply_rules() {
            tracing::warn!("{}", e.message);
        }
        for n in self.net.list() {
            self.net.start_dns(&n).await;
        }
    }
}
