//! `rocker volume create|ls|inspect|rm|prune`, as docker's volume verbs.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use rocker_api::human::human_size;
use rocker_api::models::{
    BindOptions, Mount, TmpfsOptions, Volume, VolumeCreateOptions, VolumeOptions,
};
use rocker_api::Client;

use crate::commands::inspect::render_template;
use crate::exit::{describe, StatusError};
use crate::table::render;
use crate::units::parse_mem_bytes;

/// Manage volumes
#[derive(Debug, Args)]
pub struct VolumeArgs {
    #[command(subcommand)]
    pub cmd: VolumeCmd,
}

#[derive(Debug, Subcommand)]
pub enum VolumeCmd {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// Specify volume name
    #[arg(long = "name")]
    pub name_flag: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Format output using a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `k=v` pairs (a bare `k` maps to an empty value).
fn key_values(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect()
}

/// `--filter k=v` flags as (key, value) pairs.
fn filters(items: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|f| match f.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(StatusError::fail(
                125,
                format!(
                    "bad format of filter (expected name=value)\nSee 'rocker volume --help'.: {f}"
                ),
            )),
        })
        .collect()
}

pub async fn run(client: &Client, args: VolumeArgs) -> anyhow::Result<i32> {
    match args.cmd {
        VolumeCmd::Create(a) => create(client, a).await,
        VolumeCmd::Ls(a) => ls(client, a).await,
        VolumeCmd::Inspect(a) => inspect(client, a).await,
        VolumeCmd::Rm(a) => rm(client, a).await,
        VolumeCmd::Prune(a) => prune(client, a).await,
    }
}

async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<i32> {
    if a.name.is_some() && a.name_flag.is_some() {
        return Err(StatusError::fail(
            1,
            "conflicting options: either specify --name or provide positional arg, not both",
        ));
    }
    let opts = VolumeCreateOptions {
        name: a.name.or(a.name_flag).unwrap_or_default(),
        driver: a.driver,
        driver_opts: key_values(&a.opt),
        labels: key_values(&a.label),
    };
    let v = client.volume_create(&opts).await?;
    println!("{}", v.name);
    Ok(0)
}

/// The `volume ls` output for `list`.
pub fn render_list(list: &[Volume], quiet: bool, format: Option<&str>) -> Result<String, String> {
    if quiet {
        return Ok(list.iter().map(|v| format!("{}\n", v.name)).collect());
    }
    match format.filter(|f| !f.is_empty() && *f != "table") {
        Some(f) => {
            let (table, body) = match f.strip_prefix("table") {
                Some(rest) => (true, rest.trim_start()),
                None => (false, f),
            };
            let body = body.replace("\\t", "\t");
            let mut out = String::new();
            if table {
                let header = body
                    .replace("{{.Driver}}", "DRIVER")
                    .replace("{{.Name}}", "VOLUME NAME")
                    .replace("{{.Mountpoint}}", "MOUNTPOINT")
                    .replace("{{.Scope}}", "SCOPE")
                    .replace("{{.Labels}}", "LABELS");
                out.push_str(&header);
                out.push('\n');
            }
            for v in list {
                let mut val = serde_json::to_value(v).map_err(|e| e.to_string())?;
                let labels: Vec<String> =
                    v.labels.iter().map(|(k, x)| format!("{k}={x}")).collect();
                val["Labels"] = serde_json::Value::String(labels.join(","));
                out.push_str(&render_template(&body, &val)?);
                out.push('\n');
            }
            Ok(out)
        }
        None => {
            let mut rows = vec![vec!["DRIVER".to_string(), "VOLUME NAME".to_string()]];
            rows.extend(list.iter().map(|v| vec![v.driver.clone(), v.name.clone()]));
            Ok(render(&rows))
        }
    }
}

async fn ls(client: &Client, a: LsArgs) -> anyhow::Result<i32> {
    let list = client.volume_list(&filters(&a.filter)?).await?;
    let out = render_list(&list.volumes, a.quiet, a.format.as_deref())
        .map_err(|e| StatusError::fail(1, e))?;
    print!("{out}");
    Ok(0)
}

async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<i32> {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for n in &a.names {
        match client.volume_inspect_raw(n).await {
            Ok(b) => docs.push(String::from_utf8_lossy(&b).trim_end().to_string()),
            Err(e) => errors.push(describe(&e)),
        }
    }
    super::inspect::print_inspected(&docs, a.format.as_deref(), &errors)
}

async fn rm(client: &Client, a: RmArgs) -> anyhow::Result<i32> {
    let mut failed = false;
    for n in &a.names {
        match client.volume_remove(n, a.force).await {
            Ok(()) => println!("{n}"),
            Err(e) => {
                failed = true;
                eprintln!("{}", describe(&e));
            }
        }
    }
    if failed {
        Err(StatusError::fail(1, ""))
    } else {
        Ok(0)
    }
}

