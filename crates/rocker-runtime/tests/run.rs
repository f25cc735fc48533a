//! `rocker-runtime run` of a busybox bundle: what the process sees inside the container.
//! Needs root (see common::require_root).

mod common;

use common::{require_root, stderr, stdout, Fixture};

#[test]
fn hostname_pid1_env_cwd_and_exit_code() {
    if !require_root("hostname_pid1_env_cwd_and_exit_code") {
        return;
    }
    let mut f = Fixture::new("basic");
    f.spec.set_hostname(Some("boxy".into()));
    f.set_args(&[
        "sh",
        "-c",
        "hostname; echo pid=$$; echo foo=$FOO; pwd; exit 3",
    ]);
    f.edit_process(|p| {
        let mut env = p.env().clone().unwrap_or_default();
        env.push("FOO=bar baz".into());
        p.set_env(Some(env));
        p.set_cwd("/work/dir".into());
    });
    let out = f.run("basic");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "boxy\npid=1\nfoo=bar baz\n/work/dir\n");
    assert!(
        !f.state_root().join("basic").exists(),
        "run removes its state"
    );
    assert!(
        !f.cgroup_dirs("memory").join("c").exists(),
        "run removes its cgroup"
    );
}

#[test]
fn only_container_processes_are_visible() {
    if !require_root("only_container_processes_are_visible") {
        return;
    }
    let mut f = Fixture::new("ps");
    f.set_args(&["sh", "-c", "ls /proc | grep -c '^[0-9]'"]);
    let out = f.run("ps");
    assert!(out.status.success(), "{}", stderr(&out));
    // sh (pid 1), ls and grep.
    let n: u32 = stdout(&out).trim().parse().expect("count");
    assert!(n <= 3, "saw {n} processes");
}

#[test]
fn memory_limit_is_visible_in_cgroup() {
    if !require_root("memory_limit_is_visible_in_cgroup") {
        return;
    }
    let mut f = Fixture::new("mem");
    f.edit_linux(|l| {
        l.set_resources(Some(
            serde_json::from_value(serde_json::json!({"memory": {"limit": 67108864}}))
                .expect("res"),
        ));
    });
    f.set_args(&["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]);
    let out = f.run("mem");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "67108864");
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    if !require_root("pids_limit_stops_a_fork_bomb") {
        return;
    }
    let mut f = Fixture::new("pids");
    f.edit_linux(|l| {
        l.set_resources(Some(
            serde_json::from_value(serde_json::json!({"pids": {"limit": 8}})).expect("res"),
        ));
    });
    // After the failed forks only builtins run: `read` needs no fork.
    f.set_args(&[
        "sh",
        "-c",
        "cat /sys/fs/cgroup/pids/pids.max; (for i in $(seq 1 30); do sleep 5 & done) 2>/dev/null; \
         read c < /sys/fs/cgroup/pids/pids.current; echo $c",
    ]);
    let out = f.run("pids");
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("8"), "{}", stderr(&out));
    let current: u32 = lines.next().expect("current").parse().expect("number");
    assert!(current <= 8, "pids.current {current}");
}

#[test]
fn capabilities_no_new_privs_and_user() {
    if !require_root("capabilities_no_new_privs_and_user") {
        return;
    }
    let mut f = Fixture::new("user");
    f.set_args(&[
        "sh",
        "-c",
        "grep -E '^(CapEff|CapBnd|CapPrm|NoNewPrivs)' /proc/self/status; id",
    ]);
    f.edit_process(|p| {
        p.set_no_new_privileges(Some(true));
    });
    let out = f.run("caps");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Default (runc) spec: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE.
    assert!(text.contains("CapEff:\t0000000020000420"), "{text}");
    assert!(text.contains("CapBnd:\t0000000020000420"), "{text}");
    assert!(text.contains("NoNewPrivs:\t1"), "{text}");
    assert!(text.contains("uid=0 gid=0"), "{text}");

    f.edit_process(|p| {
        let mut u = p.user().clone();
        u.set_uid(1000);
        u.set_gid(1001);
        u.set_additional_gids(Some(vec![10, 20]));
        p.set_user(u);
    });
    let out = f.run("user");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("uid=1000 gid=1001 groups=10,20"), "{text}");
    // Non-root keeps the spec's capabilities in the bounding set, none effective
    // unless ambient: the default spec lists them in effective and permitted.
    assert!(text.contains("CapBnd:\t0000000020000420"), "{text}");
}

#[test]
fn exec_failures_exit_127_and_126() {
    if !require_root("exec_failures_exit_127_and_126") {
        return;
    }
    let mut f = Fixture::new("exec");
    f.set_args(&["nosuch"]);
    let out = f.run("nosuch");
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("exec: \"nosuch\": executable file not found in $PATH"),
        "{}",
        stderr(&out)
    );
    std::fs::write(f.rootfs().join("notexec"), "#!/bin/sh\n").expect("write");
    f.set_args(&["/notexec"]);
    let out = f.run("notexec");
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert!(
        !f.cgroup_dirs("pids").join("c").exists(),
        "nothing left behind"
    );
}

#[test]
fn readonly_root_and_masked_paths() {
    if !require_root("readonly_root_and_masked_paths") {
        return;
    }
    let mut f = Fixture::new("ro");
    let mut root = f.spec.root().clone().expect("root");
    root.set_readonly(Some(true));
    f.spec.set_root(Some(root));
    f.set_args(&[
        "sh",
        "-c",
        "touch /x 2>/dev/null && echo writable; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; \
         touch /proc/sys/kernel/x 2>/dev/null || echo ro-sys; touch /dev/shm/ok && echo shm-ok",
    ]);
    let out = f.run("ro");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0\n0\nro-sys\nshm-ok\n");
}

#[test]
fn network_namespace_has_only_lo_up() {
    if !require_root("network_namespace_has_only_lo_up") {
        return;
    }
    let mut f = Fixture::new("net");
    f.set_args(&[
        "sh",
        "-c",
        "ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags",
    ]);
    let out = f.run("net");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("lo"), "{text}");
    // IFF_UP is bit 0 of the flags.
    let flags = lines.nth(1).expect("flags");
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).expect("hex");
    assert_eq!(flags & 1, 1, "{text}");
}

#[test]
fn symlinked_mount_destination_stays_in_rootfs() {
    if !require_root("symlinked_mount_destination_stays_in_rootfs") {
        return;
    }
    let mut f = Fixture::new("symlink");
    // An image symlink pointing at a host path: the tmpfs must land inside the rootfs.
    let escape = f.dir.path().join("host-target");
    std::fs::create_dir(&escape).expect("mkdir");
    std::os::unix::fs::symlink(&escape, f.rootfs().join("evil")).expect("symlink");
    let mut mounts = f.spec.mounts().clone().unwrap_or_default();
    mounts.push(
        serde_json::from_value(
            serde_json::json!({"destination": "/evil", "type": "tmpfs", "source": "tmpfs"}),
        )
        .expect("mount"),
    );
    f.spec.set_mounts(Some(mounts));
    f.set_args(&["sh", "-c", "touch /evil/inside && echo ok"]);
    let out = f.run("symlink");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!escape.join("inside").exists(), "mount escaped the rootfs");
}
