//! Pull and push against a private registry (Debian's docker-registry on 127.0.0.1): a
//! three-layer image goes up, is removed, comes back by tag and by digest and runs; a second
//! repository gets its layers by cross-repository mount; the real docker client pulls too;
//! an unknown tag is a 404 that leaves the store untouched; behind htpasswd auth, `docker login`
//! (POST /auth) and the credentials the client then sends make push and pull work.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rocker_e2e::registry::{self, Registry};
use rocker_e2e::{
    assert_success, host, output_with_timeout, repo_root, require_root, stderr, stdout, Daemon,
};

/// Builds a busybox image with two extra layers, tagged `bb3:latest`.
fn three_layer_tar(dir: &Path) -> PathBuf {
    let tar = dir.join("bb3.tar");
    let out = output_with_timeout(
        std::process::Command::new(repo_root().join("scripts/mk-busybox-image"))
            .arg(&tar)
            .arg("bb3:latest")
            .args(["--extra-layers", "2"]),
        None,
        Duration::from_secs(120),
    );
    assert_success(&out, "mk-busybox-image --extra-layers 2");
    tar
}

fn store_listing(d: &Daemon) -> BTreeSet<PathBuf> {
    let mut all = host::list_tree(&d.data_root().join("content"));
    all.extend(host::list_tree(&d.data_root().join("snapshots")));
    all
}

