//! The security and resource options of `HostConfig` (Docker's `--cap-add/--cap-drop`,
//! `--privileged`, `--security-opt`, `--ulimit`, `--device`, `--sysctl`, cpuset, memory
//! reservation/swappiness, OOM killer, blkio weight, OOM score) turned into the OCI spec.
//! [`validate`] runs at create, so bad values are a 400 with Docker's wording and nothing
//! is created; [`apply`] edits the spec document `spec::build` made, at start.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use rocker_api::models::{DeviceMapping, HostConfig};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::seccomp_profile::{self, Target};
use crate::spec::{ALL_CAPS as CAPS, DEFAULT_CAPS};

/// Docker's `--ulimit` names.
const ULIMITS: &[&str] = &[
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// The capabilities in the host's bounding set (what a privileged container gets).
fn host_caps() -> Vec<String> {
    let bits = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        })
        .unwrap_or(0);
    CAPS.iter()
        .enumerate()
        .filter(|(i, _)| bits & (1u64 << i) != 0)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// `sys_admin`, `CAP_SYS_ADMIN` → `CAP_SYS_ADMIN`; `all` → `ALL`.
fn normalize_cap(c: &str) -> String {
    let up = c.trim().to_ascii_uppercase();
    if up == "ALL" || up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

fn checked_caps(list: Option<&Vec<String>>, what: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for c in list.into_iter().flatten() {
        let n = normalize_cap(c);
        if n != "ALL" && !CAPS.contains(&n.as_str()) {
            return Err(Error::invalid(format!("unknown capability{what}: \"{n}\"")));
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// The container's capability set, as Docker's TweakCapabilities computes it.
fn capabilities(hc: &HostConfig) -> Result<Vec<String>> {
    if hc.privileged {
        return Ok(host_caps());
    }
    let add = checked_caps(hc.cap_add.as_ref(), "")?;
    let drop = checked_caps(hc.cap_drop.as_ref(), " drop")?;
    let all = "ALL".to_string();
    let mut caps: Vec<String> = if add.contains(&all) {
        host_caps()
            .into_iter()
            .filter(|c| !drop.contains(c))
            .collect()
    } else if drop.contains(&all) {
        add
    } else {
        let mut caps: Vec<String> = DEFAULT_CAPS
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .collect();
        caps.extend(add);
        caps
    };
    caps.sort_unstable();
    caps.dedup();
    Ok(caps)
}

/// What `SecurityOpt` asks for.
#[derive(Debug, Default)]
struct SecurityOpts {
    /// `seccomp=unconfined`.
    seccomp_unconfined: bool,
    /// `seccomp=<profile json>`.
    seccomp_profile: Option<String>,
    no_new_privileges: bool,
    /// `systempaths=unconfined`: no masked or read-only paths.
    systempaths_unconfined: bool,
}

fn security_opts(hc: &HostConfig) -> Result<SecurityOpts> {
    let mut out = SecurityOpts::default();
    for opt in hc.security_opt.iter().flatten() {
        if opt == "no-new-privileges" {
            out.no_new_privileges = true;
            continue;
        }
        // The docker CLI sends `key=value`; older clients sent `key:value`.
        let (key, value) = opt
            .split_once('=')
            .or_else(|| opt.split_once(':'))
            .ok_or_else(|| Error::invalid(format!("invalid --security-opt 1: \"{opt}\"")))?;
        match key {
            "no-new-privileges" => {
                out.no_new_privileges = match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(Error::invalid(format!(
                            "invalid --security-opt 2: \"{opt}\""
                        )))
                    }
                }
            }
            "seccomp" => match value {
                "unconfined" => out.seccomp_unconfined = true,
                "" | "builtin" => {}
                profile => out.seccomp_profile = Some(profile.to_string()),
            },
            "apparmor" if value == "unconfined" || value.is_empty() => {}
            "apparmor" => {
                return Err(Error::invalid(format!(
                    "invalid --security-opt: AppArmor profile \"{value}\" is not supported on this host (AppArmor is not enabled)"
                )))
            }
            "label" if value == "disable" => {}
            "label" => {
                return Err(Error::invalid(format!(
                    "invalid --security-opt: SELinux label \"{value}\" is not supported on this host (SELinux is not enabled)"
                )))
            }
            "systempaths" if value == "unconfined" => out.systempaths_unconfined = true,
            _ => {
                return Err(Error::invalid(format!(
                    "invalid --security-opt 2: \"{opt}\""
                )))
            }
        }
    }
    Ok(out)
}

/// One host device for `linux.devices` (path inside, type, numbers, mode, owner).
struct HostDevice {
    path: String,
    typ: &'static str,
    major: u64,
    minor: u64,
    mode: u32,
    uid: u32,
    gid: u32,
}

impl HostDevice {
    fn from_path(host: &Path, inside: String) -> std::io::Result<Option<HostDevice>> {
        let md = std::fs::metadata(host)?;
        let ft = md.file_type();
        let typ = if ft.is_char_device() {
            "c"
        } else if ft.is_block_device() {
            "b"
        } else {
            return Ok(None);
        };
        let rdev = md.rdev();
        Ok(Some(HostDevice {
            path: inside,
            typ,
            major: nix::sys::stat::major(rdev),
            minor: nix::sys::stat::minor(rdev),
            mode: md.mode() & 0o7777,
            uid: md.uid(),
            gid: md.gid(),
        }))
    }

    fn spec(&self) -> Value {
        json!({"path": self.path, "type": self.typ, "major": self.major, "minor": self.minor,
               "fileMode": self.mode, "uid": self.uid, "gid": self.gid})
    }

    fn rule(&self, access: &str) -> Value {
        json!({"allow": true, "type": self.typ, "major": self.major, "minor": self.minor,
               "access": access})
    }
}

/// Every device node under `dir` (as runc's HostDevices: no pts, shm, mqueue, fd, console).
fn walk_devices(dir: &Path, host_root: &Path, inside_root: &str, out: &mut Vec<HostDevice>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        let rel = path.strip_prefix(host_root).unwrap_or(&path);
        let inside = Path::new(inside_root)
            .join(rel)
            .to_string_lossy()
            .into_owned();
        if ft.is_dir() {
            if !matches!(
                name.as_ref(),
                "pts" | "shm" | "fd" | "mqueue" | ".lxc" | ".lxd-mounts" | ".udev"
            ) {
                walk_devices(&path, host_root, inside_root, out);
            }
        } else if name != "console" && (ft.is_char_device() || ft.is_block_device()) {
            if let Ok(Some(d)) = HostDevice::from_path(&path, inside) {
                out.push(d);
            }
        }
    }
}

/// The devices of one `--device` mapping (a node, or every node under a directory).
fn mapped_devices(m: &DeviceMapping) -> Result<Vec<HostDevice>> {
    let host = m.path_on_host.as_str();
    let inside = if m.path_in_container.is_empty() {
        host
    } else {
        m.path_in_container.as_str()
    };
    let fail = |why: &dyn std::fmt::Display| {
        Error::invalid(format!(
            "error gathering device information while adding custom device \"{host}\": {why}"
        ))
    };
    if !inside.starts_with('/') {
        return Err(Error::invalid(format!("{inside} is not an absolute path")));
    }
    let md = std::fs::metadata(host).map_err(|e| fail(&e))?;
    if md.is_dir() {
        let mut out = Vec::new();
        walk_devices(Path::new(host), Path::new(host), inside, &mut out);
        return Ok(out);
    }
    match HostDevice::from_path(Path::new(host), inside.to_string()) {
        Ok(Some(d)) => Ok(vec![d]),
        Ok(None) => Err(fail(&"not a device node")),
        Err(e) => Err(fail(&e)),
    }
}

fn device_access(m: &DeviceMapping) -> Result<String> {
    let p = if m.cgroup_permissions.is_empty() {
        "rwm"
    } else {
        m.cgroup_permissions.as_str()
    };
    if p.chars().any(|c| !"rwm".contains(c)) {
        return Err(Error::invalid(format!("invalid device mode: {p}")));
    }
    Ok(p.to_string())
}

/// `0-3,5` style lists; every number must be in `available` (same syntax).
fn check_cpuset(value: &str, what: &str, available: Option<String>) -> Result<()> {
    let parse = |s: &str| -> Option<Vec<u32>> {
        let mut out = Vec::new();
        for part in s.trim().split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
                    if a > b || b - a > 4096 {
                        return None;
                    }
                    out.extend(a..=b);
                }
                None => out.push(part.parse().ok()?),
            }
        }
        Some(out)
    };
    let wanted = parse(value)
        .ok_or_else(|| Error::invalid(format!("Invalid value {value} for cpuset {what}")))?;
    if let Some(have) = available.as_deref().and_then(parse) {
        if wanted.iter().any(|c| !have.contains(c)) {
            let avail = available.unwrap_or_default();
            let label = if what == "cpus" {
                "CPUs"
            } else {
                "memory nodes"
            };
            return Err(Error::invalid(format!(
                "Requested {label} are not available - requested {value}, available: {}",
                avail.trim()
            )));
        }
    }
    Ok(())
}

