//! `docker load`: reads an image archive stream — Docker's `docker save` format
//! (`manifest.json` + `<config>.json` + `<layer>/layer.tar`, possibly several images) or an
//! OCI image layout tar (`oci-layout` + `index.json` + `blobs/sha256/…`) — plain or gzip.
//!
//! The archive is read once, front to back. Members larger than [`SMALL_MEMBER`] stream straight
//! into the content store (hashed on the way, verified against their name when it is a
//! digest); small ones (manifests, configs, tiny layers) are kept in memory until the
//! manifest, which may come last, says what they are. Then every image is prepared (config
//! stored, snapshots unpacked, diff ids verified) and all images are committed in one
//! transaction. Any failure removes the blobs and snapshots this load created, so a rejected
//! archive leaves nothing behind.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read};

use serde::Deserialize;

use crate::content::Written;
use crate::digest::{is_sha256_hex, Digest};
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::{ImageStore, LayerBlob, Loaded, Prepared, Undo};
use crate::unpack::{clean_path, decompress};
use crate::ErrorKind;

/// Members up to this size are buffered in memory while the archive is read.
pub const SMALL_MEMBER: u64 = 1024 * 1024;
/// Total memory for buffered members; beyond it members go to the content store.
const SMALL_BUDGET: u64 = 64 * 1024 * 1024;
const MAX_JSON: usize = 32 * 1024 * 1024;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
const ANNOTATION_CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Why an archive was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The stream is not a readable tar.
    #[error("read image archive: {source}")]
    Read { source: io::Error },
    /// Neither `manifest.json` nor `index.json` is present.
    #[error("image archive has neither manifest.json nor index.json")]
    MissingManifest,
    /// A JSON member does not parse.
    #[error("parse {path} in image archive: {source}")]
    ParseJson {
        path: String,
        source: serde_json::Error,
    },
    /// The manifest names a member that is not in the archive.
    #[error("image archive has no file {path}")]
    MissingMember { path: String },
    /// A member is too large to be JSON metadata.
    #[error("image archive member {path} is too large")]
    TooLarge { path: String },
    /// A descriptor's digest is malformed or does not match the content.
    #[error("image archive: bad digest for {path}: {reason}")]
    BadDigest { path: String, reason: String },
    /// A repo tag in the archive is not a valid reference.
    #[error("image archive: invalid tag {tag:?}: {reason}")]
    BadTag { tag: String, reason: String },
    /// An OCI index has no manifest for linux on this architecture.
    #[error("image archive: no manifest for linux/{arch} in {digest}")]
    NoMatchingPlatform { digest: String, arch: String },
    /// Symlink members form a loop or point outside the archive.
    #[error("image archive: unresolvable link {path}")]
    BadLink { path: String },
}

