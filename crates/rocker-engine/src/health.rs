//! Health checks (Docker's `HEALTHCHECK` / `--health-*`): while a container with a health
//! check runs, one tokio task per container runs the test as an exec in it every interval
//! (the start interval during the start period), kills a probe that outlives its timeout,
//! and keeps `State.Health` (status, failing streak, the last five results) in the record.
//! A status change emits Docker's `health_status: <status>` event. The task ends when the
//! container exits; a start or a daemon restart (for running containers) starts a new one.

use std::sync::Arc;
use std::time::Duration;

use rocker_api::models::{ExecConfig, ExecStartConfig, Health, HealthConfig, HealthcheckResult};
use rocker_api::stdcopy::FrameDecoder;
use rocker_shim_proto::Request;
use tokio::io::AsyncReadExt;

use crate::container::now_rfc3339;
use crate::exec::ExecStarted;
use crate::{lock, shim, Engine, Entry, Status};

/// Docker's defaults.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: i64 = 3;
/// Results kept in `State.Health.Log`, and the bytes of output kept per result.
const MAX_LOG_ENTRIES: usize = 5;
const MAX_OUTPUT: usize = 4096;

pub const STARTING: &str = "starting";
pub const HEALTHY: &str = "healthy";
pub const UNHEALTHY: &str = "unhealthy";

/// A container's health check with Docker's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The command run in the container.
    pub cmd: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: i64,
}

fn nanos(v: i64, default: Duration) -> Duration {
    if v > 0 {
        Duration::from_nanos(v as u64)
    } else {
        default
    }
}

impl Probe {
    /// The probe of a health config; None when there is none, it is `NONE` or empty.
    pub fn from_config(hc: Option<&HealthConfig>) -> Option<Probe> {
        let hc = hc?;
        let test = hc.test.as_deref()?;
        let cmd = match test.first().map(String::as_str) {
            Some("CMD") => test[1..].to_vec(),
            Some("CMD-SHELL") => {
                vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")]
            }
            _ => return None,
        };
        if cmd.is_empty() {
            return None;
        }
        Some(Probe {
            cmd,
            interval: nanos(hc.interval, DEFAULT_INTERVAL),
            timeout: nanos(hc.timeout, DEFAULT_TIMEOUT),
            start_period: nanos(hc.start_period, Duration::ZERO),
            start_interval: nanos(hc.start_interval, DEFAULT_START_INTERVAL),
            retries: if hc.retries > 0 {
                hc.retries
            } else {
                DEFAULT_RETRIES
            },
        })
    }
}

