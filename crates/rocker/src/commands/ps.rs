//! `rocker ps`: the container list as docker's table, or through `--format`; `--filter`
//! goes to the daemon, `-n`/`-l` limit it to the newest, `-s` adds sizes.

use chrono::{DateTime, Utc};
use clap::Args;
use rocker_api::client::cli_parity::ListOptions;
use rocker_api::human::{human_since, human_size};
use rocker_api::models::ContainerSummary;
use rocker_api::Client;

use super::list_format::{render_rows, Format, Row};
use crate::exit::{describe, StatusError};
use crate::ports::display_ports;
use crate::table::{ellipsis, go_quote, render, short_id};

/// Column titles of `--format 'table …'`.
const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
];

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
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go
    /// template ({{.ID}}, {{.Names}}, {{.Label "key"}}, {{json .}}, ...)
    #[arg(long)]
    pub format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", default_value_t = -1, allow_negative_numbers = true)]
    pub last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
}

/// `key=value` filter arguments as pairs (Docker's "bad format of filter" otherwise).
pub fn parse_filter_args(raw: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    raw.iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.to_string()))
                .ok_or_else(|| {
                    StatusError::fail(1, format!("invalid argument \"{f}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"))
                })
        })
        .collect()
}

pub async fn run(client: &Client, args: PsArgs) -> anyhow::Result<i32> {
    let format = Format::parse(args.format.as_deref());
    let limit = if args.latest {
        Some(1)
    } else {
        Some(args.last).filter(|n| *n > 0)
    };
    let opts = ListOptions {
        all: args.all || limit.is_some(),
        limit,
        size: args.size || format.uses("Size"),
        filters: parse_filter_args(&args.filter)?,
    };
    let list = client
        .container_list_with(&opts)
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    if args.quiet || format == Format::Default {
        print!("{}", render_ps(&list, &args, Utc::now()));
        return Ok(0);
    }
    let now = Utc::now();
    let rows: Vec<Row> = list.iter().map(|c| row(c, &args, now)).collect();
    let out = render_rows(&format, &rows, HEADERS).map_err(|e| StatusError::fail(1, e))?;
    print!("{out}");
    Ok(0)
}

/// Docker's `SIZE` column: `12B (virtual 4.26MB)`.
fn size_text(c: &ContainerSummary) -> String {
    let rw = human_size(c.size_rw.unwrap_or(0) as f64, 3);
    match c.size_root_fs.filter(|v| *v > 0) {
        Some(v) => format!("{rw} (virtual {})", human_size(v as f64, 3)),
        None => rw,
    }
}

/// The fields docker's ps templates see.
fn row(c: &ContainerSummary, args: &PsArgs, now: DateTime<Utc>) -> Row {
    let created = DateTime::from_timestamp(c.created, 0).unwrap_or(now);
    let command = if args.no_trunc {
        c.command.clone()
    } else {
        ellipsis(&c.command, 20)
    };
    let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mounts: Vec<String> = c
        .mounts
        .iter()
        .map(|m| {
            let n = if m.name.is_empty() {
                &m.source
            } else {
                &m.name
            };
            if args.no_trunc {
                n.clone()
            } else {
                ellipsis(n, 15)
            }
        })
        .collect();
    let networks: Vec<String> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    let local_volumes = c.mounts.iter().filter(|m| m.r#type == "volume").count();
    let mut r = Row {
        labels: c.labels.clone().into_iter().collect(),
        ..Default::default()
    };
    let f = &mut r.fields;
    f.insert(
        "ID",
        if args.no_trunc {
            c.id.clone()
        } else {
            short_id(&c.id)
        },
    );
    f.insert(
        "Image",
        if c.image.starts_with("sha256:") && !args.no_trunc {
            short_id(&c.image)
        } else {
            c.image.clone()
        },
    );
    f.insert("Command", go_quote(&command));
    f.insert(
        "CreatedAt",
        created.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
    );
    f.insert("RunningFor", format!("{} ago", human_since(created, now)));
    f.insert("Ports", display_ports(&c.ports));
    f.insert("State", c.state.clone());
    f.insert("Status", c.status.clone());
    f.insert("Size", size_text(c));
    f.insert("Names", names(&c.names, args.no_trunc));
    f.insert("Labels", labels.join(","));
    f.insert("Mounts", mounts.join(","));
    f.insert("Networks", networks.join(","));
    f.insert("LocalVolumes", local_volumes.to_string());
    r
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
    let mut header = [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]
    .map(String::from)
    .to_vec();
    if args.size {
        header.push("SIZE".into());
    }
    let mut rows = vec![header];
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
        if args.size {
            if let Some(r) = rows.last_mut() {
                r.push(size_text(c));
            }
        }
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
            filter: Vec::new(),
            format: None,
            last: -1,
            latest: false,
            size: false,
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
