//! Client endpoints of the CLI-parity verbs: the container list with every option
//! (`ps -f/-n/-l/-s`), container prune, and disk usage (`system df`).

use std::collections::BTreeMap;

use hyper::Method;

use super::error::ClientError;
use super::{Client, Query};
use crate::models::{ContainerSummary, ContainersPruneReport, DiskUsage};

/// Docker's `filters` query value (`{"key":{"value":true}}`).
pub fn encode_filters(filters: &[(String, String)]) -> String {
    let mut map: BTreeMap<&str, BTreeMap<&str, bool>> = BTreeMap::new();
    for (k, v) in filters {
        map.entry(k.as_str()).or_default().insert(v.as_str(), true);
    }
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

/// Options of `GET /containers/json`.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub all: bool,
    /// At most this many, newest first (`-n`; `-l` is 1).
    pub limit: Option<i64>,
    /// Compute `SizeRw` / `SizeRootFs`.
    pub size: bool,
    /// (key, value) pairs.
    pub filters: Vec<(String, String)>,
}

impl Client {
    /// `GET /containers/json` with every option.
    pub async fn container_list_with(
        &self,
        opts: &ListOptions,
    ) -> Result<Vec<ContainerSummary>, ClientError> {
        let mut q = Query::new();
        q.flag("all", opts.all).flag("size", opts.size);
        if let Some(n) = opts.limit {
            q.push("limit", n.to_string());
        }
        if !opts.filters.is_empty() {
            q.push("filters", encode_filters(&opts.filters));
        }
        self.send_json(Method::GET, "/containers/json", &q, None)
            .await
    }

    /// `POST /containers/prune?filters=…`.
    pub async fn container_prune(
        &self,
        filters: &[(String, String)],
    ) -> Result<ContainersPruneReport, ClientError> {
        let mut q = Query::new();
        if !filters.is_empty() {
            q.push("filters", encode_filters(filters));
        }
        self.send_json(Method::POST, "/containers/prune", &q, None)
            .await
    }

    /// `GET /system/df`.
    pub async fn system_df(&self) -> Result<DiskUsage, ClientError> {
        self.send_json(Method::GET, "/system/df", &Query::new(), None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_as_docker_maps() {
        let f = vec![("status".to_string(), "exited".to_string())];
        assert_eq!(encode_filters(&f), r#"{"status":{"exited":true}}"#);
    }
}
