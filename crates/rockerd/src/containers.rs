//! `/containers/*` handlers: parse the request, call the engine, shape Docker's answer.

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rocker_api::models::{
    ContainerCreateBody, ContainerCreateResponse, ContainerInspect, ContainerState,
    ContainerSummary, ContainerWaitResponse, GraphDriverData, SummaryHostConfig,
    SummaryNetworkSettings,
};
use rocker_api::stdcopy::StdStream;
use rocker_engine::logs::LogOptions;
use rocker_engine::{Engine, Error, Record, Status, WaitCondition};
use rocker_shim_proto::AttachStreams;
use tokio::sync::mpsc;

use crate::http::{self, empty, error_response, from_engine, json, Query, Res};

/// The largest create body accepted.
const MAX_BODY: usize = 8 << 20;

const NEVER: &str = "0001-01-01T00:00:00Z";

// pub(crate): system df (P3)
pub(crate) fn state_model(rec: &Record) -> ContainerState {
    let s = &rec.state;
    ContainerState {
        status: if s.restarting {
            "restarting".to_string()
        } else {
            s.status.as_str().to_string()
        },
        running: s.status.is_alive() || s.restarting,
        paused: s.status == Status::Paused,
        restarting: s.restarting,
        oom_killed: s.oom_killed,
        dead: s.status == Status::Dead,
        pid: i64::from(s.pid),
        exit_code: i64::from(s.exit_code),
        error: s.error.clone(),
        started_at: if s.started_at.is_empty() {
            NEVER.into()
        } else {
            s.started_at.clone()
        },
        finished_at: if s.finished_at.is_empty() {
            NEVER.into()
        } else {
            s.finished_at.clone()
        },
        health: s.health.clone(), // health (P2)
    }
}

// pub(crate): system df (P3)
pub(crate) fn image_name(rec: &Record) -> String {
    if rec.config.image.is_empty() {
        rec.image_id.clone()
    } else {
        rec.config.image.clone()
    }
}

pub async fn create(engine: &Arc<Engine>, q: &Query, mut req: Request<Incoming>) -> Res {
    let body = match http::read_body(&mut req, MAX_BODY).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let body: ContainerCreateBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error_response(StatusCode::BAD_REQUEST, &format!("invalid JSON: {e}"));
        }
    };
    match engine.create(q.get("name"), body).await {
        Ok(rec) => json(
            StatusCode::CREATED,
            &ContainerCreateResponse {
                id: rec.id,
                warnings: Vec::new(),
            },
        ),
        Err(e) => from_engine(&e),
    }
}

pub fn list(engine: &Arc<Engine>, q: &Query) -> Res {
    let filters = match http::parse_filters(q)
        .and_then(|p| crate::container_filters::ContainerFilters::parse(engine, p))
    {
        Ok(f) => f,
        Err(e) => return from_engine(&e),
    };
    let all = q.flag("all") || filters.implies_all();
    let limit = q.int("limit").ok().flatten().filter(|n| *n > 0);
    let want_size = q.flag("size"); // ps -s (P3)
    let now = chrono::Utc::now();
    let mut out: Vec<ContainerSummary> = Vec::new();
    for rec in engine.list() {
        if !all && !rec.state.status.is_alive() && !rec.state.restarting {
            continue;
        }
        let state = state_model(&rec);
        if !filters.matches(engine, &rec, &state.status) {
            continue;
        }
        let created = rocker_api::gotime::parse(&rec.created)
            .map(|t| t.timestamp())
            .unwrap_or(0);
        let mut command = rec.path.clone();
        for a in &rec.args {
            command.push(' ');
            command.push_str(a);
        }
        out.push(ContainerSummary {
            id: rec.id.clone(),
            names: vec![format!("/{}", rec.name)],
            image: image_name(&rec),
            image_id: rec.image_id.clone(),
            command,
            created,
            labels: rec.config.labels.clone().unwrap_or_default(),
            state: state.status.clone(),
            status: rocker_api::human::container_status(&state, now),
            host_config: SummaryHostConfig {
                network_mode: if rec.host_config.network_mode.is_empty() {
                    "default".into()
                } else {
                    rec.host_config.network_mode.clone()
                },
                annotations: None,
            },
            mounts: rec.mounts.clone(), // volumes (N3)
            ports: crate::netview::summary_ports(&rec),
            network_settings: Some(SummaryNetworkSettings {
                networks: Some(crate::netview::summary_networks(engine, &rec)),
            }),
            // ps -s (P3): sizes only when asked, they walk the writable layer
            size_rw: want_size.then(|| engine.container_size_rw(&rec.id) as i64),
            size_root_fs: want_size.then(|| engine.container_size_root_fs(&rec) as i64),
        });
        if limit.is_some_and(|l| out.len() as i64 >= l) {
            break;
        }
    }
    json(StatusCode::OK, &out)
}

