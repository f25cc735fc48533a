//! The parent side of starting a container: [`create`] prepares the plan and the cgroup,
//! clones the init into its namespaces, places it in the cgroup and waits until it reports
//! ready (blocked at its gate); [`Created::start`] opens the gate and waits for the exec.
//! On any failure the init is killed and reaped and the cgroup removed: nothing is left.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::{Mount, Spec};
use rocker_sys::process::{clone3, pidfd_send_signal, CloneResult};

use crate::cgroups::{Cgroup, Layout};
use crate::channel::{Channel, FromInit, Report};
use crate::init::{self, InitArgs, InitGate};
use crate::spec::{self, Plan};
use crate::Error;

/// The container process's standard streams (installed on its fds 0, 1, 2).
#[derive(Debug)]
pub struct Stdio {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// How the init waits, fully set up, before exec'ing the user process.
#[derive(Debug, Clone)]
pub enum Gate {
    /// Released by [`Created::start`] in this process.
    Pipe,
    /// Released by whoever opens this FIFO for reading (runc-style `start` from another
    /// process). The FIFO must exist (mkfifo) before `create`.
    Fifo(PathBuf),
}

/// Everything [`create`] needs.
pub struct CreateOptions<'a> {
    pub id: &'a str,
    /// spec.root.path is relative to this unless absolute.
    pub bundle: &'a Path,
    pub spec: &'a Spec,
    pub stdio: Stdio,
    pub gate: Gate,
    /// Mounted onto the root path INSIDE the new mount namespace before anything else
    /// (e.g. the overlay rootfs: type "overlay", source "overlay", options
    /// lowerdir=..,upperdir=..,workdir=..). Lives only in the container's mount ns, so
    /// nothing leaks on the host when it dies. Destination "/" means the rootfs itself.
    pub rootfs_mounts: &'a [Mount],
    /// With `process.terminal`: allocate the terminal inside the container (on its own
    /// devpts instance, so `tty` names it) and hand the master back in [`Created::console`]
    /// instead of using `stdio` for the user process.
    pub console: bool,
}

/// A container whose init is set up and blocked at its gate.
#[derive(Debug)]
pub struct Created {
    /// The init's pid in the caller's pid namespace.
    pub pid: i32,
    pub pidfd: OwnedFd,
    pub cgroup: Cgroup,
    /// The master side of the container's terminal (with [`CreateOptions::console`]).
    pub console: Option<OwnedFd>,
    id: String,
    channel: Channel,
    gate: Gate,
}

/// A container whose user process has been exec'd.
#[derive(Debug)]
pub struct Started {
    pub pid: i32,
    pub pidfd: OwnedFd,
    pub cgroup: Cgroup,
}

/// Creates the container: see the module docs. The caller must be single-threaded.
pub fn create(opts: CreateOptions<'_>) -> Result<Created, Error> {
    let id = opts.id.to_string();
    let bundle = std::path::absolute(opts.bundle).map_err(|source| Error::OpenFile {
        id: id.clone(),
        path: opts.bundle.to_path_buf(),
        source,
    })?;
    let plan = spec::plan(opts.spec, &bundle, opts.rootfs_mounts).map_err(|source| {
        Error::ValidateSpec {
            id: id.clone(),
            source,
        }
    })?;
    let layout = Layout::detect().map_err(|source| Error::CreateCgroup {
        id: id.clone(),
        source,
    })?;
    let linux = opts.spec.linux().as_ref();
    let cgroups_path = linux
        .and_then(|l| l.cgroups_path().clone())
        .unwrap_or_else(|| Path::new("/rocker").join(&id));
    let resources = spec::effective_resources(opts.spec);
    let mut cgroup =
        Cgroup::create(&layout, &cgroups_path, resources.as_ref()).map_err(|source| {
            Error::CreateCgroup {
                id: id.clone(),
                source,
            }
        })?;
    let console = opts.console && plan.process.terminal;
    match spawn(&id, &plan, &cgroup, opts.stdio, &opts.gate, console) {
        Ok((pid, pidfd, channel, console)) => Ok(Created {
            pid,
            pidfd,
            cgroup,
            console,
            id,
            channel,
            gate: opts.gate,
        }),
        Err(e) => {
            cgroup.abandon();
            Err(e)
        }
    }
}