impl ArchiveError {
    /// The error class: archives are user input, so everything is InvalidArgument.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

enum Member {
    Memory(Vec<u8>),
    Blob(Written),
}

/// The archive's members, by cleaned path.
struct Members {
    files: HashMap<String, Member>,
    links: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciIndex {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct OciManifest {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// What one image in the archive consists of.
struct Planned {
    config: Vec<u8>,
    expected_id: Option<Digest>,
    layers: Vec<LayerBlob>,
    tags: Vec<Reference>,
}

/// Loads every image in the archive; see the module docs.
pub(crate) fn load(store: &ImageStore, tar: impl Read) -> Result<Vec<Loaded>> {
    let mut undo = Undo::default();
    let mut members = Members {
        files: HashMap::new(),
        links: HashMap::new(),
    };
    let result = read_members(store, tar, &mut members, &mut undo)
        .and_then(|()| plan(store, &members, &mut undo))
        .and_then(|plans| {
            let mut prepared: Vec<(Prepared, Vec<Reference>, Vec<Reference>)> = Vec::new();
            for p in plans {
                let pr = store.prepare(&p.config, &p.layers, p.expected_id.as_ref(), &mut undo)?;
                prepared.push((pr, p.tags, Vec::new()));
            }
            store.commit(&prepared)
        });
    // Blobs streamed in but referenced by nothing (v1 metadata, other platforms) are dropped.
    for m in members.files.values() {
        if let Member::Blob(w) = m {
            if w.created && !undo.blobs.contains(&w.digest) {
                undo.blobs.push(w.digest.clone());
            }
        }
    }
    match result {
        Ok(loaded) => {
            for d in &undo.blobs {
                store.remove_blob_if_unreferenced(d);
            }
            Ok(loaded)
        }
        Err(e) => {
            store.rollback(undo);
            Err(e)
        }
    }
}

fn read_members(
    store: &ImageStore,
    tar: impl Read,
    members: &mut Members,
    undo: &mut Undo,
) -> Result<()> {
    let stream = decompress(tar)?;
    let mut archive = tar::Archive::new(stream);
    let read_err = |source| Error::from(ArchiveError::Read { source });
    let mut budget = SMALL_BUDGET;
    for entry in archive.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let raw = entry.path_bytes().into_owned();
        let Some(path) = clean_member_path(&raw) else {
            continue;
        };
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name_bytes() {
                let target = String::from_utf8_lossy(&target).into_owned();
                let resolved = if kind.is_symlink() {
                    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                    clean_member_path(format!("{dir}/{target}").as_bytes())
                } else {
                    clean_member_path(target.as_bytes())
                };
                if let Some(r) = resolved {
                    members.links.insert(path, r);
                }
            }
            continue;
        }
        if !kind.is_file() && kind != tar::EntryType::Continuous {
            continue;
        }
        let size = entry.size();
        if size <= SMALL_MEMBER && size <= budget {
            let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            entry.read_to_end(&mut buf).map_err(read_err)?;
            budget -= size;
            members.files.insert(path, Member::Memory(buf));
        } else {
            let expected = digest_from_blob_path(&path);
            let w = store
                .content()
                .write(&mut entry, expected.as_ref())
                .map_err(|e| match e {
                    crate::content::ContentError::DigestMismatch { expected, actual } => {
                        Error::from(ArchiveError::BadDigest {
                            path: path.clone(),
                            reason: format!("expected {expected}, got {actual}"),
                        })
                    }
                    e => e.into(),
                })?;
            if w.created {
                undo.blobs.push(w.digest.clone());
            }
            members.files.insert(path, Member::Blob(w));
        }
    }
    Ok(())
}

/// Member path without `./` and leading `/`; `None` for the archive root or escaping paths.
fn clean_member_path(raw: &[u8]) -> Option<String> {
    let comps = clean_path(raw)?;
    if comps.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(&comps.join(&b'/')).into_owned())
}

/// `blobs/sha256/<hex>` (or any path whose last part is 64 hex, optionally `.json`) names its
/// digest.
fn digest_from_blob_path(path: &str) -> Option<Digest> {
    let base = path.rsplit('/').next()?;
    let base = base.strip_suffix(".json").unwrap_or(base);
    if is_sha256_hex(base) {
        Digest::from_hex(base).ok()
    } else {
        None
    }
}

impl Members {
    fn resolve<'a>(&'a self, path: &str) -> Result<&'a Member> {
        let mut p =
            clean_member_path(path.as_bytes()).ok_or_else(|| ArchiveError::MissingMember {
                path: path.to_string(),
            })?;
        for _ in 0..16 {
            if let Some(m) = self.files.get(&p) {
                return Ok(m);
            }
            match self.links.get(&p) {
                Some(t) => p = t.clone(),
                None => {
                    return Err(ArchiveError::MissingMember {
                        path: path.to_string(),
                    }
                    .into())
                }
            }
        }
        Err(ArchiveError::BadLink {
            path: path.to_string(),
        }
        .into())
    }

    fn has(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.links.contains_key(path)
    }

    /// A JSON member's bytes.
    fn bytes(&self, store: &ImageStore, path: &str) -> Result<Vec<u8>> {
        match self.resolve(path)? {
            Member::Memory(b) => Ok(b.clone()),
            Member::Blob(w) => {
                if w.size > MAX_JSON as u64 {
                    return Err(ArchiveError::TooLarge {
                        path: path.to_string(),
                    }
                    .into());
                }
                Ok(store.content().read_blob(&w.digest)?)
            }
        }
    }

    /// Makes sure a member is in the content store; returns its digest.
    fn blob(
        &self,
        store: &ImageStore,
        path: &str,
        expected: Option<&Digest>,
        undo: &mut Undo,
    ) -> Result<Digest> {
        let bad = |reason: String| {
            Error::from(ArchiveError::BadDigest {
                path: path.to_string(),
                reason,
            })
        };
        match self.resolve(path)? {
            Member::Memory(b) => {
                let w = store
                    .content()
                    .write_bytes(b, expected)
                    .map_err(|e| bad(e.to_string()))?;
                if w.created {
                    undo.blobs.push(w.digest.clone());
                }
                Ok(w.digest)
            }
            Member::Blob(w) => {
                if let Some(e) = expected {
                    if e != &w.digest {
                        return Err(bad(format!("expected {e}, got {}", w.digest)));
                    }
                }
                Ok(w.digest.clone())
            }
        }
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(path: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| {
        ArchiveError::ParseJson {
            path: path.to_string(),
            source,
        }
        .into()
    })
}

