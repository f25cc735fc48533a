//! `/networks/*` handlers: Docker's network API over the engine's network service.

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use rocker_api::models::{
    EndpointResource, Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest,
    NetworkCreateResponse, NetworkDisconnectRequest, NetworkResource, NetworksPruneResponse,
};
use rocker_engine::network::{CreateNetwork, NetworkRec};
use rocker_engine::{Engine, Error};

use crate::http::{empty, from_engine, json, json_body, parse_filters, Query, Res};

/// Docker's `NetworkResource` for a network (with its containers when `verbose` members).
fn resource(engine: &Engine, n: &NetworkRec, with_containers: bool) -> NetworkResource {
    let mut containers = BTreeMap::new();
    if with_containers {
        for m in engine.network_members(&n.id) {
            containers.insert(
                m.container_id.clone(),
                EndpointResource {
                    name: m.name.clone(),
                    endpoint_id: m.endpoint.endpoint_id.clone(),
                    mac_address: m.endpoint.mac.clone(),
                    ipv4_address: format!("{}/{}", m.endpoint.ip, m.endpoint.prefix),
                    ipv6_address: String::new(),
                },
            );
        }
    }
    let config = match &n.subnet {
        Some(subnet) => vec![IpamConfig {
            subnet: subnet.clone(),
            ip_range: n.ip_range.clone().unwrap_or_default(),
            gateway: n.gateway.clone().unwrap_or_default(),
            auxiliary_addresses: None,
        }],
        None => Vec::new(),
    };
    NetworkResource {
        name: n.name.clone(),
        id: n.id.clone(),
        created: n.created.clone(),
        scope: "local".into(),
        driver: n.driver.clone(),
        ipam: Ipam {
            driver: "default".into(),
            options: None,
            config: Some(config),
        },
        internal: n.internal,
        attachable: n.attachable,
        containers,
        options: n.options.clone(),
        labels: n.labels.clone(),
        ..Default::default()
    }
}

/// Docker's network list filters: name (substring), id (prefix), label, driver, type,
/// scope, dangling.
fn matches(engine: &Engine, n: &NetworkRec, filters: &[(String, String)]) -> Result<bool, Error> {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in filters {
        groups.entry(k.as_str()).or_default().push(v.as_str());
    }
    for (k, values) in groups {
        let ok = match k {
            "name" => values.iter().any(|v| n.name.contains(v)),
            "id" => values.iter().any(|v| n.id.starts_with(v)),
            "driver" => values.iter().any(|v| n.driver == *v),
            "scope" => values.contains(&"local"),
            "type" => values.iter().any(|v| match *v {
                "custom" => !n.builtin,
                "builtin" => n.builtin,
                other => other.is_empty(),
            }),
            "label" => values.iter().all(|v| match v.split_once('=') {
                Some((lk, lv)) => n.labels.get(lk).is_some_and(|x| x == lv),
                None => n.labels.contains_key(*v),
            }),
            "dangling" => {
                let want = matches!(values.first().copied(), Some("true") | Some("1"));
                let dangling = !n.builtin && engine.network_members(&n.id).is_empty();
                dangling == want
            }
            other => return Err(Error::invalid(format!("invalid filter '{other}'"))),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn list(engine: &Arc<Engine>, q: &Query) -> Res {
    let filters = match parse_filters(q) {
        Ok(f) => f,
        Err(e) => return from_engine(&e),
    };
    let mut out = Vec::new();
    for n in engine.networks().list() {
        match matches(engine, &n, &filters) {
            Ok(true) => out.push(resource(engine, &n, false)),
            Ok(false) => {}
            Err(e) => return from_engine(&e),
        }
    }
    json(StatusCode::OK, &out)
}

pub fn inspect(engine: &Arc<Engine>, id: &str) -> Res {
    match engine.networks().lookup(id) {
        Ok(n) => json(StatusCode::OK, &resource(engine, &n, true)),
        Err(e) => from_engine(&e),
    }
}

pub async fn create(engine: &Arc<Engine>, mut req: Request<Incoming>) -> Res {
    let r: NetworkCreateRequest = match json_body(&mut req).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let cfg = r
        .ipam
        .as_ref()
        .and_then(|i| i.config.as_ref())
        .and_then(|c| c.first())
        .cloned()
        .unwrap_or_default();
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    if r.ipam
        .as_ref()
        .is_some_and(|i| !i.driver.is_empty() && i.driver != "default")
    {
        return from_engine(&Error::not_found(format!(
            "plugin \"{}\" not found: Rocker supports the default IPAM driver",
            r.ipam.as_ref().map(|i| i.driver.as_str()).unwrap_or("")
        )));
    }
    let req = CreateNetwork {
        name: r.name,
        driver: r.driver,
        subnet: non_empty(cfg.subnet),
        gateway: non_empty(cfg.gateway),
        ip_range: non_empty(cfg.ip_range),
        internal: r.internal,
        attachable: r.attachable,
        labels: r.labels.unwrap_or_default(),
        options: r.options.unwrap_or_default(),
    };
    match engine.network_create(req).await {
        Ok(n) => json(
            StatusCode::CREATED,
            &NetworkCreateResponse {
                id: n.id,
                warning: String::new(),
            },
        ),
        Err(e) => from_engine(&e),
    }
}

pub async fn remove(engine: &Arc<Engine>, id: &str) -> Res {
    match engine.network_remove(id).await {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

pub async fn prune(engine: &Arc<Engine>, q: &Query) -> Res {
    let filters = match parse_filters(q) {
        Ok(f) => f,
        Err(e) => return from_engine(&e),
    };
    for (k, _) in &filters {
        if k != "label" && k != "label!" && k != "until" {
            return from_engine(&Error::invalid(format!("invalid filter '{k}'")));
        }
    }
    let keep = |n: &NetworkRec| {
        filters.iter().any(|(k, v)| {
            let has = match v.split_once('=') {
                Some((lk, lv)) => n.labels.get(lk).is_some_and(|x| x == lv),
                None => n.labels.contains_key(v.as_str()),
            };
            match k.as_str() {
                "label" => !has,
                "label!" => has,
                _ => false,
            }
        })
    };
    let deleted = engine.network_prune(keep).await;
    json(
        StatusCode::OK,
        &NetworksPruneResponse {
            networks_deleted: Some(deleted),
        },
    )
}

pub async fn connect(engine: &Arc<Engine>, id: &str, mut req: Request<Incoming>) -> Res {
    let r: NetworkConnectRequest = match json_body(&mut req).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    match engine
        .network_connect(id, &r.container, r.endpoint_config.unwrap_or_default())
        .await
    {
        Ok(()) => empty(StatusCode::OK),
        Err(e) => from_engine(&e),
    }
}

pub async fn disconnect(engine: &Arc<Engine>, id: &str, mut req: Request<Incoming>) -> Res {
    let r: NetworkDisconnectRequest = match json_body(&mut req).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    match engine.network_disconnect(id, &r.container, r.force).await {
        Ok(()) => empty(StatusCode::OK),
        Err(e) => from_engine(&e),
    }
}
