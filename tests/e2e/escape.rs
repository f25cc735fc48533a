//! Known container-escape classes, probed as root under a default `rockerd`: each probe must
//! fail with the default options, and where a relaxation exists (`--privileged`, a wider
//! `--device` mode) the same probe succeeds there, so each test proves it tests something.
//!
//! Covered elsewhere, not repeated here: mknod of a block device works but opening it fails
//! (device cgroup), `unshare -U` and `mount` blocked, sysrq-trigger read-only, /proc/kcore and
//! /proc/keys masked (tests/e2e/security.rs); a runtime mount onto an image symlink pointing at
//! a host directory stays inside the rootfs (crates/rocker-runtime/tests/run.rs).
//! Not covered: keyctl (busybox has no applet for it).

use rocker_e2e::{require_root, stderr, stdout, Daemon};

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

/// `rocker exec id sh -c script`; (exit code, stdout+stderr).
fn exec_sh(d: &Daemon, id: &str, script: &str) -> (i32, String) {
    let out = d.rocker(&["exec", id, "sh", "-c", script]);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

/// Lists every pid of the container's pid namespace as `pid exe cmdline`, then tries to open
/// each `/proc/<pid>/exe` for writing (append: never writes a byte) and prints WRITABLE on success.
const EXE_PROBE: &str = r#"for p in /proc/[0-9]*; do
  n=${p#/proc/}
  echo "pid $n exe=$(readlink $p/exe) cmd=$(tr '\0' ' ' < $p/cmdline)"
  ( : >> $p/exe ) 2>/dev/null && echo "WRITABLE $p/exe"
done
( : >> /proc/self/exe ) 2>/dev/null && echo "WRITABLE /proc/self/exe"
echo end"#;

fn assert_no_host_binary(out: &str, what: &str) {
    assert!(out.contains("end"), "{what}: {out}");
    assert!(
        !out.lines().any(|l| l.starts_with("WRITABLE ")),
        "{what}: exe opened for writing: {out}"
    );
    for line in out.lines().filter(|l| l.starts_with("pid ")) {
        let exe = line
            .split("exe=")
            .nth(1)
            .and_then(|r| r.split(" cmd=").next())
            .unwrap_or_default();
        assert!(
            !line.contains("rocker") && (exe.is_empty() || exe.starts_with("/bin/")),
            "{what}: a container pid shows a host binary: {line}"
        );
    }
}

/// CVE-2019-5736: no process the container can see is a host rocker binary (the shim and
/// the runtime stay outside the pid namespace, the exec'd process is the user's program),
/// and no /proc/<pid>/exe opens for writing.
#[test]
fn proc_exe_never_exposes_a_host_binary() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    let (code, out) = sh(&d, &[], EXE_PROBE);
    assert_eq!(code, 0, "{out}");
    assert_no_host_binary(&out, "run");

    let id = d
        .rocker_ok(&["run", "-d", "busybox", "sleep", "300"])
        .trim()
        .to_string();
    let (code, out) = exec_sh(&d, &id, EXE_PROBE);
    assert_eq!(code, 0, "{out}");
    assert_no_host_binary(&out, "exec");
    assert!(
        out.contains("pid 1 exe=/bin/"),
        "init is the user's program: {out}"
    );
    let (code, out) = exec_sh(&d, &id, "readlink /proc/self/exe; readlink /proc/$$/exe");
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        "/bin/busybox\n/bin/busybox",
        "exec'd process exe"
    );

    // Host side: every process in the container's cgroup runs the image's binary, no
    // rocker binary (a shim or runtime left in the cgroup would be reachable after exec).
    let exec_proc = std::thread::spawn({
        let sock = d.host();
        let bin = rocker_e2e::bin_dir().join("rocker");
        let id = id.clone();
        move || {
            std::process::Command::new(bin)
                .args(["-H", &sock, "exec", &id, "sleep", "3"])
                .output()
        }
    });
    let mut seen_exec = false;
    rocker_e2e::wait_until(std::time::Duration::from_secs(5), || {
        let pids = rocker_e2e::host::pids_in_cgroup_parent(d.cgroup_parent());
        seen_exec = pids.len() >= 2;
        seen_exec
    });
    let pids = rocker_e2e::host::pids_in_cgroup_parent(d.cgroup_parent());
    assert!(!pids.is_empty(), "no container process on the host");
    for pid in &pids {
        let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
            continue;
        };
        let name = exe.to_string_lossy().into_owned();
        assert!(
            !name.contains("rocker"),
            "pid {pid} in the container's cgroup runs a host binary: {name}"
        );
    }
    assert!(seen_exec, "the exec'd process joined the cgroup: {pids:?}");
    let _ = exec_proc.join();
    d.rocker_ok(&["rm", "-f", &id]);
    d.assert_clean(0);
}

