//! `rocker run`: create, attach, start, stream, wait — Docker's foreground flow.

use clap::{ArgAction, Args};
use rocker_api::client::{AttachOptions, WaitCondition};
use rocker_api::Client;

use super::container_flags::ContainerFlags;
use crate::exit::{describe, start_failure_code, StatusError};
use crate::{stdio, tty};

/// Create and run a new container from an image
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    #[arg(long, action = ArgAction::Help, help = "Print help")]
    help: Option<bool>,
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", action = ArgAction::Set, default_value_t = true,
          num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")] // detach keys (P3)
    pub detach_keys: Option<String>,
    #[command(flatten)]
    pub flags: ContainerFlags,
    /// Image to run
    pub image: String,
    /// Command and arguments (never parsed as flags)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub async fn run(client: &Client, args: RunArgs) -> anyhow::Result<i32> {
    let flags = &args.flags;
    let mut body = flags
        .to_create_body(&args.image, &args.command, args.detach)
        .map_err(|e| StatusError::fail(125, format!("rocker: {e}.\nSee 'rocker run --help'.")))?;
    let keys = super::attach::keys(args.detach_keys.as_deref())?; // detach keys (P3)
    let term_size = if flags.tty { tty::size() } else { None };
    if let (Some((h, w)), Some(hc)) = (term_size, body.host_config.as_mut()) {
        hc.console_size = Some([u32::from(h), u32::from(w)]);
    }
    let created = client
        .container_create(flags.name.as_deref(), &body)
        .await
        .map_err(|e| StatusError::fail(125, describe(&e)))?;
    for w in &created.warnings {
        eprintln!("WARNING: {w}");
    }
    let id = created.id;
    if args.detach {
        start(client, &id).await?;
        println!("{id}");
        return Ok(0);
    }
    let stream = client
        .container_attach(
            &id,
            &AttachOptions {
                stream: true,
                stdin: flags.interactive,
                stdout: true,
                stderr: true,
                detach_keys: args.detach_keys.clone(), // detach keys (P3)
                ..Default::default()
            },
        )
        .await
        .map_err(|e| StatusError::fail(125, describe(&e)))?;
    let condition = if flags.rm {
        WaitCondition::Removed
    } else {
        WaitCondition::NextExit
    };
    let wait = client
        .container_wait(&id, condition)
        .await
        .map_err(|e| StatusError::fail(125, describe(&e)))?;
    let raw = if flags.tty && flags.interactive {
        tty::RawModeGuard::enable()?
    } else {
        None
    };
    if let Err(e) = start(client, &id).await {
        drop(raw);
        return Err(e);
    }
    let resizer = term_size
        .is_some()
        .then(|| tty::follow_size(client.clone(), tty::ResizeTarget::Container(id.clone())));
    if args.sig_proxy && !flags.tty {
        spawn_signal_proxy(client.clone(), id.clone());
    }
    // detach keys (P3)
    let pumped = stdio::pump_detachable(stream, flags.tty, flags.interactive, keys).await;
    if let Some(r) = resizer {
        r.abort();
    }
    drop(raw);
    match pumped {
        Ok(stdio::Pumped::Detached) => {
            return Ok(0); // docker's run/start detach silently
        }
        Ok(stdio::Pumped::Ended) => {}
        Err(e) => eprintln!("Error: {e:#}"),
    }
    let status = wait
        .result()
        .await
        .map_err(|e| StatusError::fail(125, describe(&e)))?;
    if let Some(err) = status.error.filter(|e| !e.message.is_empty()) {
        return Err(StatusError::fail(125, format!("Error: {}", err.message)));
    }
    Ok(i32::try_from(status.status_code).unwrap_or(125))
}

/// Starts `id`, mapping a failure to Docker's 125/126/127.
pub async fn start(client: &Client, id: &str) -> anyhow::Result<()> {
    client.container_start(id).await.map_err(|e| {
        let code = start_failure_code(e.api_message().unwrap_or_default());
        StatusError::fail(code, describe(&e))
    })
}

/// Forwards the signals a user sends to the CLI to the container (`--sig-proxy`).
pub(crate) fn spawn_signal_proxy(client: Client, id: String) {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        (SignalKind::interrupt(), "SIGINT"),
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::hangup(), "SIGHUP"),
        (SignalKind::quit(), "SIGQUIT"),
        (SignalKind::user_defined1(), "SIGUSR1"),
        (SignalKind::user_defined2(), "SIGUSR2"),
    ];
    for (kind, name) in kinds {
        let Ok(mut sig) = signal(kind) else { continue };
        let (client, id) = (client.clone(), id.clone());
        tokio::spawn(async move {
            while sig.recv().await.is_some() {
                let _ = client.container_kill(&id, Some(name)).await;
            }
        });
    }
}
