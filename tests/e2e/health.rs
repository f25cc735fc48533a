//! Health checks end to end: `--health-*` flags and `--no-healthcheck`, the status going
//! starting -> healthy -> unhealthy as the probe's file appears and goes away, the log of
//! results, `health_status` events, `ps` status and `health=` filter, probe timeouts, a
//! restart of the daemon resuming the checks, and the docker CLI / Python SDK views.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rocker_e2e::{
    busybox_tar, in_ci, output_with_timeout, require_root, stdout, table_row, wait_until, Daemon,
    CMD_TIMEOUT,
};

fn now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

fn health(d: &Daemon, name: &str) -> serde_json::Value {
    d.inspect(name)["State"]["Health"].clone()
}

fn wait_status(d: &Daemon, name: &str, status: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    let ok = wait_until(Duration::from_secs(20), || {
        last = health(d, name);
        last["Status"] == status
    });
    assert!(ok, "{name} never became {status}: {last}");
    last
}

fn ps_row(d: &Daemon, name: &str) -> String {
    let ps = d.rocker_ok(&["ps"]);
    table_row(&ps, name)
        .unwrap_or_else(|| panic!("{name} not in ps:\n{ps}"))
        .to_string()
}

fn ps_names(d: &Daemon, filter: &str) -> String {
    let (k, v) = filter.split_once('=').expect("key=value");
    let f = format!("%7B%22{k}%22%3A%5B%22{v}%22%5D%7D");
    let r = d.api_response("GET", &format!("/containers/json?all=1&filters={f}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let mut out = String::new();
    for c in r.json().as_array().expect("a list") {
        out.push_str(
            c["Names"][0]
                .as_str()
                .expect("a name")
                .trim_start_matches('/'),
        );
        out.push('\n');
    }
    out
}

/// Loads busybox again as `hcimg:latest` with a HEALTHCHECK in its config.
fn load_image_with_healthcheck(d: &Daemon) {
    let out = std::env::temp_dir().join(format!("rocker-hcimg-{}.tar", std::process::id()));
    let script = r#"
import hashlib, io, json, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
files = {m.name: data for m, data in members}
manifest = json.loads(files["manifest.json"])
cfg = json.loads(files[manifest[0]["Config"]])
cfg["config"]["Healthcheck"] = {"Test": ["CMD-SHELL", "test -e /tmp/ok"],
                                "Interval": 200000000, "Retries": 1}
raw = json.dumps(cfg).encode()
name = hashlib.sha256(raw).hexdigest() + ".json"
manifest[0]["Config"] = name
manifest[0]["RepoTags"] = ["hcimg:latest"]
with tarfile.open(dst, "w") as t:
    for m, data in members:
        if m.name in ("manifest.json", "repositories") or m.name.endswith(".json") and "/" not in m.name:
            continue
        t.addfile(m, io.BytesIO(data) if data is not None else None)
    for n, data in ((name, raw), ("manifest.json", json.dumps(manifest).encode())):
        info = tarfile.TarInfo(n)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
"#;
    let st = Command::new("python3")
        .args(["-c", script])
        .arg(busybox_tar())
        .arg(&out)
        .status()
        .expect("python3");
    assert!(st.success());
    d.rocker_ok(&["load", "-i", &out.to_string_lossy()]);
    let _ = std::fs::remove_file(&out);
}

#[test]
fn image_healthcheck_applies() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    load_image_with_healthcheck(&d);
    d.rocker_ok(&["run", "-d", "--name", "ih", "hcimg", "sleep", "1000"]);
    let cfg = &d.inspect("ih")["Config"]["Healthcheck"];
    assert_eq!(
        cfg["Test"],
        serde_json::json!(["CMD-SHELL", "test -e /tmp/ok"])
    );
    wait_status(&d, "ih", "unhealthy");
    d.rocker_ok(&["exec", "ih", "touch", "/tmp/ok"]);
    wait_status(&d, "ih", "healthy");
    // Flags override the image's check; --no-healthcheck disables it.
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "ih2",
        "--health-cmd",
        "true",
        "--health-interval",
        "200ms",
        "hcimg",
        "sleep",
        "1000",
    ]);
    wait_status(&d, "ih2", "healthy");
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "ih3",
        "--no-healthcheck",
        "hcimg",
        "sleep",
        "1000",
    ]);
    assert!(d.inspect("ih3")["State"].get("Health").is_none());
    d.rocker_ok(&["rm", "-f", "ih", "ih2", "ih3"]);
}

