//! `rocker export`: the container's whole file system as a tar, to stdout or `-o FILE`.

use std::io::IsTerminal;
use std::io::Write;

use anyhow::{bail, Context};
use clap::Args;
use rocker_api::Client;

/// Export a container's filesystem as a tar archive
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(client: &Client, args: ExportArgs) -> anyhow::Result<i32> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let tar = client.container_export(&args.container).await?;
    match args.output {
        Some(f) => std::fs::write(&f, &tar).with_context(|| format!("write {f}"))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&tar)?;
            out.flush()?;
        }
    }
    Ok(0)
}