async fn prune(client: &Client, a: PruneArgs) -> anyhow::Result<i32> {
    let mut f = filters(&a.filter)?;
    if a.all {
        f.push(("all".into(), "true".into()));
    }
    if !a.force {
        use std::io::{BufRead, Write};
        print!("WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Ok(0);
        }
    }
    let r = client.volume_prune(&f).await?;
    if !r.volumes_deleted.is_empty() {
        println!("Deleted Volumes:");
        for v in &r.volumes_deleted {
            println!("{v}");
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        human_size(r.space_reclaimed as f64, 3)
    );
    Ok(0)
}

/// One `--mount` flag in docker's csv syntax
/// (`type=bind,source=/a,target=/b,readonly,bind-propagation=rshared`).
pub fn parse_mount_flag(spec: &str) -> Result<Mount, String> {
    let bad = |why: String| format!("invalid argument \"{spec}\" for \"--mount\" flag: {why}");
    let bool_of = |k: &str, v: Option<&str>| -> Result<bool, String> {
        match v {
            None | Some("1") | Some("true") => Ok(true),
            Some("0") | Some("false") => Ok(false),
            Some(v) => Err(bad(format!("invalid value for {k}: {v}"))),
        }
    };
    let mut m = Mount {
        r#type: "volume".into(),
        ..Default::default()
    };
    let mut vo = VolumeOptions::default();
    let mut bo = BindOptions::default();
    let mut to = TmpfsOptions::default();
    let (mut has_vo, mut has_bo, mut has_to) = (false, false, false);
    for field in spec.split(',').filter(|f| !f.is_empty()) {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v)),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need = |v: Option<&str>| -> Result<String, String> {
            v.map(str::to_string)
                .ok_or_else(|| bad(format!("invalid field '{field}' must be a key=value pair")))
        };
        match k.as_str() {
            "type" => m.r#type = need(v)?,
            "source" | "src" => m.source = need(v)?,
            "target" | "dst" | "destination" => m.target = need(v)?,
            "readonly" | "ro" => m.read_only = bool_of(&k, v)?,
            "consistency" => m.consistency = need(v)?,
            "bind-propagation" => {
                has_bo = true;
                bo.propagation = need(v)?;
            }
            "bind-nonrecursive" => {
                has_bo = true;
                bo.non_recursive = bool_of(&k, v)?;
            }
            "volume-nocopy" => {
                has_vo = true;
                vo.no_copy = bool_of(&k, v)?;
            }
            "volume-label" => {
                has_vo = true;
                let kv = need(v)?;
                let (lk, lv) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                vo.labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(lk.to_string(), lv.to_string());
            }
            "volume-driver" => {
                has_vo = true;
                vo.driver_config.get_or_insert_with(Default::default).name = need(v)?;
            }
            "volume-opt" => {
                has_vo = true;
                let kv = need(v)?;
                let (ok, ov) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                vo.driver_config
                    .get_or_insert_with(Default::default)
                    .options
                    .get_or_insert_with(BTreeMap::new)
                    .insert(ok.to_string(), ov.to_string());
            }
            "tmpfs-size" => {
                has_to = true;
                to.size_bytes = parse_mem_bytes(&need(v)?).map_err(bad)?;
            }
            "tmpfs-mode" => {
                has_to = true;
                let mode = need(v)?;
                to.mode = u32::from_str_radix(&mode, 8)
                    .map_err(|_| bad(format!("invalid value for tmpfs-mode: {mode}")))?;
            }
            _ if v.is_none() => {
                return Err(bad(format!(
                    "invalid field '{field}' must be a key=value pair"
                )))
            }
            _ => return Err(bad(format!("unexpected key '{k}' in '{field}'"))),
        }
    }
    if m.target.is_empty() {
        return Err(bad("target is required".into()));
    }
    if has_vo {
        m.volume_options = Some(vo);
    }
    if has_bo {
        m.bind_options = Some(bo);
    }
    if has_to {
        m.tmpfs_options = Some(to);
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(name: &str) -> Volume {
        Volume {
            name: name.into(),
            driver: "local".into(),
            ..Default::default()
        }
    }

    #[test]
    fn list_renders_like_docker() {
        let l = vec![vol("a"), vol("b")];
        assert_eq!(render_list(&l, true, None).unwrap(), "a\nb\n");
        let t = render_list(&l, false, None).unwrap();
        assert!(t.starts_with("DRIVER    VOLUME NAME\nlocal     a\n"), "{t}");
        assert_eq!(
            render_list(&l, false, Some("{{.Name}}:{{.Driver}}")).unwrap(),
            "a:local\nb:local\n"
        );
    }

    #[test]
    fn mount_flags_parse_like_docker() {
        let m =
            parse_mount_flag("type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared").unwrap();
        assert_eq!(
            (m.r#type.as_str(), m.source.as_str(), m.target.as_str()),
            ("bind", "/a", "/b")
        );
        assert!(m.read_only);
        assert_eq!(m.bind_options.unwrap().propagation, "rshared");
        let m =
            parse_mount_flag("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap();
        let t = m.tmpfs_options.unwrap();
        assert_eq!((t.size_bytes, t.mode), (1 << 20, 0o1770));
        let m = parse_mount_flag("source=v,target=/d,volume-nocopy,volume-opt=type=tmpfs").unwrap();
        assert_eq!(m.r#type, "volume");
        assert!(m.volume_options.as_ref().unwrap().no_copy);
        let e = parse_mount_flag("type=bind,x,target=/b").unwrap_err();
        assert!(
            e.contains("invalid field 'x' must be a key=value pair"),
            "{e}"
        );
        assert!(parse_mount_flag("type=bind,bogus=1,target=/b").is_err());
    }
}
