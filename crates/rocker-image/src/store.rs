//! [`ImageStore`]: the image service the engine calls. It ties the content store, snapshots and
//! the image tables together: creating images from a config plus layer blobs (used by load,
//! import, and later pull/commit), resolving user references, listing, tagging, and giving the
//! overlay lowerdirs of an image.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};

use crate::config::ImageConfig;
use crate::content::ContentStore;
use crate::digest::Digest;
use crate::error::{db_err, Error, Result};
use crate::reference::{familiarize, Reference};
use crate::snapshot::{now, Snapshots};
use crate::unpack::{self, Compression};
use crate::{lock_db, schema, Db};

/// One image loaded or imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// `sha256:<hex>` image id.
    pub id: String,
    /// Tags now pointing at it, familiar form (`busybox:latest`).
    pub tags: Vec<String>,
}

/// A layer blob already in the content store, bottom-first in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    /// Blob digest (compressed digest for gzip layers).
    pub digest: Digest,
    /// Media type from the manifest; sniffed from the blob when `None`.
    pub media_type: Option<String>,
}

/// An image as the engine needs it to create containers and answer inspect.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:<hex>`.
    pub id: String,
    /// Familiar tags (`busybox:latest`), sorted.
    pub repo_tags: Vec<String>,
    /// Familiar repo digests (`busybox@sha256:…`), sorted.
    pub repo_digests: Vec<String>,
    /// Parsed config.
    pub config: ImageConfig,
    /// Sum of layer sizes in bytes.
    pub size: u64,
    /// Creation time, unix seconds.
    pub created: i64,
    config_json: Vec<u8>,
    /// Snapshot numbers, bottom layer first.
    snapshots: Vec<i64>,
}

impl Image {
    /// The byte-exact config JSON (its sha256 is the id), for `docker inspect`/save/push.
    pub fn config_json(&self) -> &[u8] {
        &self.config_json
    }

    /// The image's default container config (`config` of the config JSON) decoded into the
    /// caller's type, e.g. the API's ContainerConfig; `None` when absent or not decodable.
    pub fn container_config<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        let raw: serde_json::Value = serde_json::from_slice(&self.config_json).ok()?;
        let config = raw.get("config").filter(|v| !v.is_null())?;
        T::deserialize(config).ok()
    }

    /// Number of layers.
    pub fn layer_count(&self) -> usize {
        self.snapshots.len()
    }
}

/// A row of `docker images` (`GET /images/json`); serialises with Docker's field names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: i64,
    pub size: i64,
    pub shared_size: i64,
    pub virtual_size: i64,
    pub labels: BTreeMap<String, String>,
    pub containers: i64,
}

/// An image whose snapshots and blobs exist but which is not yet in the tables.
pub(crate) struct Prepared {
    pub id: Digest,
    pub config_raw: Vec<u8>,
    pub created: i64,
    pub size: u64,
    /// (snapshot n, blob digest, media type), bottom first.
    pub layers: Vec<(i64, Digest, String)>,
}

/// What an operation created, so a failure can remove it again.
#[derive(Default)]
pub(crate) struct Undo {
    pub blobs: Vec<Digest>,
    pub snapshots: Vec<i64>,
}

/// Images, tags, blobs and snapshots under one data root.
#[derive(Debug)]
pub struct ImageStore {
    data_root: PathBuf,
    db: Db,
    content: ContentStore,
    snapshots: Snapshots,
}

impl ImageStore {
    /// Creates/upgrades the image tables; the engine calls this inside its migration
    /// transaction (see [`schema`] for the tables).
    pub fn migrate(tx: &rusqlite::Transaction<'_>) -> Result<()> {
        schema::migrate(tx).map_err(db_err("migrate"))
    }

