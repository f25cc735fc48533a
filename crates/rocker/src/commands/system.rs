//! `rocker system df [-v]` (docker's disk-usage tables) and `rocker system prune`
//! (stopped containers, unused networks, and with `--volumes` unused volumes).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use rocker_api::human::{human_since, human_size};
use rocker_api::models::{ContainerSummary, DiskUsage};
use rocker_api::Client;

use super::container::{confirm, prune_report};
use super::list_format::{render_rows, Format, Row};
use crate::exit::{describe, StatusError};
use crate::table::{ellipsis, go_quote, render, short_id};

/// Manage Rocker
#[derive(Debug, Args)]
pub struct SystemArgs {
    #[command(subcommand)]
    pub cmd: SystemCmd,
}

#[derive(Debug, Subcommand)]
pub enum SystemCmd {
    /// Show docker disk usage
    Df(DfArgs),
    /// Remove unused data
    Prune(PruneArgs),
    Info(super::info::InfoArgs),
    Events(super::events::EventsArgs),
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go
    /// template ({{.Type}}, {{.TotalCount}}, {{.Active}}, {{.Size}}, {{.Reclaimable}})
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images not just dangling ones (images are not pruned yet)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
    /// Provide filter values (e.g. "label=<key>=<value>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub async fn run(client: &Client, args: SystemArgs) -> anyhow::Result<i32> {
    match args.cmd {
        SystemCmd::Df(a) => df(client, a).await,
        SystemCmd::Prune(a) => prune(client, a).await,
        SystemCmd::Info(a) => super::info::run(client, a).await,
        SystemCmd::Events(a) => super::events::run(client, a).await,
    }
}

const DF_HEADERS: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

fn active(c: &ContainerSummary) -> bool {
    ["running", "paused", "restarting"]
        .iter()
        .any(|s| c.state.contains(s))
}

/// `4.26MB (100%)`: docker's reclaimable column (no percentage when the total is 0).
fn reclaimable(reclaim: i64, total: i64) -> String {
    let size = human_size(reclaim.max(0) as f64, 4);
    if total > 0 {
        format!("{size} ({}%)", reclaim * 100 / total)
    } else {
        size
    }
}

/// The four summary rows of `system df`.
pub fn summary_rows(du: &DiskUsage) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut push = |t: &str, total: usize, act: usize, size: i64, recl: String| {
        let mut r = Row::default();
        r.fields.insert("Type", t.to_string());
        r.fields.insert("TotalCount", total.to_string());
        r.fields.insert("Active", act.to_string());
        r.fields.insert("Size", human_size(size as f64, 4));
        r.fields.insert("Reclaimable", recl);
        rows.push(r);
    };
    let used: i64 = du
        .images
        .iter()
        .filter(|i| i.containers != 0 && i.size >= 0 && i.shared_size >= 0)
        .map(|i| i.size - i.shared_size)
        .sum();
    let active_images = du.images.iter().filter(|i| i.containers > 0).count();
    push(
        "Images",
        du.images.len(),
        active_images,
        du.layers_size,
        reclaimable(du.layers_size - used, du.layers_size),
    );
    let csize: i64 = du.containers.iter().map(|c| c.size_rw.unwrap_or(0)).sum();
    let cfree: i64 = du
        .containers
        .iter()
        .filter(|c| !active(c))
        .map(|c| c.size_rw.unwrap_or(0))
        .sum();
    push(
        "Containers",
        du.containers.len(),
        du.containers.iter().filter(|c| active(c)).count(),
        csize,
        reclaimable(cfree, csize),
    );
    let vsize = |v: &rocker_api::models::Volume| v.usage_data.as_ref().map_or(0, |u| u.size.max(0));
    let vrefs = |v: &rocker_api::models::Volume| v.usage_data.as_ref().map_or(0, |u| u.ref_count);
    let vtotal: i64 = du.volumes.iter().map(vsize).sum();
    let vfree: i64 = du.volumes.iter().filter(|v| vrefs(v) == 0).map(vsize).sum();
    push(
        "Local Volumes",
        du.volumes.len(),
        du.volumes.iter().filter(|v| vrefs(v) > 0).count(),
        vtotal,
        reclaimable(vfree, vtotal),
    );
    push("Build Cache", 0, 0, 0, "0B".to_string());
    rows
}

async fn df(client: &Client, a: DfArgs) -> anyhow::Result<i32> {
    let du = client
        .system_df()
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    if a.verbose {
        print!("{}", verbose(&du, Utc::now()));
        return Ok(0);
    }
    let format = match Format::parse(a.format.as_deref()) {
        Format::Default => Format::Table(
            "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}".into(),
        ),
        f => f,
    };
    let out = render_rows(&format, &summary_rows(&du), DF_HEADERS)
        .map_err(|e| StatusError::fail(1, e))?;
    print!("{out}");
    Ok(0)
}

