//! `pause <id>` / `resume <id>`: freeze and thaw every process of a container through the
//! freezer (v1) or cgroup.freeze (v2). A `paused` marker in the state dir gives `state`
//! its status without reading the cgroup.

use anyhow::{bail, Context as _, Result};

use super::state::{container_dir, State, Status};
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    pub id: String,
}

pub const PAUSED_MARKER: &str = "paused";

pub fn pause(ctx: &Context, args: Args) -> Result<()> {
    let state = State::load(&ctx.root, &args.id)?;
    if state.status != Status::Running {
        bail!("container {} is not running", args.id);
    }
    let cgroup = rocker_runtime::Cgroup::open(&state.cgroups_path)
        .with_context(|| format!("open cgroup of {}", args.id))?;
    cgroup.freeze().context("freeze")?;
    std::fs::write(container_dir(&ctx.root, &args.id)?.join(PAUSED_MARKER), b"")
        .context("record paused state")?;
    Ok(())
}

pub fn resume(ctx: &Context, args: Args) -> Result<()> {
    let state = State::load(&ctx.root, &args.id)?;
    if state.status != Status::Paused {
        bail!("container {} is not paused", args.id);
    }
    let cgroup = rocker_runtime::Cgroup::open(&state.cgroups_path)
        .with_context(|| format!("open cgroup of {}", args.id))?;
    cgroup.thaw().context("thaw")?;
    let _ = std::fs::remove_file(container_dir(&ctx.root, &args.id)?.join(PAUSED_MARKER));
    Ok(())
}
