//! Runs the `rocker` binary against a canned in-process daemon on a temporary unix socket
//! and checks its output and exit codes (tables, versions, docker-style errors).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn reply(s: &mut UnixStream, status: &str, body: &str) {
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(msg.as_bytes());
}

/// Answers one connection according to its request line.
fn serve(mut s: UnixStream) {
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).expect("header");
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).expect("body");
    let body = String::from_utf8_lossy(&body).to_string();
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let created = now() - 3 * 3600;
    match (line.split_whitespace().next().unwrap_or(""), path.as_str()) {
        ("GET", "/v1.43/containers/json?all=1") => reply(
            &mut s,
            "200 OK",
            &format!(
                r#"[{{"Id":"4c01db0b339c4c01db0b339c","Names":["/web"],"Image":"busybox","ImageID":"sha256:aa",
               "Command":"sleep 1000","Created":{created},"Ports":[],"Labels":{{}},"State":"running",
               "Status":"Up 3 hours","HostConfig":{{"NetworkMode":"default"}},"Mounts":[]}}]"#
            ),
        ),
        ("GET", "/v1.43/images/json") => reply(
            &mut s,
            "200 OK",
            &format!(
                r#"[{{"Id":"sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824",
               "ParentId":"","RepoTags":["busybox:latest"],"RepoDigests":null,"Created":{created},
               "Size":4264000,"SharedSize":-1,"Labels":null,"Containers":-1}}]"#
            ),
        ),
        ("GET", "/v1.43/version") => reply(
            &mut s,
            "200 OK",
            r#"{"Platform":{"Name":"Rocker Engine"},"Version":"0.1.0","ApiVersion":"1.43",
               "MinAPIVersion":"1.24","GitCommit":"abc1234","GoVersion":"","Os":"linux","Arch":"amd64"}"#,
        ),
        ("POST", p) if p.starts_with("/v1.43/containers/create") => {
            if body.contains(r#""Image":"okimg""#) {
                reply(
                    &mut s,
                    "201 Created",
                    r#"{"Id":"beef","Warnings":["low memory"]}"#,
                );
            } else if body.contains(r#""Image":"nope""#) {
                reply(
                    &mut s,
                    "404 Not Found",
                    r#"{"message":"No such image: nope:latest"}"#,
                );
            } else {
                reply(&mut s, "201 Created", r#"{"Id":"c0ffee","Warnings":[]}"#);
            }
        }
        ("POST", "/v1.43/containers/c0ffee/attach?stream=1&stdout=1&stderr=1") => {
            let _ = s
                .write_all(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
        }
        ("POST", "/v1.43/containers/c0ffee/wait?condition=next-exit") => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            std::thread::sleep(std::time::Duration::from_secs(5));
        }
        ("POST", "/v1.43/containers/beef/attach?stream=1&stdout=1&stderr=1") => {
            let mut out =
                b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".to_vec();
            for (stream, text) in [(1u8, &b"hello\n"[..]), (2, b"warn\n"), (1, b"bye\n")] {
                out.extend_from_slice(&[stream, 0, 0, 0, 0, 0, 0, text.len() as u8]);
                out.extend_from_slice(text);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            let _ = s.write_all(&out);
        }
        ("POST", "/v1.43/containers/beef/wait?condition=removed") => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            std::thread::sleep(std::time::Duration::from_millis(200));
            let body = r#"{"StatusCode":3}"#;
            let _ = write!(s, "{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
        }
        ("POST", "/v1.43/containers/beef/start") => {
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
        }
        ("POST", "/v1.43/containers/c0ffee/start") => reply(
            &mut s,
            "400 Bad Request",
            r#"{"message":"failed to create task: exec: \"nope\": executable file not found in $PATH"}"#,
        ),
        _ => reply(
            &mut s,
            "404 Not Found",
            &format!(r#"{{"message":"No such container: {path}"}}"#),
        ),
    }
}

fn start_daemon(dir: &Path) -> String {
    let sock = dir.join("rocker.sock");
    let listener = UnixListener::bind(&sock).expect("bind");
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    format!("unix://{}", sock.display())
}

fn rocker(host: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rocker"))
        .arg("-H")
        .arg(host)
        .args(args)
        .output()
        .expect("run rocker")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn tables_versions_and_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = start_daemon(dir.path());

    let ps = rocker(&host, &["ps", "-a"]);
    assert!(ps.status.success(), "{}", stderr(&ps));
    assert_eq!(
        stdout(&ps),
        "CONTAINER ID   IMAGE     COMMAND        CREATED       STATUS       PORTS     NAMES\n\
         4c01db0b339c   busybox   \"sleep 1000\"   3 hours ago   Up 3 hours             web\n"
    );

    let images = rocker(&host, &["images"]);
    assert!(images.status.success(), "{}", stderr(&images));
    assert_eq!(
        stdout(&images),
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
         busybox      latest    a416a98b71e2   3 hours ago   4.26MB\n"
    );
    let q = rocker(&host, &["images", "-q"]);
    assert_eq!(stdout(&q), "a416a98b71e2\n");

    let version = rocker(&host, &["version"]);
    assert!(version.status.success(), "{}", stderr(&version));
    let out = stdout(&version);
    assert!(
        out.contains("Server: Rocker Engine\n Engine:\n  Version:          0.1.0\n"),
        "{out}"
    );
    assert!(
        out.contains("  API version:      1.43 (minimum version 1.24)\n"),
        "{out}"
    );

    let inspect = rocker(&host, &["inspect", "nope"]);
    assert_eq!(inspect.status.code(), Some(1));
    assert_eq!(stdout(&inspect), "[]\n");
    assert_eq!(stderr(&inspect), "Error: No such object: nope\n");

    let stop = rocker(&host, &["stop", "ghost"]);
    assert_eq!(stop.status.code(), Some(1));
    assert_eq!(
        stderr(&stop),
        "Error response from daemon: No such container: /v1.43/containers/ghost/stop\n"
    );

    let run = rocker(&host, &["run", "--rm", "nope"]);
    assert_eq!(run.status.code(), Some(125));
    assert_eq!(
        stderr(&run),
        "Error response from daemon: No such image: nope:latest\n"
    );

    let run = rocker(&host, &["run", "busybox", "nope"]);
    assert_eq!(run.status.code(), Some(127), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("executable file not found"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn run_streams_output_and_exits_with_container_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = start_daemon(dir.path());
    let run = rocker(&host, &["run", "--rm", "okimg", "sh", "-c", "exit 3"]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert_eq!(stdout(&run), "hello\nbye\n");
    assert_eq!(stderr(&run), "WARNING: low memory\nwarn\n");
}

#[test]
fn missing_daemon_message() {
    let o = rocker("unix:///nonexistent/rocker.sock", &["ps"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "Cannot connect to the Rocker daemon at unix:///nonexistent/rocker.sock. \
         Is the rocker daemon running?\n"
    );
}
