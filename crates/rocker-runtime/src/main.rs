//! `rocker-runtime`: a runc-compatible command line over the rocker-runtime library, so
//! podman, containerd and the OCI validation suite can drive it. Each verb is a thin file
//! in `cli/` that parses, calls the library and formats the answer.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rocker-runtime",
    version,
    about = "Rocker's OCI runtime (runc-compatible CLI)"
)]
struct Args {
    /// Directory for container state.
    #[arg(long, global = true, default_value = "/run/rocker-runtime")]
    root: PathBuf,
    /// Also write errors to this file.
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Format of --log: text or json.
    #[arg(long = "log-format", global = true, default_value = "text")]
    log_format: cli::LogFormat,
    /// Debug output.
    #[arg(long, global = true)]
    debug: bool,
    /// Accepted for runc compatibility; cgroups are always managed through cgroupfs.
    #[arg(long = "systemd-cgroup", global = true, hide = true)]
    systemd_cgroup: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a container; its process waits until `start`.
    Create(cli::create::Args),
    /// Start a created container.
    Start(cli::start::Args),
    /// Create and start a container, wait for it and remove it; exits with its status.
    Run(cli::run::Args),
    /// Print the state of a container as JSON.
    State(cli::state_cmd::Args),
    /// Send a signal to a container's init (or to all its processes with --all).
    Kill(cli::kill::Args),
    /// Remove a stopped (or, with --force, any) container.
    Delete(cli::delete::Args),
    /// Run a new process inside a running container.
    Exec(cli::exec::Args),
    /// List containers under the state root.
    List(cli::list::Args),
    /// List the processes of a container.
    Ps(cli::ps::Args),
    /// Freeze every process of a container.
    Pause(cli::pause::Args),
    /// Thaw a paused container.
    Resume(cli::pause::Args),
    /// Write a default config.json.
    Spec(cli::spec_cmd::Args),
    /// Print what this runtime supports (OCI features document).
    Features,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let logger = cli::Logger::new(args.log.clone(), args.log_format, args.debug);
    let ctx = cli::Context {
        root: args.root.clone(),
        logger,
    };
    let result = match args.command {
        Command::Create(a) => cli::create::run(&ctx, a).map(|()| 0),
        Command::Start(a) => cli::start::run(&ctx, a).map(|()| 0),
        Command::Run(a) => cli::run::run(&ctx, a),
        Command::State(a) => cli::state_cmd::run(&ctx, a).map(|()| 0),
        Command::Kill(a) => cli::kill::run(&ctx, a).map(|()| 0),
        Command::Delete(a) => cli::delete::run(&ctx, a).map(|()| 0),
        Command::Exec(a) => cli::exec::run(&ctx, a),
        Command::List(a) => cli::list::run(&ctx, a).map(|()| 0),
        Command::Ps(a) => cli::ps::run(&ctx, a).map(|()| 0),
        Command::Pause(a) => cli::pause::pause(&ctx, a).map(|()| 0),
        Command::Resume(a) => cli::pause::resume(&ctx, a).map(|()| 0),
        Command::Spec(a) => cli::spec_cmd::run(a).map(|()| 0),
        Command::Features => cli::features::run().map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)),
        Err(e) => {
            ctx.logger.error(&format!("{e:#}"));
            let code = e
                .downcast_ref::<rocker_runtime::Error>()
                .and_then(|e| e.exec_exit_code())
                .or_else(|| {
                    e.downcast_ref::<rocker_runtime::ExecError>()
                        .and_then(|e| e.exec_exit_code())
                })
                .unwrap_or(1);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
