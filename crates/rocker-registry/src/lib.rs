//! rocker-registry: an OCI distribution client (the registry HTTP API v2).
//!
//! * [`auth`] — `WWW-Authenticate` challenges, basic credentials and bearer tokens.
//! * [`manifest`] — Docker schema2 / OCI manifests and indexes, platform selection.
//! * [`client`] — [`Client`]: one HTTP connection pool, scheme choice (HTTPS, or plain HTTP
//!   for insecure registries), the auth retry dance, blob and manifest requests.
//! * [`pull`] — resolve a reference, download layers in parallel into the content store,
//!   create the image.
//! * [`push`] — upload (or mount) blobs and put the manifest.
#![forbid(unsafe_code)]

pub mod auth;
pub mod client;
mod error;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fake_registry_tests;
pub mod manifest;
pub mod pull;
pub mod push;

pub use auth::Credentials;
pub use client::Client;
pub use client::Repo;
pub use error::{Error, ErrorKind, Result};
pub use pull::{download, Downloaded, Progress, Resolved};
pub use push::{build_manifest, BlobOutcome, PushLayer};

/// The registry host a reference's domain talks to (`docker.io` is served by
/// `registry-1.docker.io`).
pub fn registry_host(domain: &str) -> &str {
    if domain == "docker.io" || domain == "index.docker.io" {
        "registry-1.docker.io"
    } else {
        domain
    }
}