fn parse_tag(tag: &str) -> Result<Reference> {
    let r = Reference::parse(tag).map_err(|e| ArchiveError::BadTag {
        tag: tag.to_string(),
        reason: e.to_string(),
    })?;
    if r.digest().is_some() {
        return Err(ArchiveError::BadTag {
            tag: tag.to_string(),
            reason: "digest references cannot be tags".to_string(),
        }
        .into());
    }
    Ok(r.with_default_tag())
}

fn plan(store: &ImageStore, members: &Members, undo: &mut Undo) -> Result<Vec<Planned>> {
    if members.has("manifest.json") {
        plan_docker(store, members, undo)
    } else if members.has("index.json") {
        plan_oci(store, members, undo)
    } else {
        Err(ArchiveError::MissingManifest.into())
    }
}

fn plan_docker(store: &ImageStore, members: &Members, undo: &mut Undo) -> Result<Vec<Planned>> {
    let manifest: Vec<DockerManifestEntry> =
        parse_json("manifest.json", &members.bytes(store, "manifest.json")?)?;
    let mut plans = Vec::with_capacity(manifest.len());
    for entry in manifest {
        let config = members.bytes(store, &entry.config)?;
        let expected_id = digest_from_blob_path(&entry.config);
        let mut layers = Vec::with_capacity(entry.layers.len());
        for l in &entry.layers {
            let expected = if l.starts_with("blobs/") {
                digest_from_blob_path(l)
            } else {
                None
            };
            let digest = members.blob(store, l, expected.as_ref(), undo)?;
            layers.push(LayerBlob {
                digest,
                media_type: None,
            });
        }
        let tags = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|t| parse_tag(t))
            .collect::<Result<Vec<_>>>()?;
        plans.push(Planned {
            config,
            expected_id,
            layers,
            tags,
        });
    }
    Ok(plans)
}

