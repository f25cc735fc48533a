//! `exec` into a running container, end to end: output, exit codes, options (env, user,
//! workdir), the container's pid namespace, stdin, a TTY, errors (stopped container,
//! missing binary), the exec API (create/start/inspect, ExecIDs) and the real docker client.

use std::process::Command;

use rocker_e2e::{
    assert_exit_code, assert_success, docker_client, output_with_timeout, require_root, stderr,
    stdout, Daemon, CMD_TIMEOUT,
};

/// A daemon with busybox and a running container named `ctr`.
fn daemon_with_container() -> Daemon {
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&["run", "-d", "--name", "ctr", "busybox", "sleep", "1000"]);
    d
}

#[test]
fn exec_output_exit_codes_and_options() {
    if !require_root() {
        return;
    }
    let d = daemon_with_container();

    assert_eq!(d.rocker_ok(&["exec", "ctr", "echo", "hi"]), "hi\n");
    let out = d.rocker(&["exec", "ctr", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_exit_code(&out, 7, "exec exit 7");
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");

    let out = d.rocker_ok(&["exec", "-e", "FOO=bar", "ctr", "sh", "-c", "echo $FOO"]);
    assert_eq!(out, "bar\n");
    // The container's environment is inherited.
    let out = d.rocker_ok(&["exec", "ctr", "sh", "-c", "echo $PATH"]);
    assert!(out.contains("/bin"), "{out}");
    assert_eq!(
        d.rocker_ok(&["exec", "-u", "1234:5678", "ctr", "id", "-u"]),
        "1234\n"
    );
    assert_eq!(
        d.rocker_ok(&["exec", "-u", "1234:5678", "ctr", "id", "-g"]),
        "5678\n"
    );
    assert_eq!(
        d.rocker_ok(&["exec", "-u", "nobody", "ctr", "whoami"]),
        "nobody\n"
    );
    assert_eq!(d.rocker_ok(&["exec", "-w", "/etc", "ctr", "pwd"]), "/etc\n");

    // The exec'd process lives in the container's pid namespace: pid 1 is the container's.
    let ps = d.rocker_ok(&["exec", "ctr", "ps", "-o", "pid,args"]);
    let pid1 = ps
        .lines()
        .find(|l| l.split_whitespace().next() == Some("1"))
        .unwrap_or_else(|| panic!("no pid 1 in:\n{ps}"));
    assert!(pid1.contains("sleep 1000"), "{ps}");
    // ...and in its cgroup.
    let cg = d.rocker_ok(&["exec", "ctr", "cat", "/proc/self/cgroup"]);
    assert!(!cg.is_empty());
    // Hostname (uts namespace) is the container's.
    let info = d.inspect("ctr");
    let host = d.rocker_ok(&["exec", "ctr", "hostname"]);
    assert_eq!(
        host.trim(),
        info["Config"]["Hostname"].as_str().unwrap_or("?")
    );

    // stdin.
    let out = d.rocker_with_stdin(&["exec", "-i", "ctr", "cat"], Some(b"data\n"));
    assert_success(&out, "exec -i cat");
    assert_eq!(stdout(&out), "data\n");

    // A missing program: 127 with docker's message; not executable: 126.
    let out = d.rocker(&["exec", "ctr", "nosuchprog"]);
    assert_exit_code(&out, 127, "exec of a missing binary");
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        all.contains("OCI runtime exec failed")
            && all.contains("executable file not found in $PATH"),
        "{all}"
    );
    let out = d.rocker(&["exec", "ctr", "/etc"]);
    assert_exit_code(&out, 126, "exec of a directory");

    // Detached exec leaves a process behind in the container.
    d.rocker_ok(&[
        "exec",
        "-d",
        "ctr",
        "sh",
        "-c",
        "echo x > /tmp/detached; sleep 1000",
    ]);
    assert!(rocker_e2e::wait_until(
        std::time::Duration::from_secs(10),
        || {
            d.rocker(&["exec", "ctr", "cat", "/tmp/detached"])
                .status
                .success()
        }
    ));

    // Only execs that have not exited are listed, as Docker does.
    let ids = d.inspect("ctr")["ExecIDs"].clone();
    assert_eq!(ids.as_array().map(Vec::len), Some(1), "{ids}");

    // --privileged gives the exec every capability the host has.
    let caps = |args: &[&str]| {
        let mut all = vec!["exec"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["ctr", "grep", "CapEff", "/proc/self/status"]);
        d.rocker_ok(&all)
    };
    let (plain, privileged) = (caps(&[]), caps(&["--privileged"]));
    assert_ne!(plain, privileged);
    assert!(plain.contains("00000000a80425fb"), "{plain}");

    // The container stops promptly despite a running exec.
    d.rocker_ok(&["kill", "ctr"]);
    let info = d.wait_not_running("ctr", std::time::Duration::from_secs(10));
    assert_eq!(info["State"]["Running"], false);
}

#[test]
fn exec_api_and_errors() {
    if !require_root() {
        return;
    }
    let d = daemon_with_container();
    let id = d.inspect("ctr")["Id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let body = br#"{"AttachStdout":true,"AttachStderr":true,"Cmd":["sh","-c","exit 3"]}"#;
    let r = d.api_response("POST", "/containers/ctr/exec", Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    let exec_id = r.json()["Id"].as_str().unwrap_or_default().to_string();
    assert_eq!(exec_id.len(), 64);
    assert_eq!(d.inspect("ctr")["ExecIDs"][0], exec_id.as_str());
    let r = d.api_response("GET", &format!("/exec/{exec_id}/json"), None);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["Running"], false);
    assert!(j["ExitCode"].is_null(), "{j}");
    assert_eq!(j["ContainerID"], id.as_str());
    assert_eq!(j["ProcessConfig"]["entrypoint"], "sh");
    assert_eq!(j["ProcessConfig"]["arguments"][1], "exit 3");
    let r = d.api_response(
        "POST",
        &format!("/exec/{exec_id}/start"),
        Some(br#"{"Detach":true}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(rocker_e2e::wait_until(
        std::time::Duration::from_secs(10),
        || {
            let j = d
                .api_response("GET", &format!("/exec/{exec_id}/json"), None)
                .json();
            j["ExitCode"] == 3 && j["Running"] == false
        }
    ));
    assert!(d.inspect("ctr")["ExecIDs"].is_null());
    // Starting twice is a conflict.
    let r = d.api_response(
        "POST",
        &format!("/exec/{exec_id}/start"),
        Some(br#"{"Detach":true}"#),
    );
    assert_eq!(r.status, 409);

    // A detached exec runs in the container's cgroup (seen from the host).
    let r = d.api_response(
        "POST",
        "/containers/ctr/exec",
        Some(br#"{"Cmd":["sleep","1000"]}"#),
    );
    let sleeper = r.json()["Id"].as_str().unwrap_or_default().to_string();
    let r = d.api_response(
        "POST",
        &format!("/exec/{sleeper}/start"),
        Some(br#"{"Detach":true}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let j = d
        .api_response("GET", &format!("/exec/{sleeper}/json"), None)
        .json();
    assert_eq!(j["Running"], true, "{j}");
    let pid = j["Pid"]
        .as_i64()
        .and_then(|p| i32::try_from(p).ok())
        .unwrap_or(0);
    let pids = rocker_e2e::host::pids_in_cgroup_parent(d.cgroup_parent());
    assert!(pids.contains(&pid), "exec pid {pid} not in {pids:?}");

    // Unknown container / exec.
    let r = d.api_response(
        "POST",
        "/containers/nosuch/exec",
        Some(br#"{"Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 404);
    let r = d.api_response("GET", "/exec/nosuch/json", None);
    assert_eq!(r.status, 404);
    assert!(
        r.message().contains("No such exec instance"),
        "{}",
        r.message()
    );
    // No command.
    let r = d.api_response("POST", "/containers/ctr/exec", Some(br#"{"Cmd":[]}"#));
    assert_eq!(r.status, 400);

    // A stopped container: 409 and the CLI exits 1 with docker's message.
    d.rocker_ok(&["kill", "ctr"]);
    d.wait_not_running("ctr", std::time::Duration::from_secs(10));
    let r = d.api_response("POST", "/containers/ctr/exec", Some(br#"{"Cmd":["true"]}"#));
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not running"));
    let out = d.rocker(&["exec", "ctr", "echo", "hi"]);
    assert_exit_code(&out, 1, "exec in a stopped container");
    assert!(
        stderr(&out).contains(&format!(
            "Error response from daemon: Container {id} is not running"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exec_with_a_tty() {
    if !require_root() {
        return;
    }
    let d = daemon_with_container();
    // `script` gives the CLI a terminal; the exec gets its own pty inside the container.
    let cmdline = format!(
        "{} -H {} exec -it ctr sh -c 'tty; exit 5'",
        rocker_e2e::bin_dir().join("rocker").display(),
        d.host()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &cmdline, "/dev/null"]);
    let out = output_with_timeout(&mut cmd, Some(b""), CMD_TIMEOUT);
    let text = stdout(&out);
    assert!(
        text.contains("/dev/pts/"),
        "tty output: {text:?} {}",
        stderr(&out)
    );
    assert_exit_code(&out, 5, "exec -it exit code");
}

#[test]
fn docker_client_exec() {
    if !require_root() {
        return;
    }
    let Some(docker) = docker_client() else {
        return;
    };
    let d = daemon_with_container();
    assert_eq!(d.docker_ok(&["exec", "ctr", "echo", "hi"]), "hi\n");
    let out = d.docker(&["exec", "ctr", "sh", "-c", "exit 7"]);
    assert_exit_code(&out, 7, "docker exec exit 7");
    let out = d.docker(&["exec", "ctr", "nosuchprog"]);
    assert_exit_code(&out, 127, "docker exec of a missing binary");

    let config = d.root().join("docker-config");
    let _ = std::fs::create_dir_all(&config);
    let mut cmd = Command::new(docker);
    cmd.arg("-H")
        .arg(d.host())
        .args(["exec", "-i", "ctr", "cat"])
        .env("DOCKER_CONFIG", &config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_API_VERSION");
    let out = output_with_timeout(&mut cmd, Some(b"data\n"), CMD_TIMEOUT);
    assert_success(&out, "docker exec -i cat");
    assert_eq!(stdout(&out), "data\n");

    let out = d.docker_ok(&[
        "exec",
        "-u",
        "nobody",
        "-w",
        "/tmp",
        "ctr",
        "sh",
        "-c",
        "whoami; pwd",
    ]);
    assert_eq!(out, "nobody\n/tmp\n");

    // A tty exec through the real client, under `script` for a terminal.
    let cmdline = format!(
        "DOCKER_CONFIG={} {} -H {} exec -it ctr sh -c 'tty; exit 4'",
        config.display(),
        docker_client().unwrap_or_default().display(),
        d.host()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &cmdline, "/dev/null"]);
    let out = output_with_timeout(&mut cmd, Some(b""), CMD_TIMEOUT);
    assert!(stdout(&out).contains("/dev/pts/"), "{}", stdout(&out));
    assert_exit_code(&out, 4, "docker exec -it exit code");
}
