//! A container's mounts: `HostConfig.Binds` (`-v`), `Mounts` (`--mount`), `Tmpfs`,
//! `VolumesFrom` and the image's `VOLUME`s resolved at create into Docker's `MountPoint`s
//! (kept in the record, shown by inspect), named and anonymous volumes created on the way,
//! and the OCI spec mounts made from them at start.
//!
//! The runtime resolves every destination inside the rootfs (openat2 RESOLVE_IN_ROOT), so a
//! symlink in the image cannot move a mount outside the container.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use rocker_api::models::{ContainerConfig, HostConfig, Mount, MountPoint};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::volumes::ANONYMOUS_LABEL;
use crate::Engine;

mod copy_up;

/// Bind propagation modes.
const PROPAGATIONS: &[&str] = &[
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

/// Mounts resolved at create, and the volumes this create made (removed if it fails).
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    pub mounts: Vec<MountPoint>,
    pub created: Vec<String>,
}

/// One mount request before volumes exist.
#[derive(Debug, Clone)]
struct Want {
    point: MountPoint,
    nocopy: bool,
    /// Driver, labels and options of a volume created for this mount.
    driver: String,
    labels: BTreeMap<String, String>,
    options: BTreeMap<String, String>,
    /// `-v` creates a missing bind source; `--mount` refuses it.
    create_source: bool,
}

impl Want {
    fn new(point: MountPoint) -> Self {
        Want {
            point,
            nocopy: false,
            driver: String::new(),
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            create_source: false,
        }
    }
}

/// `/a/b/` -> `/a/b` (lexically cleaned); errors when not absolute or `/`.
fn clean_dest(dest: &str, typ: &str) -> Result<String> {
    if !dest.starts_with('/') {
        return Err(Error::invalid(format!(
            "invalid mount config for type \"{typ}\": invalid mount path: '{dest}' mount path must be absolute"
        )));
    }
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(dest).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        return Err(Error::invalid(format!(
            "invalid mount config for type \"{typ}\": invalid specification: destination can't be '/'"
        )));
    }
    Ok(format!("/{}", parts.join("/")))
}

/// Parses the mode of a `-v` spec: (read-only, propagation, nocopy).
fn parse_mode(mode: &str) -> Option<(bool, String, bool)> {
    let (mut rw, mut prop, mut nocopy) = (None, None, false);
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" | "rw" if rw.is_none() => rw = Some(m == "ro"),
            "nocopy" if !nocopy => nocopy = true,
            "z" | "Z" | "consistent" | "cached" | "delegated" => {}
            p if PROPAGATIONS.contains(&p) && prop.is_none() => prop = Some(p.to_string()),
            _ => return None,
        }
    }
    Some((rw.unwrap_or(false), prop.unwrap_or_default(), nocopy))
}

/// One `-v` / `Binds` entry: `dst`, `src:dst` or `src:dst:mode`.
fn parse_bind(spec: &str) -> Result<Want> {
    let bad = |why: &str| {
        let sep = if why.is_empty() { "" } else { ": " };
        Error::invalid(format!("invalid volume specification: '{spec}'{sep}{why}"))
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [d] => ("", *d, ""),
        [s, d] => (*s, *d, ""),
        [s, d, m] => (*s, *d, *m),
        _ => return Err(bad("")),
    };
    if dst.is_empty() {
        return Err(bad(""));
    }
    let typ = if src.starts_with('/') {
        "bind"
    } else {
        "volume"
    };
    let dest = clean_dest(dst, typ).map_err(|e| bad(&e.message))?;
    let (ro, prop, nocopy) =
        parse_mode(mode).ok_or_else(|| bad(&format!("invalid mode: {mode}")))?;
    let mut point = MountPoint {
        r#type: typ.into(),
        destination: dest,
        mode: mode.to_string(),
        rw: !ro,
        ..Default::default()
    };
    if typ == "bind" {
        point.source = clean_dest(src, "bind").map_err(|e| bad(&e.message))?;
        point.propagation = if prop.is_empty() {
            "rprivate".into()
        } else {
            prop
        };
    } else {
        if !src.is_empty() {
            crate::volumes::validate_name(src)?;
        }
        point.name = src.to_string();
        point.driver = "local".into();
    }
    let mut w = Want::new(point);
    w.nocopy = nocopy;
    w.create_source = true;
    Ok(w)
}

