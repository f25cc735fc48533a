//! `rocker`: the Docker-compatible command line client of `rockerd`.
//!
//! Parses Docker's syntax with clap, talks to the daemon through `rocker_api::Client`, and
//! exits with Docker's codes. Every verb lives in its own module under `commands/`.

#![forbid(unsafe_code)]

mod commands;
mod docker_config;
mod envfile;
mod exit;
mod json_indent;
mod ports;
mod progress;
mod stdio;
mod table;
mod tty;
mod units;

use clap::{ArgAction, CommandFactory, Parser};

/// A self-sufficient runtime for containers
#[derive(Debug, Parser)]
#[command(
    name = "rocker",
    disable_version_flag = true,
    subcommand_required = false
)]
pub struct Cli {
    /// Daemon socket to connect to (unix:///path); default $ROCKER_HOST or
    /// unix:///run/rocker/rocker.sock
    #[arg(short = 'H', long = "host", global = true)]
    pub host: Option<String>,
    /// Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")
    #[arg(short = 'l', long = "log-level", default_value = "info")]
    pub log_level: String,
    /// Print version information and quit
    #[arg(short = 'v', long = "version", action = ArgAction::SetTrue)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<commands::Command>,
}

/// Parses, runs and returns the exit code (errors already printed).
pub async fn main_with(cli: Cli) -> i32 {
    if cli.version {
        println!("Rocker version {}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    let Some(command) = cli.command else {
        let _ = Cli::command().print_help();
        return 0;
    };
    let client = match rocker_api::Client::from_env(cli.host.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    match command.execute(&client).await {
        Ok(code) => code,
        Err(e) => {
            let (message, code) = exit::report(&e);
            if !message.is_empty() {
                eprintln!("{message}");
            }
            code
        }
    }
}

fn main() {
    let cli = Cli::parse_from(std::env::args_os());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: start async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(main_with(cli));
    // Exit without dropping the runtime: a blocking stdin read must not hold the process.
    std::process::exit(code);
}
