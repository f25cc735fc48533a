//! Push: for each blob, ask whether the registry has it (`HEAD`), else try to mount it from
//! another repository of the same registry that is known to hold it, else upload it
//! monolithically (`POST` for a session, `PUT ?digest=` with the bytes streamed from the
//! content store). Then put the manifest under the tag.

use std::path::PathBuf;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use rocker_image::Digest;

use crate::auth::Credentials;
use crate::client::{Client, Repo};
use crate::error::{Error, Result};
use crate::manifest::{self, Descriptor, ImageManifest};

/// A blob to push, bottom layer first for layers.
#[derive(Debug, Clone)]
pub struct PushLayer {
    pub digest: Digest,
    pub size: u64,
    /// Media type as the manifest will state it.
    pub media_type: String,
    /// Where the bytes are (the content store's file).
    pub path: PathBuf,
}

/// How a blob got to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobOutcome {
    /// The repository already had it.
    Exists,
    /// Mounted from another repository of the same registry.
    Mounted(String),
    /// Uploaded.
    Pushed,
}

impl Client {
    /// `HEAD /v2/<repo>/blobs/<digest>`.
    pub async fn blob_exists(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        digest: &Digest,
    ) -> Result<bool> {
        let url = self.url(repo, &format!("blobs/{digest}")).await;
        let resp = self
            .send(repo, creds, Method::HEAD, &url, HeaderMap::new(), None)
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(Client::fail(resp).await),
        }
    }

    /// Starts an upload session, optionally as a cross-repository mount. `Ok(None)` means
    /// the mount succeeded; otherwise the session's absolute upload URL.
    async fn start_upload(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        mount: Option<(&Digest, &str)>,
    ) -> Result<Option<String>> {
        let mut url = self.url(repo, "blobs/uploads/").await;
        if let Some((d, from)) = mount {
            url = format!("{url}?mount={d}&from={from}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        let empty = || Ok(reqwest::Body::from(Vec::<u8>::new()));
        let resp = self
            .send(repo, creds, Method::POST, &url, headers, Some(&empty))
            .await?;
        match resp.status() {
            StatusCode::CREATED if mount.is_some() => Ok(None),
            StatusCode::ACCEPTED => {
                let loc = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| Error::Status {
                        status: 202,
                        message: "upload session without a Location".to_string(),
                    })?;
                Ok(Some(absolute(&self.base(&repo.host).await, loc)))
            }
            _ => Err(Client::fail(resp).await),
        }
    }

    /// Puts one blob into `repo` (exists / mount / upload).
    pub async fn push_blob(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        blob: &PushLayer,
        mount_from: &[String],
    ) -> Result<BlobOutcome> {
        if self.blob_exists(repo, creds, &blob.digest).await? {
            return Ok(BlobOutcome::Exists);
        }
        let mut session = None;
        for from in mount_from.iter().filter(|f| **f != repo.path) {
            match self
                .start_upload(repo, creds, Some((&blob.digest, from)))
                .await
            {
                Ok(None) => return Ok(BlobOutcome::Mounted(from.clone())),
                Ok(Some(loc)) => {
                    session = Some(loc);
                    break;
                }
                Err(e) => tracing::debug!(error = %e, from, "blob mount failed"),
            }
        }
        let loc = match session {
            Some(l) => l,
            None => self
                .start_upload(repo, creds, None)
                .await?
                .ok_or_else(|| Error::Task("upload session missing".to_string()))?,
        };
        let sep = if loc.contains('?') { '&' } else { '?' };
        let url = format!("{loc}{sep}digest={}", blob.digest);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(CONTENT_LENGTH, HeaderValue::from(blob.size));
        let path = blob.path.clone();
        let digest = blob.digest.to_string();
        let body = move || {
            let f = std::fs::File::open(&path).map_err(|source| Error::ReadBlob {
                digest: digest.clone(),
                source,
            })?;
            Ok(reqwest::Body::from(tokio::fs::File::from_std(f)))
        };
        let resp = self
            .send(repo, creds, Method::PUT, &url, headers, Some(&body))
            .await?;
        if !resp.status().is_success() {
            return Err(Client::fail(resp).await);
        }
        Ok(BlobOutcome::Pushed)
    }

    /// Puts a manifest under `tag`; returns its digest.
    pub async fn put_manifest(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        tag: &str,
        media_type: &str,
        body: Vec<u8>,
    ) -> Result<Digest> {
        let url = self.url(repo, &format!("manifests/{tag}")).await;
        let digest = Digest::of_bytes(&body);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(media_type)
                .map_err(|_| Error::InvalidManifest(format!("media type {media_type}")))?,
        );
        let make = move || Ok(reqwest::Body::from(body.clone()));
        let resp = self
            .send(repo, creds, Method::PUT, &url, headers, Some(&make))
            .await?;
        if !resp.status().is_success() {
            return Err(Client::fail(resp).await);
        }
        Ok(digest)
    }
}

