//! `GET /events?since=&until=&filters=`: replays the engine's recent events from `since`,
//! then streams live ones as JSON lines until `until` passes or the client goes away.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use rocker_api::models::EventMessage;
use rocker_engine::events::{parse_time, EventFilter};
use rocker_engine::Engine;
use tokio::sync::broadcast::error::RecvError;

use crate::http::{from_engine, stream, Query, Res};

fn line(e: &EventMessage) -> Bytes {
    let mut v = serde_json::to_vec(e).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

pub fn events(engine: &Arc<Engine>, q: &Query) -> Res {
    let now = now_nanos();
    let parse = |k: &str| -> rocker_engine::Result<Option<i64>> {
        match q.get(k) {
            None | Some("") => Ok(None),
            Some(v) => parse_time(v, now).map(Some),
        }
    };
    let (since, until, filter) = match (
        parse("since"),
        parse("until"),
        EventFilter::parse(q.get("filters").unwrap_or("")),
    ) {
        (Ok(s), Ok(u), Ok(f)) => (s, u, f),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return from_engine(&e),
    };
    let (history, mut rx) = engine.events().subscribe();
    let (res, tx) = stream(StatusCode::OK, "application/json");
    tokio::spawn(async move {
        let in_window =
            |e: &EventMessage| until.is_none_or(|u| e.time_nano <= u) && filter.matches(e);
        if let Some(since) = since {
            for e in history.iter().filter(|e| e.time_nano >= since) {
                if in_window(e) && tx.send(line(e)).await.is_err() {
                    return;
                }
            }
        }
        let deadline =
            until.map(|u| Duration::from_nanos(u.saturating_sub(now_nanos()).max(0) as u64));
        if deadline == Some(Duration::ZERO) {
            return;
        }
        let sleep = tokio::time::sleep(deadline.unwrap_or(Duration::from_secs(u64::MAX / 4)));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(e) => {
                        if until.is_some_and(|u| e.time_nano > u) {
                            return;
                        }
                        if in_window(&e) && since.is_none_or(|s| e.time_nano >= s)
                            && tx.send(line(&e)).await.is_err()
                        {
                            return;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                _ = &mut sleep => return,
                _ = tx.closed() => return,
            }
        }
    });
    res
}
