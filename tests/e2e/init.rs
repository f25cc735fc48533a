//! `--init` (HostConfig.Init): Rocker's static init runs as PID 1 at /sbin/docker-init,
//! forwards signals (so `stop` is quick), reaps orphans, passes the command's exit code on,
//! and is a read-only file the container cannot change; through rocker, docker and the
//! Python SDK, and as the daemon default (`rockerd --init`).

use std::time::{Duration, Instant};

use rocker_e2e::{assert_exit_code, require_root, stderr, stdout, Daemon};

/// (pid, comm) rows of busybox `ps -o pid,comm`.
fn ps_rows(out: &str) -> Vec<(u32, String)> {
    out.lines()
        .skip(1)
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let pid = it.next()?.parse().ok()?;
            Some((pid, it.next()?.to_string()))
        })
        .collect()
}

fn assert_init_is_pid1(out: &str, cmd: &str) {
    let rows = ps_rows(out);
    assert!(
        rows.contains(&(1, "docker-init".to_string())),
        "pid 1 should be docker-init:\n{out}"
    );
    assert!(
        rows.iter().any(|(pid, c)| *pid != 1 && c == cmd),
        "{cmd} should run as another pid:\n{out}"
    );
}

#[test]
fn init_is_pid1_and_passes_exit_code() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker_ok(&["run", "--rm", "--init", "busybox", "ps", "-o", "pid,comm"]);
    assert_init_is_pid1(&out, "ps");

    // Without --init the command itself is PID 1.
    let out = d.rocker_ok(&["run", "--rm", "busybox", "ps", "-o", "pid,comm"]);
    assert!(
        ps_rows(&out).contains(&(1, "ps".to_string())),
        "without --init ps is pid 1:\n{out}"
    );

    let out = d.rocker(&[
        "run", "--name", "ex7", "--init", "busybox", "sh", "-c", "exit 7",
    ]);
    assert_exit_code(&out, 7, "run --init sh -c 'exit 7'");
    let info = d.inspect("ex7");
    assert_eq!(info["State"]["ExitCode"], 7);
    assert_eq!(info["HostConfig"]["Init"], true);
    assert_eq!(info["Path"], "sh", "Path stays the user's command");

    // A command that does not exist: the init reports it and exits 127.
    let out = d.rocker(&["run", "--rm", "--init", "busybox", "/nonexistent"]);
    assert_exit_code(&out, 127, "run --init /nonexistent");
    assert!(
        stderr(&out).contains("rocker-init: exec /nonexistent failed"),
        "stderr: {}",
        stderr(&out)
    );

    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "/sbin/docker-init",
        "--version",
    ]);
    assert!(out.starts_with("rocker-init version"), "{out}");
    d.rocker_ok(&["rm", "ex7"]);
    d.assert_clean(0);
}

#[test]
fn stop_is_forwarded_and_zombies_are_reaped() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&[
        "run", "-d", "--name", "sl", "--init", "busybox", "sleep", "100",
    ]);
    let t = Instant::now();
    d.rocker_ok(&["stop", "-t", "10", "sl"]);
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "SIGTERM should reach sleep through the init; stop took {took:?}"
    );
    let info = d.inspect("sl");
    assert_eq!(info["State"]["Running"], false);
    assert_eq!(info["State"]["ExitCode"], 143, "128+SIGTERM");

    // An orphan re-parented to PID 1 exits while the command runs on: the init reaps it.
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "(sleep 0.2 &); sleep 1; ps -o pid,ppid,stat,comm",
    ]);
    assert!(out.contains("STAT"), "{out}");
    assert!(
        !out.lines().skip(1).any(|l| l
            .split_whitespace()
            .nth(2)
            .is_some_and(|s| s.starts_with('Z'))),
        "zombie left behind:\n{out}"
    );
    d.rocker_ok(&["rm", "sl"]);
    d.assert_clean(0);
}

