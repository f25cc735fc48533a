//! What the process inside sees: its own pid namespace, hostname, environment, working
//! directory and user, as `docker run` sets them up.

use rocker_e2e::{assert_success, require_root, stdout, Daemon};

#[test]
fn pid_namespace_shows_only_the_container() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.rocker_ok(&["run", "--rm", "busybox", "ps"]);
    let mut lines = out.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.contains("PID"), "ps output:\n{out}");
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(rows.len(), 1, "only ps itself should be visible:\n{out}");
    let mut cols = rows[0].split_whitespace();
    assert_eq!(cols.next(), Some("1"), "the command must be pid 1:\n{out}");
    assert!(rows[0].ends_with("ps"), "pid 1 should be ps:\n{out}");

    // The shell itself is pid 1 too.
    let out = d.rocker_ok(&["run", "--rm", "busybox", "sh", "-c", "echo $$"]);
    assert_eq!(out.lines().next(), Some("1"), "sh should be pid 1:\n{out}");
}

#[test]
fn hostname_from_flag_and_default_short_id() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    assert_eq!(
        d.rocker_ok(&["run", "--rm", "-h", "foo", "busybox", "hostname"]),
        "foo\n"
    );
    assert_eq!(
        d.rocker_ok(&[
            "run",
            "--rm",
            "--hostname",
            "bar",
            "busybox",
            "cat",
            "/proc/sys/kernel/hostname"
        ]),
        "bar\n"
    );
    let out = d.rocker_ok(&["run", "--name", "hn", "busybox", "hostname"]);
    let id = d.inspect("hn")["Id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(id.len(), 64, "inspect Id: {id:?}");
    assert_eq!(out.trim(), &id[..12], "default hostname is the short id");
    assert_eq!(d.inspect("hn")["Config"]["Hostname"], &id[..12]);
    d.rocker_ok(&["rm", "hn"]);
    // The host's hostname is untouched.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    assert_ne!(host.trim(), "foo");
}

#[test]
fn environment_from_image_flags_and_env_file() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let env_file = d.root().join("test.env");
    std::fs::write(&env_file, "# comment\nA=1\nB=two words\n\nFROM_FILE=yes\n")
        .unwrap_or_else(|e| panic!("write env file: {e}"));
    let env_file = env_file.to_string_lossy().into_owned();
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "-h",
        "envhost",
        "-e",
        "FOO=bar",
        "-e",
        "EMPTY=",
        "--env-file",
        &env_file,
        "busybox",
        "env",
    ]);
    let vars: Vec<&str> = out.lines().collect();
    for want in [
        "FOO=bar",
        "EMPTY=",
        "A=1",
        "B=two words",
        "FROM_FILE=yes",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=envhost",
        "HOME=/root",
    ] {
        assert!(vars.contains(&want), "missing {want:?} in env:\n{out}");
    }
    // -e overrides the image's value.
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "-e",
        "PATH=/bin",
        "busybox",
        "sh",
        "-c",
        "echo $PATH",
    ]);
    assert_eq!(out, "/bin\n");
}

#[test]
fn workdir_flag_and_created_when_missing() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    assert_eq!(
        d.rocker_ok(&["run", "--rm", "-w", "/tmp", "busybox", "pwd"]),
        "/tmp\n"
    );
    // Docker creates a missing working directory.
    assert_eq!(
        d.rocker_ok(&["run", "--rm", "-w", "/does/not/exist", "busybox", "pwd"]),
        "/does/not/exist\n"
    );
    assert_eq!(d.rocker_ok(&["run", "--rm", "busybox", "pwd"]), "/\n");
}

#[test]
fn user_flag_numeric_and_by_name() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let root = d.rocker_ok(&["run", "--rm", "busybox", "id"]);
    assert!(
        root.starts_with("uid=0(root) gid=0(root)"),
        "default user: {root}"
    );
    let out = d.rocker_ok(&["run", "--rm", "-u", "65534:65534", "busybox", "id"]);
    assert!(
        out.contains("uid=65534") && out.contains("gid=65534"),
        "-u 65534:65534 gave: {out}"
    );
    let out = d.rocker_ok(&["run", "--rm", "-u", "nobody", "busybox", "id", "-u"]);
    assert_eq!(
        out, "65534\n",
        "-u nobody resolves through the image's /etc/passwd"
    );
    // An unprivileged user cannot write where root owns things.
    let out = d.rocker(&[
        "run",
        "--rm",
        "-u",
        "65534:65534",
        "busybox",
        "touch",
        "/root/x",
    ]);
    assert!(
        !out.status.success(),
        "nobody must not write /root: {}",
        stdout(&out)
    );
    let out = d.rocker(&["run", "--rm", "-u", "65534", "busybox", "touch", "/tmp/x"]);
    assert_success(&out, "nobody writes /tmp (1777)");
}
