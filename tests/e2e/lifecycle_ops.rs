//! Container operations outside start/stop, end to end: pause/unpause (cgroup frozen, inspect
//! and ps, stop/kill/rm of a paused container, kept paused across a daemon restart), rename
//! and top — with Docker's errors for bad input, and the real docker client.

use std::time::Duration;

use rocker_e2e::host::read_cgroup_file;
use rocker_e2e::{
    assert_exit_code, docker_client, require_root, stderr, stdout, table_row, wait_until, Daemon,
};

/// A daemon with busybox and a running `sleep` container named `name`; returns its id.
fn run_sleeper(d: &Daemon, name: &str) -> String {
    d.rocker_ok(&["run", "-d", "--name", name, "busybox", "sleep", "1000"])
        .trim()
        .to_string()
}

fn freezer_state(d: &Daemon, id: &str) -> String {
    let pid = d.inspect(id)["State"]["Pid"].as_i64().unwrap_or(0) as i32;
    read_cgroup_file(pid, "freezer", "freezer.state")
        .or_else(|| read_cgroup_file(pid, "", "cgroup.freeze"))
        .unwrap_or_default()
}

fn is_frozen(state: &str) -> bool {
    state == "FROZEN" || state == "1"
}

#[test]
fn pause_and_unpause() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = run_sleeper(&d, "ctr");

    assert_eq!(d.rocker_ok(&["pause", "ctr"]), "ctr\n");
    let st = &d.inspect(&id)["State"];
    assert_eq!(st["Status"], "paused", "{st}");
    assert_eq!(st["Paused"], true, "{st}");
    assert_eq!(st["Running"], true, "{st}");
    assert!(is_frozen(&freezer_state(&d, &id)), "cgroup not frozen");
    let ps = d.rocker_ok(&["ps"]);
    let row = table_row(&ps, "ctr").unwrap_or_else(|| panic!("ctr not in ps:\n{ps}"));
    assert!(row.contains("(Paused)"), "{ps}");
    let info = d.api_response("GET", "/info", None).json();
    assert_eq!(info["ContainersPaused"], 1, "{info}");

    // Pausing twice, and exec into a paused container, are refused.
    let r = d.api_response("POST", &format!("/containers/{id}/pause"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is already paused"));
    let out = d.rocker(&["exec", "ctr", "true"]);
    assert!(!out.status.success(), "exec into a paused container ran");
    // Starting a paused container is refused too.
    let r = d.api_response("POST", &format!("/containers/{id}/start"), None);
    assert_eq!(r.status, 409, "{}", r.text());

    assert_eq!(d.rocker_ok(&["unpause", "ctr"]), "ctr\n");
    let st = &d.inspect(&id)["State"];
    assert_eq!(st["Status"], "running", "{st}");
    assert_eq!(st["Paused"], false, "{st}");
    assert!(!is_frozen(&freezer_state(&d, &id)));
    assert_eq!(d.rocker_ok(&["exec", "ctr", "echo", "ok"]), "ok\n");

    let r = d.api_response("POST", &format!("/containers/{id}/unpause"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not paused"));
    let out = d.rocker(&["unpause", "ctr"]);
    assert_exit_code(&out, 1, "unpause of a running container");
    assert_eq!(
        stderr(&out).trim(),
        format!("Error response from daemon: Container {id} is not paused")
    );

    // Stop of a paused container thaws it first, then stops it.
    d.rocker_ok(&["pause", "ctr"]);
    d.rocker_ok(&["stop", "-t", "1", "ctr"]);
    let st = &d.inspect(&id)["State"];
    assert_eq!(st["Status"], "exited", "{st}");
    assert_eq!(st["Paused"], false, "{st}");

    // Bad input: pause/unpause of a stopped container, and of a missing one.
    let r = d.api_response("POST", &format!("/containers/{id}/pause"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not running"));
    let out = d.rocker(&["pause", "ctr"]);
    assert_exit_code(&out, 1, "pause of a stopped container");
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
    let r = d.api_response("POST", &format!("/containers/{id}/unpause"), None);
    assert_eq!(r.status, 409);
    let r = d.api_response("POST", "/containers/nope/pause", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No such container: nope");

    // Kill of a paused container works; rm refuses a paused container without force.
    let id2 = run_sleeper(&d, "ctr2");
    d.rocker_ok(&["pause", "ctr2"]);
    d.rocker_ok(&["kill", "ctr2"]);
    let st = d.wait_not_running(&id2, Duration::from_secs(20));
    assert_eq!(st["State"]["ExitCode"], 137, "{st}");
    assert_eq!(st["State"]["Status"], "exited");

    let id3 = run_sleeper(&d, "ctr3");
    d.rocker_ok(&["pause", "ctr3"]);
    let r = d.api_response("DELETE", &format!("/containers/{id3}"), None);
    assert_eq!(r.status, 409);
    assert_eq!(
        r.message(),
        format!("You cannot remove a paused container {id3}. Unpause and then stop the container before attempting removal or force remove")
    );
    d.rocker_ok(&["rm", "-f", "ctr3"]);
    d.rocker_ok(&["rm", "ctr", "ctr2"]);
    d.assert_clean(0);
}

#[test]
fn paused_container_stays_paused_across_daemon_restart() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    let id = run_sleeper(&d, "ctr");
    d.rocker_ok(&["pause", "ctr"]);
    d.restart();
    let st = &d.inspect(&id)["State"];
    assert_eq!(st["Status"], "paused", "{st}");
    assert_eq!(st["Paused"], true, "{st}");
    assert!(is_frozen(&freezer_state(&d, &id)));
    d.rocker_ok(&["unpause", "ctr"]);
    assert_eq!(d.inspect(&id)["State"]["Status"], "running");
    assert_eq!(d.rocker_ok(&["exec", "ctr", "echo", "ok"]), "ok\n");
    d.rocker_ok(&["rm", "-f", "ctr"]);
    d.assert_clean(0);
}

#[test]
fn rename_containers() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    let a = d
        .rocker_ok(&["create", "--name", "alpha", "busybox", "true"])
        .trim()
        .to_string();
    let b = d
        .rocker_ok(&["create", "--name", "beta", "busybox", "true"])
        .trim()
        .to_string();

    assert_eq!(d.rocker_ok(&["rename", "alpha", "gamma"]), "");
    assert_eq!(d.inspect(&a)["Name"], "/gamma");
    let r = d.api_response("GET", "/containers/alpha/json", None);
    assert_eq!(r.status, 404);
    // The old name is free again.
    d.rocker_ok(&["create", "--name", "alpha", "busybox", "true"]);

    // Bad input: a taken name, an invalid name, an empty name, the same name, no container.
    let r = d.api_response("POST", "/containers/gamma/rename?name=beta", None);
    assert_eq!(r.status, 409);
    assert_eq!(
        r.message(),
        format!("Error when allocating new name: Conflict. The container name \"/beta\" is already in use by container \"{b}\". You have to remove (or rename) that container to be able to reuse that name.")
    );
    let out = d.rocker(&["rename", "gamma", "beta"]);
    assert_exit_code(&out, 1, "rename to a taken name");
    assert!(
        stderr(&out).contains("is already in use"),
        "{}",
        stderr(&out)
    );
    let r = d.api_response("POST", "/containers/gamma/rename?name=bad%20name!", None);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.message(),
        "Error when allocating new name: Invalid container name (/bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    );
    let r = d.api_response("POST", "/containers/gamma/rename", None);
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "Neither old nor new names may be empty");
    let r = d.api_response("POST", "/containers/gamma/rename?name=gamma", None);
    assert_eq!(r.status, 400);
    let r = d.api_response("POST", "/containers/nope/rename?name=x1", None);
    assert_eq!(r.status, 404);
    assert_eq!(d.inspect(&a)["Name"], "/gamma");
    assert_eq!(d.inspect(&b)["Name"], "/beta");

    // A running container can be renamed; the name survives a daemon restart.
    d.rocker_ok(&["start", "gamma"]);
    d.rocker_ok(&["rename", "gamma", "renamed"]);
    d.restart();
    assert_eq!(d.inspect(&a)["Name"], "/renamed");
    assert_eq!(d.inspect("renamed")["Id"], a.as_str());
}

#[test]
fn top_lists_the_container_processes() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = d
        .rocker_ok(&[
            "run",
            "-d",
            "--name",
            "ctr",
            "busybox",
            "sh",
            "-c",
            "sleep 1000 & sleep 2000",
        ])
        .trim()
        .to_string();
    assert!(wait_until(Duration::from_secs(10), || {
        d.rocker_ok(&["top", "ctr"]).contains("sleep 1000")
    }));

    let out = d.rocker_ok(&["top", "ctr"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        header,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{out}"
    );
    // sh execs its last command: the container holds exactly the two sleeps.
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows.iter().any(|r| r.ends_with("sleep 2000")), "{out}");
    assert!(rows.iter().any(|r| r.ends_with("sleep 1000")), "{out}");
    // Host processes are not listed.
    assert!(!out.contains("rockerd"), "{out}");

    // ps options pass through, both on the CLI and the API.
    let out = d.rocker_ok(&["top", "ctr", "-o", "pid,args"]);
    assert!(out.starts_with("PID"), "{out}");
    assert!(
        out.lines().next().unwrap_or("").ends_with("COMMAND"),
        "{out}"
    );
    let r = d.api_response(
        "GET",
        &format!("/containers/{id}/top?ps_args=-o%20pid,args"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let top = r.json();
    assert_eq!(top["Titles"], serde_json::json!(["PID", "COMMAND"]));
    let procs = top["Processes"].as_array().cloned().unwrap_or_default();
    assert_eq!(procs.len(), 2, "{top}");
    let pid = d.inspect(&id)["State"]["Pid"]
        .as_i64()
        .unwrap_or(0)
        .to_string();
    assert!(procs.iter().any(|p| p[0] == pid.as_str()), "{top}");

    // A paused container can still be listed.
    d.rocker_ok(&["pause", "ctr"]);
    assert!(d.rocker_ok(&["top", "ctr"]).contains("sleep 2000"));
    d.rocker_ok(&["unpause", "ctr"]);

    // Bad input: top of a stopped container, a bad ps option.
    let r = d.api_response(
        "GET",
        &format!("/containers/{id}/top?ps_args=--no-such-option"),
        None,
    );
    assert_eq!(r.status, 500, "{}", r.text());
    d.rocker_ok(&["kill", "ctr"]);
    d.wait_not_running(&id, Duration::from_secs(20));
    let r = d.api_response("GET", &format!("/containers/{id}/top"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not running"));
    let out = d.rocker(&["top", "ctr"]);
    assert_exit_code(&out, 1, "top of a stopped container");
    assert_eq!(
        stderr(&out).trim(),
        format!("Error response from daemon: Container {id} is not running")
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn docker_client_pause_rename_top() {
    if !require_root() || docker_client().is_none() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = run_sleeper(&d, "ctr");

    assert_eq!(d.docker_ok(&["pause", "ctr"]).trim(), "ctr");
    assert_eq!(
        d.docker_ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Paused}}",
            "ctr"
        ])
        .trim(),
        "paused true"
    );
    let ps = d.docker_ok(&["ps"]);
    assert!(
        table_row(&ps, "ctr").is_some_and(|r| r.contains("(Paused)")),
        "{ps}"
    );
    assert_eq!(d.docker_ok(&["unpause", "ctr"]).trim(), "ctr");
    let out = d.docker(&["unpause", "ctr"]);
    assert_exit_code(&out, 1, "docker unpause of a running container");
    assert!(stderr(&out).contains("is not paused"), "{}", stderr(&out));

    d.docker_ok(&["rename", "ctr", "other"]);
    assert_eq!(
        d.docker_ok(&["inspect", "-f", "{{.Name}}", &id]).trim(),
        "/other"
    );

    let top = d.docker_ok(&["top", "other"]);
    assert!(top.starts_with("UID"), "{top}");
    assert!(top.contains("sleep 1000"), "{top}");
    let top = d.docker_ok(&["top", "other", "-o", "pid,args"]);
    assert!(top.starts_with("PID"), "{top}");
    // docker's own table formatting matches ours.
    assert_eq!(top, d.rocker_ok(&["top", "other", "-o", "pid,args"]));

    d.docker_ok(&["rm", "-f", "other"]);
    d.assert_clean(0);
}

/// Polls inspect until `f` holds; returns the last inspect JSON.
fn wait_inspect(
    d: &Daemon,
    id: &str,
    timeout: Duration,
    what: &str,
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    let ok = wait_until(timeout, || {
        last = d.inspect(id);
        f(&last)
    });
    assert!(ok, "{what}: {last}\n{}", d.log_tail(20));
    last
}

fn exited_for_good(v: &serde_json::Value) -> bool {
    v["State"]["Status"] == "exited" && v["State"]["Restarting"] == false
}

#[test]
fn restart_policies() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    // on-failure:2 restarts a failing container twice, then leaves it exited.
    let id = d
        .rocker_ok(&[
            "run",
            "-d",
            "--restart",
            "on-failure:2",
            "busybox",
            "sh",
            "-c",
            "exit 3",
        ])
        .trim()
        .to_string();
    let v = wait_inspect(&d, &id, Duration::from_secs(20), "on-failure:2", |v| {
        v["RestartCount"] == 2 && exited_for_good(v)
    });
    assert_eq!(v["State"]["ExitCode"], 3, "{v}");
    assert_eq!(v["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(v["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 2);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(d.inspect(&id)["RestartCount"], 2);

    // on-failure does not restart a clean exit; "no" restarts nothing.
    let ok = d
        .rocker_ok(&["run", "-d", "--restart", "on-failure", "busybox", "true"])
        .trim()
        .to_string();
    let no = d
        .rocker_ok(&[
            "run",
            "-d",
            "--restart",
            "no",
            "busybox",
            "sh",
            "-c",
            "exit 1",
        ])
        .trim()
        .to_string();
    for c in [&ok, &no] {
        wait_inspect(&d, c, Duration::from_secs(10), "exit", exited_for_good);
    }
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(d.inspect(&ok)["RestartCount"], 0);
    assert_eq!(d.inspect(&no)["RestartCount"], 0);

    // always restarts even a clean exit, with a growing back-off; a user stop ends it.
    let id = d
        .rocker_ok(&[
            "run",
            "-d",
            "--name",
            "always",
            "--restart",
            "always",
            "busybox",
            "sh",
            "-c",
            "echo tick",
        ])
        .trim()
        .to_string();
    wait_inspect(&d, &id, Duration::from_secs(20), "always restarts", |v| {
        v["RestartCount"].as_i64().unwrap_or(0) >= 3
    });
    // Between runs it shows as restarting (the back-off has grown past a second by now).
    wait_inspect(&d, &id, Duration::from_secs(20), "restarting", |v| {
        v["State"]["Restarting"] == true && v["State"]["Status"] == "restarting"
    });
    let logs = d.rocker_ok(&["logs", "always"]);
    assert!(logs.matches("tick").count() >= 3, "{logs}");
    d.rocker_ok(&["stop", "always"]);
    let v = wait_inspect(&d, &id, Duration::from_secs(20), "stopped", exited_for_good);
    let count = v["RestartCount"].clone();
    std::thread::sleep(Duration::from_secs(2));
    let v = d.inspect(&id);
    assert_eq!(v["RestartCount"], count, "restarted after a user stop: {v}");
    assert!(exited_for_good(&v), "{v}");
    // A user start counts from zero again.
    d.rocker_ok(&["start", "always"]);
    wait_inspect(
        &d,
        &id,
        Duration::from_secs(20),
        "restart after start",
        |v| v["RestartCount"].as_i64().unwrap_or(0) >= 1,
    );
    d.rocker_ok(&["rm", "-f", "always"]);

    // A user kill of an unless-stopped container stops it for good.
    let id = d
        .rocker_ok(&[
            "run",
            "-d",
            "--restart",
            "unless-stopped",
            "busybox",
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    d.rocker_ok(&["kill", &id]);
    wait_inspect(&d, &id, Duration::from_secs(20), "killed", exited_for_good);
    std::thread::sleep(Duration::from_millis(800));
    let v = d.inspect(&id);
    assert!(exited_for_good(&v), "{v}");
    assert_eq!(v["RestartCount"], 0, "{v}");

    // Bad input: an unknown policy, and a policy with --rm.
    let out = d.rocker(&["run", "-d", "--restart", "sometimes", "busybox", "true"]);
    assert!(!out.status.success());
    let body = br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}"#;
    let r = d.api_response("POST", "/containers/create", Some(body));
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn restart_policies_on_daemon_start() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    let run = |name: &str, policy: &str| {
        d.rocker_ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--restart",
            policy,
            "busybox",
            "sleep",
            "1000",
        ])
        .trim()
        .to_string()
    };
    let always_stopped = run("always-stopped", "always");
    let unless_stopped = run("unless-stopped", "unless-stopped");
    let always_killed = run("always-killed", "always");
    let none = run("none", "no");
    d.rocker_ok(&[
        "stop",
        "-t",
        "1",
        "always-stopped",
        "unless-stopped",
        "none",
    ]);

    // The daemon goes away; meanwhile a container dies without a user asking.
    d.stop();
    let pid = {
        let dir = d.exec_root().join("shims").join(&always_killed);
        assert!(dir.exists(), "no shim dir for {always_killed}");
        rocker_e2e::host::pids_in_cgroup_parent(d.cgroup_parent())
    };
    assert!(!pid.is_empty());
    for p in &pid {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(p.to_string())
            .status();
    }
    d.restart();

    // always: running again (also the one a user stopped, as Docker does); unless-stopped
    // stopped by a user stays stopped, as does "no".
    for id in [&always_stopped, &always_killed] {
        wait_inspect(
            &d,
            id,
            Duration::from_secs(20),
            "restarted on daemon start",
            |v| v["State"]["Status"] == "running",
        );
    }
    for id in [&unless_stopped, &none] {
        let v = d.inspect(id);
        assert!(exited_for_good(&v), "{v}");
    }
    d.rocker_ok(&[
        "rm",
        "-f",
        "always-stopped",
        "always-killed",
        "unless-stopped",
        "none",
    ]);
    d.assert_clean(0);
}
