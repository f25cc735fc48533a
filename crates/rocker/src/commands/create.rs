//! `rocker create`: create a container and print its id.

use clap::{ArgAction, Args};
use rocker_api::Client;

use super::container_flags::ContainerFlags;
use crate::exit::{describe, StatusError};
use crate::tty;

/// Create a new container
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    #[arg(long, action = ArgAction::Help, help = "Print help")]
    help: Option<bool>,
    #[command(flatten)]
    pub flags: ContainerFlags,
    /// Image to create the container from
    pub image: String,
    /// Command and arguments (never parsed as flags)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub async fn run(client: &Client, args: CreateArgs) -> anyhow::Result<i32> {
    let mut body = args
        .flags
        .to_create_body(&args.image, &args.command, false)
        .map_err(|e| {
            StatusError::fail(125, format!("rocker: {e}.\nSee 'rocker create --help'."))
        })?;
    if args.flags.tty {
        if let (Some((h, w)), Some(hc)) = (tty::size(), body.host_config.as_mut()) {
            hc.console_size = Some([u32::from(h), u32::from(w)]);
        }
    }
    let created = client
        .container_create(args.flags.name.as_deref(), &body)
        .await
        .map_err(|e| StatusError::fail(125, describe(&e)))?;
    for w in &created.warnings {
        eprintln!("WARNING: {w}");
    }
    println!("{}", created.id);
    Ok(0)
}
