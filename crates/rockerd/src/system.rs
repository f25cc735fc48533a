//! `/_ping`, `/version` and `/info`.

use std::sync::Arc;

use hyper::{Method, Response, StatusCode};
use rocker_api::models::{
    Platform, RuntimeInfo, SystemInfo, SystemVersion, API_VERSION, MIN_API_VERSION,
};
use rocker_engine::Engine;

use crate::http::{empty, full, json, Res};

pub fn ping(method: &Method) -> Res {
    let body = if method == Method::HEAD { "" } else { "OK" };
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
        .header("Pragma", "no-cache")
        .body(full(body))
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
}

fn kernel_version() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn version() -> Res {
    let v = env!("CARGO_PKG_VERSION").to_string();
    json(
        StatusCode::OK,
        &SystemVersion {
            platform: Platform {
                name: "Rocker Engine".into(),
            },
            components: None,
            version: v,
            api_version: API_VERSION.into(),
            min_api_version: Some(MIN_API_VERSION.into()),
            git_commit: option_env!("ROCKER_GIT_COMMIT").unwrap_or("unknown").into(),
            go_version: "n/a (rust)".into(),
            os: "linux".into(),
            arch: rocker_image::config::host_arch().into(),
            kernel_version: Some(kernel_version()),
            experimental: None,
            build_time: None,
        }
        .with_engine_component(),
    )
}

fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| "Linux".into())
}

fn mem_total() -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
            })
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

pub fn info(engine: &Arc<Engine>) -> Res {
    let (running, paused, stopped) = engine.counts();
    let images = engine.images.list().map(|l| l.len()).unwrap_or(0);
    let cfg = engine.config();
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory").exists();
    let mut runtimes = std::collections::BTreeMap::new();
    runtimes.insert(
        "rocker".to_string(),
        RuntimeInfo {
            path: "rocker-runtime (in-process)".into(),
            ..Default::default()
        },
    );
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    json(
        StatusCode::OK,
        &SystemInfo {
            id: hostname.clone(),
            containers: (running + paused + stopped) as i64,
            containers_running: running as i64,
            containers_paused: paused as i64,
            containers_stopped: stopped as i64,
            images: images as i64,
            driver: "overlay2".into(),
            driver_status: Some(vec![["Backing Filesystem".into(), "extfs".into()]]),
            memory_limit: true,
            swap_limit: false,
            cpu_cfs_period: true,
            cpu_cfs_quota: true,
            cpu_shares: true,
            cpu_set: true,
            pids_limit: true,
            oom_kill_disable: v1,
            logging_driver: "json-file".into(),
            cgroup_driver: "cgroupfs".into(),
            cgroup_version: if v1 { "1".into() } else { "2".into() },
            kernel_version: kernel_version(),
            operating_system: os_name(),
            os_type: "linux".into(),
            architecture: std::env::consts::ARCH.into(),
            ncpu: std::thread::available_parallelism()
                .map(|n| n.get() as i64)
                .unwrap_or(1),
            mem_total: mem_total(),
            docker_root_dir: cfg.data_root.to_string_lossy().into_owned(),
            name: hostname,
            server_version: env!("CARGO_PKG_VERSION").into(),
            runtimes,
            default_runtime: "rocker".into(),
            live_restore_enabled: true,
            isolation: String::new(),
            init_binary: "docker-init".into(), // --init (P5)
            system_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            ..Default::default()
        },
    )
}
