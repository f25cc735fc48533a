//! `rockerd`: serves the Docker Engine API on a unix socket over the Rocker engine.
//!
//! Flags follow dockerd's (`-H/--host`, `--data-root`, `--exec-root`, `--config-file`,
//! `--log-level`, `--pidfile`, `--cgroup-parent`); `/etc/rocker/config.toml` supplies the
//! rest. Containers keep running when the daemon stops or crashes (live restore).

#![forbid(unsafe_code)]

mod archive; // container file system API (P1)
mod attach_io; // detach keys (P3)
mod config;
mod container_filters;
mod container_prune; // container prune (P3)
mod containers;
mod events;
mod exec;
mod http;
mod images;
mod netview;
mod networks;
mod ops;
mod router;
mod stats;
mod system;
mod system_df; // system df (P3)
mod update; // restart/update (P2)
mod volumes; // volumes (N3)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Parser;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

#[derive(Parser, Debug)]
#[command(
    name = "rockerd",
    version,
    about = "The Rocker daemon: Docker Engine API on a unix socket"
)]
struct Args {
    /// Socket to listen on (unix:///path or a path).
    #[arg(short = 'H', long = "host")]
    host: Option<String>,
    /// Root of persistent state.
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Root of runtime state (sockets, shim state).
    #[arg(long)]
    exec_root: Option<PathBuf>,
    /// Daemon configuration file.
    #[arg(long, default_value = "/etc/rocker/config.toml")]
    config_file: PathBuf,
    /// debug, info, warn, error.
    #[arg(short = 'l', long)]
    log_level: Option<String>,
    /// Where to write the daemon's pid.
    #[arg(short = 'p', long)]
    pidfile: Option<PathBuf>,
    /// Parent cgroup of every container.
    #[arg(long)]
    cgroup_parent: Option<String>,
    /// Enable debug output.
    #[arg(short = 'D', long)]
    debug: bool,
    /// A registry (`host[:port]`) that may be reached over plain HTTP; repeatable.
    #[arg(long = "insecure-registry")]
    insecure_registry: Vec<String>,
    /// Default bridge interface name.
    #[arg(short = 'b', long = "bridge")]
    bridge: Option<String>,
    /// Default bridge address and prefix (`172.17.0.1/16`).
    #[arg(long = "bip")]
    bip: Option<String>,
    /// DNS server for containers (and upstream of the embedded DNS); repeatable.
    #[arg(long = "dns")]
    dns: Vec<String>,
    /// DNS search domain for containers; repeatable.
    #[arg(long = "dns-search")]
    dns_search: Vec<String>,
    /// DNS option for containers; repeatable.
    #[arg(long = "dns-opt")]
    dns_opt: Vec<String>,
    /// MTU of container interfaces.
    #[arg(long)]
    mtu: Option<u32>,
    /// Run containers under the built-in init unless they set HostConfig.Init (P5).
    #[arg(long)]
    init: bool,
}

/// `--bip 172.20.0.1/16` -> (subnet, gateway).
fn split_bip(bip: &str) -> Result<(String, String)> {
    let (ip, prefix) = bip
        .split_once('/')
        .with_context(|| format!("invalid --bip {bip}: want address/prefix"))?;
    let ip: std::net::Ipv4Addr = ip.parse().with_context(|| format!("invalid --bip {bip}"))?;
    let prefix: u8 = prefix
        .parse()
        .with_context(|| format!("invalid --bip {bip}"))?;
    if prefix > 30 {
        bail!("invalid --bip {bip}: prefix too long");
    }
    let mask = u32::MAX << (32 - u32::from(prefix));
    let net = std::net::Ipv4Addr::from(u32::from(ip) & mask);
    Ok((format!("{net}/{prefix}"), ip.to_string()))
}

/// The network flags, which override the `[network]` table.
struct NetArgs {
    bridge: Option<String>,
    bip: Option<String>,
    dns: Vec<String>,
    dns_search: Vec<String>,
    dns_opt: Vec<String>,
    mtu: Option<u32>,
}

fn net_config(a: &NetArgs, f: &config::Network) -> Result<rocker_engine::network::NetConfig> {
    let mut n = rocker_engine::network::NetConfig::default();
    if let Some(b) = a.bridge.clone().or(f.bridge.clone()) {
        if b.is_empty() || b.len() > 15 {
            bail!("invalid bridge name {b:?}");
        }
        n.bridge = b;
    }
    n.bridge_subnet = f.default_bridge_subnet.clone();
    n.bridge_gateway = f.default_bridge_gateway.clone();
    if let Some(bip) = &a.bip {
        let (subnet, gw) = split_bip(bip)?;
        n.bridge_subnet = Some(subnet);
        n.bridge_gateway = Some(gw);
    }
    if let Some(t) = &f.nft_table {
        n.nft_table = t.clone();
    }
    n.dns = if a.dns.is_empty() {
        f.dns.clone()
    } else {
        a.dns.clone()
    };
    n.dns_search = if a.dns_search.is_empty() {
        f.dns_search.clone()
    } else {
        a.dns_search.clone()
    };
    n.dns_options = if a.dns_opt.is_empty() {
        f.dns_options.clone()
    } else {
        a.dns_opt.clone()
    };
    if let Some(p) = &f.resolv_conf {
        n.host_resolv = p.clone();
    }
    n.mtu = a.mtu.or(f.mtu);
    Ok(n)
}

