//! runc-style lifecycle through the binary: create → state → start → kill → delete.
//! Needs root (see common::require_root).

mod common;

use std::time::{Duration, Instant};

use common::{require_root, stderr, stdout, Fixture};

fn state(f: &Fixture, id: &str) -> serde_json::Value {
    let out = f.cmd(&["state", id]).output().expect("state");
    assert!(out.status.success(), "state: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("json")
}

fn wait_status(f: &Fixture, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while state(f, id)["status"] != want {
        assert!(Instant::now() < deadline, "{id} never became {want}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn create_start_state_kill_delete() {
    if !require_root("create_start_state_kill_delete") {
        return;
    }
    let mut f = Fixture::new("life");
    f.set_args(&["sh", "-c", "echo started > /dev/shm/x; exec sleep 100"]);
    f.write_spec();
    // The container inherits these: files, not pipes, or waiting for EOF would hang.
    let log = f.dir.path().join("out.log");
    let err = f.dir.path().join("err.log");
    let pid_file = f.dir.path().join("pid");
    let out = f
        .cmd(&["create", "life", "--bundle"])
        .arg(f.bundle())
        .arg("--pid-file")
        .arg(&pid_file)
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(std::fs::File::create(&err).expect("err"))
        .status()
        .expect("create");
    assert!(
        out.success(),
        "create: {}",
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    let s = state(&f, "life");
    assert_eq!(s["status"], "created");
    assert_eq!(s["id"], "life");
    let pid = s["pid"].as_i64().expect("pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).expect("pid file"),
        pid.to_string()
    );
    assert_eq!(s["bundle"], f.bundle().to_str().expect("utf8"));
    // The init is in its cgroup before start.
    let procs =
        std::fs::read_to_string(f.cgroup_dirs("pids").join("c/cgroup.procs")).expect("procs");
    assert_eq!(procs.trim(), pid.to_string());
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).expect("comm");
    assert!(comm.starts_with("rocker-init"), "{comm}");

    let out = f.cmd(&["start", "life"]).output().expect("start");
    assert!(out.status.success(), "start: {}", stderr(&out));
    wait_status(&f, "life", "running");
    let out = f.cmd(&["start", "life"]).output().expect("start again");
    assert!(!out.status.success());

    let out = f.cmd(&["delete", "life"]).output().expect("delete");
    assert!(
        !out.status.success(),
        "delete of a running container must fail"
    );
    let out = f.cmd(&["kill", "life", "KILL"]).output().expect("kill");
    assert!(out.status.success(), "kill: {}", stderr(&out));
    wait_status(&f, "life", "stopped");
    let out = f.cmd(&["delete", "life"]).output().expect("delete");
    assert!(out.status.success(), "delete: {}", stderr(&out));
    assert!(!f.state_root().join("life").exists());
    assert!(!f.cgroup_dirs("memory").join("c").exists());
    let out = f.cmd(&["state", "life"]).output().expect("state");
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty());
}

#[test]
fn delete_force_kills_running_and_created() {
    if !require_root("delete_force_kills_running_and_created") {
        return;
    }
    let mut f = Fixture::new("force");
    f.set_args(&["sleep", "100"]);
    f.write_spec();
    let err = f.dir.path().join("err.log");
    let create = |id: &str| {
        let status = f
            .cmd(&["create", id, "--bundle"])
            .arg(f.bundle())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&err).expect("err"))
            .status()
            .expect("create");
        assert!(
            status.success(),
            "create: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
    };
    create("one");
    let out = f
        .cmd(&["create", "one", "--bundle"])
        .arg(f.bundle())
        .output()
        .expect("create");
    assert!(!out.status.success(), "duplicate id must fail");
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    // A created (never started) container can be deleted without --force.
    let pid = state(&f, "one")["pid"].as_i64().expect("pid");
    let out = f.cmd(&["delete", "one"]).output().expect("delete");
    assert!(out.status.success(), "delete created: {}", stderr(&out));
    assert!(
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))
    );

    create("one");
    let out = f.cmd(&["start", "one"]).output().expect("start");
    assert!(out.status.success(), "start: {}", stderr(&out));
    wait_status(&f, "one", "running");
    let out = f
        .cmd(&["delete", "--force", "one"])
        .output()
        .expect("delete");
    assert!(out.status.success(), "delete --force: {}", stderr(&out));
    assert!(!f.state_root().join("one").exists());
}

#[test]
fn failed_create_leaves_nothing_behind() {
    if !require_root("failed_create_leaves_nothing_behind") {
        return;
    }
    let mut f = Fixture::new("fail");
    f.set_args(&["nosuch-binary"]);
    f.write_spec();
    let out = f
        .cmd(&["create", "bad", "--bundle"])
        .arg(f.bundle())
        .stdout(std::process::Stdio::null())
        .output()
        .expect("create");
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("executable file not found"),
        "{}",
        stderr(&out)
    );
    assert!(!f.state_root().join("bad").exists());
    for c in ["memory", "pids", "cpu", "unified"] {
        assert!(!f.cgroup_dirs(c).exists(), "{c} cgroup left behind");
    }
}
