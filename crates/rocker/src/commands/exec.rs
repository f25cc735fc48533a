//! `rocker exec`: run a command in a running container, with docker's exit codes (the
//! process's own; 126 / 127 when it could not run; 1 for daemon errors, as docker).

use clap::{ArgAction, Args};
use rocker_api::models::{ExecConfig, ExecStartConfig};
use rocker_api::Client;

use crate::exit::{describe, StatusError};
use crate::{stdio, tty};

/// Execute a command in a running container
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct ExecArgs {
    #[arg(long, action = ArgAction::Help, help = "Print help")]
    help: Option<bool>,
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give extended privileges to the command
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Container name or id
    pub container: String,
    /// Command and arguments (never parsed as flags)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl ExecArgs {
    /// The exec body, as the docker CLI sends it.
    fn config(&self, term_size: Option<(u16, u16)>) -> ExecConfig {
        let attached = !self.detach;
        ExecConfig {
            user: self.user.clone().unwrap_or_default(),
            privileged: self.privileged,
            tty: self.tty,
            console_size: term_size.map(|(h, w)| [u32::from(h), u32::from(w)]),
            attach_stdin: self.interactive && attached,
            attach_stdout: attached,
            attach_stderr: attached,
            detach: self.detach,
            detach_keys: self.detach_keys.clone().unwrap_or_default(),
            env: (!self.env.is_empty()).then(|| self.env.clone()),
            working_dir: self.workdir.clone().unwrap_or_default(),
            cmd: Some(self.command.clone()),
        }
    }
}

pub async fn run(client: &Client, args: ExecArgs) -> anyhow::Result<i32> {
    let term_size = if args.tty { tty::size() } else { None };
    let cfg = args.config(term_size);
    let fail = |e: &rocker_api::ClientError| StatusError::fail(1, describe(e));
    let id = client
        .exec_create(&args.container, &cfg)
        .await
        .map_err(|e| fail(&e))?;
    let start = ExecStartConfig {
        detach: args.detach,
        tty: args.tty,
        console_size: cfg.console_size,
    };
    if args.detach {
        client
            .exec_start_detached(&id, &start)
            .await
            .map_err(|e| fail(&e))?;
        return Ok(0);
    }
    let stream = client
        .exec_start_attached(&id, &start)
        .await
        .map_err(|e| fail(&e))?;
    let raw = if args.tty && args.interactive {
        tty::RawModeGuard::enable()?
    } else {
        None
    };
    let resizer = term_size
        .is_some()
        .then(|| tty::follow_size(client.clone(), tty::ResizeTarget::Exec(id.clone())));
    // detach keys (P3)
    let keys = super::attach::keys(args.detach_keys.as_deref())?;
    let pumped = stdio::pump_detachable(stream, args.tty, args.interactive, keys).await;
    if let Some(r) = resizer {
        r.abort();
    }
    drop(raw);
    match pumped {
        Ok(stdio::Pumped::Detached) => {
            return Err(super::attach::detached_error());
        }
        Ok(stdio::Pumped::Ended) => {}
        Err(e) => eprintln!("Error: {e:#}"),
    }
    let inspect = client.exec_inspect(&id).await.map_err(|e| fail(&e))?;
    Ok(inspect.exit_code.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        exec: ExecArgs,
    }

    #[test]
    fn flags_stop_at_the_command() {
        let cli = Cli::try_parse_from([
            "exec",
            "-i",
            "-u",
            "1000:1000",
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "ctr",
            "sh",
            "-c",
            "exit 7",
        ])
        .unwrap();
        let a = cli.exec;
        assert_eq!(a.container, "ctr");
        assert_eq!(a.command, ["sh", "-c", "exit 7"]);
        let cfg = a.config(None);
        assert!(cfg.attach_stdin && cfg.attach_stdout && !cfg.tty);
        assert_eq!(cfg.user, "1000:1000");
        assert_eq!(cfg.env.as_deref(), Some(&["A=1".to_string()][..]));
        assert_eq!(cfg.working_dir, "/tmp");
    }

    #[test]
    fn detached_attaches_nothing() {
        let a = Cli::try_parse_from(["exec", "-d", "ctr", "true"])
            .unwrap()
            .exec;
        let cfg = a.config(Some((24, 80)));
        assert!(!cfg.attach_stdin && !cfg.attach_stdout && cfg.detach);
        assert_eq!(cfg.console_size, Some([24, 80]));
        assert!(Cli::try_parse_from(["exec", "ctr"]).is_err());
    }
}