/// Keeps at most [`MAX_OUTPUT`] bytes, cut at a character boundary.
fn truncate_output(mut s: String) -> String {
    if s.len() > MAX_OUTPUT {
        let mut cut = MAX_OUTPUT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Folds one probe result into the health state (Docker's rules): a success resets the
/// streak and makes it healthy; a failure during the start period while still starting
/// does not count; `retries` consecutive failures make it unhealthy.
pub fn apply_result(h: &mut Health, result: HealthcheckResult, probe: &Probe, in_start: bool) {
    if result.exit_code == 0 {
        h.failing_streak = 0;
        h.status = HEALTHY.into();
    } else if !(h.status == STARTING && in_start) {
        h.failing_streak += 1;
        if h.failing_streak >= probe.retries {
            h.status = UNHEALTHY.into();
        }
    }
    h.log.push(result);
    if h.log.len() > MAX_LOG_ENTRIES {
        let extra = h.log.len() - MAX_LOG_ENTRIES;
        h.log.drain(..extra);
    }
}

/// Time since the container started (zero when unknown).
fn since_start(started_at: &str) -> Duration {
    chrono::DateTime::parse_from_rfc3339(started_at)
        .ok()
        .and_then(|t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                .to_std()
                .ok()
        })
        .unwrap_or_default()
}

impl Engine {
    /// Starts the health monitor of a container that just started (`fresh`: its health
    /// starts over as `starting`) or that was found running after a daemon restart.
    pub(crate) fn start_health(self: &Arc<Self>, entry: &Arc<Entry>, fresh: bool) {
        let (probe, snapshot) = {
            let mut r = lock(&entry.record);
            let Some(probe) = Probe::from_config(r.config.healthcheck.as_ref()) else {
                return;
            };
            if fresh || r.state.health.is_none() {
                r.state.health = Some(Health {
                    status: STARTING.into(),
                    failing_streak: 0,
                    log: Vec::new(),
                });
            }
            (probe, r.clone())
        };
        if let Err(e) = self.persist(&snapshot) {
            tracing::error!(id = %entry.id, "recording health: {e}");
        }
        let mut rx = entry.progress.subscribe();
        let exits = rx.borrow().exits;
        let (engine, entry) = (self.clone(), entry.clone());
        tokio::spawn(async move {
            loop {
                let (started_at, starting) = {
                    let r = lock(&entry.record);
                    let starting = r
                        .state
                        .health
                        .as_ref()
                        .is_some_and(|h| h.status == STARTING);
                    (r.state.started_at.clone(), starting)
                };
                let in_start = since_start(&started_at) < probe.start_period;
                let wait = if starting && in_start {
                    probe.start_interval
                } else {
                    probe.interval
                };
                let ended = |p: &crate::Progress| p.exits != exits || p.removed;
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = rx.wait_for(ended) => break,
                }
                if entry.status() != Status::Running {
                    if entry.status().is_alive() {
                        continue; // paused: no probes
                    }
                    break;
                }
                let run = engine.run_probe(&entry, &probe);
                let result = tokio::select! {
                    r = run => r,
                    _ = rx.wait_for(ended) => break,
                };
                let Some(result) = result else { continue };
                engine.record_probe(&entry, &probe, result, exits);
            }
            engine.health_stopped(&entry);
        });
    }

    /// The monitor of an exited container ended: Docker then reports it `unhealthy` (for
    /// compatibility, without an event). A container started again meanwhile is left alone.
    fn health_stopped(&self, entry: &Entry) {
        let snapshot = {
            let mut r = lock(&entry.record);
            if r.state.status.is_alive() {
                return;
            }
            match r.state.health.as_mut() {
                Some(h) if h.status != UNHEALTHY => h.status = UNHEALTHY.into(),
                _ => return,
            }
            r.clone()
        };
        if let Err(e) = self.persist(&snapshot) {
            tracing::error!(id = %entry.id, "recording health: {e}");
        }
    }

    /// Stores one result and emits `health_status` on a change (unless the container
    /// exited meanwhile).
    fn record_probe(
        &self,
        entry: &Arc<Entry>,
        probe: &Probe,
        result: HealthcheckResult,
        exits: u64,
    ) {
        let (snapshot, changed) = {
            let mut r = lock(&entry.record);
            if r.state.status != Status::Running || entry.progress.borrow().exits != exits {
                return;
            }
            let in_start = since_start(&r.state.started_at) < probe.start_period;
            let Some(h) = r.state.health.as_mut() else {
                return;
            };
            let before = h.status.clone();
            apply_result(h, result, probe, in_start);
            let changed = (h.status != before).then(|| h.status.clone());
            (r.clone(), changed)
        };
        if let Err(e) = self.persist(&snapshot) {
            tracing::error!(id = %entry.id, "recording health: {e}");
        }
        if let Some(status) = changed {
            self.emit(&snapshot, &format!("health_status: {status}"), &[]);
        }
    }

    /// Runs the probe once as an exec; None when it could not be run at all (the container
    /// went away meanwhile).
    async fn run_probe(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        probe: &Probe,
    ) -> Option<HealthcheckResult> {
        let start = now_rfc3339();
        let cfg = ExecConfig {
            cmd: Some(probe.cmd.clone()),
            attach_stdout: true,
            attach_stderr: true,
            ..Default::default()
        };
        let exec_id = match self.exec_create(&entry.id, cfg) {
            Ok(id) => id,
            Err(e) => {
                tracing::debug!(id = %entry.id, "health probe: {}", e.message);
                return None;
            }
        };
        let started = self.exec_start(&exec_id, &ExecStartConfig::default()).await;
        let result = |exit_code: i64, output: String| HealthcheckResult {
            start: start.clone(),
            end: now_rfc3339(),
            exit_code,
            output: truncate_output(output),
        };
        let mut stream = match started {
            Ok(ExecStarted::Attached { stream, .. }) => stream,
            Ok(ExecStarted::Failed { message, .. }) => {
                let code = self
                    .exec_inspect(&exec_id)
                    .ok()
                    .and_then(|i| i.exit_code)
                    .unwrap_or(126);
                self.exec_forget(&exec_id);
                return Some(result(i64::from(code), message));
            }
            Ok(ExecStarted::Detached) => return None,
            Err(e) => {
                tracing::debug!(id = %entry.id, "health probe: {}", e.message);
                return None;
            }
        };
        let read = async {
            let mut dec = FrameDecoder::new();
            let mut out: Vec<u8> = Vec::new();
            let mut buf = vec![0u8; 8192];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => dec.extend(&buf[..n]),
                }
                while let Ok(Some(frame)) = dec.next_frame() {
                    if out.len() < MAX_OUTPUT * 2 {
                        out.extend_from_slice(&frame.payload);
                    }
                }
            }
            out
        };
        match tokio::time::timeout(probe.timeout, read).await {
            Ok(out) => {
                self.exec_finished(&exec_id).await;
                let code = self
                    .exec_inspect(&exec_id)
                    .ok()
                    .and_then(|i| i.exit_code)
                    .unwrap_or(-1);
                self.exec_forget(&exec_id);
                Some(result(
                    i64::from(code),
                    String::from_utf8_lossy(&out).into_owned(),
                ))
            }
            Err(_) => {
                let req = Request::ExecKill {
                    exec_id: exec_id.clone(),
                    signal: libc::SIGKILL,
                };
                let _ = shim::call(&self.shim_dir(&entry.id), &req).await;
                let (engine, id) = (self.clone(), exec_id.clone());
                tokio::spawn(async move {
                    engine.exec_finished(&id).await;
                    engine.exec_forget(&id);
                });
                Some(result(
                    -1,
                    format!(
                        "Health check exceeded timeout ({})",
                        go_duration(probe.timeout)
                    ),
                ))
            }
        }
    }
}

