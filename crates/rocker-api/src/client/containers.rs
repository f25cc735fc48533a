//! Container endpoints of the client: create, start, wait, stop, kill, remove, list,
//! inspect, logs, attach, resize.

use hyper::body::Incoming;
use hyper::Method;

use super::body::BodyReader;
use super::error::ClientError;
use super::hijack::HijackedStream;
use super::{json_body, segment, Client, Query};
use crate::models::{
    ContainerCreateBody, ContainerCreateResponse, ContainerInspect, ContainerSummary,
    ContainerWaitResponse,
};

/// `condition` of `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitCondition {
    /// Returns at once if the container is not running.
    #[default]
    NotRunning,
    /// Waits for the next exit, even if not started yet (used before `start`).
    NextExit,
    /// Waits until the container is removed (`--rm`).
    Removed,
}

impl WaitCondition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRunning => "not-running",
            Self::NextExit => "next-exit",
            Self::Removed => "removed",
        }
    }
}

/// Options of `DELETE /containers/{id}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveOptions {
    /// Kill a running container first.
    pub force: bool,
    /// Remove anonymous volumes too.
    pub volumes: bool,
}

/// Options of `GET /containers/{id}/logs`.
#[derive(Debug, Clone, Default)]
pub struct LogsOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub timestamps: bool,
    /// Number of lines from the end, or `all` (None).
    pub tail: Option<String>,
    /// Unix timestamp or RFC 3339.
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Options of `POST /containers/{id}/attach`.
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// Stream live output (and stdin) rather than only past logs.
    pub stream: bool,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Replay logs first.
    pub logs: bool,
    pub detach_keys: Option<String>,
}

/// A wait whose request is accepted (status line received); the body arrives at exit.
pub struct WaitResponseFuture {
    body: Incoming,
    path: String,
}

impl WaitResponseFuture {
    /// Waits for the container to reach the condition.
    pub async fn result(self) -> Result<ContainerWaitResponse, ClientError> {
        use http_body_util::BodyExt;
        let bytes = self
            .body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| ClientError::ReadBody {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
            path: self.path,
            source,
        })
    }
}

impl Client {
    /// `POST /containers/create[?name=]`.
    pub async fn container_create(
        &self,
        name: Option<&str>,
        body: &ContainerCreateBody,
    ) -> Result<ContainerCreateResponse, ClientError> {
        let path = "/containers/create";
        let mut q = Query::new();
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            q.push("name", n);
        }
        let body = json_body(path, body)?;
        self.send_json(Method::POST, path, &q, Some(body)).await
    }

    /// `POST /containers/{id}/start`; starting a running container (304) is not an error.
    pub async fn container_start(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/containers/{}/start", segment(id));
        self.send_bytes(Method::POST, &path, &Query::new(), None)
            .await
            .map(drop)
    }

    /// `POST /containers/{id}/wait?condition=`: returns once the daemon accepted the wait,
    /// so a `next-exit` wait can be registered before `start`.
    pub async fn container_wait(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<WaitResponseFuture, ClientError> {
        let path = format!("/containers/{}/wait", segment(id));
        let mut q = Query::new();
        q.push("condition", condition.as_str());
        let resp = self.send(Method::POST, &path, &q, None).await?;
        Ok(WaitResponseFuture {
            body: resp.into_body(),
            path,
        })
    }

    /// `POST /containers/{id}/stop[?t=]`.
    pub async fn container_stop(&self, id: &str, timeout: Option<i64>) -> Result<(), ClientError> {
        let path = format!("/containers/{}/stop", segment(id));
        let mut q = Query::new();
        if let Some(t) = timeout {
            q.push("t", t.to_string());
        }
        self.send_bytes(Method::POST, &path, &q, None)
            .await
            .map(drop)
    }

    /// `POST /containers/{id}/kill[?signal=]`.
    pub async fn container_kill(&self, id: &str, signal: Option<&str>) -> Result<(), ClientError> {
        let path = format!("/containers/{}/kill", segment(id));
        let mut q = Query::new();
        if let Some(s) = signal.filter(|s| !s.is_empty()) {
            q.push("signal", s);
        }
        self.send_bytes(Method::POST, &path, &q, None)
            .await
            .map(drop)
    }

    /// `DELETE /containers/{id}?force=&v=`.
    pub async fn container_remove(&self, id: &str, opts: RemoveOptions) -> Result<(), ClientError> {
        let path = format!("/containers/{}", segment(id));
        let mut q = Query::new();
        q.flag("force", opts.force).flag("v", opts.volumes);
        self.send_bytes(Method::DELETE, &path, &q, None)
            .await
            .map(drop)
    }

    /// `GET /containers/json[?all=1]`.
    pub async fn container_list(&self, all: bool) -> Result<Vec<ContainerSummary>, ClientError> {
        let mut q = Query::new();
        q.flag("all", all);
        self.send_json(Method::GET, "/containers/json", &q, None)
            .await
    }

    /// `GET /containers/{id}/json`.
    pub async fn container_inspect(&self, id: &str) -> Result<ContainerInspect, ClientError> {
        let path = format!("/containers/{}/json", segment(id));
        self.send_json(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `GET /containers/{id}/json` as the daemon's JSON bytes, for printing them
    /// unchanged (field order kept).
    pub async fn container_inspect_raw(&self, id: &str) -> Result<bytes::Bytes, ClientError> {
        let path = format!("/containers/{}/json", segment(id));
        self.send_bytes(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `GET /containers/{id}/logs`: a byte stream, multiplexed unless the container has a tty.
    pub async fn container_logs(
        &self,
        id: &str,
        opts: &LogsOptions,
    ) -> Result<BodyReader, ClientError> {
        let path = format!("/containers/{}/logs", segment(id));
        let mut q = Query::new();
        q.flag("follow", opts.follow)
            .flag("stdout", opts.stdout)
            .flag("stderr", opts.stderr)
            .flag("timestamps", opts.timestamps);
        for (key, value) in [
            ("tail", &opts.tail),
            ("since", &opts.since),
            ("until", &opts.until),
        ] {
            if let Some(v) = value {
                q.push(key, v.clone());
            }
        }
        let resp = self.send(Method::GET, &path, &q, None).await?;
        Ok(BodyReader::new(resp.into_body()))
    }

    /// `POST /containers/{id}/attach` as a hijacked connection.
    pub async fn container_attach(
        &self,
        id: &str,
        opts: &AttachOptions,
    ) -> Result<HijackedStream, ClientError> {
        let path = format!("/containers/{}/attach", segment(id));
        let mut q = Query::new();
        q.flag("stream", opts.stream)
            .flag("stdin", opts.stdin)
            .flag("stdout", opts.stdout)
            .flag("stderr", opts.stderr)
            .flag("logs", opts.logs);
        if let Some(k) = &opts.detach_keys {
            q.push("detachKeys", k.clone());
        }
        self.hijack(&path, &q).await
    }

    /// `POST /containers/{id}/resize?h=&w=`.
    pub async fn container_resize(
        &self,
        id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ClientError> {
        let path = format!("/containers/{}/resize", segment(id));
        let mut q = Query::new();
        q.push("h", height.to_string()).push("w", width.to_string());
        self.send_bytes(Method::POST, &path, &q, None)
            .await
            .map(drop)
    }
}
