//! Running an extra process inside a running container (`docker exec`, `runc exec`).
//!
//! The parent (the caller, single-threaded) opens the container's namespaces through the
//! init's `/proc/<pid>/ns/*`, switches its own `pid_for_children` to the container's pid
//! namespace around the clone (joining a pid namespace only affects children), clones the
//! child straight into the container's unified cgroup and places it in every v1 hierarchy,
//! then lets it proceed. The child joins the remaining namespaces (user first, mount last),
//! allocates its terminal inside the container if asked, applies rlimits, user,
//! capabilities, cwd, `no_new_privs` and the container's seccomp filter (compiled in the
//! parent), and execs the program. Failures travel over the
//! same typed channel `create` uses and keep Docker's 127 / 126 classification.

use std::convert::Infallible;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::Signal;
use nix::sys::stat::{umask, Mode};
use nix::sys::wait::waitpid;
use oci_spec::runtime::{LinuxSeccomp, Process};
use rocker_sys::process::{clone3, pidfd_send_signal, CloneResult};

use crate::cgroups::{self, Cgroup};
use crate::channel::{Channel, FromInit, Report};
use crate::container::Stdio;
use crate::init::{install_stdio, setup_console, step, switch_user, InitError};
use crate::spec::{self, ProcessPlan};
use crate::ErrorKind;

/// Everything [`exec`] needs.
pub struct ExecOptions<'a> {
    /// The container id (for messages and the process name before exec).
    pub id: &'a str,
    /// The container's init, in the caller's pid namespace: its namespaces are joined.
    pub init_pid: i32,
    /// The process to run (args, env, cwd, user, capabilities, rlimits, terminal...).
    pub process: &'a Process,
    /// The container's cgroup; the new process joins it in every hierarchy.
    pub cgroup: Option<&'a Cgroup>,
    /// The process's fds 0, 1, 2 (ignored with a console).
    pub stdio: Stdio,
    /// With `process.terminal`: allocate the terminal inside the container (its devpts) and
    /// return the master in [`ExecProcess::console`].
    pub console: bool,
    /// The container's seccomp profile (`linux.seccomp` of its spec), if it has one.
    pub seccomp: Option<&'a LinuxSeccomp>,
}

/// A process running inside the container.
#[derive(Debug)]
pub struct ExecProcess {
    /// Its pid in the caller's pid namespace.
    pub pid: i32,
    pub pidfd: OwnedFd,
    /// The master of its terminal (with [`ExecOptions::console`]).
    pub console: Option<OwnedFd>,
}

/// Errors of [`exec`].
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("invalid process for exec in container {id}: {source}")]
    ValidateProcess { id: String, source: spec::Error },
    #[error("container {id} is not running (init {pid} is gone)")]
    NotRunning { id: String, pid: i32 },
    #[error("open namespace {path} of container {id}: {source}")]
    OpenNamespace {
        id: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("open cgroup {path} of container {id}: {source}")]
    OpenCgroup {
        id: String,
        path: PathBuf,
        source: nix::Error,
    },
    #[error("compile seccomp profile of container {id}: {source}")]
    CompileSeccomp {
        id: String,
        source: crate::seccomp::Error,
    },
    #[error("create exec channel for container {id}: {source}")]
    CreateChannel { id: String, source: nix::Error },
    #[error("join pid namespace {path} for exec in container {id}: {source}")]
    JoinPidNamespace {
        id: String,
        path: PathBuf,
        source: nix::Error,
    },
    #[error("clone exec process of container {id}: {source}")]
    Clone { id: String, source: nix::Error },
    #[error("place exec process of container {id} in cgroup: {source}")]
    PlaceInCgroup { id: String, source: cgroups::Error },
    #[error("talk to exec process of container {id}: {source}")]
    Channel { id: String, source: nix::Error },
    /// The child reported a failure (e.g. `exec: "nosuch": executable file not found in
    /// $PATH`).
    #[error("{message}")]
    Process { message: String, kind: ErrorKind },
}

