//! HTTP plumbing shared by the handlers: body types, JSON and error responses in Docker's
//! shape, query parsing, and a channel-fed streaming body.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame};
use hyper::{Response, StatusCode};
use rocker_engine::{Error, Kind};
use serde::Serialize;
use tokio::sync::mpsc;

pub type ResBody = BoxBody<Bytes, Infallible>;
pub type Res = Response<ResBody>;

pub fn full(data: impl Into<Bytes>) -> ResBody {
    Full::new(data.into()).boxed()
}

pub fn empty(status: StatusCode) -> Res {
    let mut r = Response::new(full(Bytes::new()));
    *r.status_mut() = status;
    r
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Res {
    match serde_json::to_vec(value) {
        Ok(mut body) => {
            body.push(b'\n');
            Response::builder()
                .status(status)
                .header("Content-Type", "application/json")
                .body(full(body))
                .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

pub fn error_response(status: StatusCode, message: &str) -> Res {
    json(
        status,
        &rocker_api::models::ErrorResponse {
            message: message.to_string(),
        },
    )
}

/// Maps an engine error kind to Docker's status code.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::InvalidArgument => StatusCode::BAD_REQUEST,
        Kind::NotModified => StatusCode::NOT_MODIFIED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn from_engine(e: &Error) -> Res {
    let status = status_of(e.kind);
    if status == StatusCode::NOT_MODIFIED {
        return empty(status);
    }
    error_response(status, &e.message)
}

/// Query parameters (last one wins, as Go's `r.Form.Get` gives the first — Docker clients
/// never repeat them).
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(q.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    /// Docker's boolean query values: `1`, `true`, `True` are true; absent, `0`, `false` false.
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some(v) if !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
    }
    pub fn int(&self, k: &str) -> Result<Option<i64>, Error> {
        match self.get(k) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::invalid(format!("invalid value for {k}: {v}"))),
        }
    }
}

/// A response body fed from a channel, for streams (logs, progress, wait).
pub struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// A streaming response and the sender that feeds it.
pub fn stream(status: StatusCode, content_type: &str) -> (Res, mpsc::Sender<Bytes>) {
    let (tx, rx) = mpsc::channel(64);
    let res = Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .body(ChannelBody(rx).boxed())
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR));
    (res, tx)
}

/// Whether the client offered Docker's connection hijack (`Upgrade: tcp`).
pub fn wants_upgrade<B>(req: &hyper::Request<B>) -> bool {
    req.headers()
        .get(hyper::header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"))
}

/// A 200 response whose body is everything read from `conn` (for clients that do not
/// hijack); `then` runs once the reader is exhausted or the client went away.
pub fn body_from_reader<R, F>(conn: R, content_type: &str, then: F) -> Res
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (res, tx) = stream(StatusCode::OK, content_type);
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut conn = conn;
        let mut buf = vec![0u8; 32 * 1024];
        while let Ok(n) = conn.read(&mut buf).await {
            if n == 0 || tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                break;
            }
        }
        then.await;
    });
    res
}

/// Reads a request body of at most `max` bytes.
pub async fn read_body(
    req: &mut hyper::Request<hyper::body::Incoming>,
    max: usize,
) -> Result<Bytes, Res> {
    let limited = http_body_util::Limited::new(req.body_mut(), max);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => Err(error_response(
            StatusCode::BAD_REQUEST,
            &format!("reading request body: {e}"),
        )),
    }
}

/// A JSON request body (at most 1 MiB); an empty body is the type's default.
pub async fn json_body<T: serde::de::DeserializeOwned + Default>(
    req: &mut hyper::Request<hyper::body::Incoming>,
) -> Result<T, Res> {
    let bytes = read_body(req, 1 << 20).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| error_response(StatusCode::BAD_REQUEST, &format!("invalid JSON: {e}")))
}

/// Docker's `filters` query value: `{"k":{"v":true}}` or the older `{"k":["v"]}`.
pub fn parse_filters(q: &Query) -> Result<Vec<(String, String)>, Error> {
    let Some(raw) = q.get("filters").filter(|f| !f.is_empty()) else {
        return Ok(Vec::new());
    };
    let v: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| Error::invalid(format!("invalid filter: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| Error::invalid("invalid filter: not an object"))?;
    let mut out = Vec::new();
    for (k, vals) in obj {
        match vals {
            serde_json::Value::Object(m) => {
                out.extend(m.keys().map(|val| (k.clone(), val.clone())));
            }
            serde_json::Value::Array(a) => {
                out.extend(
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .map(|val| (k.clone(), val.to_string())),
                );
            }
            _ => return Err(Error::invalid(format!("invalid filter '{k}'"))),
        }
    }
    Ok(out)
}
