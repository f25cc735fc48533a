//! The store-level error returned by [`crate::ImageStore`], wrapping each module's error and
//! exposing the [`ErrorKind`] the API layer turns into an HTTP status.

use crate::archive::ArchiveError;
use crate::changes::ChangeError;
use crate::content::ContentError;
use crate::reference::ReferenceError;
use crate::snapshot::SnapshotError;
use crate::unpack::UnpackError;

/// Error classes, mapped to HTTP statuses only at the API boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404.
    NotFound,
    /// 409 when creating something that exists.
    AlreadyExists,
    /// 409.
    Conflict,
    /// 400.
    InvalidArgument,
    /// 500.
    Internal,
}

/// Errors from [`crate::ImageStore`] operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No image matches the reference (Docker's exact message).
    #[error("No such image: {0}")]
    NotFound(String),
    /// An id prefix matches several images.
    #[error("multiple IDs found with provided prefix: {0}")]
    AmbiguousPrefix(String),
    /// The image is in use or otherwise cannot be changed.
    #[error("{0}")]
    Conflict(String),
    /// A reference string is malformed.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// An `--change` line is malformed.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// The image config JSON is malformed.
    #[error("parse image config {id}: {source}")]
    ParseConfig {
        id: String,
        source: serde_json::Error,
    },
    /// The image config is inconsistent with its layers.
    #[error("image config {id}: {reason}")]
    InvalidConfig { id: String, reason: String },
    /// Serialising a generated config failed.
    #[error("serialize image config: {0}")]
    SerializeConfig(serde_json::Error),
    /// A database step failed.
    #[error("image database {step}: {source}")]
    Db {
        step: &'static str,
        source: rusqlite::Error,
    },
    /// Content store failure.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// Layer extraction failure.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// Snapshot failure.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// Image archive (load) failure.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl Error {
    /// The error class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::AmbiguousPrefix(_)
            | Error::Reference(_)
            | Error::Change(_)
            | Error::ParseConfig { .. }
            | Error::InvalidConfig { .. } => ErrorKind::InvalidArgument,
            Error::SerializeConfig(_) | Error::Db { .. } => ErrorKind::Internal,
            Error::Content(e) => e.kind(),
            Error::Unpack(e) => e.kind(),
            Error::Snapshot(e) => e.kind(),
            Error::Archive(e) => e.kind(),
        }
    }
}

pub(crate) fn db_err(step: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    move |source| Error::Db { step, source }
}

/// Result alias for store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