/// `system df -v`: one table per kind.
pub fn verbose(du: &DiskUsage, now: DateTime<Utc>) -> String {
    let mut out = String::from("Images space usage:\n\n");
    let mut rows = vec![[
        "REPOSITORY",
        "TAG",
        "IMAGE ID",
        "CREATED",
        "SIZE",
        "SHARED SIZE",
        "UNIQUE SIZE",
        "CONTAINERS",
    ]
    .map(String::from)
    .to_vec()];
    for i in &du.images {
        let created = DateTime::from_timestamp(i.created, 0).unwrap_or(now);
        let tags: Vec<(String, String)> = if i.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.repo_tags
                .iter()
                .map(|t| match t.rsplit_once(':') {
                    Some((r, tag)) if !tag.contains('/') => (r.to_string(), tag.to_string()),
                    _ => (t.clone(), "<none>".into()),
                })
                .collect()
        };
        for (repo, tag) in tags {
            rows.push(vec![
                repo,
                tag,
                short_id(&i.id),
                format!("{} ago", human_since(created, now)),
                human_size(i.size as f64, 4),
                human_size(i.shared_size.max(0) as f64, 4),
                human_size((i.size - i.shared_size.max(0)) as f64, 4),
                i.containers.to_string(),
            ]);
        }
    }
    out.push_str(&render(&rows));
    out.push_str("\nContainers space usage:\n\n");
    let mut rows = vec![[
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "LOCAL VOLUMES",
        "SIZE",
        "CREATED",
        "STATUS",
        "NAMES",
    ]
    .map(String::from)
    .to_vec()];
    for c in &du.containers {
        let created = DateTime::from_timestamp(c.created, 0).unwrap_or(now);
        let names: Vec<&str> = c
            .names
            .iter()
            .map(|n| n.strip_prefix('/').unwrap_or(n))
            .collect();
        rows.push(vec![
            short_id(&c.id),
            c.image.clone(),
            go_quote(&ellipsis(&c.command, 20)),
            c.mounts
                .iter()
                .filter(|m| m.r#type == "volume")
                .count()
                .to_string(),
            human_size(c.size_rw.unwrap_or(0) as f64, 4),
            format!("{} ago", human_since(created, now)),
            c.status.clone(),
            names.join(","),
        ]);
    }
    out.push_str(&render(&rows));
    out.push_str("\nLocal Volumes space usage:\n\n");
    let mut rows = vec![["VOLUME NAME", "LINKS", "SIZE"].map(String::from).to_vec()];
    for v in &du.volumes {
        let u = v.usage_data.clone().unwrap_or_default();
        rows.push(vec![
            v.name.clone(),
            u.ref_count.to_string(),
            human_size(u.size.max(0) as f64, 4),
        ]);
    }
    out.push_str(&render(&rows));
    out.push_str("\nBuild cache usage: 0B\n\n");
    out.push_str(&render(&[[
        "CACHE ID",
        "CACHE TYPE",
        "SIZE",
        "CREATED",
        "LAST USED",
        "USAGE",
        "SHARED",
    ]
    .map(String::from)
    .to_vec()]));
    out
}

async fn prune(client: &Client, a: PruneArgs) -> anyhow::Result<i32> {
    let filters = super::ps::parse_filter_args(&a.filter)?;
    let mut warning = String::from(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container",
    );
    if a.volumes {
        warning.push_str("\n  - all anonymous volumes not used by at least one container");
    }
    warning.push('\n');
    if !a.force && !confirm(&warning)? {
        return Ok(0);
    }
    let fail = |e: rocker_api::ClientError| StatusError::fail(1, describe(&e));
    let c = client.container_prune(&filters).await.map_err(fail)?;
    let mut space = c.space_reclaimed;
    let mut out = String::new();
    if let Some(ids) = c.containers_deleted.filter(|d| !d.is_empty()) {
        out.push_str(&section("Containers", &ids));
    }
    let mut nf: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &filters {
        nf.entry(k.clone()).or_default().push(v.clone());
    }
    let n = client.network_prune(&nf).await.map_err(fail)?;
    if let Some(names) = n.networks_deleted.filter(|d| !d.is_empty()) {
        out.push_str(&section("Networks", &names));
    }
    if a.volumes {
        let v = client.volume_prune(&filters).await.map_err(fail)?;
        space += v.space_reclaimed;
        if !v.volumes_deleted.is_empty() {
            out.push_str(&section("Volumes", &v.volumes_deleted));
        }
    }
    print!("{out}{}", prune_report("", None, space));
    Ok(0)
}

fn section(what: &str, items: &[String]) -> String {
    let mut s = format!("Deleted {what}:\n");
    for i in items {
        s.push_str(i);
        s.push('\n');
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use rocker_api::models::ImageSummary;

    use super::*;

    #[test]
    fn summary_like_docker() {
        let du = DiskUsage {
            layers_size: 4_261_000,
            images: vec![ImageSummary {
                id: "sha256:abc".into(),
                size: 4_261_000,
                containers: 1,
                ..Default::default()
            }],
            containers: vec![ContainerSummary {
                state: "exited".into(),
                size_rw: Some(10),
                ..Default::default()
            }],
            ..Default::default()
        };
        let format = Format::Table(
            "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}".into(),
        );
        let out = render_rows(&format, &summary_rows(&du), DF_HEADERS).unwrap();
        let want = "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
                    Images          1         1         4.261MB   0B (0%)\n\
                    Containers      1         0         10B       10B (100%)\n\
                    Local Volumes   0         0         0B        0B\n\
                    Build Cache     0         0         0B        0B\n";
        assert_eq!(out, want);
    }
}
