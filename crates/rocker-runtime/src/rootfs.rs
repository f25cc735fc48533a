//! The container's mount namespace, built by the init: rootfs mounts, spec mounts with
//! every destination resolved inside the rootfs (openat2 RESOLVE_IN_ROOT, then mounting on
//! the resolved `/proc/self/fd/N`, so symlinks in an image cannot redirect a mount onto the
//! host), device nodes, pivot_root, and after it masked / read-only paths.

use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::fcntl::{OFlag, ResolveFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mkdirat, mknodat, Mode};
use nix::sys::statvfs::{statvfs, FsFlags};
use nix::unistd::{chdir, fchownat, pivot_root, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use rocker_sys::fs::{open_in_root, openat};

use crate::cgroups::Cgroup;
use crate::init::InitError;
use crate::spec::{DevicePlan, MountPlan, Plan};

type Result<T> = std::result::Result<T, InitError>;

const NONE: Option<&str> = None;

/// `/proc/self/fd/N`: mounting there acts on what the descriptor resolved to.
fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn rel(path: &Path) -> &Path {
    match path.strip_prefix("/") {
        Ok(p) if p.as_os_str().is_empty() => Path::new("."),
        Ok(p) => p,
        Err(_) => path,
    }
}

/// Opens `path` (clean absolute container path) as O_PATH inside `root`, creating missing
/// components: directories, and for the last one a file when `leaf_is_file`. A dangling
/// symlink on the way gets its target created, resolved inside the root.
fn ensure(
    root: BorrowedFd<'_>,
    path: &Path,
    leaf_is_file: bool,
) -> std::result::Result<OwnedFd, Errno> {
    ensure_depth(root, path, leaf_is_file, 0)
}

fn ensure_depth(
    root: BorrowedFd<'_>,
    path: &Path,
    leaf_is_file: bool,
    depth: u32,
) -> std::result::Result<OwnedFd, Errno> {
    if depth > 40 {
        return Err(Errno::ELOOP);
    }
    let open = |p: &Path| {
        open_in_root(
            root,
            rel(p),
            OFlag::O_PATH,
            Mode::empty(),
            ResolveFlag::empty(),
        )
    };
    match open(path) {
        Err(Errno::ENOENT) => {}
        other => return other,
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Errno::ENOENT);
    };
    let parent_fd = ensure_depth(root, parent, false, depth + 1)?;
    if let Ok(target) = nix::fcntl::readlinkat(Some(parent_fd.as_raw_fd()), name) {
        let target = Path::new(&target);
        let inside = if target.is_absolute() {
            target.to_path_buf()
        } else {
            parent.join(target)
        };
        let inside = crate::spec::clean_absolute(&inside).ok_or(Errno::EINVAL)?;
        ensure_depth(root, &inside, leaf_is_file, depth + 1)?;
        return open(path);
    }
    let made = if leaf_is_file {
        openat(
            Some(parent_fd.as_fd()),
            Path::new(name),
            OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_NOFOLLOW,
            Mode::from_bits_truncate(0o644),
        )
        .map(drop)
    } else {
        mkdirat(
            Some(parent_fd.as_raw_fd()),
            name,
            Mode::from_bits_truncate(0o755),
        )
    };
    match made {
        Ok(()) | Err(Errno::EEXIST) => open(path),
        Err(e) => Err(e),
    }
}

fn mount_err(what: &str, dest: &Path) -> impl FnOnce(Errno) -> InitError {
    let (what, dest) = (what.to_string(), dest.display().to_string());
    move |e| InitError::internal(format!("mount {what} on {dest}: {e}"))
}

/// Mount flags of an existing mount that a bind remount must keep (the kernel refuses to
/// drop locked ones and we never want to lose nosuid/nodev/noexec by accident).
fn kept_flags(path: &Path) -> MsFlags {
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
    ] {
        if f.contains(fs) {
            out |= ms;
        }
    }
    out
}

