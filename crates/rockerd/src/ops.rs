//! Handlers for container operations outside the start/stop lifecycle: pause, unpause,
//! rename and top.

use std::sync::Arc;

use hyper::StatusCode;
use rocker_engine::Engine;
use serde::Serialize;

use crate::http::{empty, from_engine, json, Query, Res};

/// Docker's `ContainerTopResponse`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TopBody {
    titles: Vec<String>,
    processes: Vec<Vec<String>>,
}

fn no_content(r: rocker_engine::Result<()>) -> Res {
    match r {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

pub async fn pause(engine: &Arc<Engine>, id: &str) -> Res {
    no_content(engine.pause(id).await)
}

pub async fn unpause(engine: &Arc<Engine>, id: &str) -> Res {
    no_content(engine.unpause(id).await)
}

pub async fn rename(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    no_content(engine.rename(id, q.get("name").unwrap_or("")).await)
}

pub async fn top(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    match engine.top(id, q.get("ps_args")).await {
        Ok(t) => json(
            StatusCode::OK,
            &TopBody {
                titles: t.titles,
                processes: t.processes,
            },
        ),
        Err(e) => from_engine(&e),
    }
}
