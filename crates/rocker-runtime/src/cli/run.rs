//! `run <id> -b DIR`: create, start, forward signals, wait, delete; the exit code is the
//! container's (128+N when killed by signal N, 127/126 when the exec failed).

use std::os::fd::AsFd;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::Context;

#[derive(clap::Args)]
pub struct Args {
    pub id: String,
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Accepted for runc compatibility; terminals come through stdio.
    #[arg(long = "console-socket", hide = true)]
    pub console_socket: Option<PathBuf>,
}

const FORWARDED: &[Signal] = &[
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

pub fn run(ctx: &Context, args: Args) -> Result<i32> {
    let dir = super::create::make_container_dir(&ctx.root, &args.id)?;
    let result = run_in(ctx, &args);
    if let Ok(cg) =
        rocker_runtime::Cgroup::open(&result.as_ref().map_or(PathBuf::new(), |(_, p)| p.clone()))
    {
        let _ = cg.destroy();
    }
    let _ = std::fs::remove_dir_all(&dir);
    result.map(|(code, _)| code)
}

fn run_in(ctx: &Context, args: &Args) -> Result<(i32, PathBuf)> {
    // Blocked here, delivered through the signalfd; the init unblocks everything itself.
    let mut mask = SigSet::empty();
    for s in FORWARDED {
        mask.add(*s);
    }
    mask.thread_block().context("block signals")?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC).context("signalfd")?;

    let created = super::create::create_and_record(
        ctx,
        &args.id,
        &args.bundle,
        rocker_runtime::Gate::Pipe,
        args.pid_file.as_deref(),
        args.console_socket.as_deref(),
    )?;
    let started = created.start()?;
    let cgroup_path = started.cgroup.path().to_path_buf();
    let pid = Pid::from_raw(started.pid);
    loop {
        let mut fds = [
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(started.pidfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::Error::EINTR) => continue,
            other => other.context("poll")?,
        };
        if fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN))
        {
            if let Ok(Some(info)) = sfd.read_signal() {
                if let Ok(sig) = Signal::try_from(i32::try_from(info.ssi_signo).unwrap_or(0)) {
                    let _ = rocker_sys::process::pidfd_send_signal(started.pidfd.as_fd(), sig);
                }
            }
        }
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok((code, cgroup_path)),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok((128 + sig as i32, cgroup_path)),
            Ok(_) => {}
            Err(e) => return Err(e).context("wait for container"),
        }
    }
}
