//! `GET /containers/{id}/stats`: a single sample, or one JSON line per second until the
//! client goes away or the container stops.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use rocker_engine::Engine;

use crate::http::{from_engine, json, stream, Query, Res};

fn line(s: &rocker_api::models::StatsResponse) -> Bytes {
    let mut v = serde_json::to_vec(s).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

pub async fn stats(engine: &Arc<Engine>, id: &str, q: &Query) -> Res {
    // Docker's `stream` defaults to true.
    let streaming = q.get("stream").is_none() || q.flag("stream");
    let one_shot = q.flag("one-shot");
    let (first, alive) = match engine.stats(id, None) {
        Ok(s) => s,
        Err(e) => return from_engine(&e),
    };
    if !streaming {
        if !alive || one_shot {
            return json(StatusCode::OK, &first);
        }
        // Like Docker, wait for a second sample so precpu_stats (and CPU %) are meaningful.
        tokio::time::sleep(Duration::from_secs(1)).await;
        return match engine.stats(id, Some(&first)) {
            Ok((s, _)) => json(StatusCode::OK, &s),
            Err(e) => from_engine(&e),
        };
    }
    let (res, tx) = stream(StatusCode::OK, "application/json");
    let engine = Arc::clone(engine);
    let id = first.id.clone();
    tokio::spawn(async move {
        let mut prev = first;
        let mut alive = alive;
        loop {
            if tx.send(line(&prev)).await.is_err() || !alive {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = tx.closed() => return,
            }
            match engine.stats(&id, Some(&prev)) {
                Ok((s, a)) => {
                    prev = s;
                    alive = a;
                }
                Err(_) => return,
            }
        }
    });
    res
}
