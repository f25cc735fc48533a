//! The error classes every rocker-net error exposes through `kind()`, so the engine can map
//! a failure to a Docker status without matching on each module's variants.

/// Error classes, mapped to HTTP statuses only at the API boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something named does not exist (404).
    NotFound,
    /// Creating something that already exists (409).
    AlreadyExists,
    /// A resource is in use or exhausted (409 / Docker's "port is already allocated").
    Conflict,
    /// Bad input (400).
    InvalidArgument,
    /// Anything else (500).
    Internal,
}
