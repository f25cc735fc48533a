//! `restart` and `update` end to end: a restart stops with the timeout and starts again
//! (new pid, Docker's `restart` event); an update changes a running container's cgroup at
//! once, shows in inspect and survives a restart; Docker's errors for bad input and the
//! kernel's EBUSY; and the same through the docker CLI and the Python SDK.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use rocker_e2e::host::read_cgroup_file;
use rocker_e2e::{
    assert_exit_code, in_ci, output_with_timeout, require_root, stderr, stdout, Daemon, CMD_TIMEOUT,
};

fn pid(d: &Daemon, name: &str) -> i32 {
    d.inspect(name)["State"]["Pid"].as_i64().unwrap_or(0) as i32
}

fn mem_limit(d: &Daemon, name: &str) -> String {
    let p = pid(d, name);
    read_cgroup_file(p, "memory", "memory.limit_in_bytes")
        .or_else(|| read_cgroup_file(p, "", "memory.max"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

#[test]
fn restart_stops_and_starts() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&["run", "-d", "--name", "rs1", "busybox", "sleep", "1000"]);
    let id = d.inspect("rs1")["Id"].as_str().unwrap().to_string();
    let before = pid(&d, "rs1");
    assert_eq!(d.rocker_ok(&["restart", "-t", "1", "rs1"]), "rs1\n");
    let st = &d.inspect("rs1")["State"];
    assert_eq!(st["Status"], "running", "{st}");
    assert_ne!(pid(&d, "rs1"), before);

    // A stopped container is just started; the API with t and signal.
    d.rocker_ok(&["stop", "-t", "0", "rs1"]);
    let r = d.api_response("POST", "/containers/rs1/restart?t=0&signal=SIGKILL", None);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(d.inspect("rs1")["State"]["Running"], true);
    let r = d.api_response("POST", "/containers/rs1/restart?signal=NOPE", None);
    assert_eq!(r.status, 400, "{}", r.text());
    let r = d.api_response("POST", "/containers/nosuch/restart", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No such container: nosuch");
    let out = d.rocker(&["restart", "nosuch"]);
    assert_exit_code(&out, 1, "restart of a missing container");
    assert!(stderr(&out).contains("No such container: nosuch"));

    // Events: kill, die, stop, start, restart (as Docker).
    let until = now();
    let (status, body) = d.api("GET", &format!("/events?since=0&until={until}"), None);
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&body);
    let restarts = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["Action"] == "restart" && e["id"] == id.as_str())
        .count();
    assert_eq!(restarts, 2, "{text}");

    // The docker client.
    assert_eq!(d.docker_ok(&["restart", "-t", "0", "rs1"]), "rs1\n");
    assert_eq!(d.inspect("rs1")["State"]["Running"], true);
    d.rocker_ok(&["rm", "-f", "rs1"]);

    // An auto-remove container survives its restart (and is still auto-removed later).
    d.rocker_ok(&[
        "run", "-d", "--rm", "--name", "rs2", "busybox", "sleep", "1000",
    ]);
    d.rocker_ok(&["restart", "-t", "0", "rs2"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let st = &d.inspect("rs2");
    assert_eq!(st["State"]["Running"], true, "{st}");
    assert_eq!(st["HostConfig"]["AutoRemove"], true);
    d.rocker_ok(&["stop", "-t", "0", "rs2"]);
    let gone = rocker_e2e::wait_until(std::time::Duration::from_secs(10), || {
        d.api_response("GET", "/containers/rs2/json", None).status == 404
    });
    assert!(gone, "rs2 not auto-removed after its stop");
}

#[test]
fn update_changes_the_cgroup_live() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&["run", "-d", "--name", "up1", "busybox", "sleep", "1000"]);
    assert_eq!(d.rocker_ok(&["update", "-m", "64m", "up1"]), "up1\n");
    assert_eq!(mem_limit(&d, "up1"), (64u64 << 20).to_string());
    let hc = &d.inspect("up1")["HostConfig"];
    assert_eq!(hc["Memory"], 64i64 << 20, "{hc}");

    d.rocker_ok(&[
        "update",
        "--cpus",
        "0.5",
        "--pids-limit",
        "77",
        "--cpu-shares",
        "512",
        "--restart",
        "on-failure:2",
        "up1",
    ]);
    let p = pid(&d, "up1");
    let quota = read_cgroup_file(p, "cpu", "cpu.cfs_quota_us")
        .or_else(|| read_cgroup_file(p, "", "cpu.max"))
        .unwrap_or_default();
    assert!(quota.trim().starts_with("50000"), "{quota}");
    let pids = read_cgroup_file(p, "pids", "pids.max").unwrap_or_default();
    assert_eq!(pids.trim(), "77");
    let hc = d.inspect("up1")["HostConfig"].clone();
    assert_eq!(hc["NanoCpus"], 500_000_000, "{hc}");
    assert_eq!(hc["PidsLimit"], 77, "{hc}");
    assert_eq!(hc["CpuShares"], 512, "{hc}");
    assert_eq!(hc["RestartPolicy"]["Name"], "on-failure", "{hc}");
    assert_eq!(hc["RestartPolicy"]["MaximumRetryCount"], 2, "{hc}");

    // A restart (and a daemon restart) keeps the new values.
    d.rocker_ok(&["restart", "-t", "0", "up1"]);
    assert_eq!(mem_limit(&d, "up1"), (64u64 << 20).to_string());
    let mut d = d;
    d.restart();
    assert_eq!(d.inspect("up1")["HostConfig"]["Memory"], 64i64 << 20);

    // A stopped container is updated in its record only; the start applies it.
    d.rocker_ok(&["stop", "-t", "0", "up1"]);
    d.rocker_ok(&["update", "-m", "48m", "up1"]);
    d.rocker_ok(&["start", "up1"]);
    assert_eq!(mem_limit(&d, "up1"), (48u64 << 20).to_string());

    // The docker CLI.
    assert_eq!(d.docker_ok(&["update", "--memory", "96m", "up1"]), "up1\n");
    assert_eq!(mem_limit(&d, "up1"), (96u64 << 20).to_string());
    d.docker_ok(&["update", "--restart", "always", "--pids-limit", "50", "up1"]);
    let hc = d.inspect("up1")["HostConfig"].clone();
    assert_eq!(hc["RestartPolicy"]["Name"], "always", "{hc}");
    assert_eq!(hc["PidsLimit"], 50, "{hc}");
    assert_eq!(hc["Memory"], 96i64 << 20, "{hc}");

    // The Python SDK.
    let has_module = Command::new("python3")
        .args(["-c", "import docker"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if has_module {
        let script = r#"
import docker, os
c = docker.DockerClient(base_url=os.environ["ROCKER_HOST"])
ctr = c.containers.get("up1")
r = ctr.update(mem_limit="128m")
assert r.get("Warnings") in (None, []), r
ctr.reload()
assert ctr.attrs["HostConfig"]["Memory"] == 128 * 1024 * 1024, ctr.attrs["HostConfig"]
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
        assert_eq!(mem_limit(&d, "up1"), (128u64 << 20).to_string());
    } else {
        assert!(
            !in_ci(),
            "python3 with the docker module is required under CI"
        );
    }
    d.rocker_ok(&["rm", "-f", "up1"]);
}

#[test]
fn update_errors() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&["run", "-d", "--name", "ue1", "busybox", "sleep", "1000"]);
    let id = d.inspect("ue1")["Id"].as_str().unwrap().to_string();

    let r = d.api_response(
        "POST",
        "/containers/ue1/update",
        Some(br#"{"Memory": 67108864, "MemorySwap": 33554432}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.message(),
        "Minimum memoryswap limit should be larger than memory limit, see usage"
    );
    let out = d.rocker(&["update", "-m", "64m", "--memory-swap", "32m", "ue1"]);
    assert_exit_code(&out, 1, "update with swap below memory");
    assert!(
        stderr(&out).contains("Minimum memoryswap limit"),
        "{}",
        stderr(&out)
    );
    let r = d.api_response("POST", "/containers/nosuch/update", Some(b"{}"));
    assert_eq!(r.status, 404);
    let r = d.api_response("POST", "/containers/ue1/update", Some(b"{"));
    assert_eq!(r.status, 400);
    let out = d.rocker(&["update", "ue1"]);
    assert_exit_code(&out, 1, "update without flags");

    // --restart on an auto-remove container.
    d.rocker_ok(&[
        "run", "-d", "--rm", "--name", "ue2", "busybox", "sleep", "1000",
    ]);
    let r = d.api_response(
        "POST",
        "/containers/ue2/update",
        Some(br#"{"RestartPolicy": {"Name": "always"}}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.message().contains("AutoRemove"), "{}", r.message());
    assert_ne!(
        d.inspect("ue2")["HostConfig"]["RestartPolicy"]["Name"],
        "always"
    );

    // Memory below the current usage: the kernel's EBUSY, and nothing changes.
    d.rocker_ok(&[
        "exec",
        "ue1",
        "dd",
        "if=/dev/zero",
        "of=/dev/shm/fill",
        "bs=1M",
        "count=24",
    ]);
    let r = d.api_response(
        "POST",
        "/containers/ue1/update",
        Some(br#"{"Memory": 8388608, "MemorySwap": 8388608}"#),
    );
    assert_eq!(r.status, 500, "{}", r.text());
    let msg = r.message();
    assert!(
        msg.starts_with(&format!("Cannot update container {id}: ")),
        "{msg}"
    );
    assert!(
        msg.to_lowercase().contains("device or resource busy"),
        "{msg}"
    );
    assert_eq!(d.inspect("ue1")["HostConfig"]["Memory"], 0);
    d.rocker_ok(&["rm", "-f", "ue1", "ue2"]);
}
