//! Live restore: containers outlive a SIGKILLed or restarted daemon, and the daemon picks up
//! their logs and exit codes when it comes back (the shim keeps them while it is away).

use std::time::Duration;

use rocker_e2e::{host, require_root, stdout, table_row, wait_until, Daemon};

fn pid_of(d: &Daemon, id: &str) -> i32 {
    let pid = d.inspect(id)["State"]["Pid"].as_i64().unwrap_or(0);
    assert!(pid > 0, "running container {id} must report State.Pid");
    pid as i32
}

#[test]
fn container_survives_daemon_kill9() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    let id = d.rocker_ok(&[
        "run",
        "-d",
        "busybox",
        "sh",
        "-c",
        "echo before; sleep 5; echo after; exit 7",
    ]);
    let id = id.trim().to_string();
    let pid = pid_of(&d, &id);
    d.wait_logs_contain(&id, "before", Duration::from_secs(5));

    d.kill9();
    assert!(
        host::process_alive(pid),
        "container pid {pid} died with the daemon"
    );

    d.restart();
    let logs = stdout(&d.rocker(&["logs", &id]));
    assert!(logs.contains("before"), "logs after restart: {logs:?}");

    let info = d.wait_not_running(&id, Duration::from_secs(30));
    assert_eq!(info["State"]["ExitCode"], 7, "State: {}", info["State"]);
    assert_eq!(info["State"]["Status"], "exited");
    assert!(!host::process_alive(pid));
    assert_eq!(d.rocker_ok(&["logs", &id]), "before\nafter\n");
    d.rocker_ok(&["rm", &id]);
    d.assert_clean(0);
}

#[test]
fn exit_while_daemon_is_down_is_recorded() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    let id = d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "quick",
        "busybox",
        "sh",
        "-c",
        "echo hi; sleep 1; exit 9",
    ]);
    let id = id.trim().to_string();
    let pid = pid_of(&d, &id);
    d.kill9();
    assert!(
        wait_until(Duration::from_secs(15), || !host::process_alive(pid)),
        "container pid {pid} did not exit"
    );
    d.restart();
    let info = d.wait_not_running("quick", Duration::from_secs(10));
    assert_eq!(info["State"]["ExitCode"], 9, "State: {}", info["State"]);
    assert_eq!(info["State"]["Status"], "exited");
    assert_eq!(d.rocker_ok(&["logs", "quick"]), "hi\n");
    let ps = d.rocker_ok(&["ps", "-a"]);
    let row = table_row(&ps, "quick").unwrap_or_else(|| panic!("quick missing:\n{ps}"));
    assert!(row.contains("Exited (9)"), "row: {row}");
    d.rocker_ok(&["rm", "quick"]);
    d.assert_clean(0);
}

#[test]
fn graceful_restart_keeps_containers_running() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    let id = d.rocker_ok(&["run", "-d", "--name", "svc", "busybox", "sleep", "100"]);
    let id = id.trim().to_string();
    let pid = pid_of(&d, &id);
    d.restart();
    assert!(
        host::process_alive(pid),
        "SIGTERM to the daemon must not stop containers"
    );
    let info = d.inspect("svc");
    assert_eq!(info["State"]["Running"], true);
    assert_eq!(info["State"]["Pid"], pid);
    let ps = d.rocker_ok(&["ps"]);
    assert!(
        table_row(&ps, "svc").is_some_and(|r| r.contains("Up")),
        "ps:\n{ps}"
    );
    // The restarted daemon can still control it.
    d.rocker_ok(&["stop", "-t", "1", "svc"]);
    assert!(
        wait_until(Duration::from_secs(5), || !host::process_alive(pid)),
        "stop after restart did not kill pid {pid}"
    );
    let code = d.inspect("svc")["State"]["ExitCode"].as_i64();
    assert!(matches!(code, Some(137) | Some(143)), "exit code {code:?}");
    d.rocker_ok(&["rm", "svc"]);
    d.assert_clean(0);
}
