//! The volume store: Docker's `local` driver. A volume is a directory
//! `<data_root>/volumes/<name>/_data` (Docker's layout) plus one row in the `volumes` table.
//!
//! Schema (component `volumes` in `schema_versions`):
//!
//! * v1 `volumes(name TEXT PRIMARY KEY, record TEXT NOT NULL)` — `record` is the JSON of
//!   [`VolumeRecord`] (driver, labels, driver options, creation time).
//!
//! Anonymous volumes carry Docker's label `com.docker.volume.anonymous`; `rm -v` and a plain
//! `volume prune` remove only those. Whether a volume is in use is answered from the
//! containers' resolved mounts in memory (no scan of the disk).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::RngCore;
use rocker_api::models::{Volume, VolumeCreateOptions, VolumesPruneResponse};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::{lock, Engine};

/// Migrations of the `volumes` component (see the module header).
pub const MIGRATIONS: &[&str] = &["CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        record TEXT NOT NULL
    )"];

/// Docker's label on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// Driver options the local driver understands.
const LOCAL_OPTS: &[&str] = &["type", "device", "o", "size"];

/// One volume as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// RFC 3339, seconds precision.
    pub created_at: String,
}

impl VolumeRecord {
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// Checks a local volume name (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), with Docker's message.
pub fn validate_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    )))
}

/// A 64-hex random name, as Docker gives anonymous volumes.
pub fn random_name() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// Size in bytes of everything under `dir` (no symlink following).
pub(crate) fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

