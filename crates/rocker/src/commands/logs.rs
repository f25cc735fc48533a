//! `rocker logs`: a container's output, demultiplexed unless it has a tty.

use clap::Args;
use rocker_api::client::LogsOptions;
use rocker_api::Client;
use tokio::io::AsyncWriteExt;

/// Fetch the logs of a container
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs ("all" for everything)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show logs since timestamp or relative (e.g. 42m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp or relative (e.g. 42m)
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

pub async fn run(client: &Client, args: LogsArgs) -> anyhow::Result<i32> {
    let info = client.container_inspect(&args.container).await?;
    let tty = info.config.as_ref().is_some_and(|c| c.tty);
    let opts = LogsOptions {
        follow: args.follow,
        stdout: true,
        stderr: true,
        timestamps: args.timestamps,
        tail: Some(args.tail.clone()),
        since: args.since.clone(),
        until: args.until.clone(),
    };
    let mut body = client.container_logs(&info.id, &opts).await?;
    let mut stdout = tokio::io::stdout();
    if tty {
        tokio::io::copy(&mut body, &mut stdout).await?;
    } else {
        let mut stderr = tokio::io::stderr();
        rocker_api::stdcopy::demux(body, &mut stdout, &mut stderr).await?;
    }
    stdout.flush().await?;
    Ok(0)
}
