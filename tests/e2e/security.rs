//! The container's confinement: Docker's default seccomp profile, capabilities, masked and
//! read-only paths and the device cgroup are active by default (each probe fails), and
//! `--privileged`, `--cap-add`, `--security-opt` lift exactly what they should (the same
//! probe then succeeds), so each assertion proves the defense is really there.

use rocker_e2e::{docker_client, require_root, stderr, stdout, Daemon};

/// `sh -c script` in a fresh busybox container with `flags`; (exit code, stdout+stderr).
fn sh(d: &Daemon, flags: &[&str], script: &str) -> (i32, String) {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    let out = d.rocker(&args);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

fn status_field(d: &Daemon, flags: &[&str], field: &str) -> String {
    let (code, out) = sh(d, flags, &format!("grep '^{field}:' /proc/self/status"));
    assert_eq!(code, 0, "{field}: {out}");
    out.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// A block device of the host as (major, minor), e.g. a loop device.
fn host_block_device() -> Option<(u32, u32)> {
    let mut devs: Vec<(u32, u32)> = std::fs::read_dir("/sys/dev/block")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let (a, b) = n.split_once(':')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect();
    devs.sort();
    devs.into_iter().next()
}

#[test]
fn defaults_confine_and_privileged_does_not() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    // Seccomp is on (mode 2, filter) by default, off when privileged or unconfined.
    assert_eq!(status_field(&d, &[], "Seccomp"), "2");
    assert_eq!(status_field(&d, &["--privileged"], "Seccomp"), "0");
    assert_eq!(
        status_field(&d, &["--security-opt", "seccomp=unconfined"], "Seccomp"),
        "0"
    );

    // unshare(CLONE_NEWUSER) needs no capability: only seccomp stops it.
    let (code, out) = sh(&d, &[], "unshare -U true");
    assert_ne!(code, 0, "unshare -U must fail by default: {out}");
    assert!(out.contains("Operation not permitted"), "{out}");
    let (code, out) = sh(
        &d,
        &["--security-opt", "seccomp=unconfined"],
        "unshare -U true",
    );
    assert_eq!(code, 0, "unshare -U under seccomp=unconfined: {out}");

    // mount needs CAP_SYS_ADMIN (and seccomp lets it through only with that capability).
    let mount = "mkdir -p /mnt/t && mount -t tmpfs tmpfs /mnt/t && echo mounted";
    let (code, out) = sh(&d, &[], mount);
    assert_ne!(code, 0, "mount must fail by default: {out}");
    assert!(
        out.contains("Operation not permitted") || out.contains("denied"),
        "{out}"
    );
    let (code, out) = sh(&d, &["--privileged"], mount);
    assert_eq!((code, out.trim()), (0, "mounted"), "privileged mount");

    // /proc/sysrq-trigger is read-only, /proc/kcore is masked (when the host kernel has
    // them: this machine's has neither, and writing a missing file fails anyway).
    let (code, out) = sh(&d, &[], "echo h > /proc/sysrq-trigger");
    assert_ne!(code, 0, "sysrq-trigger write must fail: {out}");
    if std::path::Path::new("/proc/sysrq-trigger").exists() {
        let (_, out) = sh(&d, &[], "grep -c ' /proc/sysrq-trigger ' /proc/mounts");
        assert_eq!(out.trim(), "1", "sysrq-trigger is a read-only mount");
        let (_, out) = sh(
            &d,
            &["--privileged"],
            "grep -c ' /proc/sysrq-trigger ' /proc/mounts",
        );
        assert_eq!(
            out.trim(),
            "0",
            "privileged: no read-only sysrq-trigger mount"
        );
    }
    let (code, out) = sh(&d, &[], "head -c 4 /proc/kcore 2>/dev/null | wc -c");
    assert_eq!((code, out.trim()), (0, "0"), "kcore must read as empty");
    if std::path::Path::new("/proc/kcore").exists() {
        let (_, out) = sh(&d, &["--privileged"], "head -c 4 /proc/kcore | wc -c");
        assert_eq!(out.trim(), "4", "privileged kcore");
    }
    // Masked paths that this kernel has: /proc/keys reads as empty unless privileged.
    let (_, out) = sh(&d, &[], "wc -c < /proc/keys");
    assert_eq!(out.trim(), "0", "/proc/keys is masked");
    let (_, out) = sh(&d, &["--privileged"], "grep -c ' /proc/keys ' /proc/mounts");
    assert_eq!(out.trim(), "0", "privileged: /proc/keys not masked");

    // /sys is read-only, except when privileged.
    let (_, out) = sh(&d, &[], "grep ' /sys sysfs ' /proc/mounts");
    assert!(out.contains(" ro,") || out.contains(" ro "), "{out}");
    let (_, out) = sh(&d, &["--privileged"], "grep ' /sys sysfs ' /proc/mounts");
    assert!(out.contains(" rw,"), "privileged /sys: {out}");

    // A block device node can be made (CAP_MKNOD) but not opened (device cgroup).
    if let Some((major, minor)) = host_block_device() {
        let script = format!(
            "mknod /tmp/blk b {major} {minor} && head -c 1 /tmp/blk >/dev/null && echo opened"
        );
        let (code, out) = sh(&d, &[], &script);
        assert_ne!(code, 0, "block device must not open by default: {out}");
        assert!(!out.contains("opened"), "{out}");
        let (code, out) = sh(&d, &["--privileged"], &script);
        assert_eq!((code, out.trim()), (0, "opened"), "privileged block device");
    }
    d.assert_clean(0);
}

#[test]
fn capabilities_and_security_options() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    let (code, out) = sh(&d, &[], "chown 1 /tmp && echo ok");
    assert_eq!((code, out.trim()), (0, "ok"), "chown with default caps");
    let (code, out) = sh(&d, &["--cap-drop", "ALL"], "chown 1 /tmp && echo ok");
    assert_ne!(code, 0, "chown without CAP_CHOWN: {out}");
    assert!(out.contains("Operation not permitted"), "{out}");
    assert_eq!(
        status_field(&d, &["--cap-drop", "ALL"], "CapEff"),
        "0000000000000000"
    );
    let (code, out) = sh(&d, &["--cap-drop", "chown"], "chown 1 /tmp && echo ok");
    assert_ne!(code, 0, "chown after --cap-drop chown: {out}");

    let mount = "mkdir -p /mnt/t && mount -t tmpfs tmpfs /mnt/t && echo mounted";
    let (code, out) = sh(&d, &["--cap-add", "SYS_ADMIN"], mount);
    assert_eq!(
        (code, out.trim()),
        (0, "mounted"),
        "mount with CAP_SYS_ADMIN"
    );

    // A user's profile (the CLI sends the file's content): mkdir is refused.
    let profile = d.root().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    )
    .unwrap_or_else(|e| panic!("write profile: {e}"));
    let opt = format!("seccomp={}", profile.display());
    let (code, out) = sh(&d, &["--security-opt", &opt], "mkdir /x");
    assert_ne!(code, 0, "mkdir under the profile: {out}");
    assert!(out.contains("Permission denied"), "{out}");

    assert_eq!(status_field(&d, &[], "NoNewPrivs"), "0");
    assert_eq!(
        status_field(&d, &["--security-opt", "no-new-privileges"], "NoNewPrivs"),
        "1"
    );
    assert_eq!(
        status_field(
            &d,
            &["--security-opt", "no-new-privileges:true"],
            "NoNewPrivs"
        ),
        "1"
    );
    // A non-root user with no_new_privs still gets the filter.
    assert_eq!(
        status_field(
            &d,
            &["-u", "1000", "--security-opt", "no-new-privileges"],
            "Seccomp"
        ),
        "2"
    );
    assert_eq!(status_field(&d, &["-u", "1000"], "Seccomp"), "2");

    let (code, out) = sh(&d, &["--ulimit", "nofile=100:100"], "ulimit -n");
    assert_eq!((code, out.trim()), (0, "100"), "ulimit");
    let (code, out) = sh(&d, &["--read-only"], "touch /x");
    assert_ne!(code, 0, "touch on a read-only root: {out}");
    assert!(out.contains("Read-only file system"), "{out}");
    let (code, out) = sh(
        &d,
        &["--read-only"],
        "touch /tmp/x 2>&1; touch /dev/shm/x && echo shm",
    );
    assert!(
        out.contains("shm"),
        "read-only root keeps /dev/shm writable ({code}): {out}"
    );

    let (code, out) = sh(
        &d,
        &["--sysctl", "net.ipv4.ip_forward=1"],
        "cat /proc/sys/net/ipv4/ip_forward",
    );
    assert_eq!((code, out.trim()), (0, "1"), "sysctl");
    let (code, out) = sh(
        &d,
        &["--device", "/dev/null:/dev/mynull"],
        "echo x > /dev/mynull && echo ok",
    );
    assert_eq!((code, out.trim()), (0, "ok"), "--device");
    d.assert_clean(0);
}

