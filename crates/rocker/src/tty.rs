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
