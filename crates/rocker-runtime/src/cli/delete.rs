//! `delete [--force] <id>`: remove a stopped or created container (running ones only with
//! --force, which kills every process of its cgroup first).

use std::os::fd::AsFd;

use anyhow::{bail, Context as _, Result};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::state::{container_dir, State, Status};
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(short, long)]
    pub force: bool,
    pub id: String,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let dir = container_dir(&ctx.root, &args.id)?;
    let state = match State::load(&ctx.root, &args.id) {
        Ok(s) => s,
        Err(e) if args.force && !dir.exists() => {
            ctx.logger.debug(&format!("{e:#}"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if state.status == Status::Running && !args.force {
        bail!(
            "cannot delete container {} that is not stopped: running",
            args.id
        );
    }
    let cgroup = rocker_runtime::Cgroup::open(&state.cgroups_path).ok();
    if state.status != Status::Stopped {
        let pidfd = rocker_sys::process::pidfd_open(Pid::from_raw(state.pid)).ok();
        match &cgroup {
            Some(cg) => cg
                .kill_all(Signal::SIGKILL)
                .with_context(|| format!("kill container {}", args.id))?,
            None => {
                if let Some(fd) = &pidfd {
                    let _ = rocker_sys::process::pidfd_send_signal(fd.as_fd(), Signal::SIGKILL);
                }
            }
        }
        if let Some(fd) = &pidfd {
            if !super::wait_exit(fd.as_fd(), 10_000) {
                bail!("container {} did not exit after SIGKILL", args.id);
            }
        }
    }
    if let Some(cg) = &cgroup {
        cg.destroy()
            .with_context(|| format!("remove cgroup of container {}", args.id))?;
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()))
}
