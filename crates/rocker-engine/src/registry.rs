//! Pull and push orchestration: turns a user reference into registry calls (through
//! `rocker-registry`), reports progress as Docker's JSON messages, and records the result in
//! the image store (image, tag, repo digest). Resolution happens before any progress is
//! reported so that an unknown image can still be answered with a plain 404.

use std::sync::{Arc, OnceLock};

use rocker_api::models::JsonMessage;
use rocker_image::{Digest, Reference};
use rocker_registry::{BlobOutcome, Client, Credentials, Progress, PushLayer, Repo, Resolved};
use tokio::sync::mpsc::UnboundedSender;

use crate::{Engine, Error, Kind, Result};

/// Where progress messages go (the API layer forwards them to the client).
pub type ProgressTx = UnboundedSender<JsonMessage>;

/// A pull whose manifest is resolved and whose download has not started.
pub struct PullPlan {
    reference: Reference,
    resolved: Resolved,
    creds: Option<Credentials>,
}

fn client(engine: &Engine) -> Result<Arc<Client>> {
    static CLIENT: OnceLock<Arc<Client>> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let c = Arc::new(
        Client::new(engine.config().insecure_registries.clone())
            .map_err(|e| Error::internal(e.to_string()))?,
    );
    Ok(CLIENT.get_or_init(|| c).clone())
}

fn registry_err(e: rocker_registry::Error) -> Error {
    let kind = match e.kind() {
        rocker_image::ErrorKind::NotFound => Kind::NotFound,
        rocker_image::ErrorKind::InvalidArgument => Kind::InvalidArgument,
        rocker_image::ErrorKind::Conflict | rocker_image::ErrorKind::AlreadyExists => {
            Kind::Conflict
        }
        rocker_image::ErrorKind::Internal => Kind::Internal,
    };
    Error::new(kind, e.to_string())
}

pub(crate) fn image_err(e: rocker_image::Error) -> Error {
    let kind = match e.kind() {
        rocker_image::ErrorKind::NotFound => Kind::NotFound,
        rocker_image::ErrorKind::InvalidArgument => Kind::InvalidArgument,
        rocker_image::ErrorKind::Conflict | rocker_image::ErrorKind::AlreadyExists => {
            Kind::Conflict
        }
        rocker_image::ErrorKind::Internal => Kind::Internal,
    };
    Error::new(kind, e.to_string())
}

/// The 12-hex short form Docker shows for layers and images.
pub(crate) fn short(d: &str) -> String {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    hex.chars().take(12).collect()
}

fn send(tx: &ProgressTx, status: impl Into<String>, id: Option<String>) {
    let _ = tx.send(JsonMessage::status(status, id));
}

/// Parses `fromImage` + `tag` the way Docker's API does: the tag may also be a digest.
pub fn pull_reference(from_image: &str, tag: &str) -> Result<Reference> {
    let r = Reference::parse(from_image).map_err(|e| Error::invalid(e.to_string()))?;
    let r = if tag.is_empty() {
        r
    } else if tag.starts_with("sha256:") {
        let base = Reference::parse(&r.name()).map_err(|e| Error::invalid(e.to_string()))?;
        Reference::parse(&format!("{base}@{tag}")).map_err(|e| Error::invalid(e.to_string()))?
    } else {
        r.with_tag(tag).map_err(|e| Error::invalid(e.to_string()))?
    };
    Ok(r.with_default_tag())
}

impl Engine {
    /// Resolves what `reference` names on its registry (manifest, platform).
    pub async fn pull_resolve(
        &self,
        reference: Reference,
        creds: Option<Credentials>,
    ) -> Result<PullPlan> {
        let c = client(self)?;
        let resolved = c
            .resolve(&reference, creds.as_ref())
            .await
            .map_err(registry_err)?;
        Ok(PullPlan {
            reference,
            resolved,
            creds,
        })
    }

