//! Test-only helpers: hand-built tar archives (including hostile ones the tar crate's own
//! builder refuses to write), gzip, a scratch store with a migrated database, and the root
//! check every privileged test goes through.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::{schema, Db, ImageStore};

/// Panics (loudly, never skips) when not root: these tests need CAP_CHOWN/CAP_MKNOD.
pub fn require_root() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap();
    assert_eq!(euid, "0", "this test must run as root");
}

/// Builds a tar with raw control over names and link targets.
pub struct TarBuilder {
    b: tar::Builder<Vec<u8>>,
}

impl Default for TarBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TarBuilder {
    pub fn new() -> Self {
        Self {
            b: tar::Builder::new(Vec::new()),
        }
    }

    fn header(name: &str, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        let bytes = h.as_mut_bytes();
        bytes[..100].fill(0);
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        h
    }

    fn append(&mut self, mut h: tar::Header, data: &[u8]) -> &mut Self {
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.file_with(name, data, 0o644, 0, 0)
    }

    pub fn file_with(
        &mut self,
        name: &str,
        data: &[u8],
        mode: u32,
        uid: u64,
        gid: u64,
    ) -> &mut Self {
        let mut h = Self::header(name, tar::EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.append(h, data)
    }

    pub fn dir(&mut self, name: &str) -> &mut Self {
        let h = Self::header(name, tar::EntryType::Directory, 0o755, 0);
        self.append(h, &[])
    }

    fn link(&mut self, name: &str, target: &str, kind: tar::EntryType) -> &mut Self {
        let mut h = Self::header(name, kind, 0o777, 0);
        let bytes = h.as_mut_bytes();
        bytes[157..257].fill(0);
        bytes[157..157 + target.len()].copy_from_slice(target.as_bytes());
        self.append(h, &[])
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.link(name, target, tar::EntryType::Symlink)
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.link(name, target, tar::EntryType::Link)
    }

    pub fn fifo(&mut self, name: &str) -> &mut Self {
        let h = Self::header(name, tar::EntryType::Fifo, 0o600, 0);
        self.append(h, &[])
    }

    /// A regular file preceded by a PAX header carrying `SCHILY.xattr.*` records.
    pub fn file_with_xattrs(
        &mut self,
        name: &str,
        data: &[u8],
        xattrs: &[(&str, &[u8])],
    ) -> &mut Self {
        let mut records = Vec::new();
        for (k, v) in xattrs {
            let body_len = " SCHILY.xattr.".len() + k.len() + 1 + v.len() + 1;
            // The length prefix counts its own digits.
            let mut len = body_len + 1;
            while len.to_string().len() + body_len != len {
                len += 1;
            }
            records.extend_from_slice(format!("{len} SCHILY.xattr.{k}=").as_bytes());
            records.extend_from_slice(v);
            records.push(b'\n');
        }
        let h = Self::header(
            "PaxHeader",
            tar::EntryType::XHeader,
            0o644,
            records.len() as u64,
        );
        self.append(h, &records);
        self.file(name, data)
    }

    pub fn finish(&mut self) -> Vec<u8> {
        let b = std::mem::replace(&mut self.b, tar::Builder::new(Vec::new()));
        b.into_inner().unwrap()
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A store in a fresh temp dir with its own migrated database.
pub fn scratch_store() -> (tempfile::TempDir, ImageStore, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let store = ImageStore::new(dir.path(), db.clone()).unwrap();
    (dir, store, db)
}

pub fn open_db(root: &Path) -> Db {
    let mut conn = rusqlite::Connection::open(root.join("rocker.db")).unwrap();
    schema::migrate_connection(&mut conn).unwrap();
    Arc::new(Mutex::new(conn))
}

pub fn count(db: &Db, table: &str) -> i64 {
    db.lock()
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Number of entries in a directory.
pub fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// A minimal image config for the given uncompressed layers.
pub fn config_for(layers: &[Vec<u8>], cmd: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| crate::Digest::of_bytes(l).to_string())
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-05-01T10:00:00Z",
        "config": {"Cmd": [cmd], "Env": ["PATH=/bin"], "Labels": {"test": cmd}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

/// A `docker save` archive. Each image: (config, layer blobs as stored, tags).
/// (config, layer blobs as stored, repo tags).
pub type DockerTestImage<'a> = (Vec<u8>, Vec<Vec<u8>>, Vec<&'a str>);
/// (config, uncompressed layers, ref.name annotation).
pub type OciTestImage<'a> = (Vec<u8>, Vec<Vec<u8>>, &'a str);

pub fn docker_archive(images: &[DockerTestImage<'_>]) -> Vec<u8> {
    let mut t = TarBuilder::new();
    let mut manifest = Vec::new();
    let mut written = std::collections::HashSet::new();
    for (config, layers, tags) in images {
        let config_name = format!("{}.json", crate::Digest::of_bytes(config).hex());
        let mut layer_names = Vec::new();
        for l in layers {
            let dir = crate::Digest::of_bytes(l).hex().to_string();
            let name = format!("{dir}/layer.tar");
            if written.insert(name.clone()) {
                t.dir(&format!("{dir}/"))
                    .file(&format!("{dir}/VERSION"), b"1.0")
                    .file(&name, l);
            }
            layer_names.push(name);
        }
        t.file(&config_name, config);
        manifest.push(
            serde_json::json!({"Config": config_name, "RepoTags": tags, "Layers": layer_names}),
        );
    }
    t.file("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    t.finish()
}

/// An OCI layout archive with gzip layers. Each image: (config, uncompressed layers, ref name).
pub fn oci_archive(images: &[OciTestImage<'_>]) -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
        .dir("blobs/")
        .dir("blobs/sha256/");
    let mut index = Vec::new();
    let blob = |t: &mut TarBuilder, data: &[u8]| {
        let d = crate::Digest::of_bytes(data);
        t.file(&format!("blobs/sha256/{}", d.hex()), data);
        (d.to_string(), data.len())
    };
    for (config, layers, name) in images {
        let (cd, cs) = blob(&mut t, config);
        let mut ls = Vec::new();
        for l in layers {
            let (d, s) = blob(&mut t, &gzip(l));
            ls.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s}));
        }
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
            "layers": ls,
        }))
        .unwrap();
        let (md, ms) = blob(&mut t, &manifest);
        index.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md, "size": ms,
            "annotations": {"org.opencontainers.image.ref.name": name},
        }));
    }
    t.file(
        "index.json",
        &serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": index})).unwrap(),
    );
    t.finish()
}
