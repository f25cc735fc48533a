//! Image endpoints of the client: list, load, import, inspect.

use hyper::Method;
use tokio::io::AsyncRead;

use super::body::{BodyReader, JsonLines, ReaderBody};
use super::error::ClientError;
use super::{segment, Client, Query, ReqBody};
use crate::models::{ImageInspect, ImageSummary};
use http_body_util::BodyExt;

/// Options of `POST /images/create?fromSrc=-` (`rocker import`).
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Repository to tag the image with (empty: untagged).
    pub repo: String,
    pub tag: String,
    /// Dockerfile instructions applied to the config (`CMD ["sh"]`, `ENV A=1`, ...).
    pub changes: Vec<String>,
    /// Commit message.
    pub message: String,
    /// `os/arch[/variant]`.
    pub platform: Option<String>,
}

fn stream_body<R: AsyncRead + Unpin + Send + 'static>(reader: R) -> ReqBody {
    ReaderBody::new(reader).boxed_unsync()
}

impl Client {
    /// `GET /images/json[?all=1]`.
    pub async fn image_list(&self, all: bool) -> Result<Vec<ImageSummary>, ClientError> {
        let mut q = Query::new();
        q.flag("all", all);
        self.send_json(Method::GET, "/images/json", &q, None).await
    }

    /// `POST /images/load` with a tar stream (docker-archive or OCI layout); the answer is a
    /// stream of progress messages (`{"stream": "Loaded image: ..."}`).
    pub async fn image_load<R>(&self, tar: R, quiet: bool) -> Result<JsonLines, ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let path = "/images/load";
        let mut q = Query::new();
        q.flag("quiet", quiet);
        let body = (stream_body(tar), "application/x-tar");
        let resp = self.send(Method::POST, path, &q, Some(body)).await?;
        Ok(JsonLines::new(
            BodyReader::new(resp.into_body()),
            path.to_string(),
        ))
    }

    /// `POST /images/create?fromSrc=-` with a rootfs tarball (`rocker import`); the answer is
    /// a stream of progress messages ending with `{"status": "sha256:..."}`.
    pub async fn image_import<R>(
        &self,
        tar: R,
        opts: &ImportOptions,
    ) -> Result<JsonLines, ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let path = "/images/create";
        let mut q = Query::new();
        q.push("fromSrc", "-");
        if !opts.repo.is_empty() {
            q.push("repo", opts.repo.clone());
        }
        if !opts.tag.is_empty() {
            q.push("tag", opts.tag.clone());
        }
        if !opts.message.is_empty() {
            q.push("message", opts.message.clone());
        }
        for c in &opts.changes {
            q.push("changes", c.clone());
        }
        if let Some(p) = &opts.platform {
            q.push("platform", p.clone());
        }
        let body = (stream_body(tar), "application/x-tar");
        let resp = self.send(Method::POST, path, &q, Some(body)).await?;
        Ok(JsonLines::new(
            BodyReader::new(resp.into_body()),
            path.to_string(),
        ))
    }

    /// `GET /images/{name}/json`.
    pub async fn image_inspect(&self, name: &str) -> Result<ImageInspect, ClientError> {
        let path = format!("/images/{}/json", segment(name));
        self.send_json(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `GET /images/{name}/json` as the daemon's JSON bytes, for printing them
    /// unchanged (field order kept).
    pub async fn image_inspect_raw(&self, name: &str) -> Result<bytes::Bytes, ClientError> {
        let path = format!("/images/{}/json", segment(name));
        self.send_bytes(Method::GET, &path, &Query::new(), None)
            .await
    }
}