#[test]
fn bad_security_options_are_rejected_and_leave_nothing() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--security-opt", "apparmor=docker-default"],
            "not supported on this host",
        ),
        (
            &["--security-opt", "label=type:foo"],
            "not supported on this host",
        ),
        (&["--security-opt", "bogus=1"], "invalid --security-opt"),
        (&["--cap-add", "NOPE"], "unknown capability: \"CAP_NOPE\""),
        (&["--ulimit", "nofiles=1:1"], "invalid ulimit type: nofiles"),
        (
            &["--device", "/dev/nosuch"],
            "error gathering device information",
        ),
        (
            &["--sysctl", "kernel.panic=1"],
            "sysctl 'kernel.panic' is not allowed",
        ),
        (
            &["--cpuset-cpus", "0-4095"],
            "Requested CPUs are not available",
        ),
        (
            &["--blkio-weight", "5"],
            "Range of blkio weight is from 10 to 1000",
        ),
        (
            &["--oom-score-adj", "2000"],
            "range for oom score adj is [-1000, 1000]",
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["create"];
        args.extend_from_slice(flags);
        args.push("busybox");
        let out = d.rocker(&args);
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{flags:?}: {}", stderr(&out));
    }
    let body = br#"{"Image": "busybox", "HostConfig": {"SecurityOpt": ["seccomp={nope"]}}"#;
    let (status, resp) = d.api("POST", "/containers/create", Some(body));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&resp));
    d.assert_clean(0);
}

#[test]
fn docker_client_cap_drop_all() {
    if !require_root() || docker_client().is_none() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let out = d.docker(&[
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "busybox",
        "sh",
        "-c",
        "grep CapEff /proc/self/status; chown 1 /tmp",
    ]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("0000000000000000"), "{text}");
    assert!(text.contains("Operation not permitted"), "{text}");
    let out = d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "grep",
        "NoNewPrivs",
        "/proc/self/status",
    ]);
    assert!(stdout(&out).contains('1'), "{}", stderr(&out));
    d.assert_clean(0);
}