/// Prints `fd -> target` for every descriptor of /proc/<who>/fd and the cwd.
fn fd_probe(who: &str) -> String {
    format!(
        "for f in /proc/{who}/fd/*; do echo \"fd $f -> $(readlink $f)\"; done; \
         echo \"cwd $(readlink /proc/{who}/cwd)\""
    )
}

/// Every descriptor target is a container device, a pipe/socket/anon inode, or the fd
/// directory being listed; returns the cwd.
fn assert_fds_inside(out: &str, what: &str) -> String {
    let mut cwd = None;
    for line in out.lines() {
        if let Some(c) = line.strip_prefix("cwd ") {
            cwd = Some(c.to_string());
        }
        let Some(rest) = line.strip_prefix("fd ") else {
            continue;
        };
        let target = rest.split(" -> ").nth(1).unwrap_or_default();
        let ok = target.is_empty() // closed between the glob and readlink
            || target.starts_with("/dev/")
            || target.starts_with("pipe:[")
            || target.starts_with("socket:[")
            || target.starts_with("anon_inode:")
            || (target.starts_with("/proc/") && target.ends_with("/fd"));
        assert!(
            ok,
            "{what}: descriptor points outside the container: {line}\n{out}"
        );
    }
    cwd.unwrap_or_else(|| panic!("{what}: no cwd line: {out}"))
}

