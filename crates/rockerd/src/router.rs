//! Routes Docker Engine API requests to handlers: strips and checks the `/v1.NN` prefix,
//! matches method and path, and adds Docker's response headers.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use rocker_api::models::{API_VERSION, MIN_API_VERSION};
use rocker_engine::Engine;

use crate::http::{error_response, Query, Res};
use crate::{containers, events, exec, images, ops, stats, system};

/// Splits `/v1.43/containers/json` into (`Some("1.43")`, `/containers/json`).
fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        if let Some(i) = rest.find('/') {
            let v = &rest[..i];
            if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return (Some(v), &rest[i..]);
            }
        }
    }
    (None, path)
}

fn version_tuple(v: &str) -> (u32, u32) {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

pub async fn route(engine: Arc<Engine>, req: Request<Incoming>) -> Res {
    let path = req.uri().path().to_string();
    let (version, rest) = split_version(&path);
    if let Some(v) = version {
        if version_tuple(v) < version_tuple(MIN_API_VERSION) {
            return finish(error_response(
                StatusCode::BAD_REQUEST,
                &format!("client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"),
            ));
        }
        if version_tuple(v) > version_tuple(API_VERSION) {
            return finish(error_response(
                StatusCode::BAD_REQUEST,
                &format!(
                    "client version {v} is too new. Maximum supported API version is {API_VERSION}"
                ),
            ));
        }
    }
    let segs: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let q = Query::parse(req.uri().query());
    let method = req.method().clone();
    tracing::debug!(%method, %path, "request");
    let res = match (&method, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => system::ping(&method),
        (&Method::GET, ["version"]) => system::version(),
        (&Method::GET, ["info"]) => system::info(&engine),
        (&Method::GET, ["events"]) => events::events(&engine, &q),
        (&Method::POST, ["auth"]) => images::login(&engine, req).await,

        (&Method::POST, ["containers", "create"]) => containers::create(&engine, &q, req).await,
        (&Method::GET, ["containers", "json"]) => containers::list(&engine, &q),
        // container prune, system df (P3)
        (&Method::POST, ["containers", "prune"]) => {
            crate::container_prune::prune(&engine, &q).await
        }
        (&Method::GET, ["system", "df"]) => crate::system_df::df(&engine, &q),
        (&Method::GET, ["containers", id, "json"]) => containers::inspect(&engine, id),
        (&Method::POST, ["containers", id, "start"]) => containers::start(&engine, id).await,
        (&Method::POST, ["containers", id, "stop"]) => containers::stop(&engine, id, &q).await,
        (&Method::POST, ["containers", id, "kill"]) => containers::kill(&engine, id, &q).await,
        (&Method::POST, ["containers", id, "wait"]) => containers::wait(&engine, id, &q),
        (&Method::DELETE, ["containers", id]) => containers::remove(&engine, id, &q).await,
        (&Method::GET, ["containers", id, "logs"]) => containers::logs(&engine, id, &q),
        (&Method::POST, ["containers", id, "attach"]) => {
            containers::attach(&engine, id, &q, req).await
        }
        (&Method::POST, ["containers", id, "resize"]) => containers::resize(&engine, id, &q).await,
        // restart/update (P2)
        (&Method::POST, ["containers", id, "restart"]) => {
            crate::update::restart(&engine, id, &q).await
        }
        (&Method::POST, ["containers", id, "update"]) => {
            crate::update::update(&engine, id, req).await
        }
        (&Method::POST, ["containers", id, "pause"]) => ops::pause(&engine, id).await,
        (&Method::POST, ["containers", id, "unpause"]) => ops::unpause(&engine, id).await,
        (&Method::POST, ["containers", id, "rename"]) => ops::rename(&engine, id, &q).await,
        (&Method::GET, ["containers", id, "top"]) => ops::top(&engine, id, &q).await,
        (&Method::GET, ["containers", id, "stats"]) => stats::stats(&engine, id, &q).await,
        // container file system API (P1)
        (&Method::HEAD, ["containers", id, "archive"]) => {
            crate::archive::head(&engine, id, &q).await
        }
        (&Method::GET, ["containers", id, "archive"]) => crate::archive::get(&engine, id, &q).await,
        (&Method::PUT, ["containers", id, "archive"]) => {
            crate::archive::put(&engine, id, &q, req).await
        }
        (&Method::GET, ["containers", id, "changes"]) => crate::archive::changes(&engine, id).await,
        (&Method::GET, ["containers", id, "export"]) => crate::archive::export(&engine, id).await,
        (&Method::POST, ["containers", id, "exec"]) => exec::create(&engine, id, req).await,
        (&Method::POST, ["exec", id, "start"]) => exec::start(&engine, id, req).await,
        (&Method::POST, ["exec", id, "resize"]) => exec::resize(&engine, id, &q).await,
        (&Method::GET, ["exec", id, "json"]) => exec::inspect(&engine, id),

        (&Method::GET, ["networks"]) => crate::networks::list(&engine, &q),
        (&Method::POST, ["networks", "create"]) => crate::networks::create(&engine, req).await,
        (&Method::POST, ["networks", "prune"]) => crate::networks::prune(&engine, &q).await,
        (&Method::GET, ["networks", id]) => crate::networks::inspect(&engine, id),
        (&Method::DELETE, ["networks", id]) => crate::networks::remove(&engine, id).await,
        (&Method::POST, ["networks", id, "connect"]) => {
            crate::networks::connect(&engine, id, req).await
        }
        (&Method::POST, ["networks", id, "disconnect"]) => {
            crate::networks::disconnect(&engine, id, req).await
        }
        // volumes (N3)
        (&Method::GET, ["volumes"]) => crate::volumes::list(&engine, &q),
        (&Method::POST, ["volumes", "create"]) => crate::volumes::create(&engine, req).await,
        (&Method::POST, ["volumes", "prune"]) => crate::volumes::prune(&engine, &q),
        (&Method::GET, ["volumes", name]) => crate::volumes::inspect(&engine, name),
        (&Method::DELETE, ["volumes", name]) => crate::volumes::remove(&engine, name, &q),

        (&Method::GET, ["images", "json"]) => images::list(&engine, &q),
        (&Method::POST, ["images", "load"]) => images::load(&engine, &q, req),
        (&Method::POST, ["images", "create"]) if q.get("fromImage").is_some() => {
            images::pull(&engine, &q, req).await
        }
        (&Method::POST, ["images", "create"]) => images::create(&engine, &q, req),
        (&Method::POST, ["images", name @ .., "push"]) if !name.is_empty() => {
            images::push(&engine, &name.join("/"), &q, req).await
        }
        (&Method::POST, ["images", name @ .., "tag"]) if !name.is_empty() => {
            images::tag(&engine, &name.join("/"), &q)
        }
        (&Method::DELETE, ["images", name @ ..]) if !name.is_empty() => {
            images::remove(&engine, &name.join("/"), &q)
        }
        (&Method::GET, ["images", name @ .., "json"]) if !name.is_empty() => {
            images::inspect(&engine, &name.join("/"))
        }
        _ => error_response(StatusCode::NOT_FOUND, "page not found"),
    };
    finish(res)
}

/// Docker's response headers.
fn finish(mut res: Res) -> Res {
    let h = res.headers_mut();
    h.insert(
        "Api-Version",
        hyper::header::HeaderValue::from_static(API_VERSION),
    );
    h.insert(
        "Docker-Experimental",
        hyper::header::HeaderValue::from_static("false"),
    );
    h.insert("Ostype", hyper::header::HeaderValue::from_static("linux"));
    h.insert(
        "Server",
        hyper::header::HeaderValue::from_static(concat!(
            "Rocker/",
            env!("CARGO_PKG_VERSION"),
            " (linux)"
        )),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefix() {
        assert_eq!(
            split_version("/v1.43/containers/json"),
            (Some("1.43"), "/containers/json")
        );
        assert_eq!(
            split_version("/containers/json"),
            (None, "/containers/json")
        );
        assert_eq!(split_version("/version"), (None, "/version"));
        assert!(version_tuple("1.24") < version_tuple("1.43"));
        assert!(version_tuple("1.9") < version_tuple("1.24"));
    }
}
