//! Typed Docker Engine API client over the daemon's unix socket, used by the `rocker` CLI.
//!
//! One HTTP/1.1 connection per request (hyper's low-level `client::conn::http1`): a unix
//! socket connect costs microseconds and this keeps the client free of pools. Every path is
//! prefixed with `/v1.43`. A non-2xx/3xx answer becomes [`ClientError::Api`] with the
//! `{"message"}` of its body. Attach is a hijacked connection (see [`HijackedStream`]).

mod archive; // container file system API (P1)
mod body;
pub mod cli_parity; // ps options, container prune, system df (P3)
mod containers;
mod error;
mod events;
mod exec;
mod hijack;
mod images;
mod images_registry;
mod networks;
mod ops;
mod stats;
mod system;
mod update; // restart/update (P2)
mod volumes;

use std::io;
use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::UnixStream;

pub use archive::{ContainerChange, ContainerPathStat}; // container file system API (P1)
pub use body::{BodyReader, JsonLines, ReaderBody};
pub use containers::{
    AttachOptions, LogsOptions, RemoveOptions, WaitCondition, WaitResponseFuture,
};
pub use error::ClientError;
pub use events::{EventStream, EventsOptions};
pub use hijack::HijackedStream;
pub use images::ImportOptions;
pub use images_registry::{split_reference, AuthResponse, ImageDeleteItem};
pub use ops::ContainerTopResponse;
pub use update::ContainerUpdateResponse; // restart/update (P2)

use crate::models::API_VERSION;

/// Where the CLI looks when neither `-H` nor `ROCKER_HOST` is given.
pub const DEFAULT_HOST: &str = "unix:///run/rocker/rocker.sock";
/// Environment variable naming the daemon socket (`unix:///path`).
pub const HOST_ENV: &str = "ROCKER_HOST";
pub(crate) const USER_AGENT: &str =
    concat!("Rocker-Client/", env!("CARGO_PKG_VERSION"), " (linux)");

/// Request body type used for every call.
pub(crate) type ReqBody = UnsyncBoxBody<Bytes, io::Error>;

/// Characters escaped in path segments and query values (RFC 3986 unreserved kept).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Handle on one daemon. Cheap to clone; holds no connection.
#[derive(Debug, Clone)]
pub struct Client {
    host: String,
    socket: PathBuf,
}

impl Client {
    /// A client for `unix:///path/to.sock` (a bare absolute path is accepted too).
    pub fn new(host: &str) -> Result<Self, ClientError> {
        let path = if let Some(p) = host.strip_prefix("unix://") {
            p
        } else if host.starts_with('/') {
            host
        } else if host.contains("://") {
            return Err(ClientError::InvalidHost {
                host: host.to_string(),
                reason: "only unix:// hosts are supported",
            });
        } else {
            return Err(ClientError::InvalidHost {
                host: host.to_string(),
                reason: "expected unix:///path",
            });
        };
        if !path.starts_with('/') {
            return Err(ClientError::InvalidHost {
                host: host.to_string(),
                reason: "socket path must be absolute",
            });
        }
        Ok(Self {
            host: format!("unix://{path}"),
            socket: PathBuf::from(path),
        })
    }

    /// The `-H` value if given, else `$ROCKER_HOST`, else [`DEFAULT_HOST`].
    pub fn from_env(host_flag: Option<&str>) -> Result<Self, ClientError> {
        match host_flag {
            Some(h) if !h.is_empty() => Self::new(h),
            _ => match std::env::var(HOST_ENV) {
                Ok(h) if !h.is_empty() => Self::new(&h),
                _ => Self::new(DEFAULT_HOST),
            },
        }
    }