impl ExecError {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExecError::ValidateProcess { source, .. } => source.kind(),
            ExecError::CompileSeccomp { .. } => ErrorKind::InvalidArgument,
            ExecError::NotRunning { .. } => ErrorKind::Conflict,
            ExecError::Process { kind, .. } => *kind,
            _ => ErrorKind::Internal,
        }
    }

    /// Docker's exit code when the program could not be exec'd (127 / 126).
    pub fn exec_exit_code(&self) -> Option<i32> {
        self.kind().exec_exit_code()
    }
}

/// Namespaces the child joins, in this order: user first (so it has the capabilities to
/// join the others), mount last (it hides the host's /proc).
const JOIN_ORDER: [(&str, CloneFlags); 6] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// True when `/proc/<pid>/ns/<name>` differs from ours (so it must be joined).
fn differs(pid: i32, name: &str) -> std::io::Result<bool> {
    let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{name}"))?;
    match std::fs::metadata(format!("/proc/self/ns/{name}")) {
        Ok(ours) => Ok((ours.dev(), ours.ino()) != (theirs.dev(), theirs.ino())),
        // A namespace type we cannot see ourselves: join it.
        Err(_) => Ok(true),
    }
}

/// The namespaces of `pid` that differ from ours, opened, in join order.
fn open_namespaces(id: &str, pid: i32) -> Result<Vec<(CloneFlags, OwnedFd)>, ExecError> {
    let mut out = Vec::new();
    for (name, flag) in JOIN_ORDER {
        let path = PathBuf::from(format!("/proc/{pid}/ns/{name}"));
        let open_err = |source| ExecError::OpenNamespace {
            id: id.to_string(),
            path: path.clone(),
            source,
        };
        match differs(pid, name) {
            Ok(false) => continue,
            Ok(true) => {}
            // Kernels without a namespace type have no file: nothing to join.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && name != "mnt" => continue,
            Err(e) => return Err(open_err(e)),
        }
        let f = std::fs::File::open(&path).map_err(open_err)?;
        out.push((flag, OwnedFd::from(f)));
    }
    Ok(out)
}