pub fn inspect(engine: &Arc<Engine>, id: &str) -> Res {
    let rec = match engine.lookup(id) {
        Ok(e) => e.record(),
        Err(e) => return from_engine(&e),
    };
    let dir = engine.container_dir(&rec.id);
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let mut graph = std::collections::BTreeMap::new();
    graph.insert("UpperDir".to_string(), path("upper"));
    graph.insert("WorkDir".to_string(), path("work"));
    graph.insert("MergedDir".to_string(), path("rootfs"));
    let mut config = rec.config.clone();
    config.image = image_name(&rec);
    let out = ContainerInspect {
        id: rec.id.clone(),
        created: rec.created.clone(),
        path: rec.path.clone(),
        args: rec.args.clone(),
        state: Some(state_model(&rec)),
        image: rec.image_id.clone(),
        resolv_conf_path: path("resolv.conf"),
        hostname_path: path("hostname"),
        hosts_path: path("hosts"),
        log_path: engine.log_path(&rec.id).to_string_lossy().into_owned(),
        name: format!("/{}", rec.name),
        restart_count: rec.restart_count,
        driver: "overlay2".into(),
        platform: "linux".into(),
        host_config: Some(rec.host_config.clone()),
        graph_driver: GraphDriverData {
            name: "overlay2".into(),
            data: graph,
        },
        config: Some(config),
        exec_ids: engine.exec_ids(&rec.id),
        network_settings: Some(crate::netview::settings(engine, &rec)),
        mounts: rec.mounts.clone(), // volumes (N3)
        ..Default::default()
    };
    json(StatusCode::OK, &out)
}

pub async fn start(engine: &Arc<Engine>, id: &str) -> Res {
    match engine.start(id).await {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

pub async fn stop(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    let t = match q.int("t") {
        Ok(t) => t,
        Err(e) => return from_engine(&e),
    };
    match engine.stop(id, t, q.get("signal")).await {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

pub async fn kill(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    match engine
        .kill(id, q.get("signal").filter(|s| !s.is_empty()))
        .await
    {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

pub async fn remove(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    match engine.remove_opts(id, q.flag("force"), q.flag("v")).await {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

/// Headers go out at once (the docker client waits for them before starting the
/// container); the body follows when the condition is met.
pub fn wait(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    let cond: WaitCondition = match q.get("condition").unwrap_or("").parse() {
        Ok(c) => c,
        Err(e) => return from_engine(&e),
    };
    let waiter = match engine.waiter(id, cond) {
        Ok(w) => w,
        Err(e) => return from_engine(&e),
    };
    let (res, tx) = http::stream(StatusCode::OK, "application/json");
    tokio::spawn(async move {
        let code = waiter.await;
        let body = ContainerWaitResponse {
            status_code: i64::from(code),
            error: None,
        };
        if let Ok(mut b) = serde_json::to_vec(&body) {
            b.push(b'\n');
            let _ = tx.send(Bytes::from(b)).await;
        }
    });
    res
}

fn frame(tty: bool, stream: u8, data: &[u8]) -> Bytes {
    if tty {
        return Bytes::copy_from_slice(data);
    }
    let stream = StdStream::from_byte(stream).unwrap_or(StdStream::Stdout);
    rocker_api::stdcopy::encode_frame(stream, data)
}

fn content_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

pub fn logs(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    let entry = match engine.lookup(id) {
        Ok(e) => e,
        Err(e) => return from_engine(&e),
    };
    let rec = entry.record();
    if rec.host_config.log_config.r#type == "none" {
        return error_response(
            StatusCode::NOT_IMPLEMENTED,
            "configured logging driver does not support reading",
        );
    }
    let opts = LogOptions {
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        follow: q.flag("follow"),
        tail: q.get("tail").and_then(|t| t.parse().ok()),
        since: q
            .get("since")
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0.0),
        until: q
            .get("until")
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0.0),
    };
    if !opts.stdout && !opts.stderr {
        return error_response(
            StatusCode::BAD_REQUEST,
            "Bad parameters: you must choose at least one stream",
        );
    }
    let timestamps = q.flag("timestamps");
    let tty = rec.config.tty;
    let (entries_tx, mut entries_rx) = mpsc::channel(256);
    if let Err(e) = engine.logs(entry, opts, entries_tx) {
        return from_engine(&e);
    }
    let (res, tx) = http::stream(StatusCode::OK, content_type(tty));
    tokio::spawn(async move {
        while let Some(e) = entries_rx.recv().await {
            let data = if timestamps {
                let mut d = e.time.clone().into_bytes();
                d.push(b' ');
                d.extend_from_slice(&e.line);
                d
            } else {
                e.line
            };
            if tx.send(frame(tty, e.stream, &data)).await.is_err() {
                return;
            }
        }
    });
    res
}

pub async fn attach(engine: &Arc<Engine>, id: &str, q: &Query, req: Request<Incoming>) -> Res {
    let streams = AttachStreams {
        stdin: q.flag("stdin"),
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
    };
    if !q.flag("stream") {
        // `logs=1` without `stream`: only what was logged. Nothing to attach to.
        return empty(StatusCode::OK);
    }
    // detach keys (P3)
    let keys = match crate::attach_io::keys_from_query(q.get("detachKeys")) {
        Ok(k) => k,
        Err(e) => return from_engine(&e),
    };
    let (conn, tty) = match engine.attach(id, streams).await {
        Ok(c) => c,
        Err(e) => return from_engine(&e),
    };
    if !http::wants_upgrade(&req) {
        return http::body_from_reader(conn, content_type(tty), async {});
    }
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => {
                let client = TokioIo::new(upgraded);
                crate::attach_io::pump(client, conn, keys).await; // detach keys (P3)
            }
            Err(e) => tracing::debug!("attach upgrade failed: {e}"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .header("Content-Type", content_type(tty))
        .body(http::full(Bytes::new()))
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
}

// The attach copy loop lives in attach_io.rs (detach keys, P3).

pub async fn resize(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    let h = q.int("h").ok().flatten().unwrap_or(0);
    let w = q.int("w").ok().flatten().unwrap_or(0);
    let (Ok(h), Ok(w)) = (u16::try_from(h), u16::try_from(w)) else {
        return from_engine(&Error::invalid("invalid terminal size"));
    };
    match engine.resize(id, h, w).await {
        Ok(()) => empty(StatusCode::OK),
        Err(e) => from_engine(&e),
    }
}
