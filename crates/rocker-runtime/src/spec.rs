//! Validation of an OCI runtime spec and its translation into an init [`Plan`]: everything
//! the cloned init needs, precomputed in the parent (C strings, parsed mount options,
//! capability sets), so the init only performs system calls and reports errors.

use std::ffi::CString;
use std::path::{Component, Path, PathBuf};

use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::resource::Resource;
use nix::sys::stat::SFlag;
use oci_spec::runtime::{LinuxDeviceType, LinuxNamespaceType, Mount, PosixRlimitType, Spec};

use crate::mount_opts::{self, MountOptions};
use crate::ErrorKind;

/// Reasons a spec cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("spec has no process")]
    MissingProcess,
    #[error("process.args is empty")]
    MissingArgs,
    #[error("spec has no root")]
    MissingRoot,
    #[error("rootfs {0} does not exist")]
    RootfsNotFound(PathBuf),
    #[error("process.cwd {0:?} is not absolute")]
    RelativeCwd(PathBuf),
    #[error("mount destination {0:?} is not absolute")]
    RelativeDestination(PathBuf),
    #[error("{field} contains a NUL byte")]
    NulByte { field: &'static str },
    #[error("unknown capability {0}")]
    UnknownCapability(String),
    #[error("unsupported rlimit {0}")]
    UnsupportedRlimit(String),
    #[error("invalid rootfsPropagation {0:?}")]
    InvalidPropagation(String),
    #[error("namespace {0} listed twice")]
    DuplicateNamespace(String),
    #[error("new user namespace requires uidMappings and gidMappings")]
    MissingIdMappings,
    #[error("joining a user namespace by path is not supported")]
    JoinUserNamespace,
    #[error("hostname set without a new uts namespace")]
    HostnameWithoutUts,
    #[error(
        "sysctl {0:?} is not allowed: not namespaced, or its namespace is not the container's"
    )]
    InvalidSysctl(String),
    #[error("device path {0:?} is not under /dev")]
    InvalidDevicePath(PathBuf),
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::Error),
}