/// Runs `opts.process` inside the running container: see the module docs. Returns once the
/// program has been exec'd, or the child's error (whose [`ExecError::exec_exit_code`] gives
/// Docker's 127 / 126); on error the child has been reaped. The caller must be
/// single-threaded.
pub fn exec(opts: ExecOptions<'_>) -> Result<ExecProcess, ExecError> {
    let id = opts.id;
    let plan = spec::process_plan(opts.process).map_err(|source| ExecError::ValidateProcess {
        id: id.into(),
        source,
    })?;
    if !Path::new(&format!("/proc/{}", opts.init_pid)).exists() || opts.init_pid <= 0 {
        return Err(ExecError::NotRunning {
            id: id.into(),
            pid: opts.init_pid,
        });
    }
    let seccomp = opts
        .seccomp
        .map(crate::seccomp::compile_cached)
        .transpose()
        .map_err(|source| ExecError::CompileSeccomp {
            id: id.into(),
            source,
        })?;
    let joins = open_namespaces(id, opts.init_pid)?;
    let pid_ns = PathBuf::from(format!("/proc/{}/ns/pid", opts.init_pid));
    let join_pid = differs(opts.init_pid, "pid").map_err(|source| ExecError::OpenNamespace {
        id: id.into(),
        path: pid_ns.clone(),
        source,
    })?;
    let cgroup_fd = match opts.cgroup.and_then(Cgroup::unified_dir) {
        Some(dir) => Some(
            rocker_sys::fs::openat(None, dir, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())
                .map_err(|source| ExecError::OpenCgroup {
                    id: id.into(),
                    path: dir.to_path_buf(),
                    source,
                })?,
        ),
        None => None,
    };
    let (parent_chan, child_chan) = Channel::pair().map_err(|source| ExecError::CreateChannel {
        id: id.into(),
        source,
    })?;
    let console = opts.console && plan.terminal;
    let pid_err = |source| ExecError::JoinPidNamespace {
        id: id.into(),
        path: pid_ns.clone(),
        source,
    };

    // Joining a pid namespace only affects children: switch around the clone.
    let saved_pidns = if join_pid {
        let own = std::fs::File::open("/proc/self/ns/pid").map_err(|source| {
            ExecError::OpenNamespace {
                id: id.into(),
                path: "/proc/self/ns/pid".into(),
                source,
            }
        })?;
        let target = std::fs::File::open(&pid_ns).map_err(|source| ExecError::OpenNamespace {
            id: id.into(),
            path: pid_ns.clone(),
            source,
        })?;
        setns(target.as_fd(), CloneFlags::CLONE_NEWPID).map_err(pid_err)?;
        Some(own)
    } else {
        None
    };
    let cloned = clone3(CloneFlags::empty(), cgroup_fd.as_ref().map(|f| f.as_fd()));
    // Only the parent switches back (the child lives in the container's namespace, where
    // the caller's is out of reach).
    let is_child = matches!(cloned, Ok(CloneResult::Child));
    if let (Some(own), false) = (&saved_pidns, is_child) {
        // Back to our own namespace: we must not keep going in the container's.
        setns(own.as_fd(), CloneFlags::CLONE_NEWPID).map_err(|source| {
            ExecError::JoinPidNamespace {
                id: id.into(),
                path: "/proc/self/ns/pid".into(),
                source,
            }
        })?;
    }
    let (pid, pidfd, in_cgroup) = match cloned {
        Ok(CloneResult::Child) => {
            drop(parent_chan);
            run_child(&ChildArgs {
                id,
                plan: &plan,
                joins: &joins,
                channel: child_chan,
                stdio: opts.stdio,
                console,
                seccomp: seccomp.as_ref(),
            })
        }
        Ok(CloneResult::Parent {
            pid,
            pidfd,
            in_cgroup,
        }) => (pid, pidfd, in_cgroup),
        Err(source) => {
            return Err(ExecError::Clone {
                id: id.into(),
                source,
            })
        }
    };
    drop(child_chan);
    drop(opts.stdio);
    drop(joins);

    let fail = |e: ExecError| -> ExecError {
        let _ = pidfd_send_signal(pidfd.as_fd(), Signal::SIGKILL);
        let _ = waitpid(pid, None);
        e
    };
    if let Some(cg) = opts.cgroup {
        if let Err(source) = cg.add_process(pid, in_cgroup) {
            return Err(fail(ExecError::PlaceInCgroup {
                id: id.into(),
                source,
            }));
        }
    }
    if let Err(source) = parent_chan.send_proceed() {
        return Err(fail(ExecError::Channel {
            id: id.into(),
            source,
        }));
    }
    let mut master = None;
    loop {
        match parent_chan.wait_for_report() {
            Ok(Report::Console(fd)) if master.is_none() => master = Some(fd),
            // Closed by close-on-exec: the program runs (a child that died silently before
            // reporting is seen by the caller through the pidfd like any exit).
            Ok(Report::Closed) => {
                return Ok(ExecProcess {
                    pid: pid.as_raw(),
                    pidfd,
                    console: master,
                })
            }
            Ok(Report::Message(FromInit::Failed { message, kind })) => {
                return Err(fail(ExecError::Process { message, kind }))
            }
            Ok(_) => {
                return Err(fail(ExecError::Channel {
                    id: id.into(),
                    source: nix::Error::EPROTO,
                }))
            }
            Err(source) => {
                return Err(fail(ExecError::Channel {
                    id: id.into(),
                    source,
                }))
            }
        }
    }
}

/// What the cloned child needs (it runs in a copy of the caller).
struct ChildArgs<'a> {
    id: &'a str,
    plan: &'a ProcessPlan,
    joins: &'a [(CloneFlags, OwnedFd)],
    channel: Channel,
    stdio: Stdio,
    console: bool,
    seccomp: Option<&'a crate::seccomp::Filter>,
}