fn socket_path(host: &str) -> Result<PathBuf> {
    if let Some(p) = host.strip_prefix("unix://") {
        return Ok(PathBuf::from(p));
    }
    if host.contains("://") {
        bail!("only unix sockets are supported: {host}");
    }
    Ok(PathBuf::from(host))
}

/// The shim is installed beside rockerd.
fn shim_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating rockerd")?;
    let beside = exe.with_file_name("rocker-shim");
    if beside.exists() {
        return Ok(beside);
    }
    bail!("rocker-shim not found beside {}", exe.display())
}

/// Refuses to start over a live daemon; removes a stale socket.
fn claim_socket(path: &Path) -> Result<()> {
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        bail!("another daemon is already listening on {}", path.display());
    }
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    Ok(())
}

/// The API socket is `root:rocker 0660`, as dockerd's is `root:docker`: members of the
/// `rocker` group (if it exists) may use it, nobody else.
fn restrict_socket(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(Some(group)) = nix::unistd::Group::from_name("rocker") {
        nix::unistd::chown(path, None, Some(group.gid))
            .with_context(|| format!("chown {}", path.display()))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .with_context(|| format!("chmod {}", path.display()))?;
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let explicit_config = args.config_file != Path::new("/etc/rocker/config.toml");
    let file = config::load(&args.config_file, explicit_config)?;
    let level = args
        .log_level
        .clone()
        .or(file.daemon.log_level.clone())
        .unwrap_or_else(|| {
            if args.debug || file.daemon.debug {
                "debug".into()
            } else {
                "info".into()
            }
        });
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "rockerd={level},rocker_engine={level}"
        )))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let socket = socket_path(
        args.host
            .as_deref()
            .or(file.daemon.socket.as_deref())
            .unwrap_or("unix:///run/rocker/rocker.sock"),
    )?;
    let args_net = NetArgs {
        bridge: args.bridge.clone(),
        bip: args.bip.clone(),
        dns: args.dns.clone(),
        dns_search: args.dns_search.clone(),
        dns_opt: args.dns_opt.clone(),
        mtu: args.mtu,
    };
    let cfg = rocker_engine::Config {
        data_root: args
            .data_root
            .or(file.daemon.data_root)
            .unwrap_or_else(|| "/var/lib/rocker".into()),
        exec_root: args
            .exec_root
            .or(file.daemon.exec_root)
            .unwrap_or_else(|| "/run/rocker".into()),
        cgroup_parent: args
            .cgroup_parent
            .or(file.daemon.cgroup_parent)
            .unwrap_or_else(|| "rocker".into()),
        shim_bin: shim_binary()?,
        log_max_size: config::parse_size(file.log.max_size.as_deref().unwrap_or("10m"))?,
        log_max_files: file.log.max_file.unwrap_or(3).max(1),
        insecure_registries: args
            .insecure_registry
            .iter()
            .chain(&file.registry.insecure_registries)
            .cloned()
            .collect(),
        net: net_config(&args_net, &file.network)?,
        init: args.init || file.daemon.init.unwrap_or(false), // --init default (P5)
    };
    let pidfile = args.pidfile.or(file.daemon.pidfile);

    // A current-thread runtime: the daemon's work is I/O bound, and one thread keeps its
    // memory small; blocking work (unpacking layers) goes to the blocking pool.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()?;
    rt.block_on(serve(cfg, socket, pidfile))
}

async fn serve(
    cfg: rocker_engine::Config,
    socket: PathBuf,
    pidfile: Option<PathBuf>,
) -> Result<()> {
    claim_socket(&socket)?;
    let engine = rocker_engine::Engine::open(cfg)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let listener =
        UnixListener::bind(&socket).with_context(|| format!("binding {}", socket.display()))?;
    restrict_socket(&socket)?;
    if let Some(p) = &pidfile {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    tracing::info!(socket = %socket.display(), "API listening");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    loop {
        tokio::select! {
            conn = listener.accept() => {
                let (stream, _) = match conn {
                    Ok(c) => c,
                    Err(e) => { tracing::warn!("accept: {e}"); continue; }
                };
                let engine: Arc<rocker_engine::Engine> = engine.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let engine = engine.clone();
                        async move { Ok::<_, std::convert::Infallible>(router::route(engine, req).await) }
                    });
                    if let Err(e) = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .with_upgrades()
                        .await
                    {
                        tracing::debug!("connection: {e}");
                    }
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    tracing::info!("shutting down; containers keep running");
    let _ = std::fs::remove_file(&socket);
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}
