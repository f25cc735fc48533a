//! `rocker info`: system-wide information in docker's layout.

use clap::Args;
use rocker_api::human::human_size_binary;
use rocker_api::models::SystemInfo;
use rocker_api::Client;

use crate::exit::{describe, StatusError};

/// Display system-wide information
#[derive(Debug, Args)]
pub struct InfoArgs {}

/// The server section of `info`.
pub fn render_server(i: &SystemInfo) -> String {
    let mut o = String::from("Server:\n");
    let kv = |o: &mut String, k: &str, v: &dyn std::fmt::Display| {
        o.push_str(&format!("{k}: {v}\n"));
    };
    kv(&mut o, " Containers", &i.containers);
    kv(&mut o, "  Running", &i.containers_running);
    kv(&mut o, "  Paused", &i.containers_paused);
    kv(&mut o, "  Stopped", &i.containers_stopped);
    kv(&mut o, " Images", &i.images);
    kv(&mut o, " Server Version", &i.server_version);
    kv(&mut o, " Storage Driver", &i.driver);
    for [k, v] in i.driver_status.iter().flatten() {
        kv(&mut o, &format!("  {k}"), v);
    }
    kv(&mut o, " Logging Driver", &i.logging_driver);
    kv(&mut o, " Cgroup Driver", &i.cgroup_driver);
    kv(&mut o, " Cgroup Version", &i.cgroup_version);
    let runtimes: Vec<&str> = i.runtimes.keys().map(String::as_str).collect();
    kv(&mut o, " Runtimes", &runtimes.join(" "));
    kv(&mut o, " Default Runtime", &i.default_runtime);
    kv(&mut o, " Live Restore Enabled", &i.live_restore_enabled);
    if let Some(opts) = i.security_options.as_ref().filter(|s| !s.is_empty()) {
        o.push_str(" Security Options:\n");
        for opt in opts {
            let mut name = String::new();
            let mut extra = Vec::new();
            for kv in opt.split(',') {
                match kv.split_once('=') {
                    Some(("name", n)) => name = n.to_string(),
                    Some((k, v)) => {
                        extra.push(format!("   {}{}: {v}", k[..1].to_uppercase(), &k[1..]))
                    }
                    None => name = kv.to_string(),
                }
            }
            o.push_str(&format!("  {name}\n"));
            for e in extra {
                o.push_str(&format!("{e}\n"));
            }
        }
    }
    kv(&mut o, " Kernel Version", &i.kernel_version);
    kv(&mut o, " Operating System", &i.operating_system);
    kv(&mut o, " OSType", &i.os_type);
    kv(&mut o, " Architecture", &i.architecture);
    kv(&mut o, " CPUs", &i.ncpu);
    kv(
        &mut o,
        " Total Memory",
        &human_size_binary(i.mem_total as f64, 4),
    );
    kv(&mut o, " Name", &i.name);
    kv(&mut o, " ID", &i.id);
    kv(&mut o, " Rocker Root Dir", &i.docker_root_dir);
    kv(&mut o, " Debug Mode", &i.debug);
    kv(&mut o, " Experimental", &i.experimental_build);
    if let Some(cidrs) = i
        .registry_config
        .as_ref()
        .and_then(|r| r.insecure_registry_cidrs.as_ref())
        .filter(|c| !c.is_empty())
    {
        o.push_str(" Insecure Registries:\n");
        for c in cidrs {
            o.push_str(&format!("  {c}\n"));
        }
    }
    for w in i.warnings.iter().flatten() {
        o.push_str(&format!("{w}\n"));
    }
    o
}

pub async fn run(client: &Client, _args: InfoArgs) -> anyhow::Result<i32> {
    println!(
        "Client:\n Version:    {}\n Context:    default\n",
        env!("CARGO_PKG_VERSION")
    );
    let info = client
        .info()
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    print!("{}", render_server(&info));
    Ok(0)
}
