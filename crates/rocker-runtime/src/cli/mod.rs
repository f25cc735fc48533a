//! Shared pieces of the CLI verbs: the context (state root, logger), loading a bundle,
//! stdio inheritance, signal names and waiting for a process to exit.

pub mod create;
pub mod delete;
pub mod exec;
pub mod features;
pub mod kill;
pub mod list;
pub mod pause;
pub mod ps;
pub mod run;
pub mod spec_cmd;
pub mod start;
pub mod state;
pub mod state_cmd;

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use nix::sys::signal::Signal;
use oci_spec::runtime::Spec;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Writes errors to stderr and, when asked, to the --log file in runc's formats.
pub struct Logger {
    file: Option<PathBuf>,
    format: LogFormat,
    debug: bool,
}

impl Logger {
    pub fn new(file: Option<PathBuf>, format: LogFormat, debug: bool) -> Logger {
        Logger {
            file,
            format,
            debug,
        }
    }

    fn write(&self, level: &str, msg: &str) {
        let Some(path) = &self.file else { return };
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let line = match self.format {
            LogFormat::Json => {
                serde_json::json!({"level": level, "msg": msg, "time": time}).to_string()
            }
            LogFormat::Text => format!("time=\"{time}\" level={level} msg={msg:?}"),
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }

    pub fn error(&self, msg: &str) {
        eprintln!("rocker-runtime: {msg}");
        self.write("error", msg);
    }

    pub fn debug(&self, msg: &str) {
        if self.debug {
            eprintln!("rocker-runtime: {msg}");
            self.write("debug", msg);
        }
    }
}

pub struct Context {
    pub root: PathBuf,
    pub logger: Logger,
}

/// Loads `<bundle>/config.json` and returns it with the absolute bundle path.
pub fn load_bundle(bundle: &Path) -> Result<(PathBuf, Spec)> {
    let bundle =
        std::path::absolute(bundle).with_context(|| format!("bundle {}", bundle.display()))?;
    let config = bundle.join("config.json");
    let spec = Spec::load(&config).with_context(|| format!("load {}", config.display()))?;
    Ok((bundle, spec))
}

/// Copies of our own 0, 1, 2 for the container (they are inherited, as with runc).
pub fn inherited_stdio() -> Result<rocker_runtime::Stdio> {
    let dup = |fd: BorrowedFd<'_>| -> Result<OwnedFd> {
        fd.try_clone_to_owned().context("duplicate stdio")
    };
    Ok(rocker_runtime::Stdio {
        stdin: dup(std::io::stdin().as_fd())?,
        stdout: dup(std::io::stdout().as_fd())?,
        stderr: dup(std::io::stderr().as_fd())?,
    })
}

/// Parses `KILL`, `SIGKILL` or `9`.
pub fn parse_signal(s: &str) -> Result<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).with_context(|| format!("invalid signal {s}"));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match name.parse::<Signal>() {
        Ok(sig) => Ok(sig),
        Err(_) => bail!("invalid signal {s}"),
    }
}

/// Waits (bounded) for the process behind `pidfd` to exit; works for non-children.
pub fn wait_exit(pidfd: BorrowedFd<'_>, timeout_ms: u16) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(pidfd, PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::from(timeout_ms)), Ok(n) if n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        assert_eq!(parse_signal("KILL").expect("KILL"), Signal::SIGKILL);
        assert_eq!(parse_signal("SIGTERM").expect("SIGTERM"), Signal::SIGTERM);
        assert_eq!(parse_signal("9").expect("9"), Signal::SIGKILL);
        assert_eq!(parse_signal("hup").expect("hup"), Signal::SIGHUP);
        assert!(parse_signal("NOPE").is_err());
    }
}