/// One `Mounts` entry (`--mount`).
fn parse_mount(m: &Mount) -> Result<Option<Want>> {
    let typ = m.r#type.as_str();
    let err =
        |why: String| Error::invalid(format!("invalid mount config for type \"{typ}\": {why}"));
    if m.target.is_empty() {
        return Err(err("field Target must not be empty".into()));
    }
    let dest = clean_dest(&m.target, typ)?;
    let mut point = MountPoint {
        r#type: typ.into(),
        destination: dest,
        rw: !m.read_only,
        ..Default::default()
    };
    if m.bind_options.is_some() && typ != "bind" {
        return Err(err("field BindOptions must not be specified".into()));
    }
    if m.volume_options.is_some() && typ != "volume" {
        return Err(err("field VolumeOptions must not be specified".into()));
    }
    if m.tmpfs_options.is_some() && typ != "tmpfs" {
        return Err(err("field TmpfsOptions must not be specified".into()));
    }
    let mut w = Want::new(point.clone());
    match typ {
        "bind" => {
            if m.source.is_empty() {
                return Err(err("field Source must not be empty".into()));
            }
            let src = clean_dest(&m.source, "bind")?;
            if !Path::new(&src).exists() {
                return Err(err(format!("bind source path does not exist: {src}")));
            }
            let prop = m
                .bind_options
                .as_ref()
                .map(|b| b.propagation.clone())
                .unwrap_or_default();
            if !prop.is_empty() && !PROPAGATIONS.contains(&prop.as_str()) {
                return Err(err(format!("invalid propagation mode: {prop}")));
            }
            point.source = src;
            point.propagation = if prop.is_empty() {
                "rprivate".into()
            } else {
                prop
            };
            w.point = point;
        }
        "volume" => {
            if !m.source.is_empty() {
                crate::volumes::validate_name(&m.source)?;
            }
            point.name = m.source.clone();
            point.driver = "local".into();
            point.mode = "z".into();
            w.point = point;
            if let Some(vo) = &m.volume_options {
                w.nocopy = vo.no_copy;
                w.labels = vo.labels.clone().unwrap_or_default();
                if let Some(dc) = &vo.driver_config {
                    w.driver = dc.name.clone();
                    w.options = dc.options.clone().unwrap_or_default();
                }
            }
        }
        "tmpfs" => {
            if !m.source.is_empty() {
                return Err(err("field Source must not be specified".into()));
            }
            // Shown by inspect; the spec mount is made from HostConfig.Mounts at start.
            return Ok(Some(w));
        }
        "" => return Err(Error::invalid("invalid mount config: mount type unknown")),
        other => {
            return Err(Error::invalid(format!(
                "invalid mount config for type \"{other}\": mount type unknown"
            )))
        }
    }
    Ok(Some(w))
}

/// Tmpfs options of a `--mount type=tmpfs`, as mount(8) options.
fn tmpfs_mount_options(m: &Mount) -> Vec<String> {
    let mut o = Vec::new();
    if let Some(t) = &m.tmpfs_options {
        if t.size_bytes > 0 {
            o.push(format!("size={}k", (t.size_bytes / 1024).max(1)));
        }
        if t.mode != 0 {
            o.push(format!("mode={:o}", t.mode));
        }
    }
    o
}

fn depth(dest: &str) -> usize {
    dest.split('/').filter(|s| !s.is_empty()).count()
}

impl Engine {
    /// Resolves and creates a container's mounts at create. On error, everything this call
    /// made is removed again.
    pub(crate) fn resolve_mounts(
        &self,
        hc: &HostConfig,
        cfg: &ContainerConfig,
        image: &rocker_image::Image,
    ) -> Result<Resolved> {
        let lowerdirs = self
            .images
            .lowerdirs(image)
            .map_err(|e| Error::internal(format!("image layers: {e}")))?;
        let lowerdirs = lowerdirs.as_slice();
        let mut out = Resolved::default();
        let mut made_dirs = Vec::new();
        let r = self.resolve_into(hc, cfg, lowerdirs, &mut out, &mut made_dirs);
        if let Err(e) = r {
            self.release_mounts(&out.created);
            for d in made_dirs.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
            return Err(e);
        }
        Ok(out)
    }

    /// Removes the volumes a failed create made.
    pub(crate) fn release_mounts(&self, created: &[String]) {
        for name in created {
            let _ = self.volume_destroy(name);
        }
    }