fn run_child(args: &ChildArgs<'_>) -> ! {
    crate::init::finish_child(setup_and_exec(args), &args.channel)
}

fn setup_and_exec(args: &ChildArgs<'_>) -> Result<Infallible, InitError> {
    let plan = args.plan;
    crate::init::child_prologue(&args.channel, "rocker-exec", args.id)?;
    if !args.console {
        install_stdio(&args.stdio)?;
        if plan.terminal {
            rocker_sys::term::set_controlling_terminal(std::io::stdin().as_fd())
                .map_err(step("set controlling terminal"))?;
        }
    }
    for (flag, fd) in args.joins {
        setns(fd.as_fd(), *flag).map_err(step(format!("join namespace {flag:?}")))?;
    }
    if args.console {
        setup_console(plan, &args.channel)?;
    }
    for (res, soft, hard) in &plan.rlimits {
        nix::sys::resource::setrlimit(*res, *soft, *hard)
            .map_err(step(format!("set rlimit {res:?}")))?;
    }
    // As the init (and runc): without no_new_privs, loading the filter needs CAP_SYS_ADMIN,
    // so it goes in before the user switch; with no_new_privs, right before execve.
    if !plan.no_new_privs {
        install_seccomp(args.seccomp)?;
    }
    switch_user(plan)?;
    let cwd = &plan.cwd;
    nix::unistd::chdir(cwd).map_err(step(format!("chdir to cwd {}", cwd.display())))?;
    if plan.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(step("set no_new_privs"))?;
    }
    umask(Mode::from_bits_truncate(plan.umask.unwrap_or(0o022)));

    let program = plan.args[0]
        .to_str()
        .map_err(step("process.args[0] is not utf-8"))?;
    let path = crate::exec::lookup(program, plan.path_env.as_deref())?;

    // CVE-2024-21626: nothing of ours may survive into the user process.
    rocker_sys::fs::set_cloexec_from(3).map_err(step("mark descriptors close-on-exec"))?;
    if plan.no_new_privs {
        install_seccomp(args.seccomp)?;
    }
    let errno = match nix::unistd::execve(&path, &plan.args, &plan.env) {
        Err(e) => e,
        Ok(never) => match never {},
    };
    Err(crate::exec::exec_error(&path, errno))
}

fn install_seccomp(filter: Option<&crate::seccomp::Filter>) -> Result<(), InitError> {
    match filter {
        Some(f) => crate::seccomp::install(f).map_err(step("load seccomp filter")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespaces_do_not_differ() {
        let me = i32::try_from(std::process::id()).expect("pid");
        for (name, _) in JOIN_ORDER {
            if Path::new(&format!("/proc/self/ns/{name}")).exists() {
                assert!(!differs(me, name).expect("stat"), "{name}");
            }
        }
        assert!(open_namespaces("t", me).expect("open").is_empty());
    }

    #[test]
    fn kinds_and_codes() {
        let e = ExecError::Process {
            message: "exec: \"x\": executable file not found in $PATH".into(),
            kind: ErrorKind::ExecutableNotFound,
        };
        assert_eq!(e.exec_exit_code(), Some(127));
        let e = ExecError::NotRunning {
            id: "c".into(),
            pid: 0,
        };
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(e.exec_exit_code(), None);
    }

    #[test]
    fn missing_init_is_not_running() {
        let process = Process::default();
        let stdio = || -> Stdio {
            let null = || -> OwnedFd { std::fs::File::open("/dev/null").expect("null").into() };
            Stdio {
                stdin: null(),
                stdout: null(),
                stderr: null(),
            }
        };
        let err = exec(ExecOptions {
            id: "c",
            init_pid: i32::MAX,
            process: &process,
            cgroup: None,
            stdio: stdio(),
            console: false,
            seccomp: None,
        })
        .expect_err("no such init");
        assert!(matches!(err, ExecError::NotRunning { .. }), "{err}");
    }
}
