//! Client tests against a canned HTTP server on a temporary unix socket.

use std::path::PathBuf;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use super::*;
use crate::stdcopy::{demux, encode_frame, StdStream};

/// Reads one request head plus its Content-Length body; returns the request line and body.
async fn read_request(s: &mut UnixStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).await.expect("read");
        assert!(n > 0, "eof in head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut body = buf[end..].to_vec();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    if chunked {
        while !body.ends_with(b"0\r\n\r\n") {
            let n = s.read(&mut chunk).await.expect("read");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        while body.len() < len {
            let n = s.read(&mut chunk).await.expect("read");
            body.extend_from_slice(&chunk[..n]);
        }
    }
    (head.lines().next().unwrap_or("").to_string(), body)
}

fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn socket_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("d.sock")
}

#[tokio::test]
async fn json_calls_and_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = socket_path(&dir);
    let listener = UnixListener::bind(&sock).expect("bind");
    let server = tokio::spawn(async move {
        for _ in 0..3 {
            let (mut s, _) = listener.accept().await.expect("accept");
            let (line, body) = read_request(&mut s).await;
            let reply = if line.starts_with("GET /v1.43/version ") {
                response("200 OK", r#"{"Version":"0.1.0","ApiVersion":"1.43"}"#)
            } else if line.starts_with("POST /v1.43/containers/create?name=web ") {
                let v: serde_json::Value = serde_json::from_slice(&body).expect("json body");
                assert_eq!(v["Image"], "busybox");
                assert_eq!(v["HostConfig"]["Memory"], 1024);
                response("201 Created", r#"{"Id":"abc","Warnings":[]}"#)
            } else {
                response("404 Not Found", r#"{"message":"No such container: nope"}"#)
            };
            s.write_all(reply.as_bytes()).await.expect("write");
        }
    });
    let c = Client::new(&format!("unix://{}", sock.display())).expect("client");
    assert_eq!(c.version().await.expect("version").api_version, "1.43");
    let mut body = crate::models::ContainerCreateBody::default();
    body.config.image = "busybox".into();
    body.host_config = Some(crate::models::HostConfig {
        memory: 1024,
        ..Default::default()
    });
    let created = c
        .container_create(Some("web"), &body)
        .await
        .expect("create");
    assert_eq!(created.id, "abc");
    let err = c.container_inspect("nope").await.expect_err("404");
    assert_eq!(err.kind(), crate::ErrorKind::NotFound);
    assert_eq!(err.to_string(), "No such container: nope");
    server.await.expect("server");
}

#[tokio::test]
async fn missing_socket_has_docker_wording() {
    let c = Client::new("unix:///nonexistent/rocker.sock").expect("client");
    let err = c.ping().await.expect_err("no daemon");
    assert_eq!(
        err.to_string(),
        "Cannot connect to the Rocker daemon at unix:///nonexistent/rocker.sock. \
         Is the rocker daemon running?"
    );
}

#[tokio::test]
async fn wait_returns_after_headers_and_attach_hijacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = socket_path(&dir);
    let listener = UnixListener::bind(&sock).expect("bind");
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        // 1: wait — headers now, body after the test says go.
        let (mut w, _) = listener.accept().await.expect("accept");
        let (line, _) = read_request(&mut w).await;
        assert!(line.contains("/wait?condition=next-exit"), "{line}");
        w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await
            .expect("write");
        // 2: attach — upgrade, echo stdin as stdout frames until EOF.
        let (mut a, _) = listener.accept().await.expect("accept");
        let (line, _) = read_request(&mut a).await;
        assert!(line.contains("/attach?stream=1&stdin=1&stdout=1"), "{line}");
        let mut reply =
            b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".to_vec();
        reply.extend_from_slice(&encode_frame(StdStream::Stderr, b"hello "));
        a.write_all(&reply).await.expect("write");
        let mut input = Vec::new();
        a.read_to_end(&mut input).await.expect("stdin");
        a.write_all(&encode_frame(StdStream::Stdout, &input))
            .await
            .expect("write");
        drop(a);
        go_rx.await.expect("go");
        let body = r#"{"StatusCode":7}"#;
        w.write_all(format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).as_bytes())
            .await
            .expect("write");
    });
    let c = Client::new(sock.to_str().expect("utf8")).expect("client");
    let wait = c
        .container_wait("abc", WaitCondition::NextExit)
        .await
        .expect("wait accepted");
    let mut stream = c
        .container_attach(
            "abc",
            &AttachOptions {
                stream: true,
                stdin: true,
                stdout: true,
                stderr: true,
                ..Default::default()
            },
        )
        .await
        .expect("attach");
    stream.write_all(b"from stdin").await.expect("write stdin");
    stream.shutdown().await.expect("half close");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    demux(&mut stream, &mut out, &mut err).await.expect("demux");
    assert_eq!(out, b"from stdin");
    assert_eq!(err, b"hello ");
    go_tx.send(()).expect("go");
    assert_eq!(wait.result().await.expect("wait body").status_code, 7);
    server.await.expect("server");
}