    fn resolve_into(
        &self,
        hc: &HostConfig,
        cfg: &ContainerConfig,
        lowerdirs: &[PathBuf],
        out: &mut Resolved,
        made_dirs: &mut Vec<PathBuf>,
    ) -> Result<()> {
        let mut wants: Vec<Want> = Vec::new();
        let mut dests: BTreeSet<String> = BTreeSet::new();
        let mut claim = |dest: &str| -> Result<()> {
            if !dests.insert(dest.to_string()) {
                return Err(Error::invalid(format!("Duplicate mount point: {dest}")));
            }
            Ok(())
        };
        for b in hc.binds.iter().flatten() {
            let w = parse_bind(b)?;
            claim(&w.point.destination)?;
            wants.push(w);
        }
        for m in hc.mounts.iter().flatten() {
            if let Some(w) = parse_mount(m)? {
                claim(&w.point.destination)?;
                wants.push(w);
            }
        }
        for dest in hc.tmpfs.iter().flat_map(|t| t.keys()) {
            let d = clean_dest(dest, "tmpfs")?;
            claim(&d)?;
        }
        let mut taken: BTreeSet<String> =
            wants.iter().map(|w| w.point.destination.clone()).collect();
        taken.extend(
            hc.tmpfs
                .iter()
                .flat_map(|t| t.keys())
                .filter_map(|d| clean_dest(d, "tmpfs").ok()),
        );
        for from in hc.volumes_from.iter().flatten() {
            let (id, mode) = match from.rsplit_once(':') {
                Some((c, m)) if m == "ro" || m == "rw" => (c, Some(m == "rw")),
                Some((_, m)) => {
                    return Err(Error::invalid(format!(
                        "invalid mode for volumes-from: {m}"
                    )))
                }
                None => (from.as_str(), None),
            };
            let other = self.lookup(id)?.record();
            for p in other.mounts {
                if p.r#type == "tmpfs" || !taken.insert(p.destination.clone()) {
                    continue;
                }
                let mut p = p;
                if let Some(rw) = mode {
                    p.rw = rw;
                }
                let mut w = Want::new(p);
                w.nocopy = true;
                wants.push(w);
            }
        }
        for dest in cfg.volumes.iter().flat_map(|v| v.keys()) {
            let d = clean_dest(dest, "volume")?;
            if !taken.insert(d.clone()) {
                continue;
            }
            wants.push(Want::new(MountPoint {
                r#type: "volume".into(),
                driver: "local".into(),
                destination: d,
                rw: true,
                ..Default::default()
            }));
        }

