//! Volume models (`/volumes/*`): Docker's `volume.Volume`, the create body, the list answer
//! and the prune report, with Docker's JSON field names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::nullable;

/// Disk usage of a volume (`system df`); -1 when not computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeUsageData {
    pub size: i64,
    pub ref_count: i64,
}

impl Default for VolumeUsageData {
    fn default() -> Self {
        VolumeUsageData {
            size: -1,
            ref_count: -1,
        }
    }
}

/// `volume.Volume`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Volume {
    /// RFC 3339 (seconds precision, as Docker shows it).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub created_at: String,
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub mountpoint: String,
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// `POST /volumes/create` body (`volume.CreateOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateOptions {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    #[serde(deserialize_with = "nullable")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// `GET /volumes` answer (`volume.ListResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeListResponse {
    #[serde(deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// `POST /volumes/prune` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumesPruneResponse {
    #[serde(deserialize_with = "nullable")]
    pub volumes_deleted: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_round_trip_uses_docker_names() {
        let v: Volume = serde_json::from_str(
            r#"{"CreatedAt":"2024-01-01T00:00:00Z","Driver":"local","Labels":null,
                "Mountpoint":"/var/lib/docker/volumes/v/_data","Name":"v","Options":null,
                "Scope":"local"}"#,
        )
        .unwrap();
        assert_eq!(v.name, "v");
        assert!(v.labels.is_empty());
        let s = serde_json::to_value(&v).unwrap();
        assert_eq!(s["Mountpoint"], "/var/lib/docker/volumes/v/_data");
        assert!(s.get("UsageData").is_none());
        let p: VolumesPruneResponse =
            serde_json::from_str(r#"{"VolumesDeleted":null,"SpaceReclaimed":5}"#).unwrap();
        assert_eq!(p.space_reclaimed, 5);
    }
}
