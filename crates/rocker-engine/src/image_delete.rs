//! `docker tag` and `docker rmi`: naming and removing images with Docker's rules for
//! references that are tags versus ids, and the conflicts raised when containers still use
//! an image (running ones can never be forced; stopped ones need `force`).

use rocker_image::Reference;
use serde::Serialize;

use crate::registry::{image_err, short};
use crate::{Engine, Error, Result};

/// One entry of the `DELETE /images/{name}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DeleteItem {
    Untagged(String),
    Deleted(String),
}

fn is_id_reference(name: &str, id: &str) -> bool {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && id.strip_prefix("sha256:").unwrap_or(id).starts_with(hex)
}

impl Engine {
    /// `POST /images/{name}/tag?repo=&tag=`.
    pub fn tag_image(&self, source: &str, repo: &str, tag: &str) -> Result<()> {
        if repo.is_empty() {
            return Err(Error::invalid(
                "repository name must have at least one component",
            ));
        }
        let target = if tag.is_empty() {
            repo.to_string()
        } else {
            format!("{repo}:{tag}")
        };
        let r = Reference::parse(&target).map_err(|e| Error::invalid(e.to_string()))?;
        if r.digest().is_some() {
            return Err(Error::invalid(
                "refusing to create a tag with a digest reference",
            ));
        }
        self.images
            .resolve(source)
            .map_err(|_| Error::not_found(format!("No such image: {source}")))?;
        self.images.tag(source, &target).map_err(image_err)
    }

    /// `DELETE /images/{name}?force=`: untags, and deletes the image once nothing names it.
    pub fn remove_image(&self, name: &str, force: bool) -> Result<Vec<DeleteItem>> {
        let image = self
            .images
            .resolve(name)
            .map_err(|_| Error::not_found(format!("No such image: {name}")))?;
        let users: Vec<_> = self
            .list()
            .into_iter()
            .filter(|c| c.image_id == image.id)
            .collect();
        let running = users.iter().find(|c| c.state.status.is_alive());
        let by_id = is_id_reference(name, &image.id);
        let mut out = Vec::new();
        if !by_id {
            let r = Reference::parse(name)
                .map_err(|e| Error::invalid(e.to_string()))?
                .with_default_tag();
            let only = image.repo_tags.len() <= 1;
            if only && !force {
                if let Some(c) = users.first() {
                    return Err(Error::conflict(format!(
                        "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
                        short(&c.id),
                        short(&image.id)
                    )));
                }
            }
            if r.digest().is_some() {
                // A repo digest reference: drop the digest record by untagging all names of
                // this repository when it is the last reference, as Docker does below.
                if !only {
                    return Err(Error::conflict(format!(
                        "conflict: unable to remove repository reference \"{name}\" - image is referenced by tags"
                    )));
                }
            } else {
                self.images.untag(&r.to_string()).map_err(image_err)?;
                out.push(DeleteItem::Untagged(r.familiar()));
                if !only {
                    return Ok(out);
                }
            }
        } else if image.repo_tags.len() > 1 && !force {
            return Err(Error::conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                short(&image.id)
            )));
        }
        if let Some(c) = running {
            return Err(Error::conflict(format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                short(&image.id),
                short(&c.id)
            )));
        }
        if let Some(c) = users.first() {
            if !force {
                return Err(Error::conflict(format!(
                    "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
                    short(&image.id),
                    short(&c.id)
                )));
            }
        }
        for t in image.repo_tags.iter().chain(&image.repo_digests) {
            // Repo digests go with the image record; tags are removed one by one.
            if t.contains('@') || self.images.untag(t).is_ok() {
                out.push(DeleteItem::Untagged(t.clone()));
            }
        }
        if !users.is_empty() {
            // Forced while stopped containers use it: their rootfs needs the layers, so the
            // image stays (dangling) instead of being deleted.
            return Ok(out);
        }
        self.images.delete(&image.id).map_err(image_err)?;
        out.push(DeleteItem::Deleted(image.id.clone()));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_references() {
        let id = format!("sha256:{}", "ab".repeat(32));
        assert!(is_id_reference("abab", &id));
        assert!(is_id_reference("sha256:abab", &id));
        assert!(!is_id_reference("busybox", &id));
        assert!(!is_id_reference("abac", &id));
    }
}
