//! `GET /system/df` and `POST /containers/prune` answers.

use serde::{Deserialize, Serialize};

use super::de::nullable;
use super::{ContainerSummary, ImageSummary, Volume};

/// `GET /system/df`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DiskUsage {
    #[serde(deserialize_with = "nullable")]
    pub layers_size: i64,
    #[serde(deserialize_with = "nullable")]
    pub images: Vec<ImageSummary>,
    #[serde(deserialize_with = "nullable")]
    pub containers: Vec<ContainerSummary>,
    #[serde(deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    #[serde(deserialize_with = "nullable")]
    pub build_cache: Vec<serde_json::Value>,
}

/// `POST /containers/prune`: `ContainersDeleted` is `null` when nothing was removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainersPruneReport {
    pub containers_deleted: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub space_reclaimed: u64,
}