/// Sysctls a container may set (Docker's list of namespaced ones).
fn check_sysctl(key: &str, hc: &HostConfig) -> Result<()> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let ok = IPC.contains(&key)
        || key.starts_with("fs.mqueue.")
        || key == "kernel.domainname"
        || (key.starts_with("net.") && hc.network_mode != "host");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("sysctl '{key}' is not allowed")))
    }
}

/// Checks the options of this module; Docker's messages.
pub(crate) fn validate(hc: &HostConfig) -> Result<()> {
    capabilities(hc)?;
    let opts = security_opts(hc)?;
    if let Some(profile) = &opts.seccomp_profile {
        let caps = capabilities(hc)?;
        seccomp_profile::from_docker_json(profile, &target(&caps))?;
    }
    for u in hc.ulimits.iter().flatten() {
        if !ULIMITS.contains(&u.name.as_str()) {
            return Err(Error::invalid(format!("invalid ulimit type: {}", u.name)));
        }
        if u.soft > u.hard && u.hard >= 0 {
            return Err(Error::invalid(format!(
                "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                u.soft, u.hard
            )));
        }
    }
    for d in hc.devices.iter().flatten() {
        device_access(d)?;
        mapped_devices(d)?;
    }
    for key in hc.sysctls.iter().flat_map(|s| s.keys()) {
        check_sysctl(key, hc)?;
    }
    if !hc.cpuset_cpus.is_empty() {
        let online = std::fs::read_to_string("/sys/devices/system/cpu/online").ok();
        check_cpuset(&hc.cpuset_cpus, "cpus", online)?;
    }
    if !hc.cpuset_mems.is_empty() {
        let online = std::fs::read_to_string("/sys/devices/system/node/online").ok();
        check_cpuset(&hc.cpuset_mems, "mems", online)?;
    }
    if hc.memory_swap > 0 && hc.memory == 0 {
        return Err(Error::invalid(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ));
    }
    if hc.memory_reservation != 0 && hc.memory_reservation < 6 << 20 {
        return Err(Error::invalid("Minimum memory reservation allowed is 6MB"));
    }
    if hc.memory > 0 && hc.memory_reservation > hc.memory {
        return Err(Error::invalid(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        ));
    }
    if let Some(s) = hc.memory_swappiness.filter(|s| *s != -1) {
        if !(0..=100).contains(&s) {
            return Err(Error::invalid(format!(
                "Invalid value: {s}, valid memory swappiness range is 0-100"
            )));
        }
    }
    if hc.blkio_weight != 0 && !(10..=1000).contains(&hc.blkio_weight) {
        return Err(Error::invalid("Range of blkio weight is from 10 to 1000"));
    }
    if !(-1000..=1000).contains(&hc.oom_score_adj) {
        return Err(Error::invalid(format!(
            "Invalid value {}, range for oom score adj is [-1000, 1000]",
            hc.oom_score_adj
        )));
    }
    Ok(())
}

