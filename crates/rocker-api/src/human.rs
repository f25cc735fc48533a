//! Human-readable durations, sizes and container status lines, as Docker renders them.
//!
//! Ports of the go-units helpers the Docker daemon and CLI use (`HumanDuration`,
//! `HumanSizeWithPrecision`) and of the daemon's `State.String()`, so `ps`, `images` and
//! the `Status` field of the container list read exactly like Docker's.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::gotime;
use crate::models::ContainerState;

/// Docker's `units.HumanDuration`: "Less than a second", "3 seconds", "About a minute",
/// "5 minutes", "About an hour", "3 hours", "2 days", "3 weeks", "4 months", "2 years".
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let minutes = secs / 60;
    // Go rounds hours half up: int(d.Hours() + 0.5).
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    if secs < 1 {
        "Less than a second".to_string()
    } else if secs == 1 {
        "1 second".to_string()
    } else if secs < 60 {
        format!("{secs} seconds")
    } else if minutes == 1 {
        "About a minute".to_string()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".to_string()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", secs / 3600 / 24 / 365)
    }
}

/// Time from `then` to `now` rendered with [`human_duration`]; a future `then` counts as 0.
pub fn human_since(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = (now - then).to_std().unwrap_or(Duration::ZERO);
    human_duration(d)
}

/// Docker's `units.HumanSizeWithPrecision` (decimal SI: 1 kB = 1000 B), e.g. `4.26MB`.
pub fn human_size(bytes: f64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_format_g(size, precision), UNITS[i])
}

/// Docker's `units.BytesSize` family (binary: 1 KiB = 1024 B), e.g. `7.5GiB` at precision 4.
pub fn human_size_binary(bytes: f64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = bytes;
    let mut i = 0;
    while size >= 1024.0 && i < UNITS.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_format_g(size, precision), UNITS[i])
}

/// Go's `fmt.Sprintf("%.*g", precision, v)` for finite non-negative values.
fn go_format_g(v: f64, precision: usize) -> String {
    let p = precision.max(1);
    if v == 0.0 {
        return "0".to_string();
    }
    // Round to p significant digits first to learn the decimal exponent after rounding.
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (p as i32 - 1 - exp).max(0) as usize;
    trim_fraction(&format!("{v:.decimals$}")).to_string()
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The container list's `Status` column, like the daemon's `State.String()`:
/// `Up 3 seconds`, `Up 2 minutes (Paused)`, `Up 5 seconds (healthy)`,
/// `Restarting (1) 2 seconds ago`, `Exited (0) 5 minutes ago`, `Created`, `Dead`,
/// `Removal In Progress`.
pub fn container_status(state: &ContainerState, now: DateTime<Utc>) -> String {
    let started = gotime::parse(&state.started_at);
    let finished = gotime::parse(&state.finished_at);
    if state.running || state.status == "running" || state.status == "paused" {
        let up = started.map(|t| human_since(t, now)).unwrap_or_default();
        if state.paused || state.status == "paused" {
            return format!("Up {up} (Paused)");
        }
        if state.restarting || state.status == "restarting" {
            let ago = finished.map(|t| human_since(t, now)).unwrap_or_default();
            return format!("Restarting ({}) {ago} ago", state.exit_code);
        }
        return match state.health.as_ref().map(|h| h.status.as_str()) {
            Some("starting") => format!("Up {up} (health: starting)"),
            Some(h) if h != "none" && !h.is_empty() => format!("Up {up} ({h})"),
            _ => format!("Up {up}"),
        };
    }
    if state.restarting || state.status == "restarting" {
        let ago = finished.map(|t| human_since(t, now)).unwrap_or_default();
        return format!("Restarting ({}) {ago} ago", state.exit_code);
    }
    match state.status.as_str() {
        "removing" => return "Removal In Progress".to_string(),
        "dead" => return "Dead".to_string(),
        _ => {}
    }
    if started.is_none() {
        return "Created".to_string();
    }
    match finished {
        Some(t) => format!("Exited ({}) {} ago", state.exit_code, human_since(t, now)),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Health;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn durations_match_go_units() {
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(secs(1)), "1 second");
        assert_eq!(human_duration(secs(3)), "3 seconds");
        assert_eq!(human_duration(secs(59)), "59 seconds");
        assert_eq!(human_duration(secs(60)), "About a minute");
        assert_eq!(human_duration(secs(119)), "About a minute");
        assert_eq!(human_duration(secs(120)), "2 minutes");
        assert_eq!(human_duration(secs(59 * 60)), "59 minutes");
        assert_eq!(human_duration(secs(3600)), "About an hour");
        assert_eq!(human_duration(secs(5400)), "2 hours");
        assert_eq!(human_duration(secs(47 * 3600)), "47 hours");
        assert_eq!(human_duration(secs(48 * 3600)), "2 days");
        assert_eq!(human_duration(secs(14 * 24 * 3600)), "2 weeks");
        assert_eq!(human_duration(secs(60 * 24 * 3600)), "2 months");
        assert_eq!(human_duration(secs(2 * 365 * 24 * 3600)), "2 years");
    }

    #[test]
    fn sizes_match_go_units() {
        assert_eq!(human_size(0.0, 3), "0B");
        assert_eq!(human_size(999.0, 3), "999B");
        assert_eq!(human_size(1000.0, 3), "1kB");
        assert_eq!(human_size(4_264_000.0, 3), "4.26MB");
        assert_eq!(human_size(1_234_567_890.0, 3), "1.23GB");
        assert_eq!(human_size(12_500_000.0, 3), "12.5MB");
        assert_eq!(human_size(123_456_000.0, 3), "123MB");
        assert_eq!(human_size(4_264_000.0, 4), "4.264MB");
        // Go's %g switches to exponent form when rounding reaches 10^precision.
        assert_eq!(human_size(999_600.0, 3), "1e+03kB");
        assert_eq!(human_size_binary(8_053_063_680.0, 4), "7.5GiB");
        assert_eq!(human_size_binary(1023.0 * 1024.0, 4), "1023KiB");
    }

    #[test]
    fn status_lines() {
        let now = gotime::parse("2024-01-01T00:10:00Z").expect("time");
        let mut s = ContainerState {
            status: "running".into(),
            running: true,
            started_at: "2024-01-01T00:09:57Z".into(),
            finished_at: gotime::ZERO_TIME.into(),
            ..Default::default()
        };
        assert_eq!(container_status(&s, now), "Up 3 seconds");
        s.health = Some(Health {
            status: "healthy".into(),
            ..Default::default()
        });
        assert_eq!(container_status(&s, now), "Up 3 seconds (healthy)");
        s.health = None;
        s.paused = true;
        s.status = "paused".into();
        assert_eq!(container_status(&s, now), "Up 3 seconds (Paused)");
        let exited = ContainerState {
            status: "exited".into(),
            exit_code: 2,
            started_at: "2024-01-01T00:00:00Z".into(),
            finished_at: "2024-01-01T00:05:00Z".into(),
            ..Default::default()
        };
        assert_eq!(container_status(&exited, now), "Exited (2) 5 minutes ago");
        let created = ContainerState {
            status: "created".into(),
            started_at: gotime::ZERO_TIME.into(),
            ..Default::default()
        };
        assert_eq!(container_status(&created, now), "Created");
    }
}
