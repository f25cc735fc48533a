//! Container operations of the client outside start/stop: pause, unpause, rename, top.

use hyper::Method;
use serde::{Deserialize, Serialize};

use super::error::ClientError;
use super::{segment, Client, Query};

/// `GET /containers/{id}/top`'s answer: `ps` titles and one row per process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerTopResponse {
    #[serde(default)]
    pub titles: Vec<String>,
    #[serde(default)]
    pub processes: Vec<Vec<String>>,
}

impl Client {
    /// `POST /containers/{id}/pause`.
    pub async fn container_pause(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/containers/{}/pause", segment(id));
        self.send_bytes(Method::POST, &path, &Query::new(), None)
            .await
            .map(drop)
    }

    /// `POST /containers/{id}/unpause`.
    pub async fn container_unpause(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/containers/{}/unpause", segment(id));
        self.send_bytes(Method::POST, &path, &Query::new(), None)
            .await
            .map(drop)
    }

    /// `POST /containers/{id}/rename?name=`.
    pub async fn container_rename(&self, id: &str, new_name: &str) -> Result<(), ClientError> {
        let path = format!("/containers/{}/rename", segment(id));
        let mut q = Query::new();
        q.push("name", new_name);
        self.send_bytes(Method::POST, &path, &q, None)
            .await
            .map(drop)
    }

    /// `GET /containers/{id}/top[?ps_args=]`.
    pub async fn container_top(
        &self,
        id: &str,
        ps_args: Option<&str>,
    ) -> Result<ContainerTopResponse, ClientError> {
        let path = format!("/containers/{}/top", segment(id));
        let mut q = Query::new();
        if let Some(a) = ps_args.filter(|a| !a.is_empty()) {
            q.push("ps_args", a);
        }
        self.send_json(Method::GET, &path, &q, None).await
    }
}
