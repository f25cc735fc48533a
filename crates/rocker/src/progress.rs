//! Prints a daemon progress stream (`load`, `import`) like docker's non-terminal
//! `DisplayJSONMessagesStream`: `stream` text as is, `id: status` lines, and the first error
//! ends the command.

use std::io::Write;

use rocker_api::client::JsonLines;

/// Copies messages to `out` until the stream ends; returns the daemon's error if it sent one.
pub async fn display(mut lines: JsonLines, out: &mut dyn Write) -> anyhow::Result<()> {
    while let Some(msg) = lines.next_message().await? {
        if let Some(err) = msg.error_message() {
            return Err(crate::exit::StatusError::fail(1, err.to_string()));
        }
        if let Some(s) = &msg.stream {
            write!(out, "{s}")?;
        } else if let Some(status) = &msg.status {
            let mut line = match &msg.id {
                Some(id) if !id.is_empty() => format!("{id}: {status}"),
                _ => status.clone(),
            };
            if let Some(p) = msg.progress.as_deref().filter(|p| !p.is_empty()) {
                line.push(' ');
                line.push_str(p);
            }
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    Ok(())
}
