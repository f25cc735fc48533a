//! Restart policies (`HostConfig.RestartPolicy`): when a container exits, start it again per
//! `always`, `unless-stopped` or `on-failure[:N]` after Docker's back-off (100 ms, doubling up
//! to a minute, reset once it ran for 10 s). A user stop/kill marks the container "manually
//! stopped", which cancels restarts until it is started again; on daemon start, `always`
//! containers (and `unless-stopped` ones not stopped by a user) are started again.

use std::sync::Arc;
use std::time::Duration;

use crate::container::{Record, Status};
use crate::error::Result;
use crate::{lock, Engine, Entry};

/// First back-off, and the longest one.
const FIRST_DELAY_MS: u64 = 100;
const MAX_DELAY_MS: u64 = 60_000;
/// A container that ran this long starts its back-off from the beginning again.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// Whether the policy restarts a container that just exited with `exit_code`.
fn policy_restarts(rec: &Record, exit_code: i32) -> bool {
    let rp = &rec.host_config.restart_policy;
    match rp.name.as_str() {
        "always" => !rec.manually_stopped,
        "unless-stopped" => !rec.manually_stopped,
        "on-failure" => {
            exit_code != 0
                && !rec.manually_stopped
                && (rp.maximum_retry_count <= 0 || rec.restart_count < rp.maximum_retry_count)
        }
        _ => false,
    }
}

/// How long the container ran, when both times are known.
fn uptime(rec: &Record) -> Option<Duration> {
    let started = chrono::DateTime::parse_from_rfc3339(&rec.state.started_at).ok()?;
    let finished = chrono::DateTime::parse_from_rfc3339(&rec.state.finished_at).ok()?;
    (finished - started).to_std().ok()
}

/// The next back-off after one of `previous` ms (0: none yet).
fn next_delay(previous: u64, ran_long: bool) -> u64 {
    if previous == 0 || ran_long {
        FIRST_DELAY_MS
    } else {
        (previous * 2).min(MAX_DELAY_MS)
    }
}

impl Engine {
    /// Called with every recorded exit: marks the container restarting and starts it again
    /// after the back-off when its policy says so.
    pub(crate) fn schedule_restart(self: &Arc<Self>, entry: &Arc<Entry>) {
        let (snapshot, delay) = {
            let mut r = lock(&entry.record);
            if r.state.status != Status::Exited || !policy_restarts(&r, r.state.exit_code) {
                return;
            }
            let ran_long = uptime(&r).is_some_and(|u| u >= RESET_AFTER);
            r.restart_delay_ms = next_delay(r.restart_delay_ms, ran_long);
            r.restart_count += 1;
            r.state.restarting = true;
            (r.clone(), r.restart_delay_ms)
        };
        if let Err(e) = self.persist(&snapshot) {
            tracing::error!(id = %entry.id, "recording restart: {e}");
        }
        tracing::debug!(id = %entry.id, delay_ms = delay, "restarting container");
        self.spawn_restart(entry.clone(), Duration::from_millis(delay));
    }

    /// Starts a restarting container after `delay`, unless a user stopped, started or
    /// removed it meanwhile.
    fn spawn_restart(self: &Arc<Self>, entry: Arc<Entry>, delay: Duration) {
        let engine = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _op = entry.op.lock().await;
            let snapshot = {
                let mut r = lock(&entry.record);
                if r.state.status != Status::Exited || !r.state.restarting {
                    return;
                }
                r.state.restarting = false;
                r.clone()
            };
            if let Err(e) = engine.persist(&snapshot) {
                tracing::error!(id = %entry.id, "recording restart: {e}");
            }
            if let Err(e) = engine.start_locked(&entry).await {
                tracing::warn!(id = %entry.id, "restarting container: {}", e.message);
            }
        });
    }

    /// A user start: the container is no longer manually stopped, and its restart count and
    /// back-off start over (any pending restart is cancelled).
    pub(crate) fn reset_restart(&self, entry: &Entry) -> Result<()> {
        let snapshot = {
            let mut r = lock(&entry.record);
            if !matches!(r.state.status, Status::Created | Status::Exited)
                || (!r.manually_stopped
                    && r.restart_count == 0
                    && r.restart_delay_ms == 0
                    && !r.state.restarting)
            {
                return Ok(());
            }
            r.manually_stopped = false;
            r.restart_count = 0;
            r.restart_delay_ms = 0;
            r.state.restarting = false;
            r.clone()
        };
        self.persist(&snapshot)
    }

    /// A stop of a container waiting to restart: cancel the restart, mark it stopped by the
    /// user. True when it was restarting.
    pub(crate) fn cancel_restart(&self, entry: &Entry) -> bool {
        let snapshot = {
            let mut r = lock(&entry.record);
            if !r.state.restarting {
                return false;
            }
            r.state.restarting = false;
            r.manually_stopped = true;
            r.clone()
        };
        if let Err(e) = self.persist(&snapshot) {
            tracing::error!(id = %entry.id, "recording stop: {e}");
        }
        true
    }

    /// Marks a container stopped by a user (before it is signalled, so its exit is not
    /// restarted).
    pub(crate) fn mark_manually_stopped(&self, entry: &Entry) {
        let snapshot = {
            let mut r = lock(&entry.record);
            if r.manually_stopped {
                return;
            }
            r.manually_stopped = true;
            r.clone()
        };
        if let Err(e) = self.persist(&snapshot) {
            tracing::error!(id = %entry.id, "recording stop: {e}");
        }
    }

    /// A user kill stops the container for good when the signal ends it: SIGKILL or the
    /// container's stop signal.
    pub(crate) fn kill_marks_stopped(&self, entry: &Entry, signal: i32) {
        let stop_signal = lock(&entry.record).config.stop_signal.clone();
        let stop = stop_signal
            .as_deref()
            .and_then(|s| crate::signal::parse(s).ok())
            .unwrap_or(libc::SIGTERM);
        if signal == libc::SIGKILL || signal == stop {
            self.mark_manually_stopped(entry);
        }
    }

    /// On daemon start, after reconciling: start again the containers whose policy wants
    /// them running (`always`; `unless-stopped` unless a user stopped it), and those whose
    /// restart was pending when the daemon went away.
    pub(crate) fn restart_on_boot(self: &Arc<Self>, was_restarting: &[String]) {
        let entries: Vec<Arc<Entry>> = lock(&self.containers).by_id.values().cloned().collect();
        for entry in entries {
            let snapshot = {
                let mut r = lock(&entry.record);
                if r.state.status != Status::Exited || r.state.started_at.is_empty() {
                    continue;
                }
                let pending = was_restarting.contains(&entry.id);
                if r.state.restarting && !pending {
                    continue; // restarted by an exit recorded just now
                }
                let wanted = match r.host_config.restart_policy.name.as_str() {
                    "always" => true,
                    "unless-stopped" => !r.manually_stopped,
                    _ => pending,
                };
                if !wanted {
                    continue;
                }
                r.state.restarting = true;
                r.clone()
            };
            if let Err(e) = self.persist(&snapshot) {
                tracing::error!(id = %entry.id, "recording restart: {e}");
            }
            self.spawn_restart(entry, Duration::ZERO);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_a_minute_and_resets() {
        assert_eq!(next_delay(0, false), 100);
        assert_eq!(next_delay(100, false), 200);
        assert_eq!(next_delay(200, false), 400);
        assert_eq!(next_delay(40_000, false), 60_000);
        assert_eq!(next_delay(60_000, false), 60_000);
        assert_eq!(next_delay(6_400, true), 100);
    }
}