/// The `sha256:…` after `digest: ` in push output.
fn pushed_digest(out: &str) -> String {
    let i = out
        .find("digest: sha256:")
        .unwrap_or_else(|| panic!("no digest in push output:\n{out}"));
    out[i + "digest: ".len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn push_rmi_pull_run_and_mount() {
    if !require_root() || !registry::available() {
        return;
    }
    let reg = Registry::start();
    let d = Daemon::start();
    let tmp = tempfile::tempdir().unwrap();
    let tar = three_layer_tar(tmp.path());
    d.rocker_ok(&["load", "-i", tar.to_str().unwrap()]);
    let img = format!("{}/test/bb:v1", reg.host());
    d.rocker_ok(&["tag", "bb3:latest", &img]);

    let out = d.rocker_ok(&["push", &img]);
    assert!(
        out.contains(&format!(
            "The push refers to repository [{}/test/bb]",
            reg.host()
        )),
        "{out}"
    );
    assert_eq!(out.matches(": Pushed").count(), 3, "{out}");
    let digest = pushed_digest(&out);
    assert!(
        out.contains(&format!("v1: digest: {digest} size: ")),
        "{out}"
    );

    // Pushing again finds every layer in place.
    let again = d.rocker_ok(&["push", &img]);
    assert_eq!(
        again.matches(": Layer already exists").count(),
        3,
        "{again}"
    );

    // Remove both names: the image and its blobs go.
    let out = d.rocker_ok(&["rmi", &img]);
    assert_eq!(out.trim(), format!("Untagged: {img}"));
    let out = d.rocker_ok(&["rmi", "bb3:latest"]);
    assert!(out.contains("Untagged: bb3:latest"), "{out}");
    assert!(out.contains("Deleted: sha256:"), "{out}");
    assert!(d.image_ids().is_empty());

    // Pull by tag: three layers, Docker's final lines, and it runs.
    let out = d.rocker_ok(&["pull", &img]);
    assert!(out.contains("v1: Pulling from test/bb"), "{out}");
    assert_eq!(out.matches(": Pull complete").count(), 3, "{out}");
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {img}")),
        "{out}"
    );
    let run = d.rocker_ok(&["run", "--rm", &img, "ls", "/data"]);
    assert!(
        run.contains("layer0.bin") && run.contains("layer1.bin"),
        "{run}"
    );
    let again = d.rocker_ok(&["pull", &img]);
    assert!(again.contains("Status: Image is up to date for"), "{again}");

    // Push to a second repository of the same registry: layers are mounted, not uploaded.
    let img2 = format!("{}/test/bb2:v1", reg.host());
    d.rocker_ok(&["tag", &img, &img2]);
    let out = d.rocker_ok(&["push", &img2]);
    assert_eq!(out.matches(": Mounted from test/bb").count(), 3, "{out}");
    assert_eq!(pushed_digest(&out), digest);

    // Pull by digest after removing everything.
    d.rocker_ok(&["rmi", &img2]);
    let out = d.rocker_ok(&["rmi", "-f", &img]);
    assert!(out.contains("Deleted: sha256:"), "{out}");
    assert!(d.image_ids().is_empty());
    let by_digest = format!("{}/test/bb@{digest}", reg.host());
    let out = d.rocker_ok(&["pull", &by_digest]);
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    let inspect = d.api_response("GET", &format!("/images/{by_digest}/json"), None);
    assert_eq!(inspect.status, 200, "{}", inspect.text());
    let repo_digests = inspect.json()["RepoDigests"].to_string();
    assert!(repo_digests.contains(&digest), "{repo_digests}");
    let run = d.rocker_ok(&["run", "--rm", &by_digest, "echo", "by-digest"]);
    assert_eq!(run.trim(), "by-digest");

    // The real docker client pulls through rockerd too.
    if rocker_e2e::docker_client().is_some() {
        let img3 = format!("{}/test/bb2:v1", reg.host());
        let out = d.docker_ok(&["pull", &img3]);
        assert!(out.contains("Status: Downloaded newer image for"), "{out}");
        let run = d.docker_ok(&["run", "--rm", &img3, "echo", "docker-pulled"]);
        assert_eq!(run.trim(), "docker-pulled");
    }
}

#[test]
fn rmi_conflicts_with_containers() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = d
        .rocker_ok(&["create", "busybox", "true"])
        .trim()
        .to_string();
    let r = d.api_response("DELETE", "/images/busybox", None);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.message()
            .contains("unable to remove repository reference \"busybox\" (must force)"),
        "{}",
        r.message()
    );
    let image_id = d.image_ids().pop().unwrap();
    let r = d.api_response("DELETE", &format!("/images/{image_id}"), None);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.message().contains(&format!(
            "image is being used by stopped container {}",
            &id[..12]
        )),
        "{}",
        r.message()
    );
    let r = d.api_response("DELETE", "/images/nosuch", None);
    assert_eq!(r.status, 404, "{}", r.text());
    let r = d.api_response("POST", "/images/busybox/tag?repo=other&tag=t1", None);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = d.api_response("DELETE", "/images/other:t1", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), serde_json::json!([{"Untagged": "other:t1"}]));
    d.rocker_ok(&["rm", &id]);
}

#[test]
fn pull_unknown_tag_is_404_and_leaves_nothing() {
    if !require_root() || !registry::available() {
        return;
    }
    let reg = Registry::start();
    let d = Daemon::start();
    d.load_busybox();
    let before_images = d.image_ids();
    let before = store_listing(&d);
    let name = format!("{}/test/nothing", reg.host());
    let r = d.api_response(
        "POST",
        &format!("/images/create?fromImage={name}&tag=nope"),
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        r.message(),
        format!("manifest for {name}:nope not found: manifest unknown: manifest unknown")
    );
    let out = d.rocker(&["pull", &format!("{name}:nope")]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("Error response from daemon: manifest for"),
        "{}",
        stderr(&out)
    );
    let r = d.api_response("POST", "/images/create?fromImage=BAD&tag=x", None);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(d.image_ids(), before_images);
    assert_eq!(store_listing(&d), before);
}