fn target(caps: &[String]) -> Target<'_> {
    Target {
        caps,
        arch: std::env::consts::ARCH,
        kernel: seccomp_profile::host_kernel(),
    }
}

/// Whether the host's blkio controller can take a weight (Docker discards it otherwise).
fn blkio_weight_supported() -> bool {
    [
        "/sys/fs/cgroup/blkio/blkio.weight",
        "/sys/fs/cgroup/blkio/blkio.bfq.weight",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
        || std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|x| x == "io"))
}

/// Applies the options of this module to the spec document made by `spec::build`.
pub(crate) fn apply(doc: &mut Value, hc: &HostConfig) -> Result<()> {
    let caps = capabilities(hc)?;
    let opts = security_opts(hc)?;
    let process = &mut doc["process"];
    process["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
    if opts.no_new_privileges {
        process["noNewPrivileges"] = json!(true);
    }
    if hc.oom_score_adj != 0 {
        process["oomScoreAdj"] = json!(hc.oom_score_adj);
    }
    let rlimits: Vec<Value> = hc
        .ulimits
        .iter()
        .flatten()
        .map(|u| {
            let lim = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
            json!({"type": format!("RLIMIT_{}", u.name.to_ascii_uppercase()),
                   "soft": lim(u.soft), "hard": lim(u.hard)})
        })
        .collect();
    if !rlimits.is_empty() {
        process["rlimits"] = Value::Array(rlimits);
    }

    let linux = &mut doc["linux"];
    if !hc.privileged && !opts.seccomp_unconfined {
        let profile = match &opts.seccomp_profile {
            Some(p) => seccomp_profile::from_docker_json(p, &target(&caps))?,
            None => seccomp_profile::default_for(&target(&caps)),
        };
        linux["seccomp"] = profile;
    }
    if hc.privileged || opts.systempaths_unconfined {
        linux["maskedPaths"] = json!([]);
        linux["readonlyPaths"] = json!([]);
    }
    if let Some(s) = hc.sysctls.as_ref().filter(|s| !s.is_empty()) {
        linux["sysctl"] = json!(s);
    }

    let mut devices = Vec::new();
    let mut rules = Vec::new();
    if hc.privileged {
        walk_devices(Path::new("/dev"), Path::new("/dev"), "/dev", &mut devices);
        rules.push(json!({"allow": true, "access": "rwm"}));
    }
    for m in hc.devices.iter().flatten() {
        let access = device_access(m)?;
        for d in mapped_devices(m)? {
            rules.push(d.rule(&access));
            devices.retain(|x| x.path != d.path);
            devices.push(d);
        }
    }
    if !devices.is_empty() {
        linux["devices"] = Value::Array(devices.iter().map(HostDevice::spec).collect());
    }
    let res = &mut linux["resources"];
    if let Some(list) = res["devices"].as_array_mut() {
        list.extend(rules);
    }
    let mut cpu = |k: &str, v: &str| {
        if !v.is_empty() {
            res["cpu"][k] = json!(v);
        }
    };
    cpu("cpus", &hc.cpuset_cpus);
    cpu("mems", &hc.cpuset_mems);
    if hc.memory_reservation > 0 {
        res["memory"]["reservation"] = json!(hc.memory_reservation);
    }
    if let Some(s) = hc.memory_swappiness.and_then(|s| u64::try_from(s).ok()) {
        res["memory"]["swappiness"] = json!(s);
    }
    if hc.oom_kill_disable == Some(true) {
        res["memory"]["disableOOMKiller"] = json!(true);
    }
    if hc.blkio_weight != 0 {
        if blkio_weight_supported() {
            res["blockIO"]["weight"] = json!(hc.blkio_weight);
        } else {
            tracing::warn!(
                "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
            );
        }
    }

    if hc.privileged {
        for m in doc["mounts"].as_array_mut().into_iter().flatten() {
            if m["destination"] == "/sys" {
                if let Some(o) = m["options"].as_array_mut() {
                    o.retain(|x| x != "ro");
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
