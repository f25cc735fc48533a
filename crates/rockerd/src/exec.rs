//! `/containers/{id}/exec` and `/exec/*` handlers: parse the request, call the engine, shape
//! Docker's answer. An attached start hijacks the connection (101 upgrade, as attach does);
//! the exit code is recorded before the client's stream is closed, so the inspect a client
//! makes right after the stream ends already sees it.

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rocker_api::models::{ExecConfig, ExecStartConfig, IdResponse};
use rocker_engine::{Engine, Error, ExecStarted};
use tokio::io::AsyncWriteExt;

use crate::http::{self, empty, from_engine, json, Query, Res};

/// `POST /containers/{id}/exec`.
pub async fn create(engine: &Arc<Engine>, id: &str, mut req: Request<Incoming>) -> Res {
    let cfg: ExecConfig = match crate::http::json_body(&mut req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match engine.exec_create(id, cfg) {
        Ok(id) => json(StatusCode::CREATED, &IdResponse { id }),
        Err(e) => from_engine(&e),
    }
}

fn content_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

fn upgraded() -> Res {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(http::full(Bytes::new()))
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
}

/// The start failure as Docker writes it into the stream: on stdout, framed unless tty.
fn failure_bytes(message: &str, tty: bool) -> Vec<u8> {
    let text = format!("{message}\r\n");
    if tty {
        return text.into_bytes();
    }
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let mut out = vec![1, 0, 0, 0];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

/// `POST /exec/{id}/start`.
pub async fn start(engine: &Arc<Engine>, id: &str, mut req: Request<Incoming>) -> Res {
    let cfg: ExecStartConfig = match crate::http::json_body(&mut req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let started = match engine.exec_start(id, &cfg).await {
        Ok(s) => s,
        Err(e) => return from_engine(&e),
    };
    let upgrade = http::wants_upgrade(&req);
    match started {
        ExecStarted::Detached => empty(StatusCode::OK),
        ExecStarted::Failed { message, tty } => {
            let bytes = failure_bytes(&message, tty);
            if !upgrade {
                let (res, tx) = http::stream(StatusCode::OK, content_type(tty));
                tokio::spawn(async move {
                    let _ = tx.send(Bytes::from(bytes)).await;
                });
                return res;
            }
            tokio::spawn(async move {
                if let Ok(up) = hyper::upgrade::on(req).await {
                    let mut client = TokioIo::new(up);
                    let _ = client.write_all(&bytes).await;
                    let _ = client.shutdown().await;
                }
            });
            with_type(upgraded(), tty)
        }
        ExecStarted::Attached { stream, tty } => {
            let (engine, id) = (engine.clone(), id.to_string());
            if !upgrade {
                // No hijack offered: stream the output as the response body.
                return http::body_from_reader(stream, content_type(tty), async move {
                    engine.exec_finished(&id).await;
                });
            }
            // detach keys (P3): the exec's own `DetachKeys` (exec create), else a
            // `detachKeys` query parameter, else Docker's default
            let own = engine
                .exec_inspect(&id)
                .ok()
                .map(|i| i.detach_keys)
                .filter(|k| !k.is_empty());
            let spec = own.or_else(|| query_value(&req, "detachKeys"));
            let keys =
                crate::attach_io::keys_from_query(spec.as_deref()).unwrap_or_else(|_| vec![16, 17]);
            tokio::spawn(async move {
                match hyper::upgrade::on(req).await {
                    Ok(up) => pump(&engine, &id, TokioIo::new(up), stream, keys).await,
                    Err(e) => tracing::debug!("exec upgrade failed: {e}"),
                }
            });
            with_type(upgraded(), tty)
        }
    }
}

fn with_type(mut res: Res, tty: bool) -> Res {
    res.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type(tty)),
    );
    res
}

/// Copies between the hijacked client and the shim's exec stream; once the exec's output
/// ends, records its exit code, then closes the client.
async fn pump<C>(engine: &Engine, id: &str, client: C, shim: tokio::net::UnixStream, keys: Vec<u8>)
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // detach keys (P3): a detached exec keeps running; its exit is not recorded here.
    crate::attach_io::pump_then(client, shim, keys, engine.exec_finished(id)).await;
}

/// One query parameter of the request (detach keys, P3).
fn query_value(req: &Request<Incoming>, key: &str) -> Option<String> {
    Query::parse(req.uri().query()).get(key).map(str::to_string)
}

/// `GET /exec/{id}/json`.
pub fn inspect(engine: &Arc<Engine>, id: &str) -> Res {
    match engine.exec_inspect(id) {
        Ok(i) => json(StatusCode::OK, &i),
        Err(e) => from_engine(&e),
    }
}

/// `POST /exec/{id}/resize?h=&w=`.
pub async fn resize(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    let h = q.int("h").ok().flatten().unwrap_or(0);
    let w = q.int("w").ok().flatten().unwrap_or(0);
    let (Ok(h), Ok(w)) = (u16::try_from(h), u16::try_from(w)) else {
        return from_engine(&Error::invalid("invalid terminal size"));
    };
    match engine.exec_resize(id, h, w).await {
        Ok(()) => empty(StatusCode::OK),
        Err(e) => from_engine(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_framed_on_stdout() {
        let b = failure_bytes("boom", false);
        assert_eq!(&b[..8], &[1, 0, 0, 0, 0, 0, 0, 6]);
        assert_eq!(&b[8..], b"boom\r\n");
        assert_eq!(failure_bytes("boom", true), b"boom\r\n");
    }
}
