//! The container's init: the code the cloned child runs, as PID 1 of the new pid
//! namespace, from the clone until execve of the user process. It never re-execs a host
//! binary. Every failure is sent to the parent as a message and ends the process.

use std::convert::Infallible;
use std::ffi::CString;
use std::fmt::Display;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use caps::CapSet;
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::stat::{umask, Mode};
use nix::unistd::{dup2, execve, setgroups, sethostname, setresgid, setresuid, setsid, Gid, Uid};
use rocker_sys::process::exit_immediately;

use crate::cgroups::Cgroup;
use crate::channel::Channel;
use crate::container::Stdio;
use crate::spec::{Plan, ProcessPlan};
use crate::{exec, rootfs, ErrorKind};

/// A failed init step, as sent to the parent.
#[derive(Debug)]
pub(crate) struct InitError {
    pub message: String,
    pub kind: ErrorKind,
}

impl InitError {
    pub fn new(message: String, kind: ErrorKind) -> Self {
        InitError { message, kind }
    }

    pub fn internal(message: String) -> Self {
        InitError::new(message, ErrorKind::Internal)
    }
}

/// `.map_err(step("set hostname"))` → "set hostname: EPERM: Operation not permitted".
pub(crate) fn step<E: Display>(what: impl Display) -> impl FnOnce(E) -> InitError {
    move |e| InitError::internal(format!("{what}: {e}"))
}

/// How the init waits before exec.
pub(crate) enum InitGate {
    /// A `Start` message on the channel.
    Channel,
    /// Opening this FIFO (an O_PATH descriptor) for writing blocks until `start` reads it.
    Fifo(OwnedFd),
}

/// What the init gets from `create` (by ownership, since it runs in a copy of the caller).
pub(crate) struct InitArgs<'a> {
    pub id: &'a str,
    pub plan: &'a Plan,
    pub cgroup: &'a Cgroup,
    pub channel: Channel,
    pub stdio: Stdio,
    pub gate: InitGate,
    /// Allocate the terminal inside the container and send its master to the parent.
    pub console: bool,
}

/// Runs the init; never returns.
pub(crate) fn run(args: InitArgs<'_>) -> ! {
    finish_child(setup_and_exec(&args), &args.channel)
}

/// Ends a cloned child whose setup failed: the failure goes to the parent, the exit code is
/// Docker's 127/126 for exec failures and 1 otherwise.
pub(crate) fn finish_child(result: Result<Infallible, InitError>, channel: &Channel) -> ! {
    let code = match result {
        Ok(never) => match never {},
        Err(e) => {
            let code = e.kind.exec_exit_code().unwrap_or(1);
            channel.send_failure(e.message, e.kind);
            code
        }
    };
    exit_immediately(code)
}

/// What every process the runtime clones into a container does first: become
/// non-dumpable until execve (which restores it), so nothing in the container may open our
/// /proc/<pid>/exe (a host binary, CVE-2019-5736) or /proc/<pid>/fd (host descriptors);
/// reset signal dispositions; name itself `<role>:<id prefix>` for ps; wait for the parent's
/// go-ahead (cgroup placed, id maps written); start a new session.
pub(crate) fn child_prologue(channel: &Channel, role: &str, id: &str) -> Result<(), InitError> {
    nix::sys::prctl::set_dumpable(false).map_err(step("set non-dumpable"))?;
    rocker_sys::process::reset_signals().map_err(step("reset signals"))?;
    if let Ok(name) = CString::new(format!("{role}:{}", id.get(..8).unwrap_or(id))) {
        // Only what `ps` shows until exec; best effort.
        let _ = nix::sys::prctl::set_name(&name);
    }
    if !channel.wait_for_proceed() {
        exit_immediately(1);
    }
    setsid().map_err(step("setsid"))?;
    Ok(())
}