/// Everything before and including pivot_root. Runs in the init, in its new mount ns.
pub(crate) fn prepare(plan: &Plan, cgroup: &Cgroup) -> Result<()> {
    // Nothing we mount may propagate back to the host.
    let prop = MsFlags::MS_REC | plan.root_propagation.unwrap_or(MsFlags::MS_PRIVATE);
    let prop = if prop.contains(MsFlags::MS_SHARED) {
        MsFlags::MS_REC | MsFlags::MS_SLAVE
    } else {
        prop
    };
    mount(NONE, "/", NONE, prop, NONE).map_err(mount_err("propagation", Path::new("/")))?;

    if plan.rootfs_mounts.is_empty() {
        mount(
            Some(&plan.rootfs),
            &plan.rootfs,
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            NONE,
        )
        .map_err(mount_err("rootfs bind", &plan.rootfs))?;
    }
    for m in &plan.rootfs_mounts {
        let target = if m.destination == Path::new("/") {
            plan.rootfs.clone()
        } else {
            let root = open_dir(&plan.rootfs)?;
            let fd = ensure(root.as_fd(), &m.destination, false)
                .map_err(mount_err(&m.typ, &m.destination))?;
            fd_path(fd.as_fd())
        };
        mount_one(m, &target)?;
    }
    let root = open_dir(&plan.rootfs)?;

    for m in &plan.mounts {
        if m.typ == "cgroup" || m.typ == "cgroup2" {
            mount_cgroup(root.as_fd(), m, cgroup, plan.new_cgroup_ns)?;
            continue;
        }
        let leaf_is_file = m.is_bind() && m.source.as_deref().is_some_and(|s| !s.is_dir());
        let fd = ensure(root.as_fd(), &m.destination, leaf_is_file)
            .map_err(mount_err(&m.typ, &m.destination))?;
        match mount_one(m, &fd_path(fd.as_fd())) {
            Err(_) if m.typ == "sysfs" => {
                // Without a new network namespace sysfs cannot be mounted: bind the host's.
                let fallback = MountPlan {
                    source: Some(PathBuf::from("/sys")),
                    typ: "bind".into(),
                    options: crate::mount_opts::parse(&[
                        "rbind".into(),
                        "ro".into(),
                        "nosuid".into(),
                        "nodev".into(),
                        "noexec".into(),
                    ]),
                    destination: m.destination.clone(),
                };
                mount_one(&fallback, &fd_path(fd.as_fd()))?;
            }
            other => other?,
        }
        if !m.options.propagation.is_empty() || (m.is_bind() && !m.options.flags.is_empty()) {
            let top = ensure(root.as_fd(), &m.destination, false)
                .map_err(mount_err(&m.typ, &m.destination))?;
            let top = fd_path(top.as_fd());
            if m.is_bind() && !m.options.flags.is_empty() {
                let flags =
                    MsFlags::MS_BIND | MsFlags::MS_REMOUNT | m.options.flags | kept_flags(&top);
                mount(NONE, &top, NONE, flags, NONE)
                    .map_err(mount_err("bind remount", &m.destination))?;
            }
            for p in &m.options.propagation {
                mount(NONE, &top, NONE, *p, NONE)
                    .map_err(mount_err("propagation", &m.destination))?;
            }
        }
    }

    create_devices(root.as_fd(), plan)?;
    create_dev_links(root.as_fd(), plan)?;

    chdir(&plan.rootfs)
        .map_err(|e| InitError::internal(format!("chdir {}: {e}", plan.rootfs.display())))?;
    pivot_root(".", ".")
        .map_err(|e| InitError::internal(format!("pivot_root {}: {e}", plan.rootfs.display())))?;
    // The old root is now stacked under the new one at "."; detach it.
    umount2(".", MntFlags::MNT_DETACH)
        .map_err(|e| InitError::internal(format!("detach old root: {e}")))?;
    chdir("/").map_err(|e| InitError::internal(format!("chdir /: {e}")))?;
    Ok(())
}

fn open_dir(path: &Path) -> Result<OwnedFd> {
    openat(
        None,
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY,
        Mode::empty(),
    )
    .map_err(|e| InitError::internal(format!("open rootfs {}: {e}", path.display())))
}

