//! Error kinds shared by the API layer: what went wrong, independent of the transport.
//!
//! The daemon maps its library errors to a kind and the kind to an HTTP status once, at the
//! boundary; the client maps a status back to a kind so the CLI can react (exit codes).

/// Broad class of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 400: the request is malformed or a parameter is invalid.
    InvalidArgument,
    /// 403: refused by policy.
    Forbidden,
    /// 404: no such container, image, ...
    NotFound,
    /// 409: a name is taken or the resource already exists.
    AlreadyExists,
    /// 409: the resource is in a state that does not allow the operation.
    Conflict,
    /// 304: the operation had nothing to do (start a running container).
    NotModified,
    /// 501: not implemented by this daemon.
    NotImplemented,
    /// 503: the daemon cannot serve the request now.
    Unavailable,
    /// 500: everything else.
    Internal,
}

impl ErrorKind {
    /// The HTTP status Docker uses for this kind.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidArgument => 400,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::AlreadyExists | Self::Conflict => 409,
            Self::NotModified => 304,
            Self::NotImplemented => 501,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The kind a client infers from an HTTP status (409 reads as `Conflict`).
    pub fn from_http_status(status: u16) -> Self {
        match status {
            304 => Self::NotModified,
            400 => Self::InvalidArgument,
            401 | 403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Conflict,
            501 => Self::NotImplemented,
            503 => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for k in [
            ErrorKind::InvalidArgument,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::Internal,
            ErrorKind::NotModified,
        ] {
            assert_eq!(ErrorKind::from_http_status(k.http_status()), k);
        }
        assert_eq!(ErrorKind::AlreadyExists.http_status(), 409);
    }
}