#[test]
fn basic_auth_registry_with_docker_credentials() {
    if !require_root() || !registry::available() || rocker_e2e::docker_client().is_none() {
        return;
    }
    let reg = Registry::start_with_basic_auth("rocker", "s3cret");
    let d = Daemon::start();
    d.load_busybox();
    let img = format!("{}/auth/bb:v1", reg.host());
    d.rocker_ok(&["tag", "busybox", &img]);

    let out = d.docker(&["push", &img]);
    assert!(!out.status.success(), "push without credentials succeeded");
    assert!(
        stderr(&out).contains("unauthorized"),
        "stderr: {}\nstdout: {}",
        stderr(&out),
        stdout(&out)
    );

    // docker login goes through POST /auth: a wrong password is refused, the right one
    // accepted and stored by the client, which then sends it as X-Registry-Auth.
    let out = d.docker(&["login", "-u", "rocker", "-p", "wrong", &reg.host()]);
    assert!(
        !out.status.success(),
        "login with a wrong password succeeded"
    );
    assert!(
        stderr(&out).contains("failed with status: 401 Unauthorized"),
        "{}",
        stderr(&out)
    );
    let r = d.api_response(
        "POST",
        "/auth",
        Some(
            format!(
                r#"{{"username":"rocker","password":"bad","serveraddress":"{}"}}"#,
                reg.host()
            )
            .as_bytes(),
        ),
    );
    assert_eq!(r.status, 401, "{}", r.text());
    let out = d.docker_ok(&["login", "-u", "rocker", "-p", "s3cret", &reg.host()]);
    assert!(out.contains("Login Succeeded"), "{out}");
    let out = d.docker_ok(&["push", &img]);
    assert!(out.contains("v1: digest: sha256:"), "{out}");
    d.rocker_ok(&["rmi", &img]);
    let out = d.docker_ok(&["pull", &img]);
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {img}")),
        "{out}"
    );
}

#[test]
fn rocker_login_stores_docker_compatible_credentials() {
    if !require_root() || !registry::available() {
        return;
    }
    let reg = Registry::start_with_basic_auth("rocker", "s3cret");
    let d = Daemon::start();
    d.load_busybox();
    let img = format!("{}/login/bb:v1", reg.host());
    d.rocker_ok(&["tag", "busybox", &img]);
    let config = d.root().join("docker-config").join("config.json");

    // A wrong password is refused and nothing is stored.
    let out = d.rocker_with_stdin(
        &["login", "-u", "rocker", "--password-stdin", &reg.host()],
        Some(b"wrong\n"),
    );
    assert!(
        !out.status.success(),
        "login with a wrong password succeeded"
    );
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    assert!(!std::fs::read_to_string(&config)
        .unwrap_or_default()
        .contains("auths\": {\n    \""));

    let out = d.rocker_with_stdin(
        &["login", "-u", "rocker", "--password-stdin", &reg.host()],
        Some(b"s3cret\n"),
    );
    assert_success(&out, "rocker login");
    assert!(stdout(&out).contains("Login Succeeded"));
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("config.json"))
            .expect("json");
    // base64("rocker:s3cret"), under the registry's host:port, as docker writes it.
    assert_eq!(
        cfg["auths"][reg.host()]["auth"],
        "cm9ja2VyOnMzY3JldA==",
        "{cfg}"
    );

    // push and pull send the stored credentials.
    let out = d.rocker_ok(&["push", &img]);
    assert!(out.contains("v1: digest: sha256:"), "{out}");
    d.rocker_ok(&["rmi", &img]);
    d.rocker_ok(&["pull", &img]);
    // The docker client reads the same file.
    if rocker_e2e::docker_client().is_some() {
        d.rocker_ok(&["rmi", &img]);
        d.docker_ok(&["pull", &img]);
    }

    let out = d.rocker_ok(&["logout", &reg.host()]);
    assert!(
        out.contains(&format!("Removing login credentials for {}", reg.host())),
        "{out}"
    );
    d.rocker_ok(&["rmi", &img]);
    let out = d.rocker(&["pull", &img]);
    assert!(!out.status.success(), "pull without credentials succeeded");
}