/// One mount(2) (plus the remount a read-only bind needs) onto `target`.
fn mount_one(m: &MountPlan, target: &Path) -> Result<()> {
    let data = (!m.options.data.is_empty()).then_some(m.options.data.as_str());
    if m.is_bind() {
        let source = m.source.as_deref().unwrap_or(Path::new("none"));
        let mut flags = MsFlags::MS_BIND;
        if m.options.recursive {
            flags |= MsFlags::MS_REC;
        }
        mount(Some(source), target, NONE, flags, NONE).map_err(|e| {
            InitError::internal(format!(
                "bind {} on {}: {e}",
                source.display(),
                m.destination.display()
            ))
        })?;
        return Ok(());
    }
    let source: &OsStr = m
        .source
        .as_deref()
        .map_or(OsStr::new(&m.typ), Path::as_os_str);
    mount(
        Some(source),
        target,
        Some(m.typ.as_str()),
        m.options.flags,
        data,
    )
    .map_err(mount_err(&m.typ, &m.destination))
}

/// /sys/fs/cgroup inside the container. With a cgroup namespace on v2 it is a real cgroup2
/// mount; otherwise a tmpfs with the container's own cgroup directories bound in, so the
/// container sees its cgroup as the root and nothing of the host's tree.
fn mount_cgroup(
    root: BorrowedFd<'_>,
    m: &MountPlan,
    cgroup: &Cgroup,
    new_cgroup_ns: bool,
) -> Result<()> {
    let dest = &m.destination;
    let fd = ensure(root, dest, false).map_err(mount_err("cgroup", dest))?;
    let ro = m.options.flags.contains(MsFlags::MS_RDONLY);
    let base = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if cgroup.is_pure_v2() {
        if new_cgroup_ns {
            let flags = m.options.flags | base;
            return mount(
                Some("cgroup2"),
                &fd_path(fd.as_fd()),
                Some("cgroup2"),
                flags,
                NONE,
            )
            .map_err(mount_err("cgroup2", dest));
        }
        let Some(dir) = cgroup.unified_dir() else {
            return Ok(());
        };
        return bind_ro(root, dir, dest, ro);
    }
    mount(
        Some("tmpfs"),
        &fd_path(fd.as_fd()),
        Some("tmpfs"),
        base,
        Some("mode=755"),
    )
    .map_err(mount_err("cgroup tmpfs", dest))?;
    let mut binds: Vec<(String, &Path)> = cgroup
        .v1_dirs()
        .iter()
        .filter_map(|d| {
            Some((
                d.mountpoint.file_name()?.to_string_lossy().into_owned(),
                d.dir.as_path(),
            ))
        })
        .collect();
    if let Some(u) = cgroup.unified_dir() {
        binds.push(("unified".into(), u));
    }
    for (name, host_dir) in binds {
        bind_ro(root, host_dir, &dest.join(&name), ro)?;
    }
    if ro {
        let top = ensure(root, dest, false).map_err(mount_err("cgroup", dest))?;
        mount(
            NONE,
            &fd_path(top.as_fd()),
            NONE,
            MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | base,
            NONE,
        )
        .map_err(mount_err("cgroup tmpfs remount", dest))?;
    }
    Ok(())
}

/// Binds host directory `source` on container path `dest`, read-only if `ro`.
fn bind_ro(root: BorrowedFd<'_>, source: &Path, dest: &Path, ro: bool) -> Result<()> {
    let fd = ensure(root, dest, false).map_err(mount_err("cgroup", dest))?;
    mount(
        Some(source),
        &fd_path(fd.as_fd()),
        NONE,
        MsFlags::MS_BIND,
        NONE,
    )
    .map_err(mount_err("cgroup bind", dest))?;
    if ro {
        // Re-resolve: the descriptor above points below the new mount.
        let top = ensure(root, dest, false).map_err(mount_err("cgroup", dest))?;
        let flags =
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | kept_flags(source);
        mount(NONE, &fd_path(top.as_fd()), NONE, flags, NONE)
            .map_err(mount_err("cgroup bind remount", dest))?;
    }
    Ok(())
}

