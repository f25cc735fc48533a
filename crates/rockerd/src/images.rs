//! `/images/*` handlers. Uploaded tars are streamed from the request body into the image
//! store on a blocking thread (never held whole in memory).

use std::io::Read;
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use rocker_api::models::{JsonError, JsonMessage};
use rocker_engine::Engine;

use crate::http::{self, from_engine, json, Query, Res};

/// A `Read` over a request body being received on the async side.
struct BodyReader {
    rx: std_mpsc::Receiver<Result<Bytes, String>>,
    cur: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.recv() {
                Ok(Ok(b)) => self.cur = b,
                Ok(Err(e)) => return Err(std::io::Error::other(e)),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}

fn body_reader(req: Request<Incoming>) -> BodyReader {
    let (tx, rx) = std_mpsc::sync_channel(16);
    tokio::spawn(async move {
        let mut body = req.into_body();
        while let Some(frame) = body.frame().await {
            let item = match frame {
                Ok(f) => match f.into_data() {
                    Ok(d) => Ok(d),
                    Err(_) => continue,
                },
                Err(e) => Err(e.to_string()),
            };
            let stop = item.is_err();
            let tx2 = tx.clone();
            // The channel is bounded: hand the blocking send to a blocking thread.
            if tokio::task::spawn_blocking(move || tx2.send(item))
                .await
                .map(|r| r.is_err())
                .unwrap_or(true)
                || stop
            {
                return;
            }
        }
    });
    BodyReader {
        rx,
        cur: Bytes::new(),
    }
}

fn message_line(m: &JsonMessage) -> Bytes {
    let mut v = serde_json::to_vec(m).unwrap_or_default();
    v.push(b'\r');
    v.push(b'\n');
    Bytes::from(v)
}

fn error_message(msg: String) -> JsonMessage {
    JsonMessage {
        error_detail: Some(JsonError {
            code: None,
            message: msg.clone(),
        }),
        error: Some(msg),
        ..Default::default()
    }
}

/// `POST /images/load`: Docker answers 200 and reports failures inside the JSON stream.
pub fn load(engine: &Arc<Engine>, q: &Query, req: Request<Incoming>) -> Res {
    let quiet = q.flag("quiet");
    let reader = body_reader(req);
    let engine = engine.clone();
    let (res, tx) = http::stream(StatusCode::OK, "application/json");
    tokio::task::spawn_blocking(move || {
        let lines: Vec<JsonMessage> = match engine.images.load(reader) {
            Ok(loaded) => loaded
                .iter()
                .flat_map(|l| {
                    if l.tags.is_empty() {
                        vec![format!("Loaded image ID: {}\n", l.id)]
                    } else {
                        l.tags
                            .iter()
                            .map(|t| format!("Loaded image: {t}\n"))
                            .collect()
                    }
                })
                .map(|s| JsonMessage {
                    stream: Some(s),
                    ..Default::default()
                })
                .collect(),
            Err(e) => vec![error_message(e.to_string())],
        };
        let _ = quiet;
        for m in lines {
            if tx.blocking_send(message_line(&m)).is_err() {
                break;
            }
        }
    });
    res
}

/// `POST /images/create`: `fromSrc=-` imports the body as a rootfs tar. Pulling from a
/// registry (`fromImage`) is not implemented yet.
pub fn create(engine: &Arc<Engine>, q: &Query, req: Request<Incoming>) -> Res {
    match q.get("fromSrc") {
        Some("-") => {}
        Some(_) => return http::error_response(
            StatusCode::NOT_IMPLEMENTED,
            "importing from a URL is not supported; send the tar as the request body (fromSrc=-)",
        ),
        None => {
            return http::error_response(
                StatusCode::NOT_IMPLEMENTED,
                "pulling images from a registry is not implemented yet",
            )
        }
    }
    let mut reference = q.get("repo").unwrap_or("").to_string();
    if let Some(tag) = q.get("tag").filter(|t| !t.is_empty()) {
        if !reference.is_empty() {
            reference = format!("{reference}:{tag}");
        }
    }
    let changes: Vec<String> = q
        .get("changes")
        .map(|c| {
            c.lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let message = q.get("message").unwrap_or("").to_string();
    let reader = body_reader(req);
    let engine = engine.clone();
    let (res, tx) = http::stream(StatusCode::OK, "application/json");
    tokio::task::spawn_blocking(move || {
        let r = (!reference.is_empty()).then_some(reference.as_str());
        let m = match engine.images.import(reader, r, &changes, &message) {
            Ok(loaded) => JsonMessage {
                status: Some(loaded.id),
                ..Default::default()
            },
            Err(e) => error_message(e.to_string()),
        };
        let _ = tx.blocking_send(message_line(&m));
    });
    res
}

pub fn list(engine: &Arc<Engine>, _q: &Query) -> Res {
    match engine.images.list() {
        Ok(list) => json(StatusCode::OK, &list),
        Err(e) => from_engine(&rocker_engine::Error::internal(e.to_string())),
    }
}

pub fn inspect(engine: &Arc<Engine>, name: &str) -> Res {
    match engine.images.inspect(name) {
        Ok(i) => json(StatusCode::OK, &i),
        Err(e) => match e.kind() {
            rocker_image::ErrorKind::NotFound => {
                http::error_response(StatusCode::NOT_FOUND, &format!("No such image: {name}"))
            }
            _ => from_engine(&rocker_engine::Error::internal(e.to_string())),
        },
    }
}

/// Credentials from Docker's `X-Registry-Auth` header, if any.
fn registry_auth(req: &Request<Incoming>) -> Option<rocker_registry::Credentials> {
    req.headers()
        .get("X-Registry-Auth")
        .and_then(|v| v.to_str().ok())
        .and_then(rocker_registry::Credentials::from_registry_auth)
}

/// Streams the engine's progress messages to the client until the sender is dropped.
fn forward_progress(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<JsonMessage>,
    tx: tokio::sync::mpsc::Sender<Bytes>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if tx.send(message_line(&m)).await.is_err() {
                break;
            }
        }
    })
}

