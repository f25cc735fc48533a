//! Exec endpoints of the client: create, start (hijacked or detached), inspect, resize.

use hyper::Method;

use super::error::ClientError;
use super::hijack::{self, HijackedStream};
use super::{json_body, segment, Client, Query};
use crate::models::{ExecConfig, ExecInspect, ExecStartConfig, IdResponse, API_VERSION};

impl Client {
    /// `POST /containers/{id}/exec`: returns the exec id.
    pub async fn exec_create(
        &self,
        container: &str,
        cfg: &ExecConfig,
    ) -> Result<String, ClientError> {
        let path = format!("/containers/{}/exec", segment(container));
        let body = json_body(&path, cfg)?;
        let resp: IdResponse = self
            .send_json(Method::POST, &path, &Query::new(), Some(body))
            .await?;
        Ok(resp.id)
    }

    /// `POST /exec/{id}/start` without `Detach`, as a hijacked connection carrying the
    /// process's stdio.
    pub async fn exec_start_attached(
        &self,
        id: &str,
        cfg: &ExecStartConfig,
    ) -> Result<HijackedStream, ClientError> {
        let path = format!("/exec/{}/start", segment(id));
        let body = serde_json::to_vec(cfg).map_err(|source| ClientError::Encode {
            path: path.clone(),
            source,
        })?;
        let uri = format!("/v{API_VERSION}{path}");
        hijack::hijack(&self.socket, &self.host, &uri, Some(&body)).await
    }

    /// `POST /exec/{id}/start` with `Detach`: returns once the process runs.
    pub async fn exec_start_detached(
        &self,
        id: &str,
        cfg: &ExecStartConfig,
    ) -> Result<(), ClientError> {
        let path = format!("/exec/{}/start", segment(id));
        let mut cfg = cfg.clone();
        cfg.detach = true;
        let body = json_body(&path, &cfg)?;
        self.send_bytes(Method::POST, &path, &Query::new(), Some(body))
            .await
            .map(drop)
    }

    /// `GET /exec/{id}/json`.
    pub async fn exec_inspect(&self, id: &str) -> Result<ExecInspect, ClientError> {
        let path = format!("/exec/{}/json", segment(id));
        self.send_json(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `POST /exec/{id}/resize?h=&w=`.
    pub async fn exec_resize(&self, id: &str, height: u16, width: u16) -> Result<(), ClientError> {
        let path = format!("/exec/{}/resize", segment(id));
        let mut q = Query::new();
        q.push("h", height.to_string()).push("w", width.to_string());
        self.send_bytes(Method::POST, &path, &q, None)
            .await
            .map(drop)
    }
}
