//! `stats`: Docker's live table of containers' resource usage (CPU %, memory, block I/O,
//! pids), from `GET /containers/{id}/stats`.

use clap::Args;
use rocker_api::human::{human_size, human_size_binary};
use rocker_api::models::StatsResponse;
use rocker_api::Client;

use crate::exit::{describe, StatusError};
use crate::table;

/// Display a live stream of container(s) resource usage statistics
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

const HEADER: [&str; 8] = [
    "CONTAINER ID",
    "NAME",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET I/O",
    "BLOCK I/O",
    "PIDS",
];

/// One table row in Docker's format.
fn row(s: &StatsResponse, no_trunc: bool) -> Vec<String> {
    let id = if no_trunc {
        s.id.clone()
    } else {
        s.id.chars().take(12).collect()
    };
    let used = s.memory_used();
    let limit = s.memory_stats.limit.unwrap_or(0);
    let mem_pct = if limit > 0 {
        used as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    let (read, write) = s.block_io();
    let (rx, tx) = s.net_io();
    vec![
        id,
        s.name.trim_start_matches('/').to_string(),
        format!("{:.2}%", s.cpu_percent()),
        format!(
            "{} / {}",
            human_size_binary(used as f64, 4),
            human_size_binary(limit as f64, 4)
        ),
        format!("{mem_pct:.2}%"),
        format!(
            "{} / {}",
            human_size(rx as f64, 3),
            human_size(tx as f64, 3)
        ),
        format!(
            "{} / {}",
            human_size(read as f64, 3),
            human_size(write as f64, 3)
        ),
        s.pids_stats.current.unwrap_or(0).to_string(),
    ]
}

/// Samples every container concurrently (each sample spans one second on the daemon).
async fn sample(client: &Client, ids: &[String]) -> Vec<Result<StatsResponse, String>> {
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let client = client.clone();
            let id = id.clone();
            tokio::spawn(async move { client.container_stats(&id, false).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        match t.await {
            Ok(r) => out.push(r.map_err(|e| describe(&e))),
            Err(e) => out.push(Err(format!("Error: {e}"))),
        }
    }
    out
}

pub async fn run(client: &Client, args: StatsArgs) -> anyhow::Result<i32> {
    let explicit = !args.containers.is_empty();
    loop {
        let ids: Vec<String> = if explicit {
            args.containers.clone()
        } else {
            client
                .container_list(args.all)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        let mut rows = vec![HEADER.iter().map(|h| h.to_string()).collect()];
        let mut errors = Vec::new();
        for r in sample(client, &ids).await {
            match r {
                Ok(s) => rows.push(row(&s, args.no_trunc)),
                Err(e) => errors.push(e),
            }
        }
        if args.no_stream {
            print!("{}", table::render(&rows));
            if errors.is_empty() {
                return Ok(0);
            }
            return Err(StatusError::fail(1, errors.join("\n")));
        }
        // Clear the screen and redraw, as Docker's live view does.
        print!("\x1b[2J\x1b[H{}", table::render(&rows));
        for e in &errors {
            eprintln!("{e}");
        }
        if explicit && errors.len() == ids.len() {
            return Err(StatusError::fail(1, errors.join("\n")));
        }
        if ids.is_empty() {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_matches_dockers_columns() {
        let mut s = StatsResponse {
            id: "0123456789abcdef".into(),
            name: "/web".into(),
            ..Default::default()
        };
        s.memory_stats.usage = Some(2 * 1024 * 1024);
        s.memory_stats.limit = Some(64 * 1024 * 1024);
        s.pids_stats.current = Some(3);
        assert_eq!(
            row(&s, false),
            [
                "0123456789ab",
                "web",
                "0.00%",
                "2MiB / 64MiB",
                "3.12%",
                "0B / 0B",
                "0B / 0B",
                "3"
            ]
        );
    }
}