#[test]
fn status_follows_the_probe() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "hc1",
        "--health-cmd",
        "cat /tmp/ok",
        "--health-interval",
        "300ms",
        "--health-retries",
        "2",
        "busybox",
        "sleep",
        "1000",
    ]);
    d.rocker_ok(&["run", "-d", "--name", "plain", "busybox", "sleep", "1000"]);
    let cfg = &d.inspect("hc1")["Config"]["Healthcheck"];
    assert_eq!(cfg["Test"], serde_json::json!(["CMD-SHELL", "cat /tmp/ok"]));
    assert_eq!(cfg["Interval"], 300_000_000);
    assert_eq!(cfg["Retries"], 2);
    assert!(d.inspect("plain")["State"].get("Health").is_none());

    // No file: failing, but Docker's status starts as "starting" and needs 2 failures.
    let h = health(&d, "hc1");
    assert_eq!(h["Status"], "starting", "{h}");
    assert!(ps_row(&d, "hc1").contains("(health: starting)"));
    let h = wait_status(&d, "hc1", "unhealthy");
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{h}");
    assert_eq!(log[0]["ExitCode"], 1, "{h}");
    assert!(
        log[0]["Output"].as_str().unwrap().contains("/tmp/ok"),
        "{h}"
    );
    assert!(log[0]["Start"].as_str().unwrap() <= log[0]["End"].as_str().unwrap());
    assert!(ps_row(&d, "hc1").contains("(unhealthy)"));
    assert_eq!(ps_names(&d, "health=unhealthy"), "hc1\n");
    assert_eq!(ps_names(&d, "health=none"), "plain\n");
    let r = d.api_response(
        "GET",
        "/containers/json?filters=%7B%22health%22%3A%5B%22sick%22%5D%7D",
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "Unrecognised filter value for health: sick");

    // The file appears: healthy, streak reset.
    d.rocker_ok(&["exec", "hc1", "sh", "-c", "echo fine > /tmp/ok"]);
    let h = wait_status(&d, "hc1", "healthy");
    assert_eq!(h["FailingStreak"], 0, "{h}");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], 0);
    assert_eq!(last["Output"], "fine\n");
    assert!(ps_row(&d, "hc1").contains("(healthy)"));
    assert_eq!(ps_names(&d, "health=healthy"), "hc1\n");
    // The probes' execs are not left behind.
    assert!(
        d.inspect("hc1")["ExecIDs"].is_null()
            || wait_until(Duration::from_secs(3), || {
                d.inspect("hc1")["ExecIDs"].is_null()
            })
    );

    // health_status events, in Docker's action strings.
    let until = now();
    let (status, body) = d.api(
        "GET",
        &format!("/events?since=0&until={until}&filters=%7B%22container%22%3A%5B%22hc1%22%5D%7D"),
        None,
    );
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&body);
    let actions: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["Action"].as_str().map(String::from))
        .filter(|a| a.starts_with("health_status"))
        .collect();
    assert_eq!(
        actions,
        vec!["health_status: unhealthy", "health_status: healthy"],
        "{text}"
    );

    // The probe keeps running after a daemon restart; the state was persisted.
    let mut d = d;
    d.restart();
    assert_eq!(health(&d, "hc1")["Status"], "healthy");
    d.rocker_ok(&["exec", "hc1", "rm", "/tmp/ok"]);
    wait_status(&d, "hc1", "unhealthy");

    // A stop ends the checks; a start begins again at "starting".
    // As in Docker, a stopped container's health reads "unhealthy".
    d.rocker_ok(&["exec", "hc1", "sh", "-c", "echo fine > /tmp/ok"]);
    wait_status(&d, "hc1", "healthy");
    d.rocker_ok(&["stop", "-t", "0", "hc1"]);
    wait_status(&d, "hc1", "unhealthy");
    let before = health(&d, "hc1")["Log"].clone();
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(
        health(&d, "hc1")["Log"],
        before,
        "probes ran on a stopped container"
    );
    d.rocker_ok(&["start", "hc1"]);
    assert_eq!(health(&d, "hc1")["Status"], "starting");
    d.rocker_ok(&["rm", "-f", "hc1", "plain"]);
}

