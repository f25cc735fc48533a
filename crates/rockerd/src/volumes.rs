//! `/volumes/*` handlers: parse the request, call the engine's volume store, shape Docker's
//! answer.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use rocker_api::models::{VolumeCreateOptions, VolumeListResponse};
use rocker_engine::Engine;

use crate::http::{empty, from_engine, json, json_body, parse_filters, Query, Res};

pub async fn create(engine: &Arc<Engine>, mut req: Request<Incoming>) -> Res {
    let opts: VolumeCreateOptions = match json_body(&mut req).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match engine.volume_create(opts) {
        Ok((v, _)) => json(StatusCode::CREATED, &v),
        Err(e) => from_engine(&e),
    }
}

pub fn list(engine: &Arc<Engine>, q: &Query) -> Res {
    let r = parse_filters(q).and_then(|f| engine.volume_list(&f));
    match r {
        Ok(volumes) => json(
            StatusCode::OK,
            &VolumeListResponse {
                volumes,
                warnings: Vec::new(),
            },
        ),
        Err(e) => from_engine(&e),
    }
}

pub fn inspect(engine: &Arc<Engine>, name: &str) -> Res {
    match engine.volume_inspect(name) {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => from_engine(&e),
    }
}

pub fn remove(engine: &Arc<Engine>, name: &str, q: &Query) -> Res {
    match engine.volume_remove(name, q.flag("force")) {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => from_engine(&e),
    }
}

pub fn prune(engine: &Arc<Engine>, q: &Query) -> Res {
    match parse_filters(q).and_then(|f| engine.volume_prune(&f)) {
        Ok(r) => json(StatusCode::OK, &r),
        Err(e) => from_engine(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_in_both_shapes() {
        let q = Query::parse(Some(
            "filters=%7B%22label%22%3A%7B%22a%3Db%22%3Atrue%7D%2C%22name%22%3A%5B%22x%22%5D%7D",
        ));
        let mut f = parse_filters(&q).unwrap();
        f.sort();
        assert_eq!(
            f,
            vec![
                ("label".to_string(), "a=b".to_string()),
                ("name".to_string(), "x".to_string())
            ]
        );
        assert!(parse_filters(&Query::parse(Some("filters=nope"))).is_err());
    }
}
