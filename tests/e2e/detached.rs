//! Detached containers through their lifecycle: run -d, ps, logs, stop, ps -a, rm; plus
//! create/start, kill and wait, as Docker does them.

use std::time::Duration;

use rocker_e2e::{assert_success, is_full_id, require_root, stdout, table_row, Daemon};

#[test]
fn detached_lifecycle() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "xx",
        "busybox",
        "sh",
        "-c",
        "echo a; sleep 100",
    ]);
    let id = out.trim().to_string();
    assert!(
        is_full_id(&id),
        "run -d must print the full id, got {out:?}"
    );

    let ps = d.rocker_ok(&["ps"]);
    let row = table_row(&ps, "xx").unwrap_or_else(|| panic!("xx missing from ps:\n{ps}"));
    assert!(
        row.starts_with(&id[..12]),
        "row should start with the short id: {row}"
    );
    assert!(row.contains("busybox"), "row: {row}");
    assert!(row.contains("Up"), "row: {row}");
    assert!(ps
        .lines()
        .next()
        .is_some_and(|h| h.starts_with("CONTAINER ID")));
    assert_eq!(d.rocker_ok(&["ps", "-q"]).trim(), &id[..12]);

    d.wait_logs_contain("xx", "a\n", Duration::from_secs(10));
    let info = d.inspect("xx");
    assert_eq!(info["State"]["Running"], true);
    assert_eq!(info["State"]["Status"], "running");
    assert_eq!(info["Id"], id.as_str());

    // sh as pid 1 ignores SIGTERM, so stop escalates to SIGKILL after the timeout.
    assert_eq!(d.rocker_ok(&["stop", "-t", "2", "xx"]).trim(), "xx");
    let ps = d.rocker_ok(&["ps"]);
    assert!(
        table_row(&ps, "xx").is_none(),
        "stopped container in ps:\n{ps}"
    );
    let ps = d.rocker_ok(&["ps", "-a"]);
    let row = table_row(&ps, "xx").unwrap_or_else(|| panic!("xx missing from ps -a:\n{ps}"));
    assert!(
        row.contains("Exited (137)") || row.contains("Exited (143)"),
        "row: {row}"
    );
    let info = d.inspect(&id);
    assert_eq!(info["State"]["Running"], false);
    assert_eq!(info["State"]["Status"], "exited");
    let code = info["State"]["ExitCode"].as_i64();
    assert!(matches!(code, Some(137) | Some(143)), "exit code {code:?}");

    assert_eq!(d.rocker_ok(&["rm", "xx"]).trim(), "xx");
    let ps = d.rocker_ok(&["ps", "-a"]);
    assert!(
        table_row(&ps, "xx").is_none(),
        "removed container in ps -a:\n{ps}"
    );
    let (status, _) = d.api("GET", &format!("/containers/{id}/json"), None);
    assert_eq!(status, 404);
    d.assert_clean(0);
}

#[test]
fn create_start_wait_logs() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = d.rocker_ok(&[
        "create",
        "--name",
        "cc",
        "busybox",
        "sh",
        "-c",
        "echo created; exit 5",
    ]);
    let id = id.trim();
    assert!(is_full_id(id), "create must print the full id, got {id:?}");
    let ps = d.rocker_ok(&["ps", "-a"]);
    let row = table_row(&ps, "cc").unwrap_or_else(|| panic!("cc missing:\n{ps}"));
    assert!(row.contains("Created"), "row: {row}");
    assert_eq!(d.inspect("cc")["State"]["Status"], "created");

    assert_eq!(d.rocker_ok(&["start", "cc"]).trim(), "cc");
    assert_eq!(d.rocker_ok(&["wait", "cc"]).trim(), "5");
    assert_eq!(d.rocker_ok(&["logs", "cc"]), "created\n");
    let info = d.inspect(id);
    assert_eq!(info["State"]["ExitCode"], 5);
    assert!(info["State"]["FinishedAt"]
        .as_str()
        .is_some_and(|t| !t.starts_with("0001")));
    d.rocker_ok(&["rm", id]);
    d.assert_clean(0);
}

#[test]
fn kill_then_rm_force() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = d.rocker_ok(&["run", "-d", "busybox", "sleep", "100"]);
    let id = id.trim().to_string();
    assert_eq!(d.rocker_ok(&["kill", &id]).trim(), id);
    assert_eq!(d.rocker_ok(&["wait", &id]).trim(), "137");
    let info = d.inspect(&id);
    assert_eq!(info["State"]["ExitCode"], 137);

    // rm -f removes a running container in one go.
    let id2 = d.rocker_ok(&["run", "-d", "busybox", "sleep", "100"]);
    let id2 = id2.trim();
    let out = d.rocker(&["rm", id2]);
    assert!(!out.status.success(), "rm of a running container must fail");
    let out = d.rocker(&["rm", "-f", id2]);
    assert_success(&out, "rm -f running");
    assert_eq!(stdout(&out).trim(), id2);
    d.rocker_ok(&["rm", &id]);
    d.assert_clean(0);
}
