//! Bad input gets Docker's status codes and messages, and a failed request leaves nothing
//! behind: no container row, no mount under the daemon's dirs, no cgroup under its parent,
//! no blob or snapshot.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rocker_e2e::{assert_exit_code, host, require_root, stderr, Daemon};

/// Store directories whose contents must not change on a failed load.
fn store_listing(d: &Daemon) -> BTreeSet<PathBuf> {
    let mut all = host::list_tree(&d.data_root().join("content"));
    all.extend(host::list_tree(&d.data_root().join("snapshots")));
    all
}

#[test]
fn unknown_image() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker(&["run", "--rm", "nosuchimage", "true"]);
    assert_exit_code(&out, 125, "run of an unknown image");
    assert!(
        stderr(&out).contains("No such image"),
        "stderr: {}",
        stderr(&out)
    );

    let r = d.api_response(
        "POST",
        "/containers/create",
        Some(br#"{"Image":"nosuchimage","Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.message().contains("No such image: nosuchimage"),
        "message: {}",
        r.message()
    );
    let r = d.api_response("GET", "/images/nosuchimage/json", None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.message().contains("No such image"),
        "message: {}",
        r.message()
    );
    d.assert_clean(0);
}

#[test]
fn unknown_container() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    for (method, path) in [
        ("GET", "/containers/x/json"),
        ("POST", "/containers/x/start"),
        ("POST", "/containers/x/stop"),
        ("POST", "/containers/x/kill"),
        ("POST", "/containers/x/wait"),
        ("GET", "/containers/x/logs?stdout=1&stderr=1"),
        ("DELETE", "/containers/x"),
        ("GET", "/v1.43/containers/x/json"),
    ] {
        let r = d.api_response(method, path, None);
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text());
        assert_eq!(r.message(), "No such container: x", "{method} {path}");
        assert!(
            r.header("content-type").is_some_and(|t| t.contains("json")),
            "{method} {path}: error bodies are JSON"
        );
    }
    for verb in ["rm", "logs", "stop", "start", "kill", "wait"] {
        let out = d.rocker(&[verb, "x"]);
        assert!(!out.status.success(), "rocker {verb} x must fail");
        assert!(
            stderr(&out).contains("No such container: x"),
            "rocker {verb} x stderr: {}",
            stderr(&out)
        );
    }
    d.assert_clean(0);
}

#[test]
fn malformed_create_bodies_are_400() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let bodies: [&[u8]; 5] = [
        b"{\"Image\": ",
        b"not json",
        b"{\"Image\": 5}",
        b"{\"Image\":\"busybox\",\"HostConfig\":{\"Memory\":\"lots\"}}",
        b"",
    ];
    for body in bodies {
        let r = d.api_response("POST", "/containers/create", Some(body));
        let shown = String::from_utf8_lossy(body);
        assert_eq!(r.status, 400, "body {shown:?}: {}", r.text());
        assert!(
            !r.message().trim().is_empty(),
            "body {shown:?}: empty message"
        );
    }
    // Invalid names are rejected before anything is created.
    let r = d.api_response(
        "POST",
        "/containers/create?name=bad%2Fname",
        Some(br#"{"Image":"busybox"}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.message().contains("Invalid container name"),
        "{}",
        r.message()
    );
    d.assert_clean(0);
}

#[test]
fn load_of_a_non_image_is_rejected() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let images = d.image_ids();
    let store = store_listing(&d);

    // Garbage, and a valid tar that is not an image.
    let garbage = d.root().join("garbage.tar");
    std::fs::write(&garbage, b"this is not a tar archive at all\n".repeat(40))
        .unwrap_or_else(|e| panic!("write garbage: {e}"));
    let plain = d.root().join("plain.tar");
    let src = d.root().join("plain");
    std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("mkdir: {e}"));
    std::fs::write(src.join("hello.txt"), "hello\n").unwrap_or_else(|e| panic!("write: {e}"));
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(&src)
        .arg("-cf")
        .arg(&plain)
        .arg("hello.txt")
        .status()
        .unwrap_or_else(|e| panic!("run tar: {e}"));
    assert!(tar.success(), "tar failed");

    for file in [&garbage, &plain] {
        let shown = file.display().to_string();
        let out = d.rocker(&["load", "-i", &shown]);
        assert!(!out.status.success(), "rocker load -i {shown} must fail");
        assert!(
            !stderr(&out).trim().is_empty(),
            "load {shown}: no error message"
        );

        // Docker reports load errors either as an error status or, once streaming has
        // begun, as an errorDetail line in a 200 stream; both are failures with a message.
        let body = std::fs::read(file).unwrap_or_else(|e| panic!("read {shown}: {e}"));
        let r = d.api_tar("POST", "/images/load?quiet=1", &body);
        if (200..300).contains(&r.status) {
            assert!(
                r.text().contains("errorDetail"),
                "load of {shown} answered {} without an error: {}",
                r.status,
                r.text()
            );
        } else {
            assert!((400..600).contains(&r.status), "status {}", r.status);
            assert!(
                !r.message().trim().is_empty(),
                "load {shown}: empty message"
            );
        }
        assert_eq!(
            d.image_ids(),
            images,
            "images changed by a failed load of {shown}"
        );
        assert_eq!(
            store_listing(&d),
            store,
            "store changed by a failed load of {shown}"
        );
    }
    d.assert_clean(0);
}

#[test]
fn name_conflict_is_409() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // Docker's rule needs two characters: a one-letter name is invalid, not a conflict.
    let out = d.rocker(&["create", "--name", "x", "busybox", "true"]);
    assert!(
        stderr(&out).contains("Invalid container name (x)"),
        "stderr: {}",
        stderr(&out)
    );
    let id = d.rocker_ok(&["create", "--name", "web", "busybox", "true"]);
    let id = id.trim().to_string();
    let expected = format!(
        "Conflict. The container name \"/web\" is already in use by container \"{id}\". \
         You have to remove (or rename) that container to be able to reuse that name."
    );
    let out = d.rocker(&["create", "--name", "web", "busybox", "true"]);
    assert!(!out.status.success(), "second create --name web must fail");
    assert!(stderr(&out).contains(&expected), "stderr: {}", stderr(&out));
    let out = d.rocker(&["run", "--rm", "--name", "web", "busybox", "true"]);
    assert_exit_code(&out, 125, "run --name web while x exists");

    let r = d.api_response(
        "POST",
        "/containers/create?name=web",
        Some(br#"{"Image":"busybox","Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.message(), expected);
    d.assert_clean(1);
    d.rocker_ok(&["rm", "web"]);
    d.assert_clean(0);
}

#[test]
fn command_not_found_is_127_and_cleaned_up() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_exit_code(&out, 127, "run of a missing command");
    assert!(
        stderr(&out).contains("executable file not found"),
        "stderr: {}",
        stderr(&out)
    );
    d.assert_clean(0);

    // Without --rm the container stays (not running) and can be removed.
    let out = d.rocker(&["run", "--name", "nf", "busybox", "/no/such/file"]);
    assert_exit_code(&out, 127, "run of a missing absolute path");
    assert_eq!(d.inspect("nf")["State"]["Running"], false);
    d.assert_clean(1);
    d.rocker_ok(&["rm", "nf"]);
    d.assert_clean(0);
}
