//! Registry-facing image endpoints of the client: pull, push, tag and remove.

use hyper::Method;
use serde::Deserialize;

use super::body::{BodyReader, JsonLines};
use super::error::ClientError;
use super::{segment, Client, Query};

/// One entry of `DELETE /images/{name}`: an untagged reference or a deleted image id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageDeleteItem {
    pub untagged: Option<String>,
    pub deleted: Option<String>,
}

/// Splits `name[:tag]` (a `:` after the last `/`) and `name@digest`, as the API wants them.
pub fn split_reference(r: &str) -> (String, String) {
    if let Some((name, digest)) = r.split_once('@') {
        return (name.to_string(), digest.to_string());
    }
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].rfind(':') {
        Some(i) => (r[..slash + i].to_string(), r[slash + i + 1..].to_string()),
        None => (r.to_string(), String::new()),
    }
}

impl Client {
    /// `POST /images/create?fromImage=&tag=`: a stream of progress messages.
    pub async fn image_pull(&self, reference: &str) -> Result<JsonLines, ClientError> {
        self.image_pull_with_auth(reference, None).await
    }

    /// [`Client::image_pull`] with Docker's `X-Registry-Auth` value (base64url JSON).
    pub async fn image_pull_with_auth(
        &self,
        reference: &str,
        registry_auth: Option<String>,
    ) -> Result<JsonLines, ClientError> {
        let path = "/images/create";
        let (name, tag) = split_reference(reference);
        let mut q = Query::new();
        q.push("fromImage", name);
        q.push(
            "tag",
            if tag.is_empty() {
                "latest".to_string()
            } else {
                tag
            },
        );
        let headers: Vec<(&'static str, String)> = registry_auth
            .map(|a| ("X-Registry-Auth", a))
            .into_iter()
            .collect();
        let resp = self
            .send_with_headers(Method::POST, path, &q, None, &headers)
            .await?;
        Ok(JsonLines::new(
            BodyReader::new(resp.into_body()),
            path.to_string(),
        ))
    }

    /// `POST /images/{name}/push?tag=`: a stream of progress messages.
    pub async fn image_push(&self, reference: &str) -> Result<JsonLines, ClientError> {
        self.image_push_with_auth(reference, None).await
    }

    /// [`Client::image_push`] with Docker's `X-Registry-Auth` value (base64url JSON).
    pub async fn image_push_with_auth(
        &self,
        reference: &str,
        registry_auth: Option<String>,
    ) -> Result<JsonLines, ClientError> {
        let (name, tag) = split_reference(reference);
        let path = format!("/images/{}/push", segment(&name));
        let mut q = Query::new();
        q.push("tag", tag);
        let headers: Vec<(&'static str, String)> = registry_auth
            .map(|a| ("X-Registry-Auth", a))
            .into_iter()
            .collect();
        let resp = self
            .send_with_headers(Method::POST, &path, &q, None, &headers)
            .await?;
        Ok(JsonLines::new(BodyReader::new(resp.into_body()), path))
    }

    /// `POST /images/{source}/tag?repo=&tag=`.
    pub async fn image_tag(&self, source: &str, target: &str) -> Result<(), ClientError> {
        let (repo, tag) = split_reference(target);
        let path = format!("/images/{}/tag", segment(source));
        let mut q = Query::new();
        q.push("repo", repo);
        q.push("tag", tag);
        self.send_bytes(Method::POST, &path, &q, None).await?;
        Ok(())
    }

    /// `DELETE /images/{name}?force=`.
    pub async fn image_remove(
        &self,
        name: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleteItem>, ClientError> {
        let path = format!("/images/{}", segment(name));
        let mut q = Query::new();
        q.flag("force", force);
        self.send_json(Method::DELETE, &path, &q, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split() {
        assert_eq!(
            split_reference("localhost:5000/a/b:v1"),
            ("localhost:5000/a/b".into(), "v1".into())
        );
        assert_eq!(
            split_reference("localhost:5000/a/b"),
            ("localhost:5000/a/b".into(), String::new())
        );
        assert_eq!(
            split_reference("x@sha256:ab"),
            ("x".into(), "sha256:ab".into())
        );
    }
}

/// `200` body of `POST /auth`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AuthResponse {
    pub status: String,
    pub identity_token: String,
}

impl Client {
    /// `POST /auth`: checks credentials against a registry.
    pub async fn auth(
        &self,
        username: &str,
        password: &str,
        server: &str,
    ) -> Result<AuthResponse, ClientError> {
        let body = serde_json::json!({
            "username": username,
            "password": password,
            "serveraddress": server,
        });
        let bytes = self
            .send_bytes(
                Method::POST,
                "/auth",
                &Query::new(),
                Some(super::json_body("/auth", &body)?),
            )
            .await?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
            path: "/auth".into(),
            source,
        })
    }
}