fn setup_and_exec(args: &InitArgs<'_>) -> Result<Infallible, InitError> {
    let plan = args.plan;
    child_prologue(&args.channel, "rocker-init", args.id)?;
    install_stdio(&args.stdio)?;
    if plan.process.terminal && !args.console {
        rocker_sys::term::set_controlling_terminal(std::io::stdin().as_fd())
            .map_err(step("set controlling terminal"))?;
    }
    if plan.new_user_ns {
        setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .map_err(step("become root in user namespace"))?;
        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .map_err(step("become root in user namespace"))?;
    }
    for (flag, path) in &plan.join {
        let f = std::fs::File::open(path)
            .map_err(step(format!("open namespace {}", path.display())))?;
        setns(f.as_fd(), *flag).map_err(step(format!("join namespace {}", path.display())))?;
    }
    if plan.new_cgroup_ns {
        unshare(CloneFlags::CLONE_NEWCGROUP).map_err(step("unshare cgroup namespace"))?;
    }
    if let Some(h) = &plan.hostname {
        sethostname(h).map_err(step(format!("set hostname {h:?}")))?;
    }
    if let Some(d) = &plan.domainname {
        rocker_sys::term::set_domainname(d).map_err(step(format!("set domainname {d:?}")))?;
    }
    if plan.new_net_ns {
        rocker_sys::net::set_interface_up("lo").map_err(step("bring up lo"))?;
    }
    // Through the host's /proc (still visible here); per-namespace sysctls resolve against
    // the namespaces of the writing process, i.e. the container's.
    if let Some(adj) = plan.process.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(step("set oom_score_adj"))?;
    }
    for (key, value) in &plan.sysctl {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        std::fs::write(&path, value).map_err(step(format!("set sysctl {key}")))?;
    }

    umask(Mode::empty());
    rootfs::prepare(plan, args.cgroup)?;
    // Like Docker, a missing working directory is created (before the root may turn
    // read-only).
    let cwd = &plan.process.cwd;
    if !cwd.exists() {
        std::fs::create_dir_all(cwd).map_err(step(format!("create cwd {}", cwd.display())))?;
    }
    rootfs::finalize(plan)?;
    if args.console {
        setup_console(&plan.process, &args.channel)?;
    }

    for (res, soft, hard) in &plan.process.rlimits {
        nix::sys::resource::setrlimit(*res, *soft, *hard)
            .map_err(step(format!("set rlimit {res:?}")))?;
    }
    // As runc: without no_new_privs, loading a filter needs CAP_SYS_ADMIN, so it goes in
    // while the init still has it; with no_new_privs, as late as possible (below).
    if !plan.process.no_new_privs {
        install_seccomp(plan)?;
    }
    switch_user(&plan.process)?;
    nix::unistd::chdir(cwd).map_err(step(format!("chdir to cwd {}", cwd.display())))?;
    if plan.process.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(step("set no_new_privs"))?;
    }
    umask(Mode::from_bits_truncate(
        plan.process.umask.unwrap_or(0o022),
    ));

    let program = plan.process.args[0]
        .to_str()
        .map_err(step("process.args[0] is not utf-8"))?;
    let path = exec::lookup(program, plan.process.path_env.as_deref())?;

    args.channel.send_ready().map_err(step("report ready"))?;
    match &args.gate {
        InitGate::Channel => {
            if !args.channel.wait_for_start() {
                // The creator went away without starting us.
                exit_immediately(1);
            }
        }
        InitGate::Fifo(fd) => {
            // Blocks until `start` opens the FIFO for reading.
            let reopen = format!("/proc/self/fd/{}", fd.as_raw_fd());
            let mut fifo = std::fs::OpenOptions::new()
                .write(true)
                .open(&reopen)
                .map_err(step("open exec fifo"))?;
            std::io::Write::write_all(&mut fifo, b"0").map_err(step("write exec fifo"))?;
        }
    }

    // CVE-2024-21626: nothing of ours may survive into the user process.
    rocker_sys::fs::set_cloexec_from(3).map_err(step("mark descriptors close-on-exec"))?;
    if plan.process.no_new_privs {
        install_seccomp(plan)?;
    }
    let errno = match execve(&path, &plan.process.args, &plan.process.env) {
        Err(e) => e,
        Ok(never) => match never {},
    };
    Err(exec::exec_error(&path, errno))
}

fn install_seccomp(plan: &Plan) -> Result<(), InitError> {
    match &plan.seccomp {
        Some(filter) => crate::seccomp::install(filter).map_err(step("load seccomp filter")),
        None => Ok(()),
    }
}

