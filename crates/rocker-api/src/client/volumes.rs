//! Volume endpoints of the client: create, list, inspect, remove, prune.

use std::collections::BTreeMap;

use hyper::Method;

use super::error::ClientError;
use super::{json_body, segment, Client, Query};
use crate::models::{Volume, VolumeCreateOptions, VolumeListResponse, VolumesPruneResponse};

/// Encodes Docker's `filters` query value (`{"key":{"value":true}}`).
fn filters_json(filters: &[(String, String)]) -> String {
    let mut map: BTreeMap<&str, BTreeMap<&str, bool>> = BTreeMap::new();
    for (k, v) in filters {
        map.entry(k.as_str()).or_default().insert(v.as_str(), true);
    }
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

impl Client {
    /// `POST /volumes/create`.
    pub async fn volume_create(&self, opts: &VolumeCreateOptions) -> Result<Volume, ClientError> {
        let path = "/volumes/create";
        let body = json_body(path, opts)?;
        self.send_json(Method::POST, path, &Query::new(), Some(body))
            .await
    }

    /// `GET /volumes?filters=…`; each filter is (key, value).
    pub async fn volume_list(
        &self,
        filters: &[(String, String)],
    ) -> Result<VolumeListResponse, ClientError> {
        let mut q = Query::new();
        if !filters.is_empty() {
            q.push("filters", filters_json(filters));
        }
        self.send_json(Method::GET, "/volumes", &q, None).await
    }

    /// `GET /volumes/{name}`.
    pub async fn volume_inspect(&self, name: &str) -> Result<Volume, ClientError> {
        let path = format!("/volumes/{}", segment(name));
        self.send_json(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `GET /volumes/{name}` as the daemon sent it (for `inspect` output).
    pub async fn volume_inspect_raw(&self, name: &str) -> Result<bytes::Bytes, ClientError> {
        let path = format!("/volumes/{}", segment(name));
        self.send_bytes(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `DELETE /volumes/{name}[?force=1]`.
    pub async fn volume_remove(&self, name: &str, force: bool) -> Result<(), ClientError> {
        let path = format!("/volumes/{}", segment(name));
        let mut q = Query::new();
        q.flag("force", force);
        self.send_bytes(Method::DELETE, &path, &q, None)
            .await
            .map(drop)
    }

    /// `POST /volumes/prune?filters=…`.
    pub async fn volume_prune(
        &self,
        filters: &[(String, String)],
    ) -> Result<VolumesPruneResponse, ClientError> {
        let mut q = Query::new();
        if !filters.is_empty() {
            q.push("filters", filters_json(filters));
        }
        self.send_json(Method::POST, "/volumes/prune", &q, None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_encode_as_docker_maps() {
        let f = vec![
            ("label".to_string(), "a=b".to_string()),
            ("dangling".to_string(), "true".to_string()),
        ];
        assert_eq!(
            filters_json(&f),
            r#"{"dangling":{"true":true},"label":{"a=b":true}}"#
        );
    }
}