/// A duration as Go prints it for whole and fractional seconds (`1s`, `1.5s`, `500ms`).
fn go_duration(d: Duration) -> String {
    if d.as_secs() > 0 || d.is_zero() {
        let s = format!("{}", d.as_secs_f64());
        format!("{s}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(test: &[&str]) -> HealthConfig {
        HealthConfig {
            test: Some(test.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn probe_from_config() {
        assert_eq!(Probe::from_config(None), None);
        assert_eq!(Probe::from_config(Some(&cfg(&["NONE"]))), None);
        assert_eq!(Probe::from_config(Some(&cfg(&[]))), None);
        assert_eq!(Probe::from_config(Some(&cfg(&["CMD"]))), None);
        let p = Probe::from_config(Some(&cfg(&["CMD-SHELL", "test -f /x"]))).unwrap();
        assert_eq!(p.cmd, vec!["/bin/sh", "-c", "test -f /x"]);
        assert_eq!(p.interval, DEFAULT_INTERVAL);
        assert_eq!(p.retries, 3);
        let mut c = cfg(&["CMD", "true", "x"]);
        c.interval = 1_000_000_000;
        c.retries = 2;
        let p = Probe::from_config(Some(&c)).unwrap();
        assert_eq!(p.cmd, vec!["true", "x"]);
        assert_eq!(p.interval, Duration::from_secs(1));
        assert_eq!(p.retries, 2);
    }

    fn res(code: i64) -> HealthcheckResult {
        HealthcheckResult {
            exit_code: code,
            output: "x".repeat(10),
            ..Default::default()
        }
    }

    #[test]
    fn results_fold_into_the_status() {
        let probe = Probe::from_config(Some(&cfg(&["CMD", "true"]))).unwrap();
        let mut h = Health {
            status: STARTING.into(),
            ..Default::default()
        };
        // Failures in the start period do not count while starting.
        apply_result(&mut h, res(1), &probe, true);
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 0));
        apply_result(&mut h, res(0), &probe, true);
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 0));
        apply_result(&mut h, res(1), &probe, false);
        apply_result(&mut h, res(1), &probe, false);
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 2));
        apply_result(&mut h, res(1), &probe, false);
        assert_eq!((h.status.as_str(), h.failing_streak), (UNHEALTHY, 3));
        apply_result(&mut h, res(1), &probe, false);
        apply_result(&mut h, res(1), &probe, false);
        assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
        apply_result(&mut h, res(0), &probe, false);
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 0));
    }

    #[test]
    fn output_is_truncated_at_a_char_boundary() {
        let s = "é".repeat(3000);
        let t = truncate_output(s);
        assert!(t.len() <= MAX_OUTPUT);
        assert!(t.len() >= MAX_OUTPUT - 1);
        assert_eq!(go_duration(Duration::from_secs(1)), "1s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    }
}