/// A schema2 manifest (OCI when every layer is stored with an OCI media type) for a config
/// and layers: (media type, bytes).
pub fn build_manifest(
    config: &Digest,
    config_size: u64,
    layers: &[PushLayer],
) -> (String, Vec<u8>) {
    let oci = !layers.is_empty()
        && layers
            .iter()
            .all(|l| l.media_type.starts_with("application/vnd.oci."));
    let (mt, config_mt) = if oci {
        (manifest::OCI_MANIFEST, manifest::OCI_CONFIG)
    } else {
        (manifest::DOCKER_MANIFEST, manifest::DOCKER_CONFIG)
    };
    let m = ImageManifest {
        schema_version: 2,
        media_type: mt.to_string(),
        config: Descriptor {
            media_type: config_mt.to_string(),
            digest: config.to_string(),
            size: config_size,
            platform: None,
        },
        layers: layers
            .iter()
            .map(|l| Descriptor {
                media_type: if oci {
                    l.media_type.clone()
                } else {
                    manifest::docker_layer_type(&l.media_type).to_string()
                },
                digest: l.digest.to_string(),
                size: l.size,
                platform: None,
            })
            .collect(),
    };
    let bytes = serde_json::to_vec_pretty(&m).unwrap_or_default();
    (mt.to_string(), bytes)
}

/// Resolves a `Location` header (absolute, or absolute-path) against `base`.
fn absolute(base: &str, loc: &str) -> String {
    if loc.starts_with("http://") || loc.starts_with("https://") {
        loc.to_string()
    } else if loc.starts_with('/') {
        format!("{base}{loc}")
    } else {
        format!("{base}/{loc}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn manifest_types_follow_stored_layers() {
        let d = Digest::of_bytes(b"x");
        let layer = |mt: &str| PushLayer {
            digest: d.clone(),
            size: 1,
            media_type: mt.to_string(),
            path: PathBuf::from("/x"),
        };
        let (mt, body) = build_manifest(&d, 5, &[layer(manifest::DOCKER_LAYER_TAR)]);
        assert_eq!(mt, manifest::DOCKER_MANIFEST);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["layers"][0]["mediaType"], manifest::DOCKER_LAYER_TAR);
        assert_eq!(v["config"]["mediaType"], manifest::DOCKER_CONFIG);
        assert_eq!(v["schemaVersion"], 2);
        let (mt, body) = build_manifest(&d, 5, &[layer(manifest::OCI_LAYER_GZIP)]);
        assert_eq!(mt, manifest::OCI_MANIFEST);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["config"]["mediaType"], manifest::OCI_CONFIG);
    }

    #[test]
    fn locations() {
        assert_eq!(
            absolute("http://h:1", "/v2/a/blobs/uploads/u?_state=x"),
            "http://h:1/v2/a/blobs/uploads/u?_state=x"
        );
        assert_eq!(absolute("http://h:1", "https://o/x"), "https://o/x");
    }
}
