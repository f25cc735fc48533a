//! `POST /containers/{id}/restart` and `POST /containers/{id}/update`: parse the request,
//! call the engine, shape Docker's answer.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use rocker_engine::{Engine, UpdateConfig};
use serde_json::json;

use crate::http::{empty, from_engine, json, json_body, Query, Res};

pub async fn restart(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    let t = match q.int("t") {
        Ok(t) => t,
        Err(e) => return from_engine(&e),
    };
    let signal = q.get("signal").filter(|s| !s.is_empty());
    match engine.restart(id, t, signal).await {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

pub async fn update(engine: &Arc<Engine>, id: &str, mut req: Request<Incoming>) -> Res {
    let body: UpdateConfig = match json_body(&mut req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match engine.update(id, &body).await {
        Ok(warnings) => json(StatusCode::OK, &json!({ "Warnings": warnings })),
        Err(e) => from_engine(&e),
    }
}
