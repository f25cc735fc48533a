//! `GET /containers/{id}/stats` agrees with the container's cgroup files, streams one sample
//! per second, and works through `rocker stats`, the real docker CLI and the Python SDK.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::{Duration, Instant};

use rocker_e2e::{host, in_ci, output_with_timeout, require_root, stdout, Daemon, CMD_TIMEOUT};

const LIMIT: u64 = 64 * 1024 * 1024;

fn run_sleeper(d: &Daemon, name: &str) -> String {
    d.rocker_ok(&[
        "run", "-d", "--name", name, "-m", "64m", "busybox", "sleep", "1000",
    ])
    .trim()
    .to_string()
}

fn memory_cgroup_usage(d: &Daemon, id: &str) -> u64 {
    let pid = d.inspect(id)["State"]["Pid"].as_i64().unwrap_or(0) as i32;
    host::read_cgroup_file(pid, "memory", "memory.usage_in_bytes")
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn one_sample_agrees_with_the_cgroup_files() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = run_sleeper(&d, "st1");

    let before = memory_cgroup_usage(&d, &id);
    let (status, body) = d.api("GET", "/containers/st1/stats?stream=false&one-shot=1", None);
    let after = memory_cgroup_usage(&d, &id);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let s: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s["name"], "/st1");
    assert_eq!(s["id"], id.as_str());
    assert_eq!(s["memory_stats"]["limit"], LIMIT, "{s}");
    let usage = s["memory_stats"]["usage"].as_u64().unwrap();
    let (lo, hi) = (before.min(after), before.max(after));
    let tol = 256 * 1024;
    assert!(
        usage + tol >= lo && usage <= hi + tol,
        "usage {usage} vs cgroup {before}..{after}"
    );
    assert!(s["memory_stats"]["stats"]["rss"].is_u64(), "{s}");
    assert!(s["pids_stats"]["current"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["cpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap() > 0);
    assert!(s["cpu_stats"]["system_cpu_usage"].as_u64().unwrap() > 0);
    assert!(s["cpu_stats"]["online_cpus"].as_u64().unwrap() >= 1);
    assert!(
        s["cpu_stats"]["cpu_usage"]["percpu_usage"].is_array(),
        "{s}"
    );
    assert!(s["cpu_stats"]["throttling_data"]["periods"].is_u64());
    // One-shot: no previous sample, as Docker.
    assert_eq!(s["precpu_stats"]["cpu_usage"]["total_usage"], 0);
    assert_eq!(s["preread"], "0001-01-01T00:00:00Z");
    assert!(s["blkio_stats"].is_object());
    // On the default bridge: the container's eth0 counters (lo is left out, as Docker does).
    assert!(s["networks"]["eth0"]["rx_bytes"].is_u64(), "{s}");
    assert!(s["networks"].get("lo").is_none(), "{s}");

    // Without one-shot the daemon takes a second sample so precpu is filled.
    let (status, body) = d.api("GET", "/containers/st1/stats?stream=false", None);
    assert_eq!(status, 200);
    let s: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(s["precpu_stats"]["system_cpu_usage"].as_u64().unwrap() > 0);
    assert_ne!(s["preread"], "0001-01-01T00:00:00Z");

    // Paused containers still give stats.
    d.rocker_ok(&["pause", "st1"]);
    let (status, body) = d.api("GET", "/containers/st1/stats?stream=false&one-shot=1", None);
    assert_eq!(status, 200);
    let s: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(s["pids_stats"]["current"].as_u64().unwrap() >= 1);
    d.rocker_ok(&["unpause", "st1"]);

    // Stopped: zeros with 200.
    d.rocker_ok(&["kill", "st1"]);
    d.wait_not_running("st1", Duration::from_secs(10));
    let (status, body) = d.api("GET", "/containers/st1/stats?stream=false", None);
    assert_eq!(status, 200);
    let s: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s["read"], "0001-01-01T00:00:00Z");
    assert_eq!(s["cpu_stats"]["cpu_usage"]["total_usage"], 0);
    assert_eq!(s["name"], "/st1");

    let (status, body) = d.api("GET", "/containers/nope/stats?stream=false", None);
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("No such container: nope"));
    d.rocker_ok(&["rm", "st1"]);
    d.assert_clean(0);
}

#[test]
fn stream_gives_a_sample_per_second() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    run_sleeper(&d, "st2");
    let mut sock = UnixStream::connect(d.socket()).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    sock.write_all(b"GET /v1.43/containers/st2/stats HTTP/1.1\r\nHost: docker\r\n\r\n")
        .unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while start.elapsed() < Duration::from_secs(5) {
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if String::from_utf8_lossy(&got)
            .matches("\"pids_stats\"")
            .count()
            >= 2
        {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.matches("\"pids_stats\"").count() >= 2,
        "two samples within 5s: {text}"
    );
    drop(sock);
    // The stream ends when the container stops.
    d.rocker_ok(&["rm", "-f", "st2"]);
    d.assert_clean(0);
}

#[test]
fn rocker_and_docker_clients_print_the_table() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = run_sleeper(&d, "st3");
    let header = [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ];
    let out = d.rocker_ok(&["stats", "--no-stream", "st3"]);
    for h in header {
        assert!(out.contains(h), "{h} in {out}");
    }
    eprintln!("rocker stats:\n{out}");
    assert!(out.contains(&id[..12]), "{out}");
    assert!(out.contains("/ 64MiB"), "{out}");

    let all = d.rocker_ok(&["stats", "--no-stream"]);
    assert!(all.contains("st3"), "{all}");

    if rocker_e2e::docker_client().is_some() {
        let out = d.docker(&["stats", "--no-stream", "st3"]);
        let text = stdout(&out);
        assert!(
            out.status.success(),
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("docker stats:\n{text}");
        assert!(text.contains("st3"), "{text}");
        assert!(text.contains("/ 64MiB"), "{text}");
        assert!(text.contains("MEM USAGE / LIMIT"), "{text}");
    }

    let out = d.rocker(&["stats", "--no-stream", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such container: nope"));
    d.rocker_ok(&["rm", "-f", "st3"]);
}

#[test]
fn python_sdk_gets_the_shape() {
    if !require_root() {
        return;
    }
    let has_module = Command::new("python3")
        .args(["-c", "import docker"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_module {
        if in_ci() {
            panic!("python3 with the docker module is required under CI");
        }
        eprintln!("skipping: python docker module not installed");
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    run_sleeper(&d, "st4");
    let script = r#"
import docker, os
c = docker.DockerClient(base_url=os.environ["ROCKER_HOST"])
s = c.containers.get("st4").stats(stream=False)
assert s["name"] == "/st4", s["name"]
assert s["memory_stats"]["limit"] == 64 * 1024 * 1024, s["memory_stats"]
assert s["pids_stats"]["current"] >= 1
assert s["cpu_stats"]["cpu_usage"]["total_usage"] > 0
assert "system_cpu_usage" in s["precpu_stats"]
print("ok")
"#;
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]).env("ROCKER_HOST", d.host());
    let out = output_with_timeout(&mut cmd, None, CMD_TIMEOUT);
    assert!(
        out.status.success() && stdout(&out).contains("ok"),
        "{} {}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    d.rocker_ok(&["rm", "-f", "st4"]);
}
