//! Pull: resolve a reference to one image manifest (choosing the host platform from an
//! index), then download the config and the missing layers — up to [`PARALLEL`] at once —
//! streaming each straight into the content store, which verifies its digest. Creating the
//! image from the blobs (unpacking) is left to the caller, who owns the store's thread.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use rocker_image::content::ContentStore;
use rocker_image::{Digest, LayerBlob, Reference};
use tokio::sync::{mpsc, Semaphore};

use crate::auth::Credentials;
use crate::client::{Client, Repo};
use crate::error::{Error, Result};
use crate::manifest::{self, Descriptor, ImageManifest, Manifest};

/// Layer downloads running at once.
pub const PARALLEL: usize = 3;

/// Largest manifest or config we read into memory.
const MAX_SMALL_BLOB: usize = 16 << 20;

/// A reference resolved to one image manifest.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub repo: Repo,
    /// Digest of the manifest the reference names (the index's digest for a multi-platform
    /// image, as Docker records it in RepoDigests).
    pub digest: String,
    /// The platform's image manifest.
    pub manifest: ImageManifest,
}

/// What happened to a layer, reported while downloading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The blob was already in the store.
    Exists(String),
    /// Download started.
    Downloading(String),
    /// Download finished and verified.
    Downloaded(String),
}

/// The blobs of a pulled image, all in the content store.
#[derive(Debug, Clone)]
pub struct Downloaded {
    pub config_json: Vec<u8>,
    pub layers: Vec<LayerBlob>,
    /// Blobs this pull added (to remove them again if creating the image fails).
    pub created: Vec<Digest>,
}

impl Client {
    /// Fetches a manifest by tag or digest: (content type, body, digest of the body).
    async fn get_manifest(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        reference: &str,
        familiar: &str,
    ) -> Result<(String, Bytes, Digest)> {
        let url = self.url(repo, &format!("manifests/{reference}")).await;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(manifest::ACCEPT));
        let resp = self
            .send(repo, creds, Method::GET, &url, headers, None)
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            let status = resp.status().as_u16();
            let body = resp.bytes().await.unwrap_or_default();
            return Err(Error::ManifestUnknown {
                reference: familiar.to_string(),
                detail: crate::client::render_errors(status, &body),
            });
        }
        if !resp.status().is_success() {
            return Err(Client::fail(resp).await);
        }
        let ct = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = read_small(resp, &url).await?;
        let digest = Digest::of_bytes(&body);
        if reference.starts_with("sha256:") && digest.as_str() != reference {
            return Err(Error::DigestMismatch {
                digest: reference.to_string(),
                actual: digest.to_string(),
            });
        }
        Ok((ct, body, digest))
    }

    /// Resolves `reference` (tag or digest; `latest` when neither) to the host platform's
    /// image manifest.
    pub async fn resolve(
        &self,
        reference: &Reference,
        creds: Option<&Credentials>,
    ) -> Result<Resolved> {
        let repo = Repo::of(reference);
        let r = reference.clone().with_default_tag();
        let wanted = r
            .digest()
            .or(r.tag())
            .unwrap_or(rocker_image::reference::DEFAULT_TAG)
            .to_string();
        let familiar = r.familiar();
        let (ct, body, digest) = self.get_manifest(&repo, creds, &wanted, &familiar).await?;
        let image = match manifest::parse(&ct, &body)? {
            Manifest::Image(m) => m,
            Manifest::Index(idx) => {
                let (os, arch, variant) = manifest::host_platform();
                let d = manifest::select_platform(&idx, os, arch, variant)?;
                let (ct, body, _) = self
                    .get_manifest(&repo, creds, &d.digest, &familiar)
                    .await?;
                match manifest::parse(&ct, &body)? {
                    Manifest::Image(m) => m,
                    Manifest::Index(_) => {
                        return Err(Error::InvalidManifest(
                            "nested manifest lists are not supported".to_string(),
                        ))
                    }
                }
            }
        };
        Ok(Resolved {
            repo,
            digest: digest.to_string(),
            manifest: image,
        })
    }

    /// Reads a small blob (a config) into memory, verifying its digest.
    pub async fn fetch_small_blob(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        desc: &Descriptor,
    ) -> Result<Vec<u8>> {
        let url = self.url(repo, &format!("blobs/{}", desc.digest)).await;
        let resp = self
            .send(repo, creds, Method::GET, &url, HeaderMap::new(), None)
            .await?;
        if !resp.status().is_success() {
            return Err(Client::fail(resp).await);
        }
        let body = read_small(resp, &url).await?;
        let actual = Digest::of_bytes(&body);
        if actual.as_str() != desc.digest {
            return Err(Error::DigestMismatch {
                digest: desc.digest.clone(),
                actual: actual.to_string(),
            });
        }
        Ok(body.to_vec())
    }

    /// Streams one blob into `store`, which verifies the digest. Returns whether the blob is
    /// new in the store.
    pub async fn fetch_blob(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        digest: &Digest,
        store: &ContentStore,
    ) -> Result<bool> {
        let url = self.url(repo, &format!("blobs/{digest}")).await;
        let mut resp = self
            .send(repo, creds, Method::GET, &url, HeaderMap::new(), None)
            .await?;
        if !resp.status().is_success() {
            return Err(Client::fail(resp).await);
        }
        let (tx, rx) = mpsc::channel::<Bytes>(16);
        let writer = {
            let store = store.clone();
            let digest = digest.clone();
            tokio::task::spawn_blocking(move || {
                store.write(
                    ChannelReader {
                        rx,
                        cur: Bytes::new(),
                    },
                    Some(&digest),
                )
            })
        };
        let mut read_err = None;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if tx.send(chunk).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(source) => {
                    read_err = Some(Error::Request {
                        method: "GET".into(),
                        url: url.clone(),
                        source,
                    });
                    break;
                }
            }
        }
        drop(tx);
        let written = writer.await.map_err(|e| Error::Task(e.to_string()))?;
        if let Some(e) = read_err {
            if let Ok(w) = &written {
                if w.created {
                    let _ = store.remove(digest);
                }
            }
            return Err(e);
        }
        let w = written.map_err(|source| Error::Store {
            digest: digest.to_string(),
            source,
        })?;
        Ok(w.created)
    }
}

