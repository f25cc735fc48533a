//! `start <id>`: open the exec FIFO so the created container's init execs its process.

use anyhow::{bail, Context as _, Result};

use super::state::{container_dir, fifo_path, State, Status};
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    pub id: String,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let state = State::load(&ctx.root, &args.id)?;
    match state.status {
        Status::Created => {}
        Status::Running | Status::Paused => bail!("container {} is already running", args.id),
        Status::Stopped => bail!("container {} is stopped", args.id),
    }
    let fifo = fifo_path(&container_dir(&ctx.root, &args.id)?);
    rocker_runtime::release_fifo(&fifo).with_context(|| format!("start container {}", args.id))
}
