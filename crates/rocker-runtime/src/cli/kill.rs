//! `kill [--all] <id> [SIGNAL]`: signal the init (through a pidfd, immune to pid reuse) or
//! every process of the container's cgroup.

use std::os::fd::AsFd;

use anyhow::{bail, Context as _, Result};
use nix::unistd::Pid;

use super::state::{State, Status};
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Send the signal to all processes of the container.
    #[arg(short, long)]
    pub all: bool,
    pub id: String,
    #[arg(default_value = "TERM")]
    pub signal: String,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let signal = super::parse_signal(&args.signal)?;
    let state = State::load(&ctx.root, &args.id)?;
    if state.status == Status::Stopped {
        bail!("container {} is not running", args.id);
    }
    if args.all {
        let cg = rocker_runtime::Cgroup::open(&state.cgroups_path)?;
        return cg
            .kill_all(signal)
            .with_context(|| format!("kill container {}", args.id));
    }
    let pidfd = rocker_sys::process::pidfd_open(Pid::from_raw(state.pid))
        .with_context(|| format!("container {} is not running", args.id))?;
    // The pidfd pins the process; re-check that it is still our init.
    if !state.init_alive() {
        bail!("container {} is not running", args.id);
    }
    rocker_sys::process::pidfd_send_signal(pidfd.as_fd(), signal)
        .with_context(|| format!("kill container {}", args.id))
}
