//! `GET /events`: lifecycle operations publish Docker-shaped events that `since`/`until`
//! replay, filters select, and live subscribers receive; the docker CLI and `rocker events`
//! print them.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rocker_e2e::{require_root, stdout, Daemon};

fn now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn history_shows_a_short_run() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker(&["run", "--name", "ev1", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let id = d.inspect("ev1")["Id"].as_str().unwrap().to_string();
    d.rocker_ok(&["rm", "ev1"]);
    let until = now();

    // Raw API with a filter: only die, in Docker's shape.
    let filters = enc(r#"{"type":["container"],"event":["die"],"container":["ev1"]}"#);
    let (status, body) = d.api(
        "GET",
        &format!("/events?since=0&until={until}&filters={filters}"),
        None,
    );
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&body);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{text}");
    let e = &events[0];
    assert_eq!(e["Type"], "container");
    assert_eq!(e["Action"], "die");
    assert_eq!(e["status"], "die");
    assert_eq!(e["id"], id.as_str());
    assert_eq!(e["from"], "busybox");
    assert_eq!(e["scope"], "local");
    assert_eq!(e["Actor"]["ID"], id.as_str());
    assert_eq!(e["Actor"]["Attributes"]["exitCode"], "3");
    assert_eq!(e["Actor"]["Attributes"]["name"], "ev1");
    assert_eq!(e["Actor"]["Attributes"]["image"], "busybox");
    assert!(e["timeNano"].as_i64().unwrap() / 1_000_000_000 == e["time"].as_i64().unwrap());

    // rocker events: create, start, die, destroy in order.
    let out = d.rocker_ok(&["events", "--since", "0", "--until", &until]);
    let actions: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(&id))
        .filter_map(|l| l.split(' ').nth(2))
        .collect();
    assert_eq!(actions, ["create", "start", "die", "destroy"], "{out}");
    assert!(
        out.contains(&format!(
            "container die {id} (exitCode=3, image=busybox, name=ev1)"
        )),
        "{out}"
    );
    let out = d.rocker_ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "event=start",
    ]);
    assert_eq!(out.lines().count(), 1, "{out}");

    if rocker_e2e::docker_client().is_some() {
        let out = d.docker(&["events", "--since", "0", "--until", &until]);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}");
        for a in ["create", "start", "die", "destroy"] {
            assert!(
                text.contains(&format!("container {a} {id}")),
                "{a} in {text}"
            );
        }
    }

    let (status, body) = d.api("GET", "/events?since=soon", None);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, _) = d.api(
        "GET",
        &format!("/events?filters={}", enc(r#"{"nope":["x"]}"#)),
        None,
    );
    assert_eq!(status, 400);
}

#[test]
fn live_subscribers_see_ops() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let mut sock = UnixStream::connect(d.socket()).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    sock.write_all(b"GET /v1.43/events HTTP/1.1\r\nHost: docker\r\n\r\n")
        .unwrap();
    d.rocker_ok(&["run", "-d", "--name", "ev2", "busybox", "sleep", "100"]);
    d.rocker_ok(&["pause", "ev2"]);
    d.rocker_ok(&["unpause", "ev2"]);
    d.rocker_ok(&["rename", "ev2", "ev3"]);
    d.rocker_ok(&["exec", "ev3", "true"]);
    d.rocker_ok(&["kill", "ev3"]);
    d.wait_not_running("ev3", Duration::from_secs(10));
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    let want = [
        "\"Action\":\"create\"",
        "\"Action\":\"start\"",
        "\"Action\":\"pause\"",
        "\"Action\":\"unpause\"",
        "\"Action\":\"rename\"",
        "\"oldName\":\"/ev2\"",
        "\"Action\":\"exec_create: true\"",
        "\"Action\":\"exec_start: true\"",
        "\"Action\":\"kill\"",
        "\"signal\":\"9\"",
        "\"Action\":\"die\"",
        "\"exitCode\":\"137\"",
    ];
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(n) = sock.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got);
        if want.iter().all(|w| text.contains(w)) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got);
    for w in want {
        assert!(text.contains(w), "{w} in {text}");
    }
    d.rocker_ok(&["rm", "ev3"]);
    d.assert_clean(0);
}
