//! `restart` and `update` of the client: `POST /containers/{id}/restart` and
//! `POST /containers/{id}/update`.

use hyper::Method;
use serde::{Deserialize, Serialize};

use super::error::ClientError;
use super::{json_body, segment, Client, Query};

/// `POST /containers/{id}/update`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerUpdateResponse {
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

impl Client {
    /// `POST /containers/{id}/restart[?t=&signal=]`.
    pub async fn container_restart(
        &self,
        id: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<(), ClientError> {
        let path = format!("/containers/{}/restart", segment(id));
        let mut q = Query::new();
        if let Some(t) = timeout {
            q.push("t", t.to_string());
        }
        if let Some(s) = signal.filter(|s| !s.is_empty()) {
            q.push("signal", s);
        }
        self.send_bytes(Method::POST, &path, &q, None)
            .await
            .map(drop)
    }

    /// `POST /containers/{id}/update` with a body of Docker's `UpdateConfig` fields.
    pub async fn container_update(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<ContainerUpdateResponse, ClientError> {
        let path = format!("/containers/{}/update", segment(id));
        let body = json_body(&path, body)?;
        self.send_json(Method::POST, &path, &Query::new(), Some(body))
            .await
    }
}