        for mut w in wants {
            match w.point.r#type.as_str() {
                "bind" if w.create_source => {
                    let src = PathBuf::from(&w.point.source);
                    if !src.exists() {
                        let mut missing = Vec::new();
                        let mut p = src.as_path();
                        while !p.exists() {
                            missing.push(p.to_path_buf());
                            match p.parent() {
                                Some(q) => p = q,
                                None => break,
                            }
                        }
                        std::fs::create_dir_all(&src).map_err(|e| {
                            Error::internal(format!(
                                "error while creating mount source path '{}': {e}",
                                src.display()
                            ))
                        })?;
                        made_dirs.extend(missing.into_iter().rev());
                    }
                }
                "volume" => {
                    let anonymous = w.point.name.is_empty();
                    let mut labels = std::mem::take(&mut w.labels);
                    if anonymous {
                        labels.insert(ANONYMOUS_LABEL.into(), String::new());
                    }
                    let (v, made) = self.volume_ensure(
                        Some(w.point.name.as_str()).filter(|n| !n.is_empty()),
                        &w.driver,
                        labels,
                        std::mem::take(&mut w.options),
                    )?;
                    if made {
                        out.created.push(v.name.clone());
                    }
                    w.point.name = v.name.clone();
                    w.point.source = self.volume_data_dir(&v.name).to_string_lossy().into_owned();
                    if !w.nocopy && v.options.is_empty() {
                        copy_up::copy_up(
                            lowerdirs,
                            &w.point.destination,
                            Path::new(&w.point.source),
                        )
                        .map_err(|e| {
                            Error::internal(format!(
                                "copying image content into volume {}: {e}",
                                v.name
                            ))
                        })?;
                    }
                }
                _ => {}
            }
            out.mounts.push(w.point);
        }
        Ok(())
    }

    /// The OCI spec mounts of a container, parents before children.
    pub(crate) fn spec_mounts(&self, mounts: &[MountPoint], hc: &HostConfig) -> Result<Vec<Value>> {
        let mut out: Vec<(String, Value)> = Vec::new();
        for m in mounts {
            let mut opts: Vec<String> = Vec::new();
            let (typ, source) = match m.r#type.as_str() {
                "bind" => {
                    opts.push("rbind".into());
                    opts.push(if m.propagation.is_empty() {
                        "rprivate".into()
                    } else {
                        m.propagation.clone()
                    });
                    ("bind".to_string(), m.source.clone())
                }
                "volume" => {
                    let v = self.volume_get(&m.name)?.ok_or_else(|| {
                        Error::not_found(format!("get {}: no such volume", m.name))
                    })?;
                    // Options asking for a mount: mounted on the host at first use and
                    // shared by every container using the volume (Docker's local driver).
                    self.mount_volume(&v)?;
                    let o = v.options.get("o").cloned().unwrap_or_default();
                    let device = v.options.get("device").cloned().unwrap_or_default();
                    let is_bind = o.split(',').any(|x| x == "bind" || x == "rbind");
                    opts.extend(["rbind".to_string(), "rprivate".to_string()]);
                    let source = if is_bind {
                        device
                    } else {
                        self.volume_data_dir(&v.name).to_string_lossy().into_owned()
                    };
                    ("bind".to_string(), source)
                }
                _ => continue,
            };
            if !m.rw {
                opts.push("ro".into());
            }
            out.push((
                m.destination.clone(),
                json!({"destination": m.destination, "type": typ, "source": source, "options": opts}),
            ));
        }
        let tmpfs_defaults = || {
            vec![
                "nosuid".to_string(),
                "nodev".to_string(),
                "noexec".to_string(),
            ]
        };
        for m in hc.mounts.iter().flatten().filter(|m| m.r#type == "tmpfs") {
            let mut opts = tmpfs_defaults();
            opts.extend(tmpfs_mount_options(m));
            if m.read_only {
                opts.push("ro".into());
            }
            let dest = clean_dest(&m.target, "tmpfs")?;
            out.push((
                dest.clone(),
                json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": opts}),
            ));
        }
        for (dest, o) in hc.tmpfs.iter().flatten() {
            let mut opts = tmpfs_defaults();
            opts.extend(o.split(',').filter(|x| !x.is_empty()).map(str::to_string));
            let dest = clean_dest(dest, "tmpfs")?;
            out.push((
                dest.clone(),
                json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": opts}),
            ));
        }
        out.sort_by_key(|(d, _)| depth(d));
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    /// Appends the container's mounts to a built spec document.
    pub(crate) fn add_spec_mounts(&self, doc: &mut Value, rec: &crate::Record) -> Result<()> {
        let extra = self.spec_mounts(&rec.mounts, &rec.host_config)?;
        if let Some(arr) = doc.get_mut("mounts").and_then(Value::as_array_mut) {
            let dests: BTreeSet<String> = extra
                .iter()
                .filter_map(|m| m["destination"].as_str().map(str::to_string))
                .collect();
            // A user mount replaces a default one on the same path (e.g. /dev/shm).
            arr.retain(|m| !m["destination"].as_str().is_some_and(|d| dests.contains(d)));
            arr.extend(extra);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    #[test]
    fn binds_parse_like_docker() {
        let w = parse_bind("/host:/ctr:ro,rshared").unwrap();
        assert_eq!(w.point.r#type, "bind");
        assert!(!w.point.rw);
        assert_eq!(w.point.propagation, "rshared");
        let w = parse_bind("data:/d/:nocopy").unwrap();
        assert_eq!(w.point.r#type, "volume");
        assert_eq!(w.point.name, "data");
        assert_eq!(w.point.destination, "/d");
        assert!(w.nocopy && w.point.rw);
        let w = parse_bind("/anon").unwrap();
        assert!(w.point.name.is_empty());
        for bad in ["a:b", "/x:/", "/x:/y:bogus", "a:b:c:d", "x/y:/d"] {
            let e = parse_bind(bad).unwrap_err();
            assert_eq!(e.kind, Kind::InvalidArgument, "{bad}");
        }
        assert!(parse_bind("/x:/")
            .unwrap_err()
            .message
            .contains("destination can't be '/'"));
    }

    #[test]
    fn mounts_validate_like_docker() {
        let m = Mount {
            r#type: "bind".into(),
            source: "/nonexistent-rocker-path".into(),
            target: "/x".into(),
            ..Default::default()
        };
        let e = parse_mount(&m).unwrap_err();
        assert_eq!(
            e.message,
            "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-rocker-path"
        );
        let m = Mount {
            r#type: "tmpfs".into(),
            target: "/t".into(),
            tmpfs_options: Some(rocker_api::models::TmpfsOptions {
                size_bytes: 1 << 20,
                mode: 0o1777,
            }),
            ..Default::default()
        };
        assert!(parse_mount(&m).unwrap().is_some());
        assert_eq!(tmpfs_mount_options(&m), vec!["size=1024k", "mode=1777"]);
    }
}
