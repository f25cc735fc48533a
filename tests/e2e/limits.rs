//! Resource limits land in the container's cgroups (v1 controllers on hybrid hosts, below
//! the daemon's --cgroup-parent) and are enforced: -m OOM-kills, --pids-limit stops a fork
//! bomb, --cpus/--cpu-shares set the CFS knobs.

use std::time::Duration;

use rocker_e2e::{assert_exit_code, host, require_root, stdout, Daemon};

/// Pid of the container's init on the host, from inspect.
fn container_pid(d: &Daemon, id: &str) -> i32 {
    let info = d.inspect(id);
    let pid = info["State"]["Pid"].as_i64().unwrap_or(0);
    assert!(
        pid > 0,
        "State.Pid of a running container: {}",
        info["State"]
    );
    pid as i32
}

/// The container's cgroup dir for `controller`, checked to sit below the daemon's cgroup
/// parent and to be named after the container id (Docker's cgroupfs layout <parent>/<id>).
fn container_cgroup(d: &Daemon, id: &str, controller: &str) -> std::path::PathBuf {
    let pid = container_pid(d, id);
    let dir = host::process_cgroup_dir(pid, controller)
        .unwrap_or_else(|| panic!("no {controller} cgroup for pid {pid}"));
    let full_id = d.inspect(id)["Id"].as_str().unwrap_or_default().to_string();
    assert!(
        dir.ends_with(format!("{}/{full_id}", d.cgroup_parent())),
        "{controller} cgroup {} should be <parent>/<id> ({}/{full_id})",
        dir.display(),
        d.cgroup_parent()
    );
    dir
}

fn read(dir: &std::path::Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}/{file}: {e}", dir.display()))
        .trim()
        .to_string()
}

#[test]
fn memory_limit_oom_kills() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // The shell holds 64 MiB of 'a's in a variable: far over a 32 MiB limit (no swap use:
    // Docker sets memsw to twice the limit only where swap accounting exists).
    let out = d.rocker(&[
        "run",
        "--name",
        "oom",
        "-m",
        "32m",
        "busybox",
        "sh",
        "-c",
        "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo done ${#x}",
    ]);
    assert_exit_code(&out, 137, "64 MiB in a 32 MiB container");
    assert!(!stdout(&out).contains("done"), "allocation must not finish");
    let info = d.inspect("oom");
    assert_eq!(info["State"]["OOMKilled"], true, "State: {}", info["State"]);
    assert_eq!(info["State"]["ExitCode"], 137);
    assert_eq!(info["HostConfig"]["Memory"], 33554432);
    d.rocker_ok(&["rm", "oom"]);
    d.assert_clean(0);
}

#[test]
fn memory_limit_is_written_to_the_cgroup() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = d.rocker_ok(&["run", "-d", "-m", "32m", "busybox", "sleep", "100"]);
    let id = id.trim();
    let mem = container_cgroup(&d, id, "memory");
    assert_eq!(read(&mem, "memory.limit_in_bytes"), "33554432");
    let pid = container_pid(&d, id);
    let procs = read(&mem, "cgroup.procs");
    assert!(
        procs.lines().any(|l| l == pid.to_string()),
        "pid {pid} not in {procs}"
    );
    d.rocker_ok(&["rm", "-f", id]);
    d.assert_clean(0);
}

#[test]
fn pids_limit_stops_fork_bomb() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // The subshell forks sleepers until fork fails (ash: "can't fork"), then the outer
    // shell execs (no fork needed) so the container stays up for inspection.
    let id = d.rocker_ok(&[
        "run",
        "-d",
        "--pids-limit",
        "10",
        "busybox",
        "sh",
        "-c",
        "(for i in $(seq 1 50); do sleep 30 & done; wait); echo forks-done; exec sleep 100",
    ]);
    let id = id.trim();
    let logs = d.wait_logs_contain(id, "forks-done", Duration::from_secs(20));
    assert!(
        logs.contains("can't fork"),
        "the fork bomb must hit the limit:\n{logs}"
    );
    let pids = container_cgroup(&d, id, "pids");
    assert_eq!(read(&pids, "pids.max"), "10");
    let current: u32 = read(&pids, "pids.current").parse().unwrap_or(u32::MAX);
    assert!(current <= 10, "pids.current {current} over the limit");
    assert_eq!(d.inspect(id)["HostConfig"]["PidsLimit"], 10);
    d.rocker_ok(&["rm", "-f", id]);
    d.assert_clean(0);
}

#[test]
fn cpus_set_cfs_quota_and_shares() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = d.rocker_ok(&[
        "run",
        "-d",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "busybox",
        "sleep",
        "100",
    ]);
    let id = id.trim();
    let cpu = container_cgroup(&d, id, "cpu");
    assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");
    assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "50000");
    assert_eq!(read(&cpu, "cpu.shares"), "512");
    let info = d.inspect(id);
    assert_eq!(info["HostConfig"]["NanoCpus"], 500_000_000);
    assert_eq!(info["HostConfig"]["CpuShares"], 512);
    // Every v1 controller and the unified hierarchy put the container below the parent.
    for h in host::hierarchies() {
        let ctrl = h.controllers.first().cloned().unwrap_or_default();
        if let Some(dir) = host::process_cgroup_dir(container_pid(&d, id), &ctrl) {
            if ctrl.starts_with("name=") || ctrl.is_empty() {
                continue; // named and unified placement are the runtime's choice
            }
            assert!(
                dir.to_string_lossy().contains(d.cgroup_parent()),
                "{ctrl}: {} not below {}",
                dir.display(),
                d.cgroup_parent()
            );
        }
    }
    d.rocker_ok(&["rm", "-f", id]);
    d.assert_clean(0);
}
