//! Foreground `rocker run`: output reaches the terminal, the exit code is the container's,
//! stdin is forwarded with -i, and --rm leaves nothing behind.

use rocker_e2e::{
    assert_exit_code, assert_success, require_root, stderr, stdout, table_row, Daemon,
};

#[test]
fn run_echo_prints_and_rm_removes() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker(&["run", "--rm", "busybox", "echo", "hello from rocker"]);
    assert_success(&out, "rocker run --rm busybox echo");
    assert_eq!(stdout(&out), "hello from rocker\n");
    // The CLI waits for condition=removed with --rm: the container is gone on return.
    d.assert_clean(0);
}

#[test]
fn run_propagates_exit_code() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker(&["run", "--rm", "busybox", "sh", "-c", "exit 3"]);
    assert_exit_code(&out, 3, "run sh -c 'exit 3'");
    let out = d.rocker(&["run", "--rm", "busybox", "false"]);
    assert_exit_code(&out, 1, "run false");
    d.assert_clean(0);
}

#[test]
fn run_separates_stdout_and_stderr() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_success(&out, "run with stderr");
    assert_eq!(stdout(&out), "out\n");
    assert!(stderr(&out).contains("err\n"), "stderr: {}", stderr(&out));
}

#[test]
fn run_interactive_forwards_stdin() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker_with_stdin(
        &["run", "-i", "--rm", "busybox", "cat"],
        Some(b"line one\nline two\n"),
    );
    assert_success(&out, "run -i cat");
    assert_eq!(stdout(&out), "line one\nline two\n");
    d.assert_clean(0);
}

#[test]
fn run_without_rm_keeps_exited_container() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker(&[
        "run",
        "--name",
        "keep",
        "busybox",
        "sh",
        "-c",
        "echo kept; exit 4",
    ]);
    assert_exit_code(&out, 4, "run --name keep");
    assert_eq!(stdout(&out), "kept\n");
    let ps = d.rocker_ok(&["ps", "-a"]);
    let row = table_row(&ps, "keep").unwrap_or_else(|| panic!("no row for keep in:\n{ps}"));
    assert!(row.contains("Exited (4)"), "row: {row}");
    let info = d.inspect("keep");
    assert_eq!(info["State"]["Status"], "exited");
    assert_eq!(info["State"]["ExitCode"], 4);
    assert_eq!(info["Name"], "/keep");
    // Logs survive the exit.
    assert_eq!(d.rocker_ok(&["logs", "keep"]), "kept\n");
    d.rocker_ok(&["rm", "keep"]);
    d.assert_clean(0);
}
