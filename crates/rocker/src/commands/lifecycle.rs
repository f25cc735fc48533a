//! Verbs that act on several containers and print each name on success: `stop`, `kill`,
//! `rm`, `wait`. Like docker, a failure is reported per container and the verb exits 1.

use clap::Args;
use rocker_api::client::{RemoveOptions, WaitCondition};
use rocker_api::{Client, ClientError};

use crate::exit::{describe, StatusError};

/// Stop one or more running containers
#[derive(Debug, Args)]
pub struct StopArgs {
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

/// Kill one or more running containers
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Remove one or more containers
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Block until one or more containers stop, then print their exit codes
#[derive(Debug, Args)]
pub struct WaitArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Exit 1 when anything failed (the errors were already printed).
fn finish(failed: bool) -> anyhow::Result<i32> {
    if failed {
        Err(StatusError::fail(1, ""))
    } else {
        Ok(0)
    }
}

/// Prints a success line to stdout or the error to stderr.
fn report(r: Result<String, ClientError>, failed: &mut bool) {
    match r {
        Ok(line) => println!("{line}"),
        Err(e) => {
            *failed = true;
            eprintln!("{}", describe(&e));
        }
    }
}

pub async fn stop(client: &Client, args: StopArgs) -> anyhow::Result<i32> {
    let mut failed = false;
    for c in &args.containers {
        // A stop signal other than the default is sent with kill, then stop waits.
        if let Some(sig) = &args.signal {
            if let Err(e) = client.container_kill(c, Some(sig)).await {
                report(Err(e), &mut failed);
                continue;
            }
        }
        let r = client
            .container_stop(c, args.time)
            .await
            .map(|()| c.clone());
        report(r, &mut failed);
    }
    finish(failed)
}

pub async fn kill(client: &Client, args: KillArgs) -> anyhow::Result<i32> {
    let mut failed = false;
    for c in &args.containers {
        let r = client
            .container_kill(c, args.signal.as_deref())
            .await
            .map(|()| c.clone());
        report(r, &mut failed);
    }
    finish(failed)
}

pub async fn rm(client: &Client, args: RmArgs) -> anyhow::Result<i32> {
    let mut failed = false;
    let opts = RemoveOptions {
        force: args.force,
        volumes: args.volumes,
    };
    for c in &args.containers {
        let r = client.container_remove(c, opts).await.map(|()| c.clone());
        report(r, &mut failed);
    }
    finish(failed)
}

pub async fn wait(client: &Client, args: WaitArgs) -> anyhow::Result<i32> {
    let mut failed = false;
    for c in &args.containers {
        let r = match client.container_wait(c, WaitCondition::NotRunning).await {
            Ok(w) => w.result().await.map(|s| s.status_code.to_string()),
            Err(e) => Err(e),
        };
        report(r, &mut failed);
    }
    finish(failed)
}
