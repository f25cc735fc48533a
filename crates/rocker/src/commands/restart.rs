//! `rocker restart [-t] [-s] CONTAINER...`: stop with the timeout, then start; prints each
//! name, reports failures per container and exits 1 when any failed (as docker does).

use clap::Args;
use rocker_api::Client;

use crate::exit::{describe, StatusError};

/// Restart one or more containers
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "time",
        alias = "timeout",
        allow_hyphen_values = true
    )]
    pub time: Option<i64>,
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: RestartArgs) -> anyhow::Result<i32> {
    let mut errors = Vec::new();
    for c in &args.containers {
        match client
            .container_restart(c, args.time, args.signal.as_deref())
            .await
        {
            Ok(()) => println!("{c}"),
            Err(e) => errors.push(describe(&e)),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(StatusError::fail(1, errors.join("\n")))
    }
}
