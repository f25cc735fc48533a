//! The engine's error type. Every error carries a [`Kind`]; the API layer turns the kind into
//! Docker's HTTP status once, at the boundary, and the message into `{"message": …}`.

use std::fmt;

/// What sort of failure this is, independent of the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 404: no such container / image.
    NotFound,
    /// 409: name in use, container running, …
    Conflict,
    /// 400: bad parameter.
    InvalidArgument,
    /// 304: already started / already stopped.
    NotModified,
    /// 403: not allowed (pre-defined network, active endpoints, ...).
    Forbidden,
    /// 500.
    Internal,
}

/// An engine error: a kind and a message in Docker's wording.
#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidArgument, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::new(Kind::Forbidden, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }
    pub fn no_such_container(id: &str) -> Self {
        Self::not_found(format!("No such container: {id}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::internal(format!("state database: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::internal(format!("encoding state: {e}"))
    }
}