/// Allocates the container's terminal on its own devpts (the root is pivoted already, so
/// `/dev/ptmx` is the container's), makes the slave the process's stdio and controlling
/// terminal, and sends the master to the parent.
pub(crate) fn setup_console(process: &ProcessPlan, channel: &Channel) -> Result<(), InitError> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(step("open /dev/ptmx"))?;
    nix::pty::grantpt(&master).map_err(step("grantpt"))?;
    nix::pty::unlockpt(&master).map_err(step("unlockpt"))?;
    let name = nix::pty::ptsname_r(&master).map_err(step("ptsname"))?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
        .map_err(step(format!("open {name}")))?;
    nix::unistd::fchown(slave.as_raw_fd(), Some(Uid::from_raw(process.uid)), None)
        .map_err(step(format!("chown {name}")))?;
    if let Some((rows, cols)) = process.console_size {
        let _ = rocker_sys::term::set_winsize(slave.as_fd(), rows, cols);
    }
    for target in 0..3 {
        dup2(slave.as_raw_fd(), target).map_err(step("install terminal"))?;
    }
    rocker_sys::term::set_controlling_terminal(slave.as_fd())
        .map_err(step("set controlling terminal"))?;
    // SAFETY-free: the master is a plain fd; PtyMaster owns it and closes it on drop here,
    // after the parent has its own copy.
    channel
        .send_console(master.as_fd())
        .map_err(step("send terminal to creator"))?;
    Ok(())
}

/// Puts the caller's three descriptors on 0, 1 and 2 (through copies above 2, so any
/// overlap between the given numbers and 0..2 is harmless).
pub(crate) fn install_stdio(stdio: &Stdio) -> Result<(), InitError> {
    let copies = [&stdio.stdin, &stdio.stdout, &stdio.stderr]
        .map(|fd| fd.try_clone().map_err(step("duplicate stdio")));
    for (target, fd) in copies.into_iter().enumerate() {
        let fd = fd?;
        let target = i32::try_from(target).map_err(step("stdio"))?;
        dup2(fd.as_raw_fd(), target).map_err(step("install stdio"))?;
    }
    Ok(())
}

/// Bounding set, groups, uid/gid, then the other capability sets (kept across the uid
/// change with PR_SET_KEEPCAPS).
pub(crate) fn switch_user(p: &ProcessPlan) -> Result<(), InitError> {
    let caps_err = |what: &'static str| {
        move |e: caps::errors::CapsError| InitError::internal(format!("{what}: {e}"))
    };
    let wanted = match &p.caps {
        Some(c) => {
            let have =
                caps::read(None, CapSet::Permitted).map_err(caps_err("read capabilities"))?;
            for cap in caps::runtime::thread_all_supported() {
                if !c.bounding.contains(&cap)
                    && caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false)
                {
                    caps::drop(None, CapSet::Bounding, cap)
                        .map_err(caps_err("drop bounding capability"))?;
                }
            }
            // What the host does not give us (e.g. CAP_SYS_RESOURCE) cannot be granted.
            let keep = |set: &caps::CapsHashSet| {
                set.intersection(&have)
                    .copied()
                    .collect::<caps::CapsHashSet>()
            };
            nix::sys::prctl::set_keepcaps(true).map_err(step("set keepcaps"))?;
            Some((
                keep(&c.inheritable),
                keep(&c.permitted),
                keep(&c.effective),
                keep(&c.ambient),
            ))
        }
        None => None,
    };
    let gids: Vec<Gid> = p
        .additional_gids
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    setgroups(&gids).map_err(step("setgroups"))?;
    let (uid, gid) = (Uid::from_raw(p.uid), Gid::from_raw(p.gid));
    setresgid(gid, gid, gid).map_err(step(format!("setgid {}", p.gid)))?;
    setresuid(uid, uid, uid).map_err(step(format!("setuid {}", p.uid)))?;
    if let Some((inheritable, permitted, effective, ambient)) = wanted {
        nix::sys::prctl::set_keepcaps(false).map_err(step("clear keepcaps"))?;
        // capset(2) requires effective ⊆ permitted at every step: effective first.
        let effective: caps::CapsHashSet = effective.intersection(&permitted).copied().collect();
        caps::set(None, CapSet::Effective, &effective)
            .map_err(caps_err("set effective capabilities"))?;
        caps::set(None, CapSet::Inheritable, &inheritable)
            .map_err(caps_err("set inheritable capabilities"))?;
        caps::set(None, CapSet::Permitted, &permitted)
            .map_err(caps_err("set permitted capabilities"))?;
        caps::clear(None, CapSet::Ambient).map_err(caps_err("clear ambient capabilities"))?;
        for cap in ambient {
            if inheritable.contains(&cap) && permitted.contains(&cap) {
                caps::raise(None, CapSet::Ambient, cap)
                    .map_err(caps_err("raise ambient capability"))?;
            }
        }
    }
    Ok(())
}
