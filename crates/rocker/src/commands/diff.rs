//! `rocker diff`: the container's file system changes, `C /etc`, `A /etc/x`, `D /y`.

use clap::Args;
use rocker_api::Client;

/// Inspect changes to files or directories on a container's filesystem
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(client: &Client, args: DiffArgs) -> anyhow::Result<i32> {
    for c in client.container_changes(&args.container).await? {
        let k = match c.kind {
            0 => "C",
            1 => "A",
            _ => "D",
        };
        println!("{k} {}", c.path);
    }
    Ok(0)
}