/// CVE-2024-21626: no descriptor of the container's process or of an exec'd process leaks a
/// host directory, cgroupfs or a shim file, and the cwd is inside the container.
#[test]
fn no_leaked_descriptor_and_cwd_inside() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    let (code, out) = sh(&d, &[], &fd_probe("self"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(assert_fds_inside(&out, "run self"), "/");
    let (code, out) = sh(&d, &[], &fd_probe("1"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(assert_fds_inside(&out, "run init"), "/");
    let (code, out) = sh(&d, &["-w", "/tmp"], &fd_probe("self"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(assert_fds_inside(&out, "run -w"), "/tmp");
    // A cwd relative to a descriptor-leaked path cannot climb out of the root either.
    let (code, out) = sh(
        &d,
        &["-w", "/tmp"],
        "cd ../../../../.. && pwd && ls / | grep -c .",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("/\n"), "{out}");

    let id = d
        .rocker_ok(&["run", "-d", "-w", "/etc", "busybox", "sleep", "300"])
        .trim()
        .to_string();
    for who in ["self", "1"] {
        let (code, out) = exec_sh(&d, &id, &fd_probe(who));
        assert_eq!(code, 0, "{out}");
        assert_eq!(assert_fds_inside(&out, &format!("exec {who}")), "/etc");
    }
    let out = d.rocker(&["exec", "-w", "/tmp", &id, "readlink", "/proc/self/cwd"]);
    assert_eq!(stdout(&out).trim(), "/tmp", "{}", stderr(&out));
    let out = d.rocker(&["exec", "-t", &id, "sh", "-c", &fd_probe("self")]);
    let text = stdout(&out);
    assert_eq!(assert_fds_inside(&text, "exec -t"), "/etc");
    d.rocker_ok(&["rm", "-f", &id]);
    d.assert_clean(0);
}

/// CVE-2022-0492: no cgroupfs is writable (release_agent, notify_on_release) and a fresh
/// cgroup v1 hierarchy cannot be mounted; a privileged container can mount it (only the
/// mount is checked: nothing is ever written to release_agent).
#[test]
fn cgroup_release_agent_is_out_of_reach() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    // Opening for append writes nothing even if it succeeds.
    let probe = r#"grep -E ' (cgroup|cgroup2) ' /proc/mounts | while read -r _ mnt _; do
  echo "cgroupfs $mnt"
  find "$mnt" -name release_agent -o -name notify_on_release | while read -r f; do
    ( : >> "$f" ) 2>/dev/null && echo "WRITABLE $f"
  done
done
echo end"#;
    let (code, out) = sh(&d, &[], probe);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("end"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("WRITABLE ")),
        "cgroupfs writable: {out}"
    );

    let mount = "mkdir -p /mnt/cg && mount -t cgroup -o memory cgroup /mnt/cg && \
                 test -e /mnt/cg/release_agent && echo mounted; umount /mnt/cg 2>/dev/null; true";
    let (code, out) = sh(&d, &[], mount);
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("mounted"),
        "cgroup v1 mount by default: {out}"
    );
    assert!(
        out.contains("Operation not permitted") || out.contains("denied"),
        "{out}"
    );
    let (_, out) = sh(&d, &["--security-opt", "seccomp=unconfined"], mount);
    assert!(!out.contains("mounted"), "no CAP_SYS_ADMIN: {out}");
    if std::path::Path::new("/sys/fs/cgroup/memory").exists() {
        let (code, out) = sh(&d, &["--privileged"], mount);
        assert_eq!(
            (code, out.trim()),
            (0, "mounted"),
            "privileged cgroup mount"
        );
    } else {
        eprintln!("note: host has no cgroup v1 memory hierarchy, privileged mount not shown");
    }
    d.assert_clean(0);
}

/// Kernel tunables and /sys are not writable, sensitive files read as nothing; privileged
/// lifts it (probed only with namespaced or no-op writes).
#[test]
fn kernel_interfaces_are_read_only_or_masked() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();

    // No-op write opens (append, nothing written): must fail with EROFS by default.
    for f in [
        "/proc/sys/kernel/core_pattern",
        "/proc/sys/kernel/modprobe",
        "/proc/sys/vm/drop_caches",
        "/proc/sysrq-trigger",
        "/sys/kernel/uevent_helper",
        "/sys/kernel/mm/transparent_hugepage/enabled",
    ] {
        if !std::path::Path::new(f).exists() {
            eprintln!("note: host has no {f}, skipped");
            continue;
        }
        let (code, out) = sh(&d, &[], &format!("( : >> {f} ) && echo opened"));
        assert_ne!(code, 0, "{f} opened for writing: {out}");
        assert!(!out.contains("opened"), "{f}: {out}");
    }
    // kernel.hostname is per UTS namespace: a safe write to show the probe works.
    let set = "echo probe > /proc/sys/kernel/hostname && hostname";
    let (code, out) = sh(&d, &[], set);
    assert_ne!(code, 0, "/proc/sys write by default: {out}");
    assert!(out.contains("Read-only file system"), "{out}");
    let (code, out) = sh(&d, &["--privileged"], set);
    assert_eq!(
        (code, out.trim()),
        (0, "probe"),
        "privileged /proc/sys write"
    );
    let (code, out) = sh(&d, &[], "mkdir /sys/fs/x || touch /sys/x");
    assert_ne!(code, 0, "/sys write: {out}");

    // Masked files read as nothing, masked directories list nothing.
    for f in [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
        "/proc/latency_stats",
    ] {
        if !std::path::Path::new(f).exists() {
            eprintln!("note: host has no {f}, skipped");
            continue;
        }
        let (code, out) = sh(&d, &[], &format!("head -c 64 {f} | wc -c"));
        assert_eq!((code, out.trim()), (0, "0"), "{f} is masked");
    }
    for dir in ["/sys/firmware", "/proc/acpi", "/proc/scsi"] {
        if !std::path::Path::new(dir).exists() {
            eprintln!("note: host has no {dir}, skipped");
            continue;
        }
        let (code, out) = sh(&d, &[], &format!("ls -A {dir} | wc -l"));
        assert_eq!((code, out.trim()), (0, "0"), "{dir} is masked");
    }
    if std::path::Path::new("/sys/firmware").exists() {
        let host = std::fs::read_dir("/sys/firmware").map_or(0, |r| r.count());
        let (_, out) = sh(&d, &["--privileged"], "ls -A /sys/firmware | wc -l");
        assert_eq!(out.trim(), host.to_string(), "privileged /sys/firmware");
    }
    d.assert_clean(0);
}

/// Seccomp and capabilities refuse kernel-module syscalls: `rmmod` of a module that does not
/// exist gets EPERM by default (the syscall never ran) but ENOENT when privileged. The
/// shim cannot be ptraced: it is not in the container's pid namespace (see the exe test).
#[test]
fn module_syscalls_are_refused() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let probe = "rmmod rocker_no_such_module_x";
    let (code, out) = sh(&d, &[], probe);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("Operation not permitted"),
        "rmmod by default: {out}"
    );
    let (code, out) = sh(&d, &["--privileged"], probe);
    assert_ne!(code, 0, "{out}");
    assert!(
        !out.contains("Operation not permitted"),
        "privileged rmmod reaches the kernel: {out}"
    );
    // init_module/finit_module: busybox insmod reads the file first, so give it one.
    let (code, out) = sh(
        &d,
        &[],
        "printf 'not a module' > /tmp/m.ko && insmod /tmp/m.ko",
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("Operation not permitted"),
        "insmod by default: {out}"
    );
    d.assert_clean(0);
}

