//! `list [--format table|json] [-q]`: the containers under the state root, as runc lists them.

use anyhow::Result;

use super::state::{State, Status};
use super::Context;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only ids.
    #[arg(short, long)]
    pub quiet: bool,
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Created => "created",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Stopped => "stopped",
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let mut states: Vec<State> = match std::fs::read_dir(&ctx.root) {
        Ok(rd) => rd
            .flatten()
            .filter_map(|e| State::load(&ctx.root, &e.file_name().to_string_lossy()).ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    states.sort_by(|a, b| a.created.cmp(&b.created));
    for s in &mut states {
        if s.status == Status::Stopped {
            s.pid = 0;
        }
    }
    if args.quiet {
        for s in &states {
            println!("{}", s.id);
        }
        return Ok(());
    }
    match args.format {
        Format::Json => {
            let list: Vec<serde_json::Value> = states
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "ociVersion": s.oci_version, "id": s.id, "pid": s.pid,
                        "status": status_name(s.status), "bundle": s.bundle, "rootfs": s.rootfs,
                        "created": s.created, "owner": s.owner, "annotations": s.annotations,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string(&list)?);
        }
        Format::Table => {
            let rows: Vec<[String; 6]> = states
                .iter()
                .map(|s| {
                    [
                        s.id.clone(),
                        s.pid.to_string(),
                        status_name(s.status).to_string(),
                        s.bundle.display().to_string(),
                        s.created.clone(),
                        if s.owner.is_empty() {
                            "root".into()
                        } else {
                            s.owner.clone()
                        },
                    ]
                })
                .collect();
            let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
            let mut widths = header.clone().map(|h| h.len());
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.len());
                }
            }
            for r in std::iter::once(&header).chain(rows.iter()) {
                let line: Vec<String> = r
                    .iter()
                    .zip(widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                println!("{}", line.join("   ").trim_end());
            }
        }
    }
    Ok(())
}
