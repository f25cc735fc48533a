//! `pause`, `unpause`, `rename` and `top`: container operations outside start/stop.

use clap::Args;
use rocker_api::{Client, ClientError};

use crate::exit::{describe, StatusError};

/// Pause all processes within one or more containers
#[derive(Debug, Args)]
pub struct PauseArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Unpause all processes within one or more containers
#[derive(Debug, Args)]
pub struct UnpauseArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Rename a container
#[derive(Debug, Args)]
pub struct RenameArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(value_name = "NEW_NAME")]
    pub new_name: String,
}

/// Display the running processes of a container
#[derive(Debug, Args)]
pub struct TopArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// Options passed to ps(1)
    #[arg(
        value_name = "ps OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ps_args: Vec<String>,
}

/// Runs `op` on each container, printing its name on success and Docker's message on
/// failure; exits 1 when any failed.
async fn each<'a, F, Fut>(containers: &'a [String], op: F) -> anyhow::Result<i32>
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<(), ClientError>>,
{
    let mut errors = Vec::new();
    for c in containers {
        match op(c).await {
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

pub async fn pause(client: &Client, args: PauseArgs) -> anyhow::Result<i32> {
    each(&args.containers, |c| client.container_pause(c)).await
}

pub async fn unpause(client: &Client, args: UnpauseArgs) -> anyhow::Result<i32> {
    each(&args.containers, |c| client.container_unpause(c)).await
}

pub async fn rename(client: &Client, args: RenameArgs) -> anyhow::Result<i32> {
    let old = args.container.trim();
    let new = args.new_name.trim();
    if old.is_empty() || new.is_empty() {
        return Err(StatusError::fail(
            1,
            "Error: Neither old nor new names may be empty",
        ));
    }
    client.container_rename(old, new).await?;
    Ok(0)
}

pub async fn top(client: &Client, args: TopArgs) -> anyhow::Result<i32> {
    let ps_args = args.ps_args.join(" ");
    let top = client
        .container_top(&args.container, Some(ps_args.as_str()))
        .await?;
    let mut rows = vec![top.titles];
    rows.extend(top.processes);
    print!("{}", tab_table(&rows));
    Ok(0)
}

/// Docker's `top` table (Go tabwriter with min width 20, padding 3): every column but the
/// last is padded to its widest cell plus 3, at least 20; the last is printed as is.
fn tab_table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[i] = widths[i].max((cell.chars().count() + 3).max(20));
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_table_matches_docker() {
        let rows = vec![
            vec!["UID".to_string(), "PID".to_string(), "CMD".to_string()],
            vec![
                "root".to_string(),
                "4242".to_string(),
                "sleep 1000".to_string(),
            ],
        ];
        assert_eq!(
            tab_table(&rows),
            "UID                 PID                 CMD\n\
             root                4242                sleep 1000\n"
        );
        let long = "x".repeat(25);
        let rows = vec![
            vec!["PID".to_string(), "CMD".to_string()],
            vec![long.clone(), "a".to_string()],
        ];
        assert_eq!(
            tab_table(&rows),
            format!("PID{}CMD\n{long}   a\n", " ".repeat(25))
        );
    }
}