    /// Downloads and creates the image of a resolved pull, reporting Docker's progress
    /// messages. On failure nothing the pull added is left behind.
    pub async fn pull_fetch(self: &Arc<Self>, plan: PullPlan, tx: &ProgressTx) -> Result<String> {
        let c = client(self)?;
        let r = &plan.reference;
        let shown = r.tag().or(r.digest()).unwrap_or("latest").to_string();
        send(tx, format!("Pulling from {}", r.path()), Some(shown));
        let before = self.images.resolve(&r.familiar()).ok().map(|i| i.id);
        let report = |p: Progress| match p {
            Progress::Exists(d) => send(tx, "Already exists", Some(short(&d))),
            Progress::Downloading(d) => send(tx, "Pulling fs layer", Some(short(&d))),
            Progress::Downloaded(d) => send(tx, "Download complete", Some(short(&d))),
        };
        let downloaded = rocker_registry::download(
            &c,
            &plan.resolved,
            plan.creds.as_ref(),
            self.images.content(),
            &report,
        )
        .await
        .map_err(registry_err)?;
        let engine = self.clone();
        let tags: Vec<Reference> = if r.digest().is_some() {
            Vec::new()
        } else {
            vec![r.clone()]
        };
        let repo_digest = Reference::parse(&format!("{}@{}", r.name(), plan.resolved.digest))
            .map_err(|e| Error::internal(e.to_string()))?;
        let config = downloaded.config_json.clone();
        let layers = downloaded.layers.clone();
        let created = downloaded.created.clone();
        let id = tokio::task::spawn_blocking(move || {
            let res = engine
                .images
                .create_image(&config, &layers, &tags)
                .and_then(|loaded| {
                    engine.images.set_repo_digest(&repo_digest, &loaded.id)?;
                    Ok(loaded.id)
                });
            if res.is_err() {
                for d in &created {
                    let _ = engine.images.content().remove(d);
                }
            }
            res
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map_err(image_err)?;
        for l in &downloaded.created {
            send(tx, "Pull complete", Some(short(l.as_str())));
        }
        send(tx, format!("Digest: {}", plan.resolved.digest), None);
        let what = if before.as_deref() == Some(id.as_str()) {
            "Image is up to date for"
        } else {
            "Downloaded newer image for"
        };
        send(tx, format!("Status: {what} {}", r.familiar()), None);
        Ok(id)
    }

    /// `docker login`: checks credentials against a registry (`serveraddress` as the client
    /// sends it). Nothing is stored: clients keep credentials and send them per request.
    pub async fn registry_login(&self, server: &str, creds: &Credentials) -> Result<()> {
        client(self)?
            .login(server, creds)
            .await
            .map_err(registry_err)
    }

    /// The tags `docker push NAME[:TAG]` pushes: the one given, or every tag of the repository.
    pub fn push_targets(&self, name: &str, tag: &str) -> Result<Vec<Reference>> {
        let base = Reference::parse(name).map_err(|e| Error::invalid(e.to_string()))?;
        let not_found = || {
            Error::not_found(format!(
                "An image does not exist locally with the tag: {}",
                base.familiar_name()
            ))
        };
        if !tag.is_empty() {
            let r = base
                .clone()
                .with_tag(tag)
                .map_err(|e| Error::invalid(e.to_string()))?;
            self.images
                .resolve(&r.to_string())
                .map_err(|_| not_found())?;
            return Ok(vec![r]);
        }
        if base.tag().is_some() {
            self.images
                .resolve(&base.to_string())
                .map_err(|_| not_found())?;
            return Ok(vec![base]);
        }
        let list = self.images.list().map_err(image_err)?;
        let mut out = Vec::new();
        for img in list {
            for t in img.repo_tags {
                if let Ok(r) = Reference::parse(&t) {
                    if r.name() == base.name() {
                        out.push(r);
                    }
                }
            }
        }
        if out.is_empty() {
            return Err(not_found());
        }
        out.sort_by_key(|r| r.to_string());
        Ok(out)
    }

    /// Pushes one tagged image, reporting Docker's progress messages.
    pub async fn push(
        self: &Arc<Self>,
        target: &Reference,
        creds: Option<Credentials>,
        tx: &ProgressTx,
    ) -> Result<Digest> {
        let c = client(self)?;
        let image = self
            .images
            .resolve(&target.to_string())
            .map_err(image_err)?;
        let repo = Repo::of(target);
        let mut mount_from: Vec<String> = image
            .repo_tags
            .iter()
            .chain(&image.repo_digests)
            .filter_map(|t| Reference::parse(t).ok())
            .filter(|r| r.domain() == target.domain() && r.path() != target.path())
            .map(|r| r.path().to_string())
            .collect();
        mount_from.dedup();
        let mut layers = Vec::new();
        for l in self.images.layer_blobs(&image.id).map_err(image_err)? {
            let path = self.images.content().path(&l.digest);
            let size = std::fs::metadata(&path)
                .map_err(|e| Error::internal(format!("layer blob {}: {e}", l.digest)))?
                .len();
            layers.push(PushLayer {
                digest: l.digest,
                size,
                media_type: l
                    .media_type
                    .unwrap_or_else(|| rocker_registry::manifest::DOCKER_LAYER_GZIP.to_string()),
                path,
            });
        }
        for l in layers.iter().rev() {
            send(tx, "Preparing", Some(short(l.digest.as_str())));
        }
        for l in layers.iter().rev() {
            let outcome = c
                .push_blob(&repo, creds.as_ref(), l, &mount_from)
                .await
                .map_err(registry_err)?;
            let status = match outcome {
                BlobOutcome::Exists => "Layer already exists".to_string(),
                BlobOutcome::Mounted(from) => format!("Mounted from {from}"),
                BlobOutcome::Pushed => "Pushed".to_string(),
            };
            send(tx, status, Some(short(l.digest.as_str())));
        }
        let config_digest = Digest::parse(&image.id).map_err(|e| Error::internal(e.to_string()))?;
        let config = PushLayer {
            digest: config_digest.clone(),
            size: image.config_json().len() as u64,
            media_type: rocker_registry::manifest::DOCKER_CONFIG.to_string(),
            path: self.images.content().path(&config_digest),
        };
        c.push_blob(&repo, creds.as_ref(), &config, &mount_from)
            .await
            .map_err(registry_err)?;
        let (media_type, body) =
            rocker_registry::build_manifest(&config_digest, config.size, &layers);
        let size = body.len();
        let tag = target.tag().unwrap_or("latest").to_string();
        let digest = c
            .put_manifest(&repo, creds.as_ref(), &tag, &media_type, body)
            .await
            .map_err(registry_err)?;
        if let Ok(rd) = Reference::parse(&format!("{}@{digest}", target.name())) {
            let _ = self.images.set_repo_digest(&rd, &image.id);
        }
        send(tx, format!("{tag}: digest: {digest} size: {size}"), None);
        let _ = tx.send(JsonMessage {
            progress_detail: Some(Default::default()),
            aux: Some(serde_json::json!({"Tag": tag, "Digest": digest.to_string(), "Size": size})),
            ..Default::default()
        });
        Ok(digest)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pull_references() {
        assert_eq!(
            pull_reference("busybox", "").unwrap().to_string(),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            pull_reference("localhost:5000/a/b", "v1")
                .unwrap()
                .familiar(),
            "localhost:5000/a/b:v1"
        );
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            pull_reference("x", &d).unwrap().familiar(),
            format!("x@{d}")
        );
        assert!(pull_reference("UPPER", "").is_err());
        assert_eq!(short(&d), "aaaaaaaaaaaa");
    }
}
