//! Wire-shaped views of images for the Engine API (`GET /images/json` and
//! `GET /images/{name}/json`). They serialise with Docker's field names so the daemon can send
//! them as they are; the container config is passed through verbatim from the stored config
//! JSON so no Docker field is lost.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::{db_err, Result};
use crate::store::{Image, ImageStore};
use crate::{lock_db, Error};

/// `docker image inspect` output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    /// Comment of the last history entry (`docker import -m`, `docker commit -m`).
    pub comment: String,
    /// RFC 3339 as stored in the config.
    pub created: String,
    pub container: String,
    pub container_config: Option<Value>,
    pub docker_version: String,
    pub author: String,
    pub config: Option<Value>,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    pub size: i64,
    pub virtual_size: i64,
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: InspectRootFs,
    pub metadata: InspectMetadata,
}

/// `GraphDriver`: overlay2 with the image's lowerdirs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// `RootFS`: diff ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InspectRootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    pub layers: Vec<String>,
}

/// `Metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InspectMetadata {
    /// When a tag last pointed here, or Go's zero time.
    pub last_tag_time: String,
}

const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl ImageStore {
    /// `docker image inspect <reference>`.
    pub fn inspect(&self, reference: &str) -> Result<ImageInspect> {
        let image = self.resolve(reference)?;
        let raw: Value =
            serde_json::from_slice(image.config_json()).map_err(|source| Error::ParseConfig {
                id: image.id.clone(),
                source,
            })?;
        let last_tag: Option<i64> = lock_db(self.db())
            .query_row(
                "SELECT max(created) FROM image_tags WHERE image_id = ?1",
                [&image.id],
                |r| r.get(0),
            )
            .map_err(db_err("read tag time"))?;
        let lower = self.lowerdirs(&image)?;
        Ok(inspect_view(&image, &raw, &lower, last_tag))
    }
}

fn inspect_view(
    image: &Image,
    raw: &Value,
    lower: &[std::path::PathBuf],
    last_tag: Option<i64>,
) -> ImageInspect {
    let c = &image.config;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let size = i64::try_from(image.size).unwrap_or(i64::MAX);
    let mut data = BTreeMap::new();
    if !lower.is_empty() {
        let dirs: Vec<String> = lower.iter().map(|p| p.display().to_string()).collect();
        data.insert("LowerDir".to_string(), dirs.join(":"));
    }
    ImageInspect {
        id: image.id.clone(),
        repo_tags: image.repo_tags.clone(),
        repo_digests: image.repo_digests.clone(),
        parent: String::new(),
        comment: c
            .history
            .iter()
            .rev()
            .find_map(|h| h.comment.clone())
            .unwrap_or_default(),
        created: s(&c.created),
        container: raw
            .get("container")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        container_config: raw
            .get("container_config")
            .filter(|v| !v.is_null())
            .cloned(),
        docker_version: s(&c.docker_version),
        author: s(&c.author),
        config: raw.get("config").filter(|v| !v.is_null()).cloned(),
        architecture: c.architecture.clone(),
        variant: c.variant.clone(),
        os: c.os.clone(),
        os_version: c.os_version.clone(),
        size,
        virtual_size: size,
        graph_driver: GraphDriver {
            name: "overlay2".to_string(),
            data,
        },
        root_fs: InspectRootFs {
            kind: c.rootfs.kind.clone(),
            layers: c.rootfs.diff_ids.clone(),
        },
        metadata: InspectMetadata {
            last_tag_time: last_tag
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map_or_else(
                    || GO_ZERO_TIME.to_string(),
                    |t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                ),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::test_support::*;

    #[test]
    fn inspect_has_docker_shape() {
        require_root();
        let (_dir, store, _db) = scratch_store();
        let rootfs = TarBuilder::new().file("x", b"x").finish();
        store
            .import(
                &rootfs[..],
                Some("insp:1"),
                &["CMD [\"x\"]".to_string()],
                "hello",
            )
            .unwrap();
        let i = store.inspect("insp:1").unwrap();
        let v = serde_json::to_value(&i).unwrap();
        assert_eq!(v["RepoTags"][0], "insp:1");
        assert_eq!(v["Comment"], "hello");
        assert_eq!(v["Config"]["Cmd"][0], "x");
        assert_eq!(v["RootFS"]["Type"], "layers");
        assert_eq!(v["RootFS"]["Layers"].as_array().unwrap().len(), 1);
        assert_eq!(v["GraphDriver"]["Name"], "overlay2");
        assert_eq!(v["Size"], 1);
        assert!(v["Metadata"]["LastTagTime"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        let list = serde_json::to_value(store.list().unwrap()).unwrap();
        assert_eq!(list[0]["RepoTags"][0], "insp:1");
        assert_eq!(list[0]["Containers"], -1);
        let img = store.resolve("insp:1").unwrap();
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "PascalCase")]
        struct Mine {
            cmd: Vec<String>,
        }
        let mine: Mine = img.container_config().unwrap_or_default();
        assert_eq!(mine.cmd, vec!["x"]);
    }
}