    /// Opens the store under `data_root` (creating `content/` and `snapshots/`) and removes
    /// leftovers of interrupted writes. The tables must exist ([`ImageStore::migrate`]).
    pub fn new(data_root: &Path, db: Db) -> Result<Self> {
        let content = ContentStore::open(&data_root.join("content"))?;
        let snapshots = Snapshots::open(&data_root.join("snapshots"), db.clone())?;
        Ok(Self {
            data_root: data_root.to_path_buf(),
            db,
            content,
            snapshots,
        })
    }

    /// The data root this store lives in.
    pub fn data_root(&self) -> &Path {
        &self.data_root
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The blob store (for pull/push/save).
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// `docker load`: see [`crate::archive`].
    pub fn load(&self, tar: impl Read) -> Result<Vec<Loaded>> {
        crate::archive::load(self, tar)
    }

    /// `docker import`: see [`crate::import`].
    pub fn import(
        &self,
        tar: impl Read,
        reference: Option<&str>,
        changes: &[String],
        message: &str,
    ) -> Result<Loaded> {
        crate::import::import(self, tar, reference, changes, message)
    }

    /// Creates (or re-tags) an image from its config JSON and layer blobs already in the content
    /// store; `tags` are moved to it. Used by pull, commit and build.
    pub fn create_image(
        &self,
        config_json: &[u8],
        layers: &[LayerBlob],
        tags: &[Reference],
    ) -> Result<Loaded> {
        let mut undo = Undo::default();
        let result = self
            .prepare(config_json, layers, None, &mut undo)
            .and_then(|p| self.commit(&[(p, tags.to_vec(), Vec::new())]));
        match result {
            Ok(mut loaded) => Ok(loaded.remove(0)),
            Err(e) => {
                self.rollback(undo);
                Err(e)
            }
        }
    }

    /// Stores the config, unpacks every missing layer snapshot and verifies diff ids.
    pub(crate) fn prepare(
        &self,
        config_raw: &[u8],
        layers: &[LayerBlob],
        expected_id: Option<&Digest>,
        undo: &mut Undo,
    ) -> Result<Prepared> {
        let id = Digest::of_bytes(config_raw);
        if let Some(e) = expected_id {
            if e != &id {
                return Err(Error::InvalidConfig {
                    id: e.to_string(),
                    reason: format!("config digest is {id}"),
                });
            }
        }
        let config = ImageConfig::from_json(config_raw).map_err(|source| Error::ParseConfig {
            id: id.to_string(),
            source,
        })?;
        let diff_ids = config
            .rootfs
            .diff_ids
            .iter()
            .map(|d| Digest::parse(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidConfig {
                id: id.to_string(),
                reason: e.to_string(),
            })?;
        if diff_ids.len() != layers.len() {
            return Err(Error::InvalidConfig {
                id: id.to_string(),
                reason: format!("{} diff ids but {} layers", diff_ids.len(), layers.len()),
            });
        }
        for l in layers {
            if !self.content.contains(&l.digest) {
                return Err(Error::InvalidConfig {
                    id: id.to_string(),
                    reason: format!("layer blob {} is missing", l.digest),
                });
            }
        }
        let w = self.content.write_bytes(config_raw, Some(&id))?;
        if w.created {
            undo.blobs.push(id.clone());
        }
        let mut parent: Option<Digest> = None;
        let mut out = Vec::with_capacity(layers.len());
        let mut size = 0u64;
        for (layer, diff_id) in layers.iter().zip(&diff_ids) {
            let chain = Digest::chain(parent.as_ref(), diff_id);
            let media_type = match &layer.media_type {
                Some(m) => m.clone(),
                None => self.sniff_media_type(&layer.digest)?,
            };
            let snap = self
                .snapshots
                .ensure(&chain, parent.as_ref(), diff_id, |dir| {
                    let blob = self.content.open_blob(&layer.digest)?;
                    let stats = unpack::unpack_layer(
                        std::io::BufReader::with_capacity(256 * 1024, blob),
                        dir,
                        Some(diff_id),
                    )?;
                    Ok(stats.size)
                })?;
            if snap.created {
                undo.snapshots.push(snap.n);
            }
            size += snap.size;
            out.push((snap.n, layer.digest.clone(), media_type));
            parent = Some(chain);
        }
        Ok(Prepared {
            id,
            config_raw: config_raw.to_vec(),
            created: config.created_unix(),
            size,
            layers: out,
        })
    }

    fn sniff_media_type(&self, blob: &Digest) -> Result<String> {
        let mut head = [0u8; 4];
        let mut f = self.content.open_blob(blob)?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(source) => {
                    return Err(crate::content::ContentError::Open {
                        digest: blob.clone(),
                        source,
                    }
                    .into())
                }
            }
        }
        Ok(Compression::detect(&head[..n])
            .docker_media_type()
            .to_string())
    }

