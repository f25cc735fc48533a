//! `state <id>`: print runc's state JSON.

use anyhow::Result;

use super::state::State;
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    pub id: String,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let mut state = State::load(&ctx.root, &args.id)?;
    if state.status == super::state::Status::Stopped {
        state.pid = 0;
    }
    let mut v = serde_json::to_value(&state)?;
    if let Some(o) = v.as_object_mut() {
        o.remove("cgroupsPath");
        o.remove("startTime");
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