#[test]
fn init_file_is_read_only_and_host_copy_untouched() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let host = d.data_root().join("bin").join("rocker-init");
    let before = std::fs::read(&host).expect("daemon installs the init");
    let out = d.rocker(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "echo junk > /sbin/docker-init && echo wrote",
    ]);
    assert!(
        !out.status.success(),
        "writing the init must fail: {}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("wrote"));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "stderr: {}",
        stderr(&out)
    );
    let out = d.rocker(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "rm",
        "-f",
        "/sbin/docker-init",
    ]);
    assert!(!out.status.success(), "removing the init must fail");
    assert_eq!(std::fs::read(&host).unwrap(), before, "host copy changed");
    // /proc/1/exe is the read-only mount, not a host binary, and cannot be written through.
    let out = d.rocker(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "readlink /proc/1/exe; echo junk > /proc/1/exe && echo wrote",
    ]);
    assert_eq!(stdout(&out).trim(), "/sbin/docker-init", "{}", stderr(&out));
    assert_eq!(std::fs::read(&host).unwrap(), before, "host copy changed");
    // With a terminal the command's process group is the foreground one (fields 5 and 8
    // of /proc/self/stat: pgrp and tpgid).
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "-t",
        "--init",
        "busybox",
        "cat",
        "/proc/self/stat",
    ]);
    let f: Vec<&str> = out.split_whitespace().collect();
    assert!(f.len() > 8, "{out}");
    assert_eq!(f[4], f[7], "command should own the terminal: {out}");
    assert_ne!(f[4], "1", "command gets its own process group: {out}");
    // A read-only root file system and a non-root user still get the init.
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--init",
        "--read-only",
        "--user",
        "1000:1000",
        "busybox",
        "ps",
        "-o",
        "pid,user,comm",
    ]);
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "1000", "docker-init"]),
        "{out}"
    );
    d.assert_clean(0);
}

#[test]
fn docker_cli_and_python_sdk() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.docker_ok(&["run", "--rm", "--init", "busybox", "ps", "-o", "pid,comm"]);
    assert_init_is_pid1(&out, "ps");
    let out = d.docker(&[
        "run", "--init", "--name", "dk", "busybox", "sh", "-c", "exit 5",
    ]);
    assert_exit_code(&out, 5, "docker run --init");
    let init = d.docker_ok(&["inspect", "-f", "{{.HostConfig.Init}}", "dk"]);
    assert_eq!(init.trim(), "true");
    d.docker_ok(&["rm", "dk"]);
    let info = d.docker_ok(&["info", "-f", "{{.InitBinary}}"]);
    assert_eq!(info.trim(), "docker-init");

    let script = format!(
        "import docker\nc=docker.DockerClient(base_url='unix://{}')\n\
         k=c.containers.run('busybox',['ps','-o','pid,comm'],init=True,detach=True)\n\
         assert k.wait()['StatusCode']==0\n\
         assert k.attrs['HostConfig']['Init'] is True\n\
         print(k.logs().decode())\nk.remove()\n",
        d.socket().display()
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_init_is_pid1(&stdout(&out), "ps");
    d.assert_clean(0);
}

#[test]
fn daemon_default_init() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start_with_args(&["--init"]);
    d.load_busybox();
    let out = d.rocker_ok(&["run", "--rm", "busybox", "ps", "-o", "pid,comm"]);
    assert_init_is_pid1(&out, "ps");
    // An explicit Init: false wins over the daemon default.
    let body = br#"{"Image":"busybox","Cmd":["ps","-o","pid,comm"],"HostConfig":{"Init":false}}"#;
    let (st, resp) = d.api("POST", "/containers/create?name=noinit", Some(body));
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&resp));
    d.rocker_ok(&["start", "-a", "noinit"]);
    let logs = d.rocker_ok(&["logs", "noinit"]);
    assert!(
        ps_rows(&logs).contains(&(1, "ps".to_string())),
        "Init=false keeps the command as pid 1:\n{logs}"
    );
    d.rocker_ok(&["rm", "noinit"]);
    d.assert_clean(0);

    // The same default from the configuration file (`[daemon] init = true`).
    let cfg = d.root().join("config.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[daemon]\ninit = true\n");
    std::fs::write(&cfg, text).unwrap();
    d.restart();
    let out = d.rocker_ok(&["run", "--rm", "busybox", "ps", "-o", "pid,comm"]);
    assert_init_is_pid1(&out, "ps");
    d.assert_clean(0);
}
