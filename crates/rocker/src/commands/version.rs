//! `rocker version`: client and server versions in docker's layout.

use clap::Args;
use rocker_api::models::{SystemVersion, API_VERSION};
use rocker_api::Client;

use crate::exit::describe;

/// Show the Rocker version information
#[derive(Debug, Args)]
pub struct VersionArgs {}

/// Go's GOARCH name for this build's architecture.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn line(out: &mut String, key: &str, value: &str) {
    out.push_str(&format!("{key:<20}{value}\n"));
}

/// The client section.
pub fn render_client() -> String {
    let mut out = String::from("Client:\n");
    line(&mut out, " Version:", env!("CARGO_PKG_VERSION"));
    line(&mut out, " API version:", API_VERSION);
    if let Some(commit) = option_env!("ROCKER_GIT_COMMIT") {
        line(&mut out, " Git commit:", commit);
    }
    line(
        &mut out,
        " OS/Arch:",
        &format!("{}/{}", std::env::consts::OS, go_arch()),
    );
    line(&mut out, " Context:", "default");
    out
}

/// The server section.
pub fn render_server(v: &SystemVersion) -> String {
    let name = if v.platform.name.is_empty() {
        "Rocker Engine"
    } else {
        v.platform.name.as_str()
    };
    let mut out = format!("Server: {name}\n Engine:\n");
    line(&mut out, "  Version:", &v.version);
    let api = match &v.min_api_version {
        Some(min) => format!("{} (minimum version {min})", v.api_version),
        None => v.api_version.clone(),
    };
    line(&mut out, "  API version:", &api);
    for (key, value) in [
        ("  Go version:", &v.go_version),
        ("  Git commit:", &v.git_commit),
    ] {
        if !value.is_empty() {
            line(&mut out, key, value);
        }
    }
    if let Some(b) = v.build_time.as_deref().filter(|b| !b.is_empty()) {
        line(&mut out, "  Built:", b);
    }
    line(&mut out, "  OS/Arch:", &format!("{}/{}", v.os, v.arch));
    line(
        &mut out,
        "  Experimental:",
        &v.experimental.unwrap_or(false).to_string(),
    );
    for c in v.components.iter().flatten().filter(|c| c.name != "Engine") {
        out.push_str(&format!(" {}:\n", c.name));
        line(&mut out, "  Version:", &c.version);
        for (k, val) in c.details.iter().flatten() {
            line(&mut out, &format!("  {k}:"), val);
        }
    }
    out
}

pub async fn run(client: &Client, _args: VersionArgs) -> anyhow::Result<i32> {
    print!("{}", render_client());
    match client.version().await {
        Ok(v) => {
            println!();
            print!("{}", render_server(&v));
            Ok(0)
        }
        Err(e) => Err(crate::exit::StatusError::fail(1, describe(&e))),
    }
}
