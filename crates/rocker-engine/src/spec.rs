//! Generation of the OCI runtime spec (`config.json`) for a container: Docker's defaults for
//! mounts, devices, capabilities and masked paths, plus what the image and the user asked for.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Docker's default capability set.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability, in kernel number order (linux/capability.h); what the host's
/// bounding set lacks is dropped by the runtime.
pub const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Docker's default masked paths.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's default read-only paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Resource limits, in the units of the OCI spec.
#[derive(Debug, Default, Clone)]
pub struct Resources {
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub cpu_shares: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub pids_limit: Option<i64>,
}

/// Everything the spec is made from, already resolved by the engine.
#[derive(Debug, Clone)]
pub struct SpecInput {
    pub rootfs: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub hostname: String,
    pub tty: bool,
    /// Initial terminal size (height, width).
    pub console_size: Option<(u32, u32)>,
    pub cgroups_path: String,
    pub resources: Resources,
    /// Files bind-mounted over the image's: (destination, host source, read-only).
    pub files: Vec<(String, PathBuf, bool)>,
    pub shm_size: u64,
    pub readonly_rootfs: bool,
    /// The container's network namespace.
    pub netns: NetNs,
}

/// Where the container's network namespace comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetNs {
    /// A fresh one with only `lo` (`--network none`).
    #[default]
    New,
    /// Join a prepared (bridge networks) or another container's namespace.
    Path(PathBuf),
    /// The host's (`--network host`).
    Host,
}

fn namespaces(netns: &NetNs) -> Value {
    let mut ns = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    match netns {
        NetNs::New => ns.push(json!({"type": "network"})),
        NetNs::Path(p) => ns.push(json!({"type": "network", "path": p})),
        NetNs::Host => {}
    }
    Value::Array(ns)
}

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Value {
    json!({"destination": dest, "type": typ, "source": source, "options": options})
}

/// Builds the spec document.
pub fn build(input: &SpecInput) -> Value {
    let shm = format!("size={}k", (input.shm_size / 1024).max(1));
    let mut mounts = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm],
        ),
    ];
    for (dest, src, ro) in &input.files {
        let mut opts = vec!["rbind", "rprivate"];
        if *ro {
            opts.push("ro");
        }
        mounts.push(json!({
            "destination": dest, "type": "bind", "source": src, "options": opts,
        }));
    }
    let r = &input.resources;
    let mut memory = serde_json::Map::new();
    if let Some(m) = r.memory {
        memory.insert("limit".into(), json!(m));
    }
    if let Some(s) = r.memory_swap {
        memory.insert("swap".into(), json!(s));
    }
    let mut cpu = serde_json::Map::new();
    if let Some(s) = r.cpu_shares {
        cpu.insert("shares".into(), json!(s));
    }
    if let Some(q) = r.cpu_quota {
        cpu.insert("quota".into(), json!(q));
    }
    if let Some(p) = r.cpu_period {
        cpu.insert("period".into(), json!(p));
    }
    let mut resources = json!({
        "devices": default_device_rules(),
    });
    if !memory.is_empty() {
        resources["memory"] = Value::Object(memory);
    }
    if !cpu.is_empty() {
        resources["cpu"] = Value::Object(cpu);
    }
    if let Some(p) = r.pids_limit {
        resources["pids"] = json!({ "limit": p });
    }
    let mut doc = json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": input.tty,
            "user": {
                "uid": input.uid,
                "gid": input.gid,
                "additionalGids": input.additional_gids,
            },
            "args": input.args,
            "env": input.env,
            "cwd": input.cwd,
            "capabilities": {
                "bounding": DEFAULT_CAPS,
                "effective": DEFAULT_CAPS,
                "permitted": DEFAULT_CAPS,
            },
            "noNewPrivileges": false,
        },
        "root": { "path": input.rootfs, "readonly": input.readonly_rootfs },
        "hostname": input.hostname,
        "mounts": mounts,
        "linux": {
            "namespaces": namespaces(&input.netns),
            "cgroupsPath": input.cgroups_path,
            "resources": resources,
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS,
            "rootfsPropagation": "rprivate",
        },
    });
    if let Some((h, w)) = input.console_size.filter(|(h, w)| *h > 0 && *w > 0) {
        doc["process"]["consoleSize"] = json!({"height": h, "width": w});
    }
    doc
}

/// The device cgroup rules Docker applies by default: deny all, allow mknod of anything, and
/// access to the standard character devices and pseudo-terminals.
fn default_device_rules() -> Value {
    let c = |major: i64, minor: Option<i64>, access: &str| json!({"allow": true, "type": "c", "major": major, "minor": minor, "access": access});
    json!([
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "access": "m"},
        {"allow": true, "type": "b", "access": "m"},
        c(1, Some(3), "rwm"),
        c(1, Some(5), "rwm"),
        c(1, Some(7), "rwm"),
        c(1, Some(8), "rwm"),
        c(1, Some(9), "rwm"),
        c(5, Some(0), "rwm"),
        c(5, Some(1), "rwm"),
        c(5, Some(2), "rwm"),
        c(136, None, "rwm"),
    ])
}

/// Writes `config.json` into the bundle directory.
pub fn write(bundle: &Path, spec: &Value) -> std::io::Result<()> {
    std::fs::write(bundle.join("config.json"), serde_json::to_vec(spec)?)
}

/// `KEY=VALUE` lists merged: later keys replace earlier ones, order of first appearance kept.
pub fn merge_env(base: &[String], overrides: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(base.len() + overrides.len());
    for kv in base.iter().chain(overrides) {
        let key = kv.split('=').next().unwrap_or(kv);
        match out
            .iter_mut()
            .find(|e| e.split('=').next().unwrap_or(e) == key)
        {
            Some(slot) => *slot = kv.clone(),
            None => out.push(kv.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SpecInput {
        SpecInput {
            rootfs: "/var/lib/rocker/containers/x/rootfs".into(),
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into()],
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            additional_gids: vec![10],
            hostname: "abc".into(),
            tty: false,
            console_size: None,
            cgroups_path: "rocker/x".into(),
            resources: Resources {
                memory: Some(32 << 20),
                pids_limit: Some(10),
                cpu_quota: Some(50_000),
                cpu_period: Some(100_000),
                ..Default::default()
            },
            files: vec![("/etc/hosts".into(), "/tmp/hosts".into(), false)],
            shm_size: 64 << 20,
            readonly_rootfs: false,
            netns: NetNs::New,
        }
    }

    #[test]
    fn spec_parses_as_oci_runtime_spec() {
        let v = build(&input());
        let spec: oci_spec::runtime::Spec = serde_json::from_value(v.clone()).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let res = linux.resources().as_ref().unwrap();
        assert_eq!(res.memory().as_ref().unwrap().limit(), Some(32 << 20));
        assert_eq!(res.pids().as_ref().unwrap().limit(), 10);
        assert_eq!(v["mounts"][5]["options"][4], "size=65536k");
        assert_eq!(v["mounts"][6]["destination"], "/etc/hosts");
    }

    #[test]
    fn env_merge_overrides_in_place() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        let over = vec!["A=2".to_string(), "B=3".to_string()];
        assert_eq!(merge_env(&base, &over), vec!["PATH=/bin", "A=2", "B=3"]);
    }
}