/// An image whose /etc is a symlink to a host directory: the engine's bind mounts of
/// /etc/hosts, /etc/hostname and /etc/resolv.conf resolve inside the rootfs, and the host
/// directory stays untouched.
#[test]
fn image_symlink_cannot_redirect_engine_mounts() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    let host_dir = d.root().join("host-etc");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("marker"), "host\n").unwrap();

    let tree = d.root().join("evil-tree");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    std::fs::create_dir_all(tree.join("tmp")).unwrap();
    std::fs::copy("/bin/busybox", tree.join("bin/busybox")).unwrap();
    for a in ["sh", "cat", "ls", "readlink", "echo", "touch"] {
        std::os::unix::fs::symlink("busybox", tree.join("bin").join(a)).unwrap();
    }
    std::os::unix::fs::symlink(&host_dir, tree.join("etc")).unwrap();
    std::os::unix::fs::symlink("/etc", tree.join("tmp/evil")).unwrap();
    let tar = d.root().join("evil.tar");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success(), "tar");
    let tar_s = tar.to_string_lossy().into_owned();
    d.rocker_ok(&["import", &tar_s, "evil:latest"]);

    let out = d.rocker(&[
        "run",
        "--rm",
        "--hostname",
        "evilhost",
        "evil",
        "sh",
        "-c",
        "cat /etc/hostname; ls /tmp/evil/; echo x > /etc/planted; echo done",
    ]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    // Whether the container starts or refuses, the host directory must be untouched.
    let host_files: Vec<_> = std::fs::read_dir(&host_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        host_files,
        vec!["marker".to_string()],
        "host dir changed: {text}"
    );
    assert_eq!(
        std::fs::read_to_string(host_dir.join("marker")).unwrap(),
        "host\n"
    );
    let mounted = rocker_e2e::host::mounts()
        .into_iter()
        .any(|m| m.mount_point.starts_with(&host_dir));
    assert!(!mounted, "a mount landed on the host directory");
    if out.status.success() {
        assert!(text.contains("evilhost"), "{text}");
        assert!(text.contains("done"), "{text}");
    }
    d.assert_clean(0);
}

/// `--device X:Y:r` grants read only: the runtime does not widen the spec's rule to rwm.
#[test]
fn device_mode_is_enforced() {
    if !require_root() {
        return;
    }
    if !std::path::Path::new("/dev/loop0").exists() {
        eprintln!("note: host has no /dev/loop0, skipped");
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // Opening for append writes nothing.
    let probe = "( : < /dev/xk ) && echo read; ( : >> /dev/xk ) && echo write; true";
    let (code, out) = sh(&d, &["--device", "/dev/loop0:/dev/xk:r"], probe);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read"), "r grants read: {out}");
    assert!(!out.contains("write"), "r must not grant write: {out}");
    let (code, out) = sh(&d, &["--device", "/dev/loop0:/dev/xk:rw"], probe);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read") && out.contains("write"), "rw: {out}");
    let (_, out) = sh(&d, &["--device", "/dev/loop0:/dev/xk:w"], probe);
    assert!(!out.contains("read\n"), "w must not grant read: {out}");
    d.assert_clean(0);
}
