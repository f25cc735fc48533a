//! `rocker ps`: the container list as docker's table.

use chrono::{DateTime, Utc};
use clap::Args;
use rocker_api::human::human_since;
use rocker_api::models::ContainerSummary;
use rocker_api::Client;

use crate::ports::display_ports;
use crate::table::{ellipsis, go_quote, render, short_id};

/// List containers
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
}

pub async fn run(client: &Client, args: PsArgs) -> anyhow::Result<i32> {
    let list = client.container_list(args.all).await?;
    print!("{}", render_ps(&list, &args, Utc::now()));
    Ok(0)
}

/// The table (or id list) for `list`.
pub fn render_ps(list: &[ContainerSummary], args: &PsArgs, now: DateTime<Utc>) -> String {
    let id = |c: &ContainerSummary| {
        if args.no_trunc {
            c.id.clone()
        } else {
            short_id(&c.id)
        }
    };
    if args.quiet {
        return list.iter().map(|c| format!("{}\n", id(c))).collect();
    }
    let mut rows = vec![[
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]
    .map(String::from)
    .to_vec()];
    for c in list {
        let image = if c.image.starts_with("sha256:") && !args.no_trunc {
            short_id(&c.image)
        } else {
            c.image.clone()
        };
        let command = if args.no_trunc {
            c.command.clone()
        } else {
            ellipsis(&c.command, 20)
        };
        let created = DateTime::from_timestamp(c.created, 0).unwrap_or(now);
        rows.push(vec![
            id(c),
            image,
            go_quote(&command),
            format!("{} ago", human_since(created, now)),
            c.status.clone(),
            display_ports(&c.ports),
            names(&c.names, args.no_trunc),
        ]);
    }
    render(&rows)
}

/// Names without the leading `/`; link names (`/a/b`) only with `--no-trunc`.
fn names(names: &[String], no_trunc: bool) -> String {
    names
        .iter()
        .filter_map(|n| {
            let n = n.strip_prefix('/').unwrap_or(n);
            (no_trunc || !n.contains('/')).then_some(n)
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use rocker_api::models::Port;

    use super::*;

    #[test]
    fn table_like_docker() {
        let now = DateTime::from_timestamp(1_700_000_100, 0).expect("time");
        let c = ContainerSummary {
            id: "0123456789abcdef0123".into(),
            names: vec!["/web".into()],
            image: "busybox".into(),
            command: "sh -c 'while true; do sleep 1; done'".into(),
            created: 1_700_000_095,
            status: "Up 3 seconds".into(),
            ports: vec![Port {
                ip: "0.0.0.0".into(),
                private_port: 80,
                public_port: 8080,
                r#type: "tcp".into(),
            }],
            ..Default::default()
        };
        let args = PsArgs {
            all: true,
            quiet: false,
            no_trunc: false,
        };
        let out = render_ps(std::slice::from_ref(&c), &args, now);
        let want = "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS                  NAMES\n\
                    0123456789ab   busybox   \"sh -c 'while true; …\"   5 seconds ago   Up 3 seconds   0.0.0.0:8080->80/tcp   web\n";
        assert_eq!(out, want);
        let q = render_ps(
            &[c],
            &PsArgs {
                quiet: true,
                ..args
            },
            now,
        );
        assert_eq!(q, "0123456789ab\n");
    }
}