    /// `unix:///path` of the daemon.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Sends a request and returns the response if its status is below 400.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<(ReqBody, &'static str)>,
    ) -> Result<Response<Incoming>, ClientError> {
        self.send_with_headers(method, path, query, body, &[]).await
    }

    /// [`Client::send`] with extra request headers (`X-Registry-Auth`).
    pub(crate) async fn send_with_headers(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<(ReqBody, &'static str)>,
        headers: &[(&'static str, String)],
    ) -> Result<Response<Incoming>, ClientError> {
        let uri = format!("/v{API_VERSION}{path}{}", query.encode());
        let stream =
            UnixStream::connect(&self.socket)
                .await
                .map_err(|source| ClientError::Connect {
                    host: self.host.clone(),
                    source,
                })?;
        let (mut sender, conn) = http1::handshake::<_, ReqBody>(TokioIo::new(stream))
            .await
            .map_err(|source| ClientError::Handshake {
                host: self.host.clone(),
                source,
            })?;
        // The connection task ends with the request; its errors also surface in send_request.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(hyper::header::HOST, "docker")
            .header(hyper::header::USER_AGENT, USER_AGENT);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let body = match body {
            Some((b, content_type)) => {
                builder = builder.header(hyper::header::CONTENT_TYPE, content_type);
                b
            }
            None => Empty::new().map_err(|never| match never {}).boxed_unsync(),
        };
        let method_name = method_str(&method);
        let req = builder
            .body(body)
            .map_err(|source| ClientError::BuildRequest {
                method: method_name,
                path: uri.clone(),
                source,
            })?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|source| ClientError::Send {
                method: method_name,
                path: uri.clone(),
                source,
            })?;
        let status = resp.status().as_u16();
        if status < 400 {
            return Ok(resp);
        }
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        Err(api_error(status, &bytes))
    }

    /// Full body of a successful request.
    pub(crate) async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<(ReqBody, &'static str)>,
    ) -> Result<Bytes, ClientError> {
        let resp = self.send(method, path, query, body).await?;
        resp.into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| ClientError::ReadBody {
                path: path.to_string(),
                source: io::Error::other(e),
            })
    }

    /// Body of a successful request decoded from JSON.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<(ReqBody, &'static str)>,
    ) -> Result<T, ClientError> {
        let bytes = self.send_bytes(method, path, query, body).await?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
            path: path.to_string(),
            source,
        })
    }

    /// Hijacks `POST path?query` (see [`HijackedStream`]).
    pub(crate) async fn hijack(
        &self,
        path: &str,
        query: &Query,
    ) -> Result<HijackedStream, ClientError> {
        let uri = format!("/v{API_VERSION}{path}{}", query.encode());
        hijack::hijack(&self.socket, &self.host, &uri, None).await
    }
}

/// A JSON request body.
pub(crate) fn json_body<T: Serialize>(
    path: &str,
    value: &T,
) -> Result<(ReqBody, &'static str), ClientError> {
    let bytes = serde_json::to_vec(value).map_err(|source| ClientError::Encode {
        path: path.to_string(),
        source,
    })?;
    Ok((
        Full::new(Bytes::from(bytes))
            .map_err(|never| match never {})
            .boxed_unsync(),
        "application/json",
    ))
}

/// The `Api` error for a failed status and its body.
pub(crate) fn api_error(status: u16, body: &[u8]) -> ClientError {
    let message = hijack::error_message(body)
        .or_else(|| {
            let text = String::from_utf8_lossy(body).trim().to_string();
            (!text.is_empty()).then_some(text)
        })
        .unwrap_or_else(|| {
            hyper::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("unknown error")
                .to_string()
        });
    ClientError::Api { status, message }
}

fn method_str(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::HEAD => "HEAD",
        _ => "REQUEST",
    }
}

/// Escapes one path segment (an id or name).
pub(crate) fn segment(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Query string builder.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query(Vec<(&'static str, String)>);

impl Query {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, key: &'static str, value: impl Into<String>) -> &mut Self {
        self.0.push((key, value.into()));
        self
    }

    /// Adds `key=1` when `flag` is set.
    pub(crate) fn flag(&mut self, key: &'static str, flag: bool) -> &mut Self {
        if flag {
            self.0.push((key, "1".into()));
        }
        self
    }

    fn encode(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, COMPONENT)))
            .collect();
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parsing() {
        let c = Client::new("unix:///tmp/x.sock").expect("valid");
        assert_eq!(c.host(), "unix:///tmp/x.sock");
        assert_eq!(c.socket, PathBuf::from("/tmp/x.sock"));
        assert!(Client::new("/tmp/y.sock").is_ok());
        assert!(matches!(
            Client::new("tcp://1.2.3.4:2375"),
            Err(ClientError::InvalidHost { .. })
        ));
        assert!(Client::new("unix://relative").is_err());
    }

    #[test]
    fn query_encoding() {
        let mut q = Query::new();
        q.push("repo", "a/b")
            .push("changes", "CMD [\"sh\"]")
            .flag("all", true);
        q.flag("quiet", false);
        assert_eq!(q.encode(), "?repo=a%2Fb&changes=CMD%20%5B%22sh%22%5D&all=1");
        assert_eq!(Query::new().encode(), "");
    }

    #[test]
    fn api_error_messages() {
        let e = api_error(404, br#"{"message":"No such container: x"}"#);
        assert_eq!(e.to_string(), "No such container: x");
        assert_eq!(e.kind(), crate::ErrorKind::NotFound);
        assert_eq!(api_error(500, b"plain text\n").to_string(), "plain text");
        assert_eq!(api_error(503, b"").to_string(), "Service Unavailable");
    }
}

#[cfg(test)]
mod fake_server_tests;