fn descriptor_digest(d: &Descriptor) -> Result<Digest> {
    Digest::parse(&d.digest).map_err(|e| {
        ArchiveError::BadDigest {
            path: d.digest.clone(),
            reason: e.to_string(),
        }
        .into()
    })
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Reads a JSON blob of the layout and checks it hashes to its descriptor digest.
fn verified_json(store: &ImageStore, members: &Members, d: &Digest) -> Result<Vec<u8>> {
    let path = blob_path(d);
    let bytes = members.bytes(store, &path)?;
    let actual = Digest::of_bytes(&bytes);
    if &actual != d {
        return Err(ArchiveError::BadDigest {
            path,
            reason: format!("content is {actual}"),
        }
        .into());
    }
    Ok(bytes)
}

fn plan_oci(store: &ImageStore, members: &Members, undo: &mut Undo) -> Result<Vec<Planned>> {
    let index: OciIndex = parse_json("index.json", &members.bytes(store, "index.json")?)?;
    let mut plans: Vec<Planned> = Vec::new();
    let mut by_manifest: HashMap<Digest, usize> = HashMap::new();
    for top in &index.manifests {
        let tags = oci_names(top);
        let manifest_digest = image_manifest_for(store, members, top)?;
        if let Some(&i) = by_manifest.get(&manifest_digest) {
            plans[i].tags.extend(tags);
            continue;
        }
        let manifest: OciManifest = parse_json(
            &manifest_digest.to_string(),
            &verified_json(store, members, &manifest_digest)?,
        )?;
        let config_digest = descriptor_digest(&manifest.config)?;
        let config = verified_json(store, members, &config_digest)?;
        let mut layers = Vec::with_capacity(manifest.layers.len());
        for l in &manifest.layers {
            let d = descriptor_digest(l)?;
            let digest = members.blob(store, &blob_path(&d), Some(&d), undo)?;
            layers.push(LayerBlob {
                digest,
                media_type: l.media_type.clone(),
            });
        }
        by_manifest.insert(manifest_digest, plans.len());
        plans.push(Planned {
            config,
            expected_id: Some(config_digest),
            layers,
            tags,
        });
    }
    let _ = index.media_type;
    for p in &mut plans {
        let mut seen = HashSet::new();
        p.tags.retain(|t| seen.insert(t.to_string()));
    }
    Ok(plans)
}

/// Names from an index entry's annotations: the containerd full name, else a ref.name that
/// looks like a full reference (a bare tag such as `latest` names no repository).
fn oci_names(d: &Descriptor) -> Vec<Reference> {
    let candidate = d.annotations.get(ANNOTATION_CONTAINERD_NAME).or_else(|| {
        d.annotations
            .get(ANNOTATION_REF_NAME)
            .filter(|n| n.contains(':') || n.contains('/'))
    });
    match candidate.map(|n| parse_tag(n)) {
        Some(Ok(r)) => vec![r],
        Some(Err(e)) => {
            tracing::warn!(error = %e, "ignoring image name annotation");
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Follows nested indexes down to the image manifest for linux on this architecture.
fn image_manifest_for(store: &ImageStore, members: &Members, d: &Descriptor) -> Result<Digest> {
    let mut digest = descriptor_digest(d)?;
    let mut media_type = d.media_type.clone();
    for _ in 0..4 {
        let is_index = match media_type.as_deref() {
            Some(OCI_INDEX) | Some(DOCKER_LIST) => true,
            Some(_) => false,
            None => {
                let bytes = verified_json(store, members, &digest)?;
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map(|v| v.get("manifests").is_some())
                    .unwrap_or(false)
            }
        };
        if !is_index {
            return Ok(digest);
        }
        let index: OciIndex = parse_json(
            &digest.to_string(),
            &verified_json(store, members, &digest)?,
        )?;
        let arch = crate::config::host_arch();
        let pick = index
            .manifests
            .iter()
            .find(|m| {
                m.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == arch)
            })
            .or_else(|| {
                if index.manifests.len() == 1 {
                    index.manifests.first()
                } else {
                    None
                }
            })
            .ok_or_else(|| ArchiveError::NoMatchingPlatform {
                digest: digest.to_string(),
                arch: arch.to_string(),
            })?;
        digest = descriptor_digest(pick)?;
        media_type = pick.media_type.clone();
    }
    Err(ArchiveError::BadLink {
        path: digest.to_string(),
    }
    .into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_support::*;

    fn layers() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let base = TarBuilder::new()
            .dir("bin/")
            .file_with("bin/sh", b"shell", 0o755, 0, 0)
            .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
            .finish();
        let app = TarBuilder::new()
            .dir("app/")
            .file("app/run", b"run")
            .file("etc/.wh.passwd", b"")
            .finish();
        let other = TarBuilder::new().file("other", b"other").finish();
        (base, app, other)
    }

    #[test]
    fn loads_docker_save_with_two_images() {
        require_root();
        let (dir, store, db) = scratch_store();
        let (base, app, _) = layers();
        let cfg_a = config_for(std::slice::from_ref(&base), "a");
        let cfg_b = config_for(&[base.clone(), app.clone()], "b");
        let archive = docker_archive(&[
            (
                cfg_a.clone(),
                vec![base.clone()],
                vec!["busybox:latest", "localhost:5000/x/y:t"],
            ),
            (
                cfg_b.clone(),
                vec![base.clone(), app.clone()],
                vec!["app:1"],
            ),
        ]);
        let loaded = store.load(&archive[..]).unwrap();
        let id_a = Digest::of_bytes(&cfg_a).to_string();
        let id_b = Digest::of_bytes(&cfg_b).to_string();
        assert_eq!(
            loaded[0],
            Loaded {
                id: id_a.clone(),
                tags: vec!["busybox:latest".into(), "localhost:5000/x/y:t".into()]
            }
        );
        assert_eq!(
            loaded[1],
            Loaded {
                id: id_b.clone(),
                tags: vec!["app:1".into()]
            }
        );
        assert_eq!(count(&db, "images"), 2);
        assert_eq!(count(&db, "image_snapshots"), 2, "base layer shared");

        for r in [
            "busybox",
            "busybox:latest",
            "docker.io/library/busybox",
            "docker.io/library/busybox:latest",
            id_a.as_str(),
            &id_a[7..],
            &id_a[7..12],
            &id_a[..12],
            "localhost:5000/x/y:t",
        ] {
            assert_eq!(store.resolve(r).unwrap().id, id_a, "resolve {r}");
        }
        let a = store.resolve("busybox").unwrap();
        assert_eq!(a.repo_tags, vec!["busybox:latest", "localhost:5000/x/y:t"]);
        assert_eq!(a.config_json(), &cfg_a[..]);
        assert_eq!(
            a.config.config.as_ref().unwrap().cmd.as_deref(),
            Some(&["a".to_string()][..])
        );
        assert_eq!(a.created, 1714557600);
        assert_eq!(a.size, 5 + 26);
        let b = store.resolve("app:1").unwrap();
        let lower_b = store.lowerdirs(&b).unwrap();
        let lower_a = store.lowerdirs(&a).unwrap();
        assert_eq!(lower_b.len(), 2);
        assert_eq!(lower_b[1], lower_a[0], "bottom layer shared, listed last");
        assert!(lower_b[0].join("app/run").exists());
        assert!(lower_b
            .iter()
            .all(|p| p.is_absolute() && p.starts_with(dir.path().join("snapshots"))));
        assert!(lower_a[0].join("bin/sh").exists());

        let err = store.resolve("nope").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.to_string(), "No such image: nope");
        assert_eq!(
            store.resolve("busybox:other").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            store
                .resolve(&format!("busybox@sha256:{}", "0".repeat(64)))
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );

        let list = store.list().unwrap();
        assert_eq!(list.len(), 2);
        let sa = list.iter().find(|s| s.id == id_a).unwrap();
        assert_eq!(sa.repo_tags, vec!["busybox:latest", "localhost:5000/x/y:t"]);
        assert_eq!(sa.labels.get("test").map(String::as_str), Some("a"));
        assert_eq!(sa.containers, -1);
        assert_eq!(sa.size, 31);

        // Loading again is idempotent and re-tagging moves tags.
        let again = docker_archive(&[(cfg_b.clone(), vec![base, app], vec!["busybox:latest"])]);
        store.load(&again[..]).unwrap();
        assert_eq!(store.resolve("busybox").unwrap().id, id_b);
        assert_eq!(count(&db, "images"), 2);
        assert_eq!(count(&db, "image_snapshots"), 2);
        // v1 metadata members and layer blobs: only referenced blobs are kept.
        assert_eq!(entries(&dir.path().join("content/sha256")), 4);
        assert_eq!(entries(&dir.path().join("content/tmp")), 0);
    }

    #[test]
    fn loads_oci_layout() {
        require_root();
        let (_dir, store, db) = scratch_store();
        let (base, app, _) = layers();
        let cfg = config_for(&[base.clone(), app.clone()], "oci");
        let cfg2 = config_for(std::slice::from_ref(&base), "untagged");
        let archive = oci_archive(&[
            (cfg.clone(), vec![base.clone(), app], "localhost/oci:v1"),
            (cfg2.clone(), vec![base], "latest"),
        ]);
        let loaded = store.load(&gzip(&archive)[..]).unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded[0].tags, vec!["localhost/oci:v1"]);
        assert!(
            loaded[1].tags.is_empty(),
            "bare tag ref.name names no repository"
        );
        let img = store.resolve("localhost/oci:v1").unwrap();
        assert_eq!(img.id, Digest::of_bytes(&cfg).to_string());
        assert_eq!(store.lowerdirs(&img).unwrap().len(), 2);
        assert_eq!(count(&db, "image_snapshots"), 2);
        let media: String = db
            .lock()
            .unwrap()
            .query_row("SELECT media_type FROM image_layers LIMIT 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(media, "application/vnd.oci.image.layer.v1.tar+gzip");
        assert_eq!(
            store
                .resolve(&Digest::of_bytes(&cfg2).hex()[..10])
                .unwrap()
                .repo_tags
                .len(),
            0
        );
    }

    fn assert_empty(dir: &std::path::Path, db: &crate::Db) {
        for t in ["images", "image_tags", "image_layers", "image_snapshots"] {
            assert_eq!(count(db, t), 0, "table {t}");
        }
        assert_eq!(entries(&dir.join("content/sha256")), 0, "blobs left");
        assert_eq!(entries(&dir.join("content/tmp")), 0, "temp blobs left");
        assert_eq!(entries(&dir.join("snapshots")), 0, "snapshots left");
    }

    #[test]
    fn oci_blob_digest_mismatch_leaves_nothing() {
        require_root();
        let (dir, store, db) = scratch_store();
        let (base, _, _) = layers();
        let cfg = config_for(std::slice::from_ref(&base), "x");
        let archive = oci_archive(&[(cfg, vec![base.clone()], "localhost/x:1")]);
        // Corrupt the gzip layer blob content while keeping its name (same length).
        let gz = gzip(&base);
        let pos = archive
            .windows(gz.len())
            .position(|w| w == &gz[..])
            .unwrap();
        let mut bad = archive.clone();
        bad[pos + gz.len() - 5] ^= 0xff;
        let err = store.load(&bad[..]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.to_string().contains("digest"), "{err}");
        assert_empty(dir.path(), &db);
    }

    #[test]
    fn docker_diff_id_mismatch_leaves_nothing() {
        require_root();
        let (dir, store, db) = scratch_store();
        let (base, app, other) = layers();
        // Config claims `app` as second layer, archive ships `other`.
        let cfg = config_for(&[base.clone(), app], "x");
        let archive = docker_archive(&[(cfg, vec![base, other], vec!["x:1"])]);
        let err = store.load(&archive[..]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Snapshot(crate::snapshot::SnapshotError::Unpack(
                    UnpackErrorAlias::DiffIdMismatch { .. }
                ))
            ),
            "{err:?}"
        );
        assert_empty(dir.path(), &db);
    }

    use crate::unpack::UnpackError as UnpackErrorAlias;

    #[test]
    fn rejects_bad_archives() {
        let (dir, store, db) = scratch_store();
        let err = store
            .load(&b"definitely not a tar archive, just some text"[..])
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let no_manifest = TarBuilder::new().file("hello", b"x").finish();
        let err = store.load(&no_manifest[..]).unwrap_err();
        assert!(
            matches!(err, Error::Archive(ArchiveError::MissingManifest)),
            "{err:?}"
        );
        let missing_layer = TarBuilder::new()
            .file(
                "manifest.json",
                br#"[{"Config":"c.json","RepoTags":["a:1"],"Layers":["l/layer.tar"]}]"#,
            )
            .file("c.json", &config_for(&[b"x".to_vec()], "x"))
            .finish();
        let err = store.load(&missing_layer[..]).unwrap_err();
        assert!(
            matches!(err, Error::Archive(ArchiveError::MissingMember { .. })),
            "{err:?}"
        );
        let bad_tag = docker_archive(&[(config_for(&[], "x"), vec![], vec!["UPPER:1"])]);
        assert_eq!(
            store.load(&bad_tag[..]).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_empty(dir.path(), &db);
    }

    #[test]
    fn escaping_layer_is_rejected_on_load() {
        require_root();
        let (dir, store, db) = scratch_store();
        let evil = TarBuilder::new().file("../../evil", b"x").finish();
        let cfg = config_for(std::slice::from_ref(&evil), "evil");
        let archive = docker_archive(&[(cfg, vec![evil], vec!["evil:1"])]);
        let err = store.load(&archive[..]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("escapes"), "{err}");
        assert_empty(dir.path(), &db);
        assert!(!dir.path().join("evil").exists());
    }

    #[test]
    fn loads_mk_busybox_image_output() {
        require_root();
        if !std::path::Path::new("/bin/busybox").exists() {
            eprintln!("skipping: /bin/busybox not installed");
            return;
        }
        let (dir, store, _db) = scratch_store();
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mk-busybox-image");
        let out = dir.path().join("busybox.tar");
        let status = std::process::Command::new(&script)
            .arg(&out)
            .args(["--extra-layers", "1", "--layer-size", "1"])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let loaded = store.load(std::fs::File::open(&out).unwrap()).unwrap();
        assert_eq!(loaded[0].tags, vec!["busybox:latest"]);
        let img = store.resolve("busybox").unwrap();
        assert_eq!(
            img.config.config.as_ref().unwrap().cmd.as_deref(),
            Some(&["sh".to_string()][..])
        );
        let lower = store.lowerdirs(&img).unwrap();
        assert_eq!(lower.len(), 2);
        let bottom = &lower[1];
        assert!(bottom.join("bin/busybox").is_file());
        assert_eq!(
            std::fs::read_link(bottom.join("bin/sh")).unwrap(),
            std::path::Path::new("busybox")
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(bottom.join("tmp"))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
            0o1777
        );
        assert!(lower[0].join("data/layer0.bin").is_file());
    }
}