/// `POST /images/create?fromImage=NAME&tag=TAG`: pull. The manifest is resolved before the
/// 200 goes out, so an unknown image gets a plain 404; later failures are stream lines.
pub async fn pull(engine: &Arc<Engine>, q: &Query, req: Request<Incoming>) -> Res {
    let from = q.get("fromImage").unwrap_or("");
    let reference = match rocker_engine::registry::pull_reference(from, q.get("tag").unwrap_or(""))
    {
        Ok(r) => r,
        Err(e) => return from_engine(&e),
    };
    let creds = registry_auth(&req);
    let plan = match engine.pull_resolve(reference, creds).await {
        Ok(p) => p,
        Err(e) => return from_engine(&e),
    };
    let (res, tx) = http::stream(StatusCode::OK, "application/json");
    let engine = engine.clone();
    tokio::spawn(async move {
        let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
        let fwd = forward_progress(prx, tx.clone());
        let result = engine.pull_fetch(plan, &ptx).await;
        drop(ptx);
        let _ = fwd.await;
        if let Err(e) = result {
            let _ = tx.send(message_line(&JsonMessage::error(e.message))).await;
        }
    });
    res
}

/// `POST /images/{name}/push?tag=`: pushes one tag, or every tag of the repository.
pub async fn push(engine: &Arc<Engine>, name: &str, q: &Query, req: Request<Incoming>) -> Res {
    let targets = match engine.push_targets(name, q.get("tag").unwrap_or("")) {
        Ok(t) => t,
        Err(e) => return from_engine(&e),
    };
    let creds = registry_auth(&req);
    let (res, tx) = http::stream(StatusCode::OK, "application/json");
    let engine = engine.clone();
    tokio::spawn(async move {
        let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
        let fwd = forward_progress(prx, tx.clone());
        let mut failure = None;
        if let Some(first) = targets.first() {
            let _ = ptx.send(JsonMessage::status(
                format!("The push refers to repository [{}]", first.familiar_name()),
                None,
            ));
        }
        for t in &targets {
            if let Err(e) = engine.push(t, creds.clone(), &ptx).await {
                failure = Some(e);
                break;
            }
        }
        drop(ptx);
        let _ = fwd.await;
        if let Some(e) = failure {
            let _ = tx.send(message_line(&JsonMessage::error(e.message))).await;
        }
    });
    res
}

/// `POST /images/{name}/tag?repo=&tag=`: 201 on success.
pub fn tag(engine: &Arc<Engine>, name: &str, q: &Query) -> Res {
    match engine.tag_image(
        name,
        q.get("repo").unwrap_or(""),
        q.get("tag").unwrap_or(""),
    ) {
        Ok(()) => http::empty(StatusCode::CREATED),
        Err(e) => from_engine(&e),
    }
}

/// `DELETE /images/{name}?force=`: Docker's list of `{"Untagged": …}` / `{"Deleted": …}`.
pub fn remove(engine: &Arc<Engine>, name: &str, q: &Query) -> Res {
    match engine.remove_image(name, q.flag("force")) {
        Ok(items) => json(StatusCode::OK, &items),
        Err(e) => from_engine(&e),
    }
}

/// `POST /auth` (`docker login`): checks the credentials against the registry; a refusal is
/// a 401 with the registry's answer, as dockerd gives.
pub async fn login(engine: &Arc<Engine>, mut req: Request<Incoming>) -> Res {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct AuthConfig {
        username: String,
        password: String,
        serveraddress: String,
    }
    let cfg: AuthConfig = match http::json_body(&mut req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let creds = rocker_registry::Credentials {
        username: cfg.username,
        password: cfg.password,
    };
    match engine.registry_login(&cfg.serveraddress, &creds).await {
        Ok(()) => json(
            StatusCode::OK,
            &serde_json::json!({"Status": "Login Succeeded", "IdentityToken": ""}),
        ),
        Err(e) if e.kind == rocker_engine::Kind::InvalidArgument => {
            http::error_response(StatusCode::UNAUTHORIZED, &e.message)
        }
        Err(e) => from_engine(&e),
    }
}
