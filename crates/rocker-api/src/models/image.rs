//! Image responses of the Engine API: list (`ImageSummary`), inspect and delete.
//!
//! Mirrors Docker's Go `image.Summary`, `types.ImageInspect` and `image.DeleteResponse`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::container::GraphDriverData;
use super::container_config::ContainerConfig;
use super::de::nullable;

/// One entry of `GET /images/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageSummary {
    /// `sha256:<hex>`.
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub parent_id: String,
    /// `repo:tag`; an untagged image has none (older daemons sent `["<none>:<none>"]`).
    #[serde(deserialize_with = "nullable")]
    pub repo_tags: Vec<String>,
    /// `repo@sha256:...`.
    #[serde(deserialize_with = "nullable")]
    pub repo_digests: Vec<String>,
    /// Unix seconds.
    #[serde(deserialize_with = "nullable")]
    pub created: i64,
    /// Bytes.
    #[serde(deserialize_with = "nullable")]
    pub size: i64,
    /// -1 when not computed.
    #[serde(deserialize_with = "nullable")]
    pub shared_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// -1 when not computed.
    #[serde(deserialize_with = "nullable")]
    pub containers: i64,
}

/// `GET /images/{name}/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageInspect {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub repo_tags: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub repo_digests: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub parent: String,
    #[serde(deserialize_with = "nullable")]
    pub comment: String,
    /// RFC 3339 with nanoseconds.
    #[serde(deserialize_with = "nullable")]
    pub created: String,
    #[serde(deserialize_with = "nullable")]
    pub container: String,
    pub container_config: Option<ContainerConfig>,
    #[serde(deserialize_with = "nullable")]
    pub docker_version: String,
    #[serde(deserialize_with = "nullable")]
    pub author: String,
    pub config: Option<ContainerConfig>,
    #[serde(deserialize_with = "nullable")]
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub graph_driver: GraphDriverData,
    #[serde(rename = "RootFS", deserialize_with = "nullable")]
    pub root_fs: RootFs,
    #[serde(deserialize_with = "nullable")]
    pub metadata: ImageMetadata,
}

/// The image's layer chain by diff id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(deserialize_with = "nullable")]
    pub r#type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
}

/// Local bookkeeping about an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageMetadata {
    /// RFC 3339 nano, or `0001-01-01T00:00:00Z` when never tagged locally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_tag_time: Option<String>,
}

/// One entry of the `DELETE /images/{name}` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageDeleteResponseItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untagged: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_wire_names() {
        let i = ImageInspect {
            id: "sha256:a".into(),
            root_fs: RootFs {
                r#type: "layers".into(),
                layers: Some(vec!["sha256:b".into()]),
            },
            ..Default::default()
        };
        let v = serde_json::to_value(&i).expect("serialize");
        assert_eq!(v["RootFS"]["Type"], "layers");
        assert_eq!(v["RootFS"]["Layers"][0], "sha256:b");
        assert_eq!(v["ContainerConfig"], serde_json::Value::Null);
        assert_eq!(v["Os"], "");
        let s: ImageSummary =
            serde_json::from_str(r#"{"Id":"x","RepoTags":null,"Labels":null,"Size":5}"#)
                .expect("parse");
        assert!(s.repo_tags.is_empty());
        assert_eq!(s.size, 5);
    }
}