#[test]
fn timeouts_start_period_and_no_healthcheck() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // A probe that outlives its timeout is killed and counts as a failure.
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 30",
        "--health-interval",
        "200ms",
        "--health-timeout",
        "300ms",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "1000",
    ]);
    let h = wait_status(&d, "slow", "unhealthy");
    let log = &h["Log"][0];
    assert_eq!(log["ExitCode"], -1, "{h}");
    assert_eq!(
        log["Output"], "Health check exceeded timeout (300ms)",
        "{h}"
    );
    // The killed probe does not linger in the container.
    let ok = wait_until(Duration::from_secs(5), || {
        !d.rocker_ok(&["top", "slow"]).contains("sleep 30")
    });
    assert!(ok, "{}", d.rocker_ok(&["top", "slow"]));

    // During the start period failures do not count.
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "sp",
        "--health-cmd",
        "false",
        "--health-interval",
        "200ms",
        "--health-start-interval",
        "100ms",
        "--health-start-period",
        "30s",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "1000",
    ]);
    let ok = wait_until(Duration::from_secs(10), || {
        health(&d, "sp")["Log"]
            .as_array()
            .is_some_and(|l| l.len() >= 3)
    });
    assert!(ok, "{}", health(&d, "sp"));
    let h = health(&d, "sp");
    assert_eq!(h["Status"], "starting", "{h}");
    assert_eq!(h["FailingStreak"], 0, "{h}");

    // --no-healthcheck: Test NONE, no Health in State.
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "nohc",
        "--no-healthcheck",
        "busybox",
        "sleep",
        "1000",
    ]);
    let ins = d.inspect("nohc");
    assert_eq!(
        ins["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    assert!(ins["State"].get("Health").is_none(), "{ins}");
    let out = d.rocker(&[
        "run",
        "--no-healthcheck",
        "--health-cmd",
        "true",
        "busybox",
        "true",
    ]);
    assert!(!out.status.success());
    d.rocker_ok(&["rm", "-f", "slow", "sp", "nohc"]);
}

#[test]
fn docker_cli_and_python_sdk_see_health() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "dh",
        "--health-cmd",
        "true",
        "--health-interval",
        "200ms",
        "busybox",
        "sleep",
        "1000",
    ]);
    let ok = wait_until(Duration::from_secs(10), || {
        d.docker_ok(&["inspect", "-f", "{{.State.Health.Status}}", "dh"]) == "healthy\n"
    });
    assert!(ok);
    let ps = d.docker_ok(&[
        "ps",
        "--filter",
        "health=healthy",
        "--format",
        "{{.Names}} {{.Status}}",
    ]);
    assert!(ps.starts_with("dh Up") && ps.contains("(healthy)"), "{ps}");

    let has_module = Command::new("python3")
        .args(["-c", "import docker"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_module {
        assert!(
            !in_ci(),
            "python3 with the docker module is required under CI"
        );
        return;
    }
    let script = r#"
import docker, os
c = docker.DockerClient(base_url=os.environ["ROCKER_HOST"])
ctr = c.containers.run("busybox", "sleep 1000", name="pyh", detach=True,
    healthcheck={"test": ["CMD", "true"], "interval": 200000000})
import time
for _ in range(100):
    ctr.reload()
    if ctr.attrs["State"]["Health"]["Status"] == "healthy":
        break
    time.sleep(0.1)
assert ctr.attrs["State"]["Health"]["Status"] == "healthy", ctr.attrs["State"]
assert ctr.health == "healthy", ctr.health
ctr.remove(force=True)
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
    d.rocker_ok(&["rm", "-f", "dh"]);
}
