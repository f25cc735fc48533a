//! `rocker container <verb>`: docker's management-command spelling of the container verbs
//! (`container ls`, `container rm`, `container inspect`, …) plus `container prune`.

use clap::{Args, Subcommand};
use rocker_api::human::human_size;
use rocker_api::Client;

use super::{attach, create, exec, inspect, lifecycle, logs, ops, port, ps, run, start, stats};
use crate::exit::{describe, StatusError};

/// Manage containers
#[derive(Debug, Args)]
pub struct ContainerArgs {
    #[command(subcommand)]
    pub cmd: ContainerCmd,
}

#[derive(Debug, Subcommand)]
pub enum ContainerCmd {
    Attach(attach::AttachArgs),
    Create(create::CreateArgs),
    Exec(exec::ExecArgs),
    /// Display detailed information on one or more containers
    Inspect(InspectArgs),
    Kill(lifecycle::KillArgs),
    Logs(logs::LogsArgs),
    /// List containers
    #[command(visible_alias = "ps", alias = "list")]
    Ls(ps::PsArgs),
    Pause(ops::PauseArgs),
    Port(port::PortArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    Rename(ops::RenameArgs),
    /// Remove one or more containers
    #[command(alias = "remove")]
    Rm(lifecycle::RmArgs),
    Run(run::RunArgs),
    Start(start::StartArgs),
    Stats(stats::StatsArgs),
    Stop(lifecycle::StopArgs),
    Top(ops::TopArgs),
    Unpause(ops::UnpauseArgs),
    Wait(lifecycle::WaitArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub async fn run(client: &Client, args: ContainerArgs) -> anyhow::Result<i32> {
    match args.cmd {
        ContainerCmd::Attach(a) => attach::run(client, a).await,
        ContainerCmd::Create(a) => create::run(client, a).await,
        ContainerCmd::Exec(a) => exec::run(client, a).await,
        ContainerCmd::Inspect(a) => {
            let a = inspect::InspectArgs {
                format: a.format,
                object_type: Some(inspect::ObjectType::Container),
                names: a.names,
            };
            inspect::run(client, a).await
        }
        ContainerCmd::Kill(a) => lifecycle::kill(client, a).await,
        ContainerCmd::Logs(a) => logs::run(client, a).await,
        ContainerCmd::Ls(a) => ps::run(client, a).await,
        ContainerCmd::Pause(a) => ops::pause(client, a).await,
        ContainerCmd::Port(a) => port::run(client, a).await,
        ContainerCmd::Prune(a) => prune(client, a).await,
        ContainerCmd::Rename(a) => ops::rename(client, a).await,
        ContainerCmd::Rm(a) => lifecycle::rm(client, a).await,
        ContainerCmd::Run(a) => run::run(client, a).await,
        ContainerCmd::Start(a) => start::run(client, a).await,
        ContainerCmd::Stats(a) => stats::run(client, a).await,
        ContainerCmd::Stop(a) => lifecycle::stop(client, a).await,
        ContainerCmd::Top(a) => ops::top(client, a).await,
        ContainerCmd::Unpause(a) => ops::unpause(client, a).await,
        ContainerCmd::Wait(a) => lifecycle::wait(client, a).await,
    }
}

/// Asks docker's `[y/N]` question on stdout; true only for yes.
pub fn confirm(warning: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, Write};
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// `rocker container prune`: Docker's prompt and report.
pub async fn prune(client: &Client, a: PruneArgs) -> anyhow::Result<i32> {
    let filters = ps::parse_filter_args(&a.filter)?;
    if !a.force && !confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(0);
    }
    let r = client
        .container_prune(&filters)
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    print!(
        "{}",
        prune_report(
            "Containers",
            r.containers_deleted.as_deref(),
            r.space_reclaimed
        )
    );
    Ok(0)
}

/// `Deleted <What>:\n<ids>\n\nTotal reclaimed space: 0B\n`, as docker prints it.
pub fn prune_report(what: &str, deleted: Option<&[String]>, space: u64) -> String {
    let mut out = String::new();
    if let Some(ids) = deleted.filter(|d| !d.is_empty()) {
        out.push_str(&format!("Deleted {what}:\n"));
        for id in ids {
            out.push_str(id);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(space as f64, 3)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_like_docker() {
        assert_eq!(
            prune_report("Containers", None, 0),
            "Total reclaimed space: 0B\n"
        );
        assert_eq!(
            prune_report("Containers", Some(&["abc".to_string()]), 12),
            "Deleted Containers:\nabc\n\nTotal reclaimed space: 12B\n"
        );
    }
}
