//! Network definitions and their table in the state database.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use rand::RngCore;
use rocker_net::ipam::Subnet;
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::error::{Error, Result};
use crate::lock;

pub(crate) const MIGRATIONS: &[&str] = &["CREATE TABLE networks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
    )"];

/// One network as defined by its creator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRec {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// RFC 3339.
    pub created: String,
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub ip_range: Option<String>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Bridge interface name.
    #[serde(default)]
    pub bridge: String,
    /// `bridge`, `host`, `none`: cannot be removed, no DNS.
    #[serde(default)]
    pub builtin: bool,
}

pub(crate) fn random_id() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

impl NetworkRec {
    pub(crate) fn builtin(name: &str, driver: &str) -> NetworkRec {
        NetworkRec {
            id: random_id(),
            name: name.into(),
            driver: driver.into(),
            created: crate::container::now_rfc3339(),
            builtin: true,
            ..Default::default()
        }
    }

    pub fn subnet(&self) -> Result<Subnet> {
        let s = self
            .subnet
            .as_deref()
            .ok_or_else(|| Error::internal(format!("network {} has no subnet", self.name)))?;
        Subnet::parse(s).map_err(|e| Error::internal(format!("network {}: {e}", self.name)))
    }

    pub fn gateway_ip(&self) -> Result<Ipv4Addr> {
        match &self.gateway {
            Some(g) => g
                .parse()
                .map_err(|_| Error::internal(format!("network {}: bad gateway {g}", self.name))),
            None => Ok(self.subnet()?.first_host()),
        }
    }

    pub fn ip_range(&self) -> Result<Option<Subnet>> {
        self.ip_range
            .as_deref()
            .map(|r| {
                Subnet::parse(r).map_err(|e| Error::internal(format!("network {}: {e}", self.name)))
            })
            .transpose()
    }

    /// Egress NAT unless `com.docker.network.bridge.enable_ip_masquerade=false` or internal.
    pub fn masquerade(&self) -> bool {
        !self.internal
            && self
                .options
                .get("com.docker.network.bridge.enable_ip_masquerade")
                .is_none_or(|v| v != "false")
    }

    /// A user-defined bridge network (container DNS, aliases, static addresses).
    pub fn user_defined(&self) -> bool {
        !self.builtin && self.driver == "bridge"
    }
}

pub(crate) fn load(db: &Db) -> Result<Vec<NetworkRec>> {
    let conn = lock(db);
    let mut stmt = conn.prepare("SELECT record FROM networks")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?)?);
    }
    Ok(out)
}

pub(crate) fn save(db: &Db, rec: &NetworkRec) -> Result<()> {
    let conn = lock(db);
    conn.execute(
        "INSERT INTO networks (id, name, record) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record",
        rusqlite::params![rec.id, rec.name, serde_json::to_string(rec)?],
    )?;
    Ok(())
}

pub(crate) fn delete(db: &Db, id: &str) -> Result<()> {
    lock(db).execute("DELETE FROM networks WHERE id = ?1", [id])?;
    Ok(())
}