/// Filters of `GET /volumes` and `POST /volumes/prune`.
fn matches(
    engine: &Engine,
    v: &VolumeRecord,
    filters: &[(String, String)],
    prune: bool,
) -> Result<bool> {
    for (k, val) in filters {
        let ok = match k.as_str() {
            "name" => v.name.contains(val.as_str()),
            "driver" => v.driver == *val,
            "label" => label_matches(&v.labels, val),
            "label!" => !label_matches(&v.labels, val),
            "dangling" => {
                let want = match val.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(Error::invalid(format!("invalid filter 'dangling={val}'"))),
                };
                engine.volume_users(&v.name).is_empty() == want
            }
            "all" if prune => true,
            other => return Err(Error::invalid(format!("invalid filter '{other}'"))),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn label_matches(labels: &BTreeMap<String, String>, f: &str) -> bool {
    match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(f),
    }
}

impl Engine {
    fn volumes_root(&self) -> PathBuf {
        self.cfg.data_root.join("volumes")
    }

    /// `<data_root>/volumes/<name>/_data`.
    pub fn volume_data_dir(&self, name: &str) -> PathBuf {
        self.volumes_root().join(name).join("_data")
    }

    fn volume_model(&self, v: &VolumeRecord) -> Volume {
        Volume {
            created_at: v.created_at.clone(),
            driver: v.driver.clone(),
            labels: v.labels.clone(),
            mountpoint: self.volume_data_dir(&v.name).to_string_lossy().into_owned(),
            name: v.name.clone(),
            options: v.options.clone(),
            scope: "local".into(),
            status: None,
            usage_data: None,
        }
    }

    /// The stored volume `name`, if any.
    pub(crate) fn volume_get(&self, name: &str) -> Result<Option<VolumeRecord>> {
        let conn = lock(&self.db);
        let row: Option<String> = conn
            .query_row("SELECT record FROM volumes WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(match row {
            Some(s) => Some(serde_json::from_str(&s)?),
            None => None,
        })
    }

    fn volume_all(&self) -> Result<Vec<VolumeRecord>> {
        let conn = lock(&self.db);
        let mut stmt = conn.prepare("SELECT record FROM volumes ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// Creates volume `name` (a random one when None) unless it exists. Returns the record
    /// and whether this call made it.
    pub(crate) fn volume_ensure(
        &self,
        name: Option<&str>,
        driver: &str,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<(VolumeRecord, bool)> {
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                validate_name(n)?;
                n.to_string()
            }
            None => random_name(),
        };
        let driver = if driver.is_empty() { "local" } else { driver };
        if driver != "local" {
            return Err(Error::not_found(format!(
                "error looking up volume plugin {driver}: plugin \"{driver}\" not found"
            )));
        }
        for k in options.keys() {
            if !LOCAL_OPTS.contains(&k.as_str()) {
                return Err(Error::invalid(format!(
                    "create {name}: invalid option key: \"{k}\""
                )));
            }
        }
        if let Some(existing) = self.volume_get(&name)? {
            return Ok((existing, false));
        }
        let rec = VolumeRecord {
            name: name.clone(),
            driver: driver.to_string(),
            labels,
            options,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let data = self.volume_data_dir(&name);
        std::fs::create_dir_all(&data)
            .map_err(|e| Error::internal(format!("create {name}: {e}")))?;
        let inserted = {
            let conn = lock(&self.db);
            conn.execute(
                "INSERT OR IGNORE INTO volumes (name, record) VALUES (?1, ?2)",
                params![name, serde_json::to_string(&rec)?],
            )
        };
        match inserted {
            Ok(1) => Ok((rec, true)),
            Ok(_) => {
                // Another request made it meanwhile: theirs wins.
                let v = self.volume_get(&name)?.unwrap_or(rec);
                Ok((v, false))
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(self.volumes_root().join(&name));
                Err(e.into())
            }
        }
    }

    /// Deletes a volume's row and directory (no in-use check).
    pub(crate) fn volume_destroy(&self, name: &str) -> Result<()> {
        self.unmount_volume(name);
        {
            let conn = lock(&self.db);
            conn.execute("DELETE FROM volumes WHERE name = ?1", [name])?;
        }
        let dir = self.volumes_root().join(name);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::internal(format!(
                "remove {name}: {}: {e}",
                dir.display()
            ))),
            _ => Ok(()),
        }
    }

    /// Ids of the containers (any state) whose mounts use volume `name`.
    pub fn volume_users(&self, name: &str) -> Vec<String> {
        let entries: Vec<_> = lock(&self.containers).by_id.values().cloned().collect();
        let mut ids: Vec<String> = entries
            .iter()
            .filter(|e| {
                lock(&e.record)
                    .mounts
                    .iter()
                    .any(|m| m.r#type == "volume" && m.name == name)
            })
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// `POST /volumes/create`. The bool is whether it was created (vs. already there).
    pub fn volume_create(&self, opts: VolumeCreateOptions) -> Result<(Volume, bool)> {
        let (rec, made) = self.volume_ensure(
            Some(&opts.name)
                .filter(|n| !n.is_empty())
                .map(String::as_str),
            &opts.driver,
            opts.labels,
            opts.driver_opts,
        )?;
        Ok((self.volume_model(&rec), made))
    }

    /// `GET /volumes/{name}`.
    pub fn volume_inspect(&self, name: &str) -> Result<Volume> {
        match self.volume_get(name)? {
            Some(v) => Ok(self.volume_model(&v)),
            None => Err(Error::not_found(format!("get {name}: no such volume"))),
        }
    }

    /// `GET /volumes` with Docker's filters (name, driver, label, label!, dangling).
    pub fn volume_list(&self, filters: &[(String, String)]) -> Result<Vec<Volume>> {
        let mut out = Vec::new();
        for v in self.volume_all()? {
            if matches(self, &v, filters, false)? {
                out.push(self.volume_model(&v));
            }
        }
        Ok(out)
    }

    /// `DELETE /volumes/{name}`: refused (409) while any container uses it, even with force
    /// (force only hides "no such volume").
    pub fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        if self.volume_get(name)?.is_none() {
            if force {
                return Ok(());
            }
            return Err(Error::not_found(format!("get {name}: no such volume")));
        }
        let users = self.volume_users(name);
        if !users.is_empty() {
            return Err(Error::conflict(format!(
                "remove {name}: volume is in use - [{}]",
                users.join(", ")
            )));
        }
        self.volume_destroy(name)
    }

    /// `POST /volumes/prune`: unused anonymous volumes, or every unused one with `all=true`.
    pub fn volume_prune(&self, filters: &[(String, String)]) -> Result<VolumesPruneResponse> {
        let all = filters
            .iter()
            .any(|(k, v)| k == "all" && matches!(v.as_str(), "true" | "1"));
        let mut out = VolumesPruneResponse::default();
        for v in self.volume_all()? {
            if !all && !v.is_anonymous() {
                continue;
            }
            if !matches(self, &v, filters, true)? || !self.volume_users(&v.name).is_empty() {
                continue;
            }
            let size = dir_size(&self.volume_data_dir(&v.name));
            match self.volume_destroy(&v.name) {
                Ok(()) => {
                    out.volumes_deleted.push(v.name.clone());
                    out.space_reclaimed += size;
                }
                Err(e) => tracing::warn!(volume = %v.name, "prune: {e}"),
            }
        }
        Ok(out)
    }

    /// Whether the volume's options ask for a mount of its own (`-o type=tmpfs|…`), as
    /// opposed to a plain directory or a bind of `device`.
    pub(crate) fn needs_mount(v: &VolumeRecord) -> bool {
        let t = v.options.get("type").map(String::as_str).unwrap_or("");
        let bind = v
            .options
            .get("o")
            .is_some_and(|o| o.split(',').any(|x| x == "bind" || x == "rbind"));
        !t.is_empty() && t != "none" && !bind
    }

    /// Whether `_data` is a mount point (its device differs from its parent's).
    fn is_mounted(&self, name: &str) -> bool {
        use std::os::unix::fs::MetadataExt;
        let data = self.volume_data_dir(name);
        match (
            std::fs::metadata(&data),
            std::fs::metadata(self.volumes_root().join(name)),
        ) {
            (Ok(a), Ok(b)) => a.dev() != b.dev(),
            _ => false,
        }
    }

    /// Mounts a volume with driver options on its `_data` at first use (the local driver's
    /// `mount -t <type> -o <o> <device> _data`); a no-op when already mounted.
    pub(crate) fn mount_volume(&self, v: &VolumeRecord) -> Result<()> {
        if !Self::needs_mount(v) || self.is_mounted(&v.name) {
            return Ok(());
        }
        let typ = v.options.get("type").cloned().unwrap_or_default();
        let device = v
            .options
            .get("device")
            .cloned()
            .unwrap_or_else(|| typ.clone());
        let o = v.options.get("o").cloned().unwrap_or_default();
        let size = v.options.get("size").map(|s| format!("size={s}"));
        let data: Vec<&str> = o
            .split(',')
            .filter(|x| !x.is_empty())
            .chain(size.as_deref())
            .collect();
        let target = self.volume_data_dir(&v.name);
        nix::mount::mount(
            Some(device.as_str()),
            &target,
            Some(typ.as_str()),
            nix::mount::MsFlags::empty(),
            Some(data.join(",").as_str()),
        )
        .map_err(|e| {
            Error::internal(format!(
                "error while mounting volume '{}': failed to mount local volume: mount {device}:{}, data: {}: {e}",
                target.display(),
                target.display(),
                data.join(",")
            ))
        })
    }

    /// Unmounts a volume's own mount (see [`Engine::mount_volume`]) if it has one.
    pub(crate) fn unmount_volume(&self, name: &str) {
        if self.is_mounted(name) {
            let data = self.volume_data_dir(name);
            if let Err(e) = nix::mount::umount2(&data, nix::mount::MntFlags::MNT_DETACH) {
                tracing::warn!(volume = %name, "unmounting {}: {e}", data.display());
            }
        }
    }

    /// After a container stopped: unmounts the mounted volumes no running container uses.
    pub(crate) fn release_volume_mounts(
        &self,
        id: &str,
        mounts: &[rocker_api::models::MountPoint],
    ) {
        for m in mounts.iter().filter(|m| m.r#type == "volume") {
            if !self.is_mounted(&m.name) {
                continue;
            }
            let entries: Vec<_> = lock(&self.containers).by_id.values().cloned().collect();
            let busy = entries.iter().any(|e| {
                e.id != id && {
                    let r = lock(&e.record);
                    r.state.status.is_alive()
                        && r.mounts
                            .iter()
                            .any(|x| x.r#type == "volume" && x.name == m.name)
                }
            });
            if !busy {
                self.unmount_volume(&m.name);
            }
        }
    }

    /// After a container is removed with `v=true`: its anonymous volumes that no other
    /// container uses. Failures are logged, as Docker does.
    pub(crate) fn remove_anonymous_volumes(&self, mounts: &[rocker_api::models::MountPoint]) {
        for m in mounts.iter().filter(|m| m.r#type == "volume") {
            match self.volume_get(&m.name) {
                Ok(Some(v)) if v.is_anonymous() => {
                    if self.volume_users(&m.name).is_empty() {
                        if let Err(e) = self.volume_destroy(&m.name) {
                            tracing::warn!(volume = %m.name, "removing anonymous volume: {e}");
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(volume = %m.name, "looking up volume: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    #[test]
    fn names_follow_docker_rules() {
        for ok in ["v1", "my_vol.1-x", "0a"] {
            validate_name(ok).unwrap();
        }
        for bad in ["x/y", "-a", "a", "", "a b", ".x"] {
            let e = validate_name(bad).unwrap_err();
            assert_eq!(e.kind, Kind::InvalidArgument, "{bad}");
        }
        let e = validate_name("x/y").unwrap_err();
        assert!(e
            .message
            .starts_with("create x/y: \"x/y\" includes invalid characters"));
        assert_eq!(random_name().len(), 64);
    }

    #[test]
    fn label_filters() {
        let mut l = BTreeMap::new();
        l.insert("a".to_string(), "1".to_string());
        assert!(label_matches(&l, "a"));
        assert!(label_matches(&l, "a=1"));
        assert!(!label_matches(&l, "a=2"));
        assert!(!label_matches(&l, "b"));
    }
}
