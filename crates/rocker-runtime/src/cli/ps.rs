//! `ps [--format table|json] <id> [ps options]`: the processes of a container (its cgroup);
//! the table comes from the host's ps(1), filtered to those pids, as runc does.

use anyhow::{bail, Context as _, Result};

use super::state::State;
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: super::list::Format,
    pub id: String,
    /// Options for ps(1) (default -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let state = State::load(&ctx.root, &args.id)?;
    let cgroup = rocker_runtime::Cgroup::open(&state.cgroups_path)
        .with_context(|| format!("open cgroup of {}", args.id))?;
    let pids = cgroup.pids().context("read container pids")?;
    if let super::list::Format::Json = args.format {
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(());
    }
    let ps_args = if args.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        args.ps_args.clone()
    };
    let out = std::process::Command::new("ps")
        .args(&ps_args)
        .output()
        .context("run ps")?;
    if !out.status.success() {
        bail!(
            "ps {}: {}",
            ps_args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Ok(());
    };
    let Some(pid_col) = header.split_whitespace().position(|h| h == "PID") else {
        bail!("ps output has no PID column");
    };
    println!("{header}");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(pid_col)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            println!("{line}");
        }
    }
    Ok(())
}
