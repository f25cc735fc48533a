//! The local terminal for `run -t`: raw mode while attached, restored on every exit path,
//! and its size for the container's pty.

use std::io::IsTerminal;

use nix::sys::termios::{self, SetArg, Termios};

/// Puts stdin's terminal in raw mode; the previous mode comes back on drop.
pub struct RawModeGuard {
    saved: Termios,
}

impl RawModeGuard {
    /// `None` when stdin is not a terminal (nothing to do).
    pub fn enable() -> anyhow::Result<Option<Self>> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Ok(None);
        }
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(&stdin, SetArg::TCSANOW, &raw)?;
        Ok(Some(Self { saved }))
    }
}

impl Drop for RawModeGuard {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, &self.saved);
    }
}

/// `(rows, cols)` of the terminal on stdout (or stdin), if any.
pub fn size() -> Option<(u16, u16)> {
    terminal_size::terminal_size_of(std::io::stdout())
        .or_else(|| terminal_size::terminal_size_of(std::io::stdin()))
        .map(|(w, h)| (h.0, w.0))
}

/// What a terminal resize is sent to.
#[derive(Debug, Clone)]
pub enum ResizeTarget {
    Container(String),
    Exec(String),
}

/// Sends the terminal's size now and on every SIGWINCH until the returned task is aborted
/// (or the process ends), as the docker client does while attached to a tty.
pub fn follow_size(
    client: rocker_api::Client,
    target: ResizeTarget,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let send = |client: rocker_api::Client, target: ResizeTarget| async move {
            if let Some((h, w)) = size() {
                // Older daemons may not implement resize: the size was also sent at create.
                let _ = match &target {
                    ResizeTarget::Container(id) => client.container_resize(id, h, w).await,
                    ResizeTarget::Exec(id) => client.exec_resize(id, h, w).await,
                };
            }
        };
        send(client.clone(), target.clone()).await;
        let Ok(mut winch) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
        else {
            return;
        };
        while winch.recv().await.is_some() {
            send(client.clone(), target.clone()).await;
        }
    })
}
