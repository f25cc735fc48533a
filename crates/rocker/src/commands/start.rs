//! `rocker start [-a] [-i]`: start stopped containers, optionally attached.

use clap::Args;
use rocker_api::client::{AttachOptions, WaitCondition};
use rocker_api::Client;

use super::run::start;
use crate::exit::{describe, report, StatusError};
use crate::{stdio, tty};

/// Start one or more stopped containers
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")] // detach keys (P3)
    pub detach_keys: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: StartArgs) -> anyhow::Result<i32> {
    if args.attach || args.interactive {
        if args.containers.len() > 1 {
            return Err(StatusError::fail(
                1,
                "Error: you cannot start and attach multiple containers at once",
            ));
        }
        let keys = args.detach_keys.as_deref();
        return start_attached(client, &args.containers[0], args.interactive, keys).await;
    }
    let mut failed = Vec::new();
    for c in &args.containers {
        match start(client, c).await {
            Ok(()) => println!("{c}"),
            Err(e) => {
                eprintln!("{}", report(&e).0);
                failed.push(c.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        Err(StatusError::fail(
            1,
            format!("Error: failed to start containers: {}", failed.join(", ")),
        ))
    }
}

async fn start_attached(
    client: &Client,
    name: &str,
    interactive: bool,
    detach_keys: Option<&str>,
) -> anyhow::Result<i32> {
    let keys = super::attach::keys(detach_keys)?; // detach keys (P3)
    let info = client
        .container_inspect(name)
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    let tty_mode = info.config.as_ref().is_some_and(|c| c.tty);
    let stdin = interactive && info.config.as_ref().is_some_and(|c| c.open_stdin);
    let opts = AttachOptions {
        stream: true,
        stdin,
        stdout: true,
        stderr: true,
        detach_keys: detach_keys.map(str::to_string), // detach keys (P3)
        ..Default::default()
    };
    let stream = client.container_attach(&info.id, &opts).await?;
    let wait = client
        .container_wait(&info.id, WaitCondition::NextExit)
        .await?;
    let raw = if tty_mode && stdin {
        tty::RawModeGuard::enable()?
    } else {
        None
    };
    if let Err(e) = start(client, &info.id).await {
        drop(raw);
        return Err(e);
    }
    let resizer = tty_mode.then(|| {
        tty::follow_size(
            client.clone(),
            tty::ResizeTarget::Container(info.id.clone()),
        )
    });
    let pumped = stdio::pump_detachable(stream, tty_mode, stdin, keys).await;
    if let Some(r) = resizer {
        r.abort();
    }
    drop(raw);
    if pumped? == stdio::Pumped::Detached {
        // detach keys (P3)
        return Ok(0); // docker's run/start detach silently
    }
    let status = wait.result().await?;
    Ok(i32::try_from(status.status_code).unwrap_or(1))
}
