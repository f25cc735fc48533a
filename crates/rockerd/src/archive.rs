//! Container file system endpoints: `GET/HEAD/PUT /containers/{id}/archive` (`cp`),
//! `GET /containers/{id}/changes` (`diff`) and `GET /containers/{id}/export`. The work is
//! in `rocker_engine::fs`; these parse the query and stream the tar.

use std::io::{self, BufWriter, Write};

use base64::Engine as _;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, StatusCode};
use rocker_engine::fs::{PathStat, PutOptions};
use rocker_engine::Engine;
use tokio::sync::mpsc;

use crate::http::{empty, from_engine, json, read_body, stream, Query, Res};

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";
/// The largest tar `PUT /archive` accepts (it is checked whole before anything is written).
const MAX_PUT: usize = 8 << 30;

/// A blocking writer feeding a streaming response (used from a file system thread).
struct ChanWriter(mpsc::Sender<Bytes>);

impl Write for ChanWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Bytes::copy_from_slice(buf))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn path_param(q: &Query) -> Result<String, rocker_engine::Error> {
    match q.get("path") {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(rocker_engine::Error::invalid("path parameter is required")),
    }
}

fn with_stat(mut res: Res, st: &PathStat) -> Res {
    let json = serde_json::to_vec(st).unwrap_or_default();
    let b64 = base64::engine::general_purpose::STANDARD.encode(json);
    if let Ok(v) = HeaderValue::from_str(&b64) {
        res.headers_mut().insert(STAT_HEADER, v);
    }
    res
}

/// `HEAD /containers/{id}/archive`.
pub async fn head(engine: &Engine, id: &str, q: &Query) -> Res {
    let path = match path_param(q) {
        Ok(p) => p,
        Err(e) => return from_engine(&e),
    };
    match engine.archive_stat(id, &path).await {
        Ok(st) => with_stat(empty(StatusCode::OK), &st),
        Err(e) => from_engine(&e),
    }
}

/// `GET /containers/{id}/archive`.
pub async fn get(engine: &Engine, id: &str, q: &Query) -> Res {
    let path = match path_param(q) {
        Ok(p) => p,
        Err(e) => return from_engine(&e),
    };
    let (res, tx) = stream(StatusCode::OK, "application/x-tar");
    let out = BufWriter::with_capacity(64 * 1024, ChanWriter(tx));
    match engine.archive_get(id, &path, out).await {
        Ok(st) => with_stat(res, &st),
        Err(e) => from_engine(&e),
    }
}

/// `PUT /containers/{id}/archive`.
pub async fn put(engine: &Engine, id: &str, q: &Query, mut req: Request<Incoming>) -> Res {
    let path = match path_param(q) {
        Ok(p) => p,
        Err(e) => return from_engine(&e),
    };
    // Look the container up first: a missing one is a 404 before the body is read.
    if let Err(e) = engine.lookup(id) {
        return from_engine(&e);
    }
    let body = match read_body(&mut req, MAX_PUT).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let opts = PutOptions {
        no_overwrite_dir_non_dir: q.flag("noOverwriteDirNonDir"),
        copy_uid_gid: q.flag("copyUIDGID"),
    };
    match engine.archive_put(id, &path, body, opts).await {
        Ok(()) => empty(StatusCode::OK),
        Err(e) => from_engine(&e),
    }
}

/// `GET /containers/{id}/changes`.
pub async fn changes(engine: &Engine, id: &str) -> Res {
    match engine.changes(id).await {
        Ok(c) => json(StatusCode::OK, &c),
        Err(e) => from_engine(&e),
    }
}

/// `GET /containers/{id}/export`.
pub async fn export(engine: &Engine, id: &str) -> Res {
    let (res, tx) = stream(StatusCode::OK, "application/x-tar");
    let out = BufWriter::with_capacity(64 * 1024, ChanWriter(tx));
    match engine.export(id, out).await {
        Ok(()) => res,
        Err(e) => from_engine(&e),
    }
}
