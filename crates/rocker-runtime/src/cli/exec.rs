//! `exec [--process FILE] [-t] [-d] [--pid-file F] <id> [cmd args...]`: run a new process
//! in a running container, as `runc exec`. Without `--process` the container's own process
//! (from its bundle) is the template and the command replaces its args. Waits and exits
//! with the process's status unless `--detach`.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use super::state::{State, Status};
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    /// The process to run, as an OCI process JSON file.
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Give the process the caller's terminal as its controlling terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// Do not wait for the process.
    #[arg(short, long)]
    pub detach: bool,
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Working directory inside the container.
    #[arg(long)]
    pub cwd: Option<String>,
    /// Extra environment (KEY=VALUE).
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Accepted for runc compatibility; terminals come through stdio.
    #[arg(long = "console-socket", hide = true)]
    pub console_socket: Option<PathBuf>,
    pub id: String,
    /// Command and arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(ctx: &Context, args: Args) -> Result<i32> {
    let state = State::load(&ctx.root, &args.id)?;
    if state.status != Status::Running {
        bail!("cannot exec in a stopped container {}", args.id);
    }
    let (_, spec) = super::load_bundle(&state.bundle)?;
    let mut process: Process = match &args.process {
        Some(file) => {
            let text = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
            serde_json::from_slice(&text).with_context(|| format!("parse {}", file.display()))?
        }
        None => {
            let mut p = spec.process().clone().unwrap_or_default();
            if args.command.is_empty() {
                bail!("exec needs a command or --process");
            }
            p.set_args(Some(args.command.clone()));
            p
        }
    };
    if args.tty {
        process.set_terminal(Some(true));
    }
    if let Some(cwd) = &args.cwd {
        process.set_cwd(cwd.into());
    }
    if !args.env.is_empty() {
        let mut env = process.env().clone().unwrap_or_default();
        env.extend(args.env.iter().cloned());
        process.set_env(Some(env));
    }
    let cgroup = rocker_runtime::Cgroup::open(&state.cgroups_path).ok();
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let child = rocker_runtime::exec(rocker_runtime::ExecOptions {
        id: &args.id,
        init_pid: state.pid,
        process: &process,
        cgroup: cgroup.as_ref(),
        stdio: super::inherited_stdio()?,
        console: false,
        seccomp,
    })?;
    if let Some(f) = &args.pid_file {
        std::fs::write(f, child.pid.to_string())
            .with_context(|| format!("write {}", f.display()))?;
    }
    if args.detach {
        return Ok(0);
    }
    loop {
        match waitpid(Pid::from_raw(child.pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(e).context("wait for exec process"),
        }
    }
}