/// Opens what the clone needs, clones, and drives the init to "ready".
fn spawn(
    id: &str,
    plan: &Plan,
    cgroup: &Cgroup,
    stdio: Stdio,
    gate: &Gate,
    console: bool,
) -> Result<(i32, OwnedFd, Channel, Option<OwnedFd>), Error> {
    let open_err = |path: &Path| {
        let (id, path) = (id.to_string(), path.to_path_buf());
        move |source| Error::OpenFile { id, path, source }
    };
    let init_gate = match gate {
        Gate::Pipe => InitGate::Channel,
        Gate::Fifo(path) => InitGate::Fifo(
            rocker_sys::fs::openat(None, path, OFlag::O_PATH, Mode::empty())
                .map_err(|e| open_err(path)(std::io::Error::from(e)))?,
        ),
    };
    let cgroup_fd = match cgroup.unified_dir() {
        Some(dir) => Some(
            rocker_sys::fs::openat(None, dir, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())
                .map_err(|e| open_err(dir)(std::io::Error::from(e)))?,
        ),
        None => None,
    };
    let (parent_chan, init_chan) = Channel::pair().map_err(|source| Error::CreateChannel {
        id: id.into(),
        source,
    })?;

    // Joining a pid namespace only affects children: switch around the clone.
    let saved_pidns = match &plan.join_pid {
        Some(path) => {
            let own = std::fs::File::open("/proc/self/ns/pid")
                .map_err(open_err(Path::new("/proc/self/ns/pid")))?;
            let target = std::fs::File::open(path).map_err(open_err(path))?;
            setns(target.as_fd(), CloneFlags::CLONE_NEWPID).map_err(|source| {
                Error::JoinPidNamespace {
                    id: id.into(),
                    path: path.clone(),
                    source,
                }
            })?;
            Some(own)
        }
        None => None,
    };
    let cloned = clone3(plan.clone_flags, cgroup_fd.as_ref().map(|f| f.as_fd()));
    // Only the caller switches back: the child is already where it belongs (and a setns
    // there would fail and send a copy of the caller down the caller's error path).
    let is_child = matches!(cloned, Ok(CloneResult::Child));
    if let Some(own) = saved_pidns.as_ref().filter(|_| !is_child) {
        // Our own namespace: cannot fail short of kernel bugs, and we must not keep going
        // in the wrong one.
        if let Err(source) = setns(own.as_fd(), CloneFlags::CLONE_NEWPID) {
            return Err(Error::JoinPidNamespace {
                id: id.into(),
                path: "/proc/self/ns/pid".into(),
                source,
            });
        }
    }
    let (pid, pidfd, in_cgroup) = match cloned {
        Ok(CloneResult::Child) => {
            drop(parent_chan);
            init::run(InitArgs {
                id,
                plan,
                cgroup,
                channel: init_chan,
                stdio,
                gate: init_gate,
                console,
            })
        }
        Ok(CloneResult::Parent {
            pid,
            pidfd,
            in_cgroup,
        }) => (pid, pidfd, in_cgroup),
        Err(source) => {
            return Err(Error::CloneInit {
                id: id.into(),
                source,
            })
        }
    };
    drop(init_chan);
    drop(stdio);
    drop(init_gate);

    let fail = |e: Error| -> Error {
        abort_init(pid, &pidfd);
        e
    };
    if let Err(source) = cgroup.add_process(pid, in_cgroup) {
        return Err(fail(Error::PlaceInCgroup {
            id: id.into(),
            source,
        }));
    }
    if plan.new_user_ns {
        if let Err(source) = write_id_maps(pid, plan) {
            return Err(fail(Error::WriteIdMappings {
                id: id.into(),
                source,
            }));
        }
    }
    if let Err(source) = parent_chan.send_proceed() {
        return Err(fail(Error::Channel {
            id: id.into(),
            source,
        }));
    }
    let mut master = None;
    let mut report = parent_chan.wait_for_report();
    if let Ok(Report::Console(fd)) = report {
        master = Some(fd);
        report = parent_chan.wait_for_report();
    }
    match report {
        Ok(Report::Message(FromInit::Ready)) => Ok((pid.as_raw(), pidfd, parent_chan, master)),
        Ok(Report::Console(_)) | Ok(Report::Message(FromInit::Console)) => {
            Err(fail(Error::Channel {
                id: id.into(),
                source: nix::Error::EPROTO,
            }))
        }
        Ok(Report::Message(FromInit::Failed { message, kind })) => {
            Err(fail(Error::Init { message, kind }))
        }
        Ok(Report::Closed) => {
            let status = reap(pid);
            Err(Error::InitDied {
                id: id.into(),
                status,
            })
        }
        Err(source) => Err(fail(Error::Channel {
            id: id.into(),
            source,
        })),
    }
}