fn create_devices(root: BorrowedFd<'_>, plan: &Plan) -> Result<()> {
    for d in &plan.devices {
        create_device(root, d, plan.new_user_ns)
            .map_err(|e| InitError::internal(format!("create device {}: {e}", d.path.display())))?;
    }
    Ok(())
}

fn create_device(
    root: BorrowedFd<'_>,
    d: &DevicePlan,
    bind: bool,
) -> std::result::Result<(), Errno> {
    let (Some(parent), Some(name)) = (d.path.parent(), d.path.file_name()) else {
        return Err(Errno::EINVAL);
    };
    let dir = ensure(root, parent, false)?;
    if bind {
        // mknod is not allowed in a user namespace: bind the host's node instead.
        let fd = ensure(root, &d.path, true)?;
        return mount(
            Some(&d.path),
            &fd_path(fd.as_fd()),
            NONE,
            MsFlags::MS_BIND,
            NONE,
        );
    }
    let dev = makedev(d.major, d.minor);
    let mode = Mode::from_bits_truncate(d.mode);
    match mknodat(Some(dir.as_raw_fd()), name, d.kind, mode, dev) {
        Err(Errno::EEXIST) => {
            unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir)?;
            mknodat(Some(dir.as_raw_fd()), name, d.kind, mode, dev)?;
        }
        other => other?,
    }
    if d.uid != 0 || d.gid != 0 {
        fchownat(
            Some(dir.as_raw_fd()),
            name,
            Some(Uid::from_raw(d.uid)),
            Some(Gid::from_raw(d.gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
    }
    Ok(())
}

/// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx, as runc creates them.
fn create_dev_links(root: BorrowedFd<'_>, plan: &Plan) -> Result<()> {
    if plan
        .mounts
        .iter()
        .any(|m| m.destination == Path::new("/dev") && m.is_bind())
    {
        return Ok(());
    }
    let dev = ensure(root, Path::new("/dev"), false)
        .map_err(|e| InitError::internal(format!("open /dev: {e}")))?;
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
        ("/proc/kcore", "core"),
    ];
    if plan
        .mounts
        .iter()
        .any(|m| m.destination == Path::new("/dev/pts"))
    {
        match unlinkat(Some(dev.as_raw_fd()), "ptmx", UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(InitError::internal(format!("remove /dev/ptmx: {e}"))),
        }
        links.push(("pts/ptmx", "ptmx"));
    }
    for (target, name) in links {
        match symlinkat(target, Some(dev.as_raw_fd()), name) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(InitError::internal(format!("symlink /dev/{name}: {e}"))),
        }
    }
    Ok(())
}

/// After pivot_root: read-only and masked paths, read-only root, root propagation.
pub(crate) fn finalize(plan: &Plan) -> Result<()> {
    for p in &plan.readonly_paths {
        if !p.exists() {
            continue;
        }
        mount(Some(p), p, NONE, MsFlags::MS_BIND | MsFlags::MS_REC, NONE)
            .map_err(mount_err("readonly bind", p))?;
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | kept_flags(p);
        mount(NONE, p, NONE, flags, NONE).map_err(mount_err("readonly remount", p))?;
    }
    for p in &plan.masked_paths {
        match std::fs::metadata(p) {
            Err(_) => continue,
            Ok(m) if m.is_dir() => mount(Some("tmpfs"), p, Some("tmpfs"), MsFlags::MS_RDONLY, NONE),
            Ok(_) => mount(Some("/dev/null"), p, NONE, MsFlags::MS_BIND, NONE),
        }
        .map_err(mount_err("mask", p))?;
    }
    if plan.readonly_root {
        let flags = MsFlags::MS_BIND
            | MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | kept_flags(Path::new("/"));
        mount(NONE, "/", NONE, flags, NONE).map_err(mount_err("readonly root", Path::new("/")))?;
    }
    if let Some(p) = plan.root_propagation {
        mount(NONE, "/", NONE, p, NONE).map_err(mount_err("root propagation", Path::new("/")))?;
    }
    Ok(())
}
