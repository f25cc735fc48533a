//! The registry client's error type, with the kind the API layer maps to a status.

pub use rocker_image::ErrorKind;

/// Errors from registry operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP client could not be built.
    #[error("create http client: {0}")]
    ClientSetup(reqwest::Error),
    /// Sending a request or reading its answer failed.
    #[error("{method} {url}: {source}")]
    Request {
        method: String,
        url: String,
        source: reqwest::Error,
    },
    /// The registry answered with an error status; `message` is Docker's rendering of the
    /// registry's error body (`manifest unknown: manifest unknown`).
    #[error("{message}")]
    Status { status: u16, message: String },
    /// The manifest (tag or digest) does not exist.
    #[error("manifest for {reference} not found: {detail}")]
    ManifestUnknown { reference: String, detail: String },
    /// Authentication failed or the token endpoint answered badly.
    #[error("{0}")]
    Auth(String),
    /// A manifest, index or config is malformed or unsupported.
    #[error("{0}")]
    InvalidManifest(String),
    /// The index has no manifest for this host's platform.
    #[error("no matching manifest for {platform} in the manifest list entries")]
    NoMatchingPlatform { platform: String },
    /// Downloaded bytes do not match their digest.
    #[error("digest mismatch for {digest}: got {actual}")]
    DigestMismatch { digest: String, actual: String },
    /// Writing a blob into the content store failed.
    #[error("store blob {digest}: {source}")]
    Store {
        digest: String,
        source: rocker_image::content::ContentError,
    },
    /// Creating the image from the pulled blobs failed.
    #[error("create image: {0}")]
    CreateImage(rocker_image::Error),
    /// Reading a local blob for upload failed.
    #[error("read blob {digest}: {source}")]
    ReadBlob {
        digest: String,
        source: std::io::Error,
    },
    /// A background task failed.
    #[error("background task: {0}")]
    Task(String),
}

impl Error {
    /// The error class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::ManifestUnknown { .. } => ErrorKind::NotFound,
            Error::Status { status: 404, .. } => ErrorKind::NotFound,
            Error::Status {
                status: 401 | 403, ..
            }
            | Error::Auth(_) => ErrorKind::InvalidArgument,
            Error::NoMatchingPlatform { .. } => ErrorKind::NotFound,
            Error::InvalidManifest(_) | Error::DigestMismatch { .. } => ErrorKind::Internal,
            Error::CreateImage(e) => e.kind(),
            _ => ErrorKind::Internal,
        }
    }
}

/// Result alias for registry operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