impl Error {
    /// Almost every spec problem is an invalid argument; a missing rootfs is not found.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::RootfsNotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

/// One mount to perform in the container's mount namespace.
#[derive(Debug, Clone)]
pub(crate) struct MountPlan {
    /// Clean absolute path inside the container.
    pub destination: PathBuf,
    pub typ: String,
    /// Bind sources are absolute host paths (relative ones were joined to the bundle).
    pub source: Option<PathBuf>,
    pub options: MountOptions,
}

impl MountPlan {
    pub fn is_bind(&self) -> bool {
        self.options.bind || self.typ == "bind"
    }
}

/// A device node to create in the container.
#[derive(Debug, Clone)]
pub(crate) struct DevicePlan {
    /// Clean absolute path inside the container (under /dev).
    pub path: PathBuf,
    pub kind: SFlag,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The five capability sets, already converted to the `caps` crate's type.
#[derive(Debug, Clone, Default)]
pub(crate) struct CapsPlan {
    pub bounding: caps::CapsHashSet,
    pub effective: caps::CapsHashSet,
    pub inheritable: caps::CapsHashSet,
    pub permitted: caps::CapsHashSet,
    pub ambient: caps::CapsHashSet,
}

/// What the user process looks like.
#[derive(Debug, Clone)]
pub(crate) struct ProcessPlan {
    pub args: Vec<CString>,
    pub env: Vec<CString>,
    /// The PATH from the spec's env, for the lookup of args[0].
    pub path_env: Option<String>,
    pub cwd: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub umask: Option<u32>,
    pub caps: Option<CapsPlan>,
    pub no_new_privs: bool,
    pub rlimits: Vec<(Resource, u64, u64)>,
    pub oom_score_adj: Option<i32>,
    pub terminal: bool,
    /// Initial terminal size (rows, columns).
    pub console_size: Option<(u16, u16)>,
}

/// Everything the init does, in data form.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub rootfs: PathBuf,
    pub readonly_root: bool,
    /// CLONE_NEW* flags for clone3 (the cgroup namespace is unshared later, see below).
    pub clone_flags: CloneFlags,
    /// Unshared by the init after the parent put it in its cgroup, so the namespace root is
    /// the container's cgroup.
    pub new_cgroup_ns: bool,
    pub new_net_ns: bool,
    pub new_user_ns: bool,
    /// Namespaces to join by path (setns), in a safe order; never pid (joined by the parent).
    pub join: Vec<(CloneFlags, PathBuf)>,
    pub join_pid: Option<PathBuf>,
    pub uid_map: String,
    pub gid_map: String,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub root_propagation: Option<MsFlags>,
    pub rootfs_mounts: Vec<MountPlan>,
    pub mounts: Vec<MountPlan>,
    pub devices: Vec<DevicePlan>,
    pub masked_paths: Vec<PathBuf>,
    pub readonly_paths: Vec<PathBuf>,
    pub sysctl: Vec<(String, String)>,
    pub process: ProcessPlan,
    /// The compiled `linux.seccomp` filter, installed by the init last before execve.
    pub seccomp: Option<crate::seccomp::Filter>,
}

/// Lexically cleans an absolute container path (`..` stops at `/`).
pub(crate) fn clean_absolute(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    Some(out)
}

fn cstring(s: &str, field: &'static str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::NulByte { field })
}

fn namespace_flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

fn rlimit_resource(t: PosixRlimitType) -> Option<Resource> {
    Some(match t {
        PosixRlimitType::RlimitCpu => Resource::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => Resource::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => Resource::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => Resource::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => Resource::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => Resource::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => Resource::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => Resource::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => Resource::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => Resource::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => Resource::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => Resource::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => Resource::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => Resource::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => Resource::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => Resource::RLIMIT_RTTIME,
    })
}

fn caps_set(set: Option<&oci_spec::runtime::Capabilities>) -> Result<caps::CapsHashSet> {
    let mut out = caps::CapsHashSet::new();
    for c in set.into_iter().flatten() {
        let name = format!("CAP_{c}");
        let cap = name
            .parse::<caps::Capability>()
            .map_err(|_| Error::UnknownCapability(name))?;
        out.insert(cap);
    }
    Ok(out)
}

fn id_map(maps: Option<&Vec<oci_spec::runtime::LinuxIdMapping>>) -> String {
    maps.into_iter()
        .flatten()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Turns a spec mount into a plan; relative bind sources are taken from the bundle.
pub(crate) fn mount_plan(m: &Mount, bundle: &Path) -> Result<MountPlan> {
    let destination = clean_absolute(m.destination())
        .ok_or_else(|| Error::RelativeDestination(m.destination().clone()))?;
    let options = mount_opts::parse(m.options().as_deref().unwrap_or_default());
    let typ = m.typ().clone().unwrap_or_else(|| {
        if options.bind {
            "bind".into()
        } else {
            "none".into()
        }
    });
    let is_bind = options.bind || typ == "bind";
    let source = m.source().as_ref().map(|s| {
        if is_bind && s.is_relative() {
            bundle.join(s)
        } else {
            s.clone()
        }
    });
    Ok(MountPlan {
        destination,
        typ,
        source,
        options,
    })
}

/// The devices every container gets (as runc): null zero full random urandom tty.
fn default_devices() -> Vec<DevicePlan> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .into_iter()
    .map(|(name, major, minor)| DevicePlan {
        path: Path::new("/dev").join(name),
        kind: SFlag::S_IFCHR,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

/// Validates a spec's process and converts it to the form the init (or an exec'd process)
/// applies.
pub(crate) fn process_plan(process: &oci_spec::runtime::Process) -> Result<ProcessPlan> {
    let args = process.args().as_deref().unwrap_or_default();
    if args.is_empty() || args[0].is_empty() {
        return Err(Error::MissingArgs);
    }
    let args = args
        .iter()
        .map(|a| cstring(a, "process.args"))
        .collect::<Result<Vec<_>>>()?;
    let env_list = process.env().as_deref().unwrap_or_default();
    let env = env_list
        .iter()
        .map(|e| cstring(e, "process.env"))
        .collect::<Result<Vec<_>>>()?;
    let path_env = env_list
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .map(str::to_string);
    if !process.cwd().is_absolute() {
        return Err(Error::RelativeCwd(process.cwd().clone()));
    }
    let caps = match process.capabilities() {
        Some(c) => Some(CapsPlan {
            bounding: caps_set(c.bounding().as_ref())?,
            effective: caps_set(c.effective().as_ref())?,
            inheritable: caps_set(c.inheritable().as_ref())?,
            permitted: caps_set(c.permitted().as_ref())?,
            ambient: caps_set(c.ambient().as_ref())?,
        }),
        None => None,
    };
    let mut rlimits = Vec::new();
    for r in process.rlimits().iter().flatten() {
        let res = rlimit_resource(r.typ())
            .ok_or_else(|| Error::UnsupportedRlimit(r.typ().to_string()))?;
        rlimits.push((res, r.soft(), r.hard()));
    }
    let user = process.user();
    Ok(ProcessPlan {
        args,
        env,
        path_env,
        cwd: clean_absolute(process.cwd()).unwrap_or_else(|| PathBuf::from("/")),
        uid: user.uid(),
        gid: user.gid(),
        additional_gids: user.additional_gids().clone().unwrap_or_default(),
        umask: user.umask(),
        caps,
        no_new_privs: process.no_new_privileges().unwrap_or(false),
        rlimits,
        oom_score_adj: process.oom_score_adj(),
        terminal: process.terminal().unwrap_or(false),
        console_size: process.console_size().as_ref().map(|b| {
            (
                u16::try_from(b.height()).unwrap_or(u16::MAX),
                u16::try_from(b.width()).unwrap_or(u16::MAX),
            )
        }),
    })
}

/// Validates `spec` and builds the init plan. `bundle` must be absolute.
pub(crate) fn plan(spec: &Spec, bundle: &Path, rootfs_mounts: &[Mount]) -> Result<Plan> {
    let process = spec.process().as_ref().ok_or(Error::MissingProcess)?;
    let root = spec.root().as_ref().ok_or(Error::MissingRoot)?;
    let rootfs = bundle.join(root.path());
    let rootfs = rootfs
        .canonicalize()
        .map_err(|_| Error::RootfsNotFound(rootfs.clone()))?;
    let linux = spec.linux().clone().unwrap_or_default();

    // Namespaces.
    let mut clone_flags = CloneFlags::empty();
    let mut join = Vec::new();
    let mut join_pid = None;
    let mut seen = CloneFlags::empty();
    let mut new_cgroup_ns = false;
    for ns in linux.namespaces().iter().flatten() {
        let flag = namespace_flag(ns.typ());
        if seen.contains(flag) {
            return Err(Error::DuplicateNamespace(ns.typ().to_string()));
        }
        seen |= flag;
        match (ns.path(), ns.typ()) {
            (Some(_), LinuxNamespaceType::User) => return Err(Error::JoinUserNamespace),
            (Some(p), LinuxNamespaceType::Pid) => join_pid = Some(p.clone()),
            (Some(p), _) => join.push((flag, p.clone())),
            (None, LinuxNamespaceType::Cgroup) => new_cgroup_ns = true,
            (None, _) => clone_flags |= flag,
        }
    }
    // Join the network and ipc namespaces before the mount namespace, which would hide
    // the paths; the mount namespace last.
    join.sort_by_key(|(flag, _)| *flag == CloneFlags::CLONE_NEWNS);
    let new_user_ns = clone_flags.contains(CloneFlags::CLONE_NEWUSER);
    let (uid_map, gid_map) = (
        id_map(linux.uid_mappings().as_ref()),
        id_map(linux.gid_mappings().as_ref()),
    );
    if new_user_ns && (uid_map.is_empty() || gid_map.is_empty()) {
        return Err(Error::MissingIdMappings);
    }
    let has_uts = seen.contains(CloneFlags::CLONE_NEWUTS);
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty()) && !has_uts {
        return Err(Error::HostnameWithoutUts);
    }

    let process_plan = process_plan(process)?;

    // Mounts and devices.
    let root_propagation = match linux.rootfs_propagation().as_deref() {
        None | Some("") => None,
        Some(p) => Some(
            mount_opts::parse_propagation(p)
                .ok_or_else(|| Error::InvalidPropagation(p.to_string()))?,
        ),
    };
    let mounts = spec
        .mounts()
        .iter()
        .flatten()
        .map(|m| mount_plan(m, bundle))
        .collect::<Result<Vec<_>>>()?;
    let rootfs_mounts = rootfs_mounts
        .iter()
        .map(|m| mount_plan(m, bundle))
        .collect::<Result<Vec<_>>>()?;
    let dev_is_bind = mounts
        .iter()
        .any(|m| m.destination == Path::new("/dev") && m.is_bind());
    let mut devices = if dev_is_bind {
        Vec::new()
    } else {
        default_devices()
    };
    for d in linux.devices().iter().flatten() {
        let path =
            clean_absolute(d.path()).filter(|p| p.starts_with("/dev") && p != Path::new("/dev"));
        let path = path.ok_or_else(|| Error::InvalidDevicePath(d.path().clone()))?;
        let kind = match d.typ() {
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            _ => SFlag::S_IFCHR,
        };
        devices.retain(|x| x.path != path);
        devices.push(DevicePlan {
            path,
            kind,
            major: u64::try_from(d.major()).unwrap_or(0),
            minor: u64::try_from(d.minor()).unwrap_or(0),
            mode: d.file_mode().unwrap_or(0o666) & 0o7777,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        });
    }
    let paths = |list: &Option<Vec<String>>| -> Vec<PathBuf> {
        list.iter()
            .flatten()
            .filter_map(|p| clean_absolute(Path::new(p)))
            .collect()
    };
    let mut sysctl: Vec<(String, String)> = linux
        .sysctl()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    sysctl.sort();
    for (k, _) in &sysctl {
        if !sysctl_allowed(k, seen) {
            return Err(Error::InvalidSysctl(k.clone()));
        }
    }

    Ok(Plan {
        rootfs,
        readonly_root: root.readonly().unwrap_or(false),
        clone_flags,
        new_cgroup_ns,
        new_net_ns: clone_flags.contains(CloneFlags::CLONE_NEWNET),
        new_user_ns,
        join,
        join_pid,
        uid_map,
        gid_map,
        hostname: spec.hostname().clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname().clone().filter(|h| !h.is_empty()),
        root_propagation,
        rootfs_mounts,
        mounts,
        devices,
        masked_paths: paths(linux.masked_paths()),
        readonly_paths: paths(linux.readonly_paths()),
        sysctl,
        process: process_plan,
        seccomp: linux
            .seccomp()
            .as_ref()
            .map(crate::seccomp::compile_cached)
            .transpose()?,
    })
}

#[cfg(test)]
mod tests;

/// Only sysctls that belong to a namespace the container has may be set (as runc): the
/// others would change the host.
fn sysctl_allowed(key: &str, namespaces: CloneFlags) -> bool {
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
    let valid = !key.is_empty() && !key.contains("..") && !key.contains('/') && !key.contains('\0');
    let ns = |f: CloneFlags| namespaces.contains(f);
    valid
        && ((ns(CloneFlags::CLONE_NEWIPC) && (IPC.contains(&key) || key.starts_with("fs.mqueue.")))
            || (ns(CloneFlags::CLONE_NEWNET) && key.starts_with("net."))
            || (ns(CloneFlags::CLONE_NEWUTS)
                && (key == "kernel.hostname" || key == "kernel.domainname")))
}

/// The device cgroup rules always allowed after the spec's own (as runc does): mknod of
/// any node, the default devices, ptys, tun, and every device the spec creates that the
/// spec's own rules do not mention (a `--device X:Y:r` rule must not be widened to `rwm`).
fn default_device_rules(spec: &Spec) -> Vec<oci_spec::runtime::LinuxDeviceCgroup> {
    let rule = |typ: LinuxDeviceType, major: Option<i64>, minor: Option<i64>, access: &str| {
        let mut r = oci_spec::runtime::LinuxDeviceCgroup::default();
        r.set_allow(true);
        r.set_typ(Some(typ));
        r.set_major(major);
        r.set_minor(minor);
        r.set_access(Some(access.to_string()));
        r
    };
    let c = LinuxDeviceType::C;
    let mut rules = vec![
        rule(c, None, None, "m"),
        rule(LinuxDeviceType::B, None, None, "m"),
        rule(c, Some(1), Some(3), "rwm"),
        rule(c, Some(1), Some(5), "rwm"),
        rule(c, Some(1), Some(7), "rwm"),
        rule(c, Some(1), Some(8), "rwm"),
        rule(c, Some(1), Some(9), "rwm"),
        rule(c, Some(5), Some(0), "rwm"),
        rule(c, Some(5), Some(1), "rwm"),
        rule(c, Some(5), Some(2), "rwm"),
        rule(c, Some(136), None, "rwm"),
        rule(c, Some(10), Some(200), "rwm"),
    ];
    let own: Vec<_> = spec
        .linux()
        .iter()
        .flat_map(|l| l.resources().iter())
        .flat_map(|r| r.devices().iter().flatten())
        .map(|r| (r.typ(), r.major(), r.minor()))
        .collect();
    for d in spec
        .linux()
        .iter()
        .flat_map(|l| l.devices().iter().flatten())
    {
        let typ = if d.typ() == LinuxDeviceType::B {
            LinuxDeviceType::B
        } else {
            c
        };
        if own.contains(&(Some(typ), Some(d.major()), Some(d.minor()))) {
            continue;
        }
        rules.push(rule(typ, Some(d.major()), Some(d.minor()), "rwm"));
    }
    rules
}

/// The spec's resources with the default device rules appended when it has device rules.
pub(crate) fn effective_resources(spec: &Spec) -> Option<oci_spec::runtime::LinuxResources> {
    let mut res = spec.linux().as_ref()?.resources().clone()?;
    if let Some(devices) = res.devices().clone() {
        let mut all = devices;
        all.extend(default_device_rules(spec));
        res.set_devices(Some(all));
    }
    Some(res)
}
