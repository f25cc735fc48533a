//! `rocker attach`: join a running container's stdio, leaving it with Docker's detach keys
//! (`ctrl-p,ctrl-q` unless `--detach-keys`), which leave the container running.

use clap::{ArgAction, Args};
use rocker_api::client::{AttachOptions, WaitCondition};
use rocker_api::{detach_keys, Client};

use crate::exit::{describe, StatusError};
use crate::stdio::{self, Pumped};
use crate::tty;

/// Attach local standard input, output, and error streams to a running container
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", action = ArgAction::Set, default_value_t = true,
          num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// The bytes of `--detach-keys` (Docker's default when absent); bad syntax fails like docker.
pub fn keys(spec: Option<&str>) -> anyhow::Result<Vec<u8>> {
    detach_keys::parse(spec.unwrap_or(detach_keys::DEFAULT))
        .map_err(|e| StatusError::fail(1, format!("Error: {e}")))
}

/// How `attach` and `exec` end on a detach, as docker's: "read escape sequence", exit 1
/// (`run` and `start` detach silently with 0).
pub fn detached_error() -> anyhow::Error {
    StatusError::fail(1, detach_keys::DETACHED_MESSAGE)
}

pub async fn run(client: &Client, args: AttachArgs) -> anyhow::Result<i32> {
    let keys = keys(args.detach_keys.as_deref())?;
    let info = client
        .container_inspect(&args.container)
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    let state = info.state.clone().unwrap_or_default();
    if !state.running {
        return Err(StatusError::fail(
            1,
            "You cannot attach to a stopped container, start it first",
        ));
    }
    if state.paused {
        return Err(StatusError::fail(
            1,
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    let tty_mode = info.config.as_ref().is_some_and(|c| c.tty);
    let stdin = !args.no_stdin && info.config.as_ref().is_some_and(|c| c.open_stdin);
    let opts = AttachOptions {
        stream: true,
        stdin,
        stdout: true,
        stderr: true,
        detach_keys: args.detach_keys.clone(),
        ..Default::default()
    };
    let stream = client
        .container_attach(&info.id, &opts)
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    let wait = client
        .container_wait(&info.id, WaitCondition::NotRunning)
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    let raw = if tty_mode && stdin {
        tty::RawModeGuard::enable()?
    } else {
        None
    };
    let resizer = tty_mode.then(|| {
        tty::follow_size(
            client.clone(),
            tty::ResizeTarget::Container(info.id.clone()),
        )
    });
    if args.sig_proxy && !tty_mode {
        super::run::spawn_signal_proxy(client.clone(), info.id.clone());
    }
    let pumped = stdio::pump_detachable(stream, tty_mode, stdin, keys).await;
    if let Some(r) = resizer {
        r.abort();
    }
    drop(raw);
    if pumped? == Pumped::Detached {
        return Err(detached_error());
    }
    let status = wait
        .result()
        .await
        .map_err(|e| StatusError::fail(1, describe(&e)))?;
    Ok(i32::try_from(status.status_code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keys() {
        assert_eq!(keys(None).unwrap(), vec![16, 17]);
        assert!(keys(Some("bogus")).is_err());
    }
}