/// Downloads the config and every layer `store` lacks, [`PARALLEL`] at a time. On failure
/// the blobs this call added are removed again.
pub async fn download(
    client: &Arc<Client>,
    resolved: &Resolved,
    creds: Option<&Credentials>,
    store: &ContentStore,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Downloaded> {
    let repo = &resolved.repo;
    let config_json = client
        .fetch_small_blob(repo, creds, &resolved.manifest.config)
        .await?;
    let mut layers = Vec::with_capacity(resolved.manifest.layers.len());
    let mut todo = Vec::new();
    for l in &resolved.manifest.layers {
        let digest = Digest::parse(&l.digest)
            .map_err(|e| Error::InvalidManifest(format!("layer digest: {e}")))?;
        let media_type = match l.media_type.as_str() {
            "" => None,
            m if m.contains("zstd") || m.contains("foreign") || m.contains("nondistributable") => {
                return Err(Error::InvalidManifest(format!(
                    "unsupported layer media type {m}"
                )))
            }
            m => Some(m.to_string()),
        };
        if store.contains(&digest) {
            progress(Progress::Exists(l.digest.clone()));
        } else if !todo.contains(&digest) {
            todo.push(digest.clone());
        }
        layers.push(LayerBlob { digest, media_type });
    }
    let sem = Arc::new(Semaphore::new(PARALLEL));
    let mut set = tokio::task::JoinSet::new();
    for d in &todo {
        progress(Progress::Downloading(d.to_string()));
        let (client, repo, creds, store, sem, d) = (
            client.clone(),
            repo.clone(),
            creds.cloned(),
            store.clone(),
            sem.clone(),
            d.clone(),
        );
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let r = client.fetch_blob(&repo, creds.as_ref(), &d, &store).await;
            (d, r)
        });
    }
    let mut created = Vec::new();
    let mut first_err = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((d, Ok(new))) => {
                progress(Progress::Downloaded(d.to_string()));
                if new {
                    created.push(d);
                }
            }
            Ok((_, Err(e))) => {
                if first_err.is_none() {
                    first_err = Some(e);
                    set.abort_all();
                }
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                first_err.get_or_insert(Error::Task(e.to_string()));
            }
        }
    }
    if let Some(e) = first_err {
        for d in &created {
            let _ = store.remove(d);
        }
        return Err(e);
    }
    Ok(Downloaded {
        config_json,
        layers,
        created,
    })
}

async fn read_small(mut resp: reqwest::Response, url: &str) -> Result<Bytes> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|source| Error::Request {
        method: "GET".into(),
        url: url.to_string(),
        source,
    })? {
        if buf.len() + chunk.len() > MAX_SMALL_BLOB {
            return Err(Error::InvalidManifest(format!(
                "{url}: answer larger than {MAX_SMALL_BLOB} bytes"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// A blocking `Read` over chunks sent from the async side.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}
