//! Container file system calls of the client: `archive` (cp both ways), `changes` (diff),
//! `export`. Bodies are buffered whole (a `cp` of a very large tree holds it in memory).

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use serde::{Deserialize, Serialize};

use super::error::ClientError;
use super::{segment, Client, Query};

/// The `X-Docker-Container-Path-Stat` header, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPathStat {
    pub name: String,
    #[serde(default)]
    pub size: i64,
    /// Go `os.FileMode` bits: 1<<31 directory, 1<<27 symlink.
    #[serde(default)]
    pub mode: u32,
    #[serde(default)]
    pub mtime: String,
    #[serde(default, rename = "linkTarget")]
    pub link_target: String,
}

impl ContainerPathStat {
    pub fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & (1 << 27) != 0
    }
}

/// One entry of `GET /containers/{id}/changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerChange {
    pub path: String,
    /// 0 modified, 1 added, 2 deleted.
    pub kind: u8,
}

fn decode_stat(resp: &hyper::Response<hyper::body::Incoming>) -> Option<ContainerPathStat> {
    let v = resp.headers().get("X-Docker-Container-Path-Stat")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v.as_bytes())
        .ok()?;
    serde_json::from_slice(&raw).ok()
}

impl Client {
    /// `HEAD /containers/{id}/archive?path=`.
    pub async fn container_stat_path(
        &self,
        id: &str,
        path: &str,
    ) -> Result<ContainerPathStat, ClientError> {
        let p = format!("/containers/{}/archive", segment(id));
        let mut q = Query::new();
        q.push("path", path);
        let resp = self.send(Method::HEAD, &p, &q, None).await?;
        Ok(decode_stat(&resp).unwrap_or_default())
    }

    /// `GET /containers/{id}/archive?path=`: the stat and the tar.
    pub async fn container_archive_get(
        &self,
        id: &str,
        path: &str,
    ) -> Result<(ContainerPathStat, Bytes), ClientError> {
        let p = format!("/containers/{}/archive", segment(id));
        let mut q = Query::new();
        q.push("path", path);
        let resp = self.send(Method::GET, &p, &q, None).await?;
        let stat = decode_stat(&resp).unwrap_or_default();
        let body = collect(resp, &p).await?;
        Ok((stat, body))
    }

    /// `PUT /containers/{id}/archive?path=` with a tar body.
    pub async fn container_archive_put(
        &self,
        id: &str,
        path: &str,
        tar: Vec<u8>,
        no_overwrite_dir_non_dir: bool,
        copy_uid_gid: bool,
    ) -> Result<(), ClientError> {
        let p = format!("/containers/{}/archive", segment(id));
        let mut q = Query::new();
        q.push("path", path);
        q.flag("noOverwriteDirNonDir", no_overwrite_dir_non_dir);
        q.flag("copyUIDGID", copy_uid_gid);
        let body = Full::new(Bytes::from(tar))
            .map_err(|never| match never {})
            .boxed_unsync();
        self.send_bytes(Method::PUT, &p, &q, Some((body, "application/x-tar")))
            .await
            .map(drop)
    }

    /// `GET /containers/{id}/changes`.
    pub async fn container_changes(&self, id: &str) -> Result<Vec<ContainerChange>, ClientError> {
        let p = format!("/containers/{}/changes", segment(id));
        let v: Option<Vec<ContainerChange>> =
            self.send_json(Method::GET, &p, &Query::new(), None).await?;
        Ok(v.unwrap_or_default())
    }

    /// `GET /containers/{id}/export`: the whole root as a tar.
    pub async fn container_export(&self, id: &str) -> Result<Bytes, ClientError> {
        let p = format!("/containers/{}/export", segment(id));
        self.send_bytes(Method::GET, &p, &Query::new(), None).await
    }
}

async fn collect(
    resp: hyper::Response<hyper::body::Incoming>,
    path: &str,
) -> Result<Bytes, ClientError> {
    resp.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| ClientError::ReadBody {
            path: path.to_string(),
            source: std::io::Error::other(e),
        })
}