    /// Inserts prepared images with their tags and repo digests in one transaction.
    pub(crate) fn commit(
        &self,
        images: &[(Prepared, Vec<Reference>, Vec<Reference>)],
    ) -> Result<Vec<Loaded>> {
        let mut conn = lock_db(&self.db);
        let tx = conn.transaction().map_err(db_err("begin"))?;
        let added = now();
        let mut loaded = Vec::with_capacity(images.len());
        for (p, tags, digests) in images {
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO images (id, config, created, size, added) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![p.id.as_str(), p.config_raw, p.created, i64::try_from(p.size).unwrap_or(i64::MAX), added],
                )
                .map_err(db_err("insert image"))?;
            if inserted == 1 {
                for (idx, (n, blob, media_type)) in p.layers.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO image_layers (image_id, idx, snapshot, blob_digest, media_type)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![p.id.as_str(), idx as i64, n, blob.as_str(), media_type],
                    )
                    .map_err(db_err("insert image layer"))?;
                }
            }
            let mut familiar = Vec::new();
            for t in tags {
                let t = t.clone().with_default_tag();
                tx.execute(
                    "INSERT OR REPLACE INTO image_tags (name, image_id, created) VALUES (?1, ?2, ?3)",
                    params![t.to_string(), p.id.as_str(), added],
                )
                .map_err(db_err("insert tag"))?;
                familiar.push(t.familiar());
            }
            for d in digests {
                tx.execute(
                    "INSERT OR REPLACE INTO image_digests (name, image_id) VALUES (?1, ?2)",
                    params![d.to_string(), p.id.as_str()],
                )
                .map_err(db_err("insert repo digest"))?;
            }
            loaded.push(Loaded {
                id: p.id.to_string(),
                tags: familiar,
            });
        }
        tx.commit().map_err(db_err("commit"))?;
        Ok(loaded)
    }

    /// Removes what a failed operation created and nothing references.
    pub(crate) fn rollback(&self, undo: Undo) {
        for n in undo.snapshots {
            if let Err(e) = self.snapshots.remove_if_unreferenced(n) {
                tracing::warn!(snapshot = n, error = %e, "rollback: cannot remove snapshot");
            }
        }
        for d in undo.blobs {
            self.remove_blob_if_unreferenced(&d);
        }
    }

    /// Deletes a blob unless an image config or layer row names it.
    pub(crate) fn remove_blob_if_unreferenced(&self, d: &Digest) {
        let referenced = {
            let conn = lock_db(&self.db);
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM images WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM image_layers WHERE blob_digest = ?1)",
                [d.as_str()],
                |r| r.get::<_, bool>(0),
            )
        };
        match referenced {
            Ok(false) => {
                if let Err(e) = self.content.remove(d) {
                    tracing::warn!(blob = %d, error = %e, "cannot remove unreferenced blob");
                }
            }
            Ok(true) => {}
            Err(e) => tracing::warn!(blob = %d, error = %e, "cannot check blob references"),
        }
    }

    /// Resolves a user reference: `name[:tag]`, fully qualified name, `name@digest` (repo digests
    /// recorded by pull), `sha256:<id>`, or a unique (possibly `sha256:`-prefixed) hex id prefix.
    pub fn resolve(&self, reference: &str) -> Result<Image> {
        let not_found = || Error::NotFound(reference.to_string());
        if let Some(hex) = reference.strip_prefix("sha256:") {
            if is_hex_prefix(hex) {
                let id = self.id_by_prefix(hex, reference)?.ok_or_else(not_found)?;
                return self.get(&id)?.ok_or_else(not_found);
            }
            return Err(not_found());
        }
        if reference.contains('@') {
            let r = Reference::parse(reference)?;
            let id: Option<String> = lock_db(&self.db)
                .query_row(
                    "SELECT image_id FROM image_digests WHERE name = ?1",
                    [format!("{}@{}", r.name(), r.digest().unwrap_or_default())],
                    |row| row.get(0),
                )
                .optional()
                .map_err(db_err("look up repo digest"))?;
            let id = id.ok_or_else(not_found)?;
            return self.get(&id)?.ok_or_else(not_found);
        }
        let parsed = Reference::parse(reference);
        if let Ok(r) = &parsed {
            let name = r.clone().with_default_tag().to_string();
            let id: Option<String> = lock_db(&self.db)
                .query_row(
                    "SELECT image_id FROM image_tags WHERE name = ?1",
                    [name],
                    |row| row.get(0),
                )
                .optional()
                .map_err(db_err("look up tag"))?;
            if let Some(id) = id {
                return self.get(&id)?.ok_or_else(not_found);
            }
        }
        if is_hex_prefix(reference) {
            let id = self
                .id_by_prefix(reference, reference)?
                .ok_or_else(not_found)?;
            return self.get(&id)?.ok_or_else(not_found);
        }
        match parsed {
            Ok(_) => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }

    /// The full id whose hex starts with `hex`; ambiguous prefixes are an error.
    fn id_by_prefix(&self, hex: &str, shown: &str) -> Result<Option<String>> {
        let conn = lock_db(&self.db);
        let mut stmt = conn
            .prepare_cached("SELECT id FROM images WHERE substr(id, 1, ?2) = ?1 LIMIT 2")
            .map_err(db_err("search id prefix"))?;
        let pattern = format!("sha256:{hex}");
        let ids = stmt
            .query_map(params![pattern, pattern.len() as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(db_err("search id prefix"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err("search id prefix"))?;
        match ids.len() {
            0 => Ok(None),
            1 => Ok(ids.into_iter().next()),
            _ => Err(Error::AmbiguousPrefix(shown.to_string())),
        }
    }

    /// Loads one image by full id.
    pub fn get(&self, id: &str) -> Result<Option<Image>> {
        let conn = lock_db(&self.db);
        let row: Option<(Vec<u8>, i64, i64)> = conn
            .query_row(
                "SELECT config, created, size FROM images WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db_err("read image"))?;
        let Some((config_json, created, size)) = row else {
            return Ok(None);
        };
        let strings = |sql: &str| -> Result<Vec<String>> {
            let mut stmt = conn
                .prepare_cached(sql)
                .map_err(db_err("read image names"))?;
            let v = stmt
                .query_map([id], |r| r.get::<_, String>(0))
                .map_err(db_err("read image names"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err("read image names"))?;
            Ok(v)
        };
        let mut repo_tags: Vec<String> =
            strings("SELECT name FROM image_tags WHERE image_id = ?1")?
                .iter()
                .map(|n| familiarize(n))
                .collect();
        repo_tags.sort();
        let mut repo_digests: Vec<String> =
            strings("SELECT name FROM image_digests WHERE image_id = ?1")?
                .iter()
                .map(|n| familiarize(n))
                .collect();
        repo_digests.sort();
        let mut stmt = conn
            .prepare_cached("SELECT snapshot FROM image_layers WHERE image_id = ?1 ORDER BY idx")
            .map_err(db_err("read image layers"))?;
        let snapshots = stmt
            .query_map([id], |r| r.get::<_, i64>(0))
            .map_err(db_err("read image layers"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err("read image layers"))?;
        let config = ImageConfig::from_json(&config_json).map_err(|source| Error::ParseConfig {
            id: id.to_string(),
            source,
        })?;
        Ok(Some(Image {
            id: id.to_string(),
            repo_tags,
            repo_digests,
            config,
            size: size.max(0) as u64,
            created,
            config_json,
            snapshots,
        }))
    }

    /// All images, newest first, as `docker images` shows them.
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        let conn = lock_db(&self.db);
        let mut names: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
        for (sql, is_tag) in [
            ("SELECT name, image_id FROM image_tags", true),
            ("SELECT name, image_id FROM image_digests", false),
        ] {
            let mut stmt = conn
                .prepare_cached(sql)
                .map_err(db_err("list image names"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db_err("list image names"))?;
            for row in rows {
                let (name, id) = row.map_err(db_err("list image names"))?;
                let entry = names.entry(id).or_default();
                if is_tag {
                    entry.0.push(familiarize(&name));
                } else {
                    entry.1.push(familiarize(&name));
                }
            }
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, config, created, size FROM images ORDER BY created DESC, id",
            )
            .map_err(db_err("list images"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(db_err("list images"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, config, created, size) = row.map_err(db_err("list images"))?;
            let labels = ImageConfig::from_json(&config)
                .map(|c| c.labels())
                .unwrap_or_default();
            let (mut repo_tags, mut repo_digests) = names.remove(&id).unwrap_or_default();
            repo_tags.sort();
            repo_digests.sort();
            out.push(ImageSummary {
                id,
                parent_id: String::new(),
                repo_tags,
                repo_digests,
                created,
                size,
                shared_size: -1,
                virtual_size: size,
                labels,
                containers: -1,
            });
        }
        Ok(out)
    }

    /// Overlay lowerdirs for `image`, topmost layer first, absolute paths.
    pub fn lowerdirs(&self, image: &Image) -> Result<Vec<PathBuf>> {
        Ok(image
            .snapshots
            .iter()
            .rev()
            .map(|&n| self.snapshots.dir(n))
            .collect())
    }

    /// `docker tag SOURCE TARGET`: points `target` (default tag `latest`) at the image `source`
    /// resolves to.
    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        let image = self.resolve(source)?;
        let r = Reference::parse(target)?;
        if r.digest().is_some() {
            return Err(Error::InvalidConfig {
                id: target.to_string(),
                reason: "refusing to create a tag with a digest reference".to_string(),
            });
        }
        let r = r.with_default_tag();
        lock_db(&self.db)
            .execute(
                "INSERT OR REPLACE INTO image_tags (name, image_id, created) VALUES (?1, ?2, ?3)",
                params![r.to_string(), image.id, now()],
            )
            .map_err(db_err("insert tag"))?;
        Ok(())
    }

    /// The layer blobs of an image, bottom first, with the media types recorded for them
    /// (for push and save).
    pub fn layer_blobs(&self, id: &str) -> Result<Vec<LayerBlob>> {
        let conn = lock_db(&self.db);
        let mut stmt = conn
            .prepare(
                "SELECT blob_digest, media_type FROM image_layers WHERE image_id = ?1 ORDER BY idx",
            )
            .map_err(db_err("read image layers"))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db_err("read image layers"))?;
        let mut out = Vec::new();
        for row in rows {
            let (d, media_type) = row.map_err(db_err("read image layers"))?;
            let digest = Digest::parse(&d).map_err(|e| Error::InvalidConfig {
                id: id.to_string(),
                reason: e.to_string(),
            })?;
            out.push(LayerBlob {
                digest,
                media_type: Some(media_type),
            });
        }
        Ok(out)
    }

    /// Records `name@sha256:…` (the manifest digest a pull resolved) for an image, so
    /// `resolve("name@sha256:…")` finds it and it shows in RepoDigests.
    pub fn set_repo_digest(&self, reference: &Reference, image_id: &str) -> Result<()> {
        let Some(digest) = reference.digest() else {
            return Err(Error::InvalidConfig {
                id: reference.to_string(),
                reason: "repo digest reference has no digest".to_string(),
            });
        };
        lock_db(&self.db)
            .execute(
                "INSERT OR REPLACE INTO image_digests (name, image_id) VALUES (?1, ?2)",
                params![format!("{}@{}", reference.name(), digest), image_id],
            )
            .map_err(db_err("insert repo digest"))?;
        Ok(())
    }

    /// Removes one tag (`name[:tag]`); returns the image id it pointed to.
    pub fn untag(&self, reference: &str) -> Result<String> {
        let r = Reference::parse(reference)?.with_default_tag();
        let conn = lock_db(&self.db);
        let id: Option<String> = conn
            .query_row(
                "DELETE FROM image_tags WHERE name = ?1 RETURNING image_id",
                [r.to_string()],
                |row| row.get(0),
            )
            .optional()
            .map_err(db_err("delete tag"))?;
        id.ok_or_else(|| Error::NotFound(reference.to_string()))
    }

    /// Deletes an image record (tags, digests, layer rows) by full id, then its snapshots and
    /// blobs that nothing else uses. The engine must first check no container uses it.
    pub fn delete(&self, id: &str) -> Result<()> {
        let (snapshots, blobs) = {
            let mut conn = lock_db(&self.db);
            let tx = conn.transaction().map_err(db_err("begin"))?;
            let mut snaps = Vec::new();
            let mut blobs = Vec::new();
            {
                let mut stmt = tx
                    .prepare("SELECT snapshot, blob_digest FROM image_layers WHERE image_id = ?1 ORDER BY idx DESC")
                    .map_err(db_err("read image layers"))?;
                let rows = stmt
                    .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                    .map_err(db_err("read image layers"))?;
                for row in rows {
                    let (n, b) = row.map_err(db_err("read image layers"))?;
                    snaps.push(n);
                    blobs.push(b);
                }
            }
            for sql in [
                "DELETE FROM image_tags WHERE image_id = ?1",
                "DELETE FROM image_digests WHERE image_id = ?1",
                "DELETE FROM image_layers WHERE image_id = ?1",
            ] {
                tx.execute(sql, [id]).map_err(db_err("delete image"))?;
            }
            if tx
                .execute("DELETE FROM images WHERE id = ?1", [id])
                .map_err(db_err("delete image"))?
                == 0
            {
                return Err(Error::NotFound(id.to_string()));
            }
            tx.commit().map_err(db_err("commit"))?;
            blobs.push(id.to_string());
            (snaps, blobs)
        };
        for n in snapshots {
            self.snapshots.remove_if_unreferenced(n)?;
        }
        for b in blobs {
            if let Ok(d) = Digest::parse(&b) {
                self.remove_blob_if_unreferenced(&d);
            }
        }
        Ok(())
    }
}

fn is_hex_prefix(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::ErrorKind;

    #[test]
    fn new_removes_crash_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let db = open_db(dir.path());
        {
            let _store = ImageStore::new(dir.path(), db.clone()).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("snapshots/tmp-7/x")).unwrap();
        std::fs::create_dir_all(dir.path().join("snapshots/9")).unwrap();
        std::fs::write(dir.path().join("content/tmp/0123"), b"partial").unwrap();
        db.lock()
            .unwrap()
            .execute(
                "INSERT INTO image_snapshots (chain_id, diff_id, state, created) VALUES ('sha256:aa', 'sha256:aa', 'unpacking', 0)",
                [],
            )
            .unwrap();
        let _store = ImageStore::new(dir.path(), db.clone()).unwrap();
        assert_eq!(entries(&dir.path().join("snapshots")), 0);
        assert_eq!(entries(&dir.path().join("content/tmp")), 0);
        assert_eq!(count(&db, "image_snapshots"), 0);
    }

    #[test]
    fn create_tag_untag_delete() {
        require_root();
        let (dir, store, db) = scratch_store();
        let layer = TarBuilder::new().file("f", b"data").finish();
        let blob = store.content().write_bytes(&gzip(&layer), None).unwrap();
        let cfg = config_for(std::slice::from_ref(&layer), "x");
        let tags = [Reference::parse("one").unwrap()];
        let loaded = store
            .create_image(
                &cfg,
                &[LayerBlob {
                    digest: blob.digest.clone(),
                    media_type: None,
                }],
                &tags,
            )
            .unwrap();
        assert_eq!(loaded.tags, vec!["one:latest"]);
        let media: String = db
            .lock()
            .unwrap()
            .query_row("SELECT media_type FROM image_layers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(media, "application/vnd.docker.image.rootfs.diff.tar.gzip");

        let digest_ref = Reference::parse(&format!("one@sha256:{}", "ab".repeat(32))).unwrap();
        store.set_repo_digest(&digest_ref, &loaded.id).unwrap();
        let by_digest = store.resolve(&digest_ref.familiar()).unwrap();
        assert_eq!(by_digest.repo_digests, vec![digest_ref.familiar()]);
        store.tag("one", "two:2").unwrap();
        assert_eq!(
            store.resolve(&loaded.id).unwrap().repo_tags,
            vec!["one:latest", "two:2"]
        );
        assert_eq!(store.untag("one").unwrap(), loaded.id);
        assert_eq!(store.untag("one").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(store.resolve("two:2").unwrap().repo_tags, vec!["two:2"]);

        // Wrong layer count is rejected before anything is unpacked.
        let err = store.create_image(&cfg, &[], &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);

        store.delete(&loaded.id).unwrap();
        assert_eq!(
            store.resolve("two:2").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(count(&db, "image_snapshots"), 0);
        assert_eq!(entries(&dir.path().join("snapshots")), 0);
        assert_eq!(entries(&dir.path().join("content/sha256")), 0);
        assert_eq!(
            store.delete(&loaded.id).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn ambiguous_prefix_and_invalid_reference() {
        require_root();
        let (_dir, store, _db) = scratch_store();
        let mut ids = Vec::new();
        // Find two configs whose ids share a first hex digit.
        for i in 0..40 {
            let cfg = config_for(&[], &format!("c{i}"));
            ids.push(store.create_image(&cfg, &[], &[]).unwrap().id);
        }
        let first = &ids[0][7..8];
        if ids.iter().filter(|id| &id[7..8] == first).count() > 1 {
            assert!(matches!(
                store.resolve(first).unwrap_err(),
                Error::AmbiguousPrefix(_)
            ));
        }
        assert_eq!(
            store.resolve("UPPER").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            store.resolve("sha256:zz").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(store.resolve(&ids[5]).unwrap().id, ids[5]);
        assert_eq!(store.list().unwrap().len(), 40);
    }

    #[test]
    fn store_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ImageStore>();
    }

    #[test]
    fn concurrent_loads_share_one_snapshot() {
        require_root();
        let (_dir, store, db) = scratch_store();
        let layer = TarBuilder::new().file("big", &vec![7u8; 3 << 20]).finish();
        let cfg = config_for(std::slice::from_ref(&layer), "c");
        let archive = docker_archive(&[(cfg, vec![layer], vec!["c:1"])]);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| store.load(&archive[..]).unwrap()))
                .collect();
            for h in handles {
                assert_eq!(h.join().unwrap()[0].tags, vec!["c:1"]);
            }
        });
        assert_eq!(count(&db, "image_snapshots"), 1);
        assert_eq!(count(&db, "images"), 1);
    }
}
