//! The real `docker` CLI against rockerd: API version negotiation, run, ps, logs, inspect,
//! images, load, rm. Skips when the client is absent and CI is unset; fails under CI.

use std::time::Duration;

use rocker_e2e::{
    assert_exit_code, busybox_tar, docker_client, is_full_id, require_root, stdout, table_row,
    wait_until, Daemon,
};

#[test]
fn docker_cli_workflow() {
    if !require_root() || docker_client().is_none() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    let api = d.docker_ok(&["version", "--format", "{{.Server.APIVersion}}"]);
    assert_eq!(api.trim(), "1.43");

    assert_eq!(
        d.docker_ok(&["run", "--rm", "busybox", "echo", "hi"]),
        "hi\n"
    );
    let out = d.docker(&["run", "--rm", "busybox", "sh", "-c", "exit 3"]);
    assert_exit_code(&out, 3, "docker run exit 3");

    let id = d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "dx",
        "busybox",
        "sh",
        "-c",
        "echo fromlogs; sleep 100",
    ]);
    let id = id.trim().to_string();
    assert!(is_full_id(&id), "docker run -d printed {id:?}");

    let ps = d.docker_ok(&["ps"]);
    let row = table_row(&ps, "dx").unwrap_or_else(|| panic!("dx missing from docker ps:\n{ps}"));
    assert!(row.contains("Up"), "row: {row}");
    assert!(row.starts_with(&id[..12]), "row: {row}");

    let mut logs = String::new();
    let found = wait_until(Duration::from_secs(10), || {
        logs = stdout(&d.docker(&["logs", "dx"]));
        logs.contains("fromlogs")
    });
    assert!(found, "docker logs dx: {logs:?}");

    let inspect = d.docker_ok(&["inspect", "dx"]);
    let v: serde_json::Value =
        serde_json::from_str(&inspect).unwrap_or_else(|e| panic!("inspect JSON: {e}\n{inspect}"));
    assert_eq!(v[0]["Id"], id.as_str());
    assert_eq!(v[0]["Name"], "/dx");
    assert_eq!(v[0]["State"]["Running"], true);
    let fmt = d.docker_ok(&[
        "inspect",
        "--format",
        "{{.State.Status}} {{.Config.Image}}",
        "dx",
    ]);
    assert_eq!(fmt.trim(), "running busybox");

    let images = d.docker_ok(&["images"]);
    let row = images
        .lines()
        .find(|l| l.starts_with("busybox "))
        .unwrap_or_else(|| panic!("busybox missing from docker images:\n{images}"));
    assert!(row.contains("latest"), "row: {row}");
    let img = d.docker_ok(&["image", "inspect", "busybox"]);
    let v: serde_json::Value =
        serde_json::from_str(&img).unwrap_or_else(|e| panic!("image inspect JSON: {e}\n{img}"));
    assert!(
        v[0]["RepoTags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "busybox:latest")),
        "RepoTags: {}",
        v[0]["RepoTags"]
    );

    assert_eq!(d.docker_ok(&["rm", "-f", "dx"]).trim(), "dx");
    assert_eq!(d.docker_ok(&["ps", "-a", "-q"]).trim(), "");
    d.assert_clean(0);
}

#[test]
fn docker_cli_load_and_stop() {
    if !require_root() || docker_client().is_none() {
        return;
    }
    let d = Daemon::start();
    let tar = busybox_tar().to_string_lossy().into_owned();
    let out = d.docker_ok(&["load", "-i", &tar]);
    assert!(
        out.contains("Loaded image: busybox:latest"),
        "docker load: {out}"
    );

    d.docker_ok(&["run", "-d", "--name", "ss", "busybox", "sleep", "100"]);
    assert_eq!(d.docker_ok(&["stop", "-t", "1", "ss"]).trim(), "ss");
    let ps = d.docker_ok(&["ps", "-a"]);
    let row = table_row(&ps, "ss").unwrap_or_else(|| panic!("ss missing:\n{ps}"));
    assert!(
        row.contains("Exited (137)") || row.contains("Exited (143)"),
        "row: {row}"
    );
    let code = d.docker_ok(&["wait", "ss"]);
    assert!(
        matches!(code.trim(), "137" | "143"),
        "docker wait s: {code}"
    );
    d.docker_ok(&["rm", "ss"]);
    d.assert_clean(0);
}