fn write_id_maps(pid: Pid, plan: &Plan) -> std::io::Result<()> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    std::fs::write(proc.join("uid_map"), &plan.uid_map)?;
    std::fs::write(proc.join("gid_map"), &plan.gid_map)
}

fn reap(pid: Pid) -> String {
    match waitpid(pid, None) {
        Ok(WaitStatus::Exited(_, code)) => format!("exit status {code}"),
        Ok(WaitStatus::Signaled(_, sig, _)) => format!("killed by {sig}"),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("wait: {e}"),
    }
}

/// Kills and reaps an init that will not be started.
fn abort_init(pid: Pid, pidfd: &OwnedFd) {
    let _ = pidfd_send_signal(pidfd.as_fd(), Signal::SIGKILL);
    let _ = waitpid(pid, None);
}

impl Created {
    /// The container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Releases the gate; blocks until the user process has exec'd, or returns the init's
    /// error (e.g. `exec: "nosuch": executable file not found in $PATH`) whose
    /// [`Error::exec_exit_code`] gives Docker's 127 / 126. On error the init has been
    /// reaped and the cgroup removed.
    pub fn start(mut self) -> Result<Started, Error> {
        let released = match &self.gate {
            Gate::Pipe => self.channel.send_start().map_err(|source| Error::Channel {
                id: self.id.clone(),
                source,
            }),
            Gate::Fifo(path) => release_fifo(path).map_err(|source| Error::ReleaseFifo {
                id: self.id.clone(),
                path: path.clone(),
                source,
            }),
        };
        let outcome = released.and_then(|()| {
            self.channel
                .wait_for_report()
                .map_err(|source| Error::Channel {
                    id: self.id.clone(),
                    source,
                })
        });
        let pid = Pid::from_raw(self.pid);
        match outcome {
            Ok(Report::Closed) => Ok(Started {
                pid: self.pid,
                pidfd: self.pidfd,
                cgroup: self.cgroup,
            }),
            Ok(Report::Message(FromInit::Failed { message, kind })) => {
                abort_init(pid, &self.pidfd);
                let _ = self.cgroup.destroy();
                self.cgroup.abandon();
                Err(Error::Init { message, kind })
            }
            Ok(Report::Message(FromInit::Ready | FromInit::Console)) | Ok(Report::Console(_)) => {
                abort_init(pid, &self.pidfd);
                let _ = self.cgroup.destroy();
                Err(Error::Channel {
                    id: self.id.clone(),
                    source: nix::Error::EPROTO,
                })
            }
            Err(e) => {
                abort_init(pid, &self.pidfd);
                let _ = self.cgroup.destroy();
                Err(e)
            }
        }
    }

    /// Kills and reaps the init and removes the cgroup, for a container that will not start.
    pub fn abort(mut self) {
        abort_init(Pid::from_raw(self.pid), &self.pidfd);
        let _ = self.cgroup.destroy();
        self.cgroup.abandon();
    }
}

/// Opens the exec FIFO for reading (unblocking the init's open for writing), consumes its
/// byte and removes it, as `runc start` does.
pub fn release_fifo(path: &Path) -> std::io::Result<()> {
    let mut f = std::fs::File::open(path)?;
    let mut byte = [0u8; 1];
    let n = f.read(&mut byte)?;
    std::fs::remove_file(path)?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "init closed the exec fifo",
        ));
    }
    Ok(())
}
