//! Errors of the typed client, one variant per step of a request.

use crate::kind::ErrorKind;

/// A failed client call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid daemon host {host:?}: {reason}")]
    InvalidHost { host: String, reason: &'static str },
    /// Docker's wording, so users recognise it.
    #[error("Cannot connect to the Rocker daemon at {host}. Is the rocker daemon running?")]
    Connect {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("http handshake with {host}: {source}")]
    Handshake {
        host: String,
        #[source]
        source: hyper::Error,
    },
    #[error("build request {method} {path}: {source}")]
    BuildRequest {
        method: &'static str,
        path: String,
        #[source]
        source: hyper::http::Error,
    },
    #[error("send request {method} {path}: {source}")]
    Send {
        method: &'static str,
        path: String,
        #[source]
        source: hyper::Error,
    },
    #[error("read response of {path}: {source}")]
    ReadBody {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("decode response of {path}: {source}")]
    Decode {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("encode request body for {path}: {source}")]
    Encode {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The daemon answered with a non-2xx status; `message` is its `{"message"}` body.
    #[error("{message}")]
    Api { status: u16, message: String },
    #[error("hijack {path}: {reason}")]
    Hijack { path: String, reason: String },
    #[error("hijack {path}: {source}")]
    HijackIo {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ClientError {
    /// Error kind: from the HTTP status for API errors, `Unavailable` when the daemon cannot
    /// be reached, `Internal` for the rest.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Api { status, .. } => ErrorKind::from_http_status(*status),
            Self::InvalidHost { .. } => ErrorKind::InvalidArgument,
            Self::Connect { .. } => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        }
    }

    /// The daemon's message when this is an API error.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. } => Some(message),
            _ => None,
        }
    }
}
