//! `--health-*` and `--no-healthcheck` flags of `run` and `create`, turned into the
//! container's `Healthcheck` config (durations parsed as Go durations, as Docker does).

use clap::Args;
use rocker_api::models::HealthConfig;

/// Docker's health check flags.
#[derive(Debug, Args, Default, Clone)]
pub struct HealthFlags {
    /// Command to run to check health
    #[arg(long = "health-cmd")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long = "health-interval", value_parser = parse_duration)]
    pub health_interval: Option<i64>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long = "health-timeout", value_parser = parse_duration)]
    pub health_timeout: Option<i64>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries")]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown
    #[arg(long = "health-start-period", value_parser = parse_duration)]
    pub health_start_period: Option<i64>,
    /// Time between running the check during the start period (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-interval", value_parser = parse_duration)]
    pub health_start_interval: Option<i64>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
}

/// A Go duration (`1h2m3.5s`, `300ms`, `0`) in nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("time: invalid duration \"{s}\"");
    if s == "0" {
        return Ok(0);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Ok(total as i64)
}

impl HealthFlags {
    /// The `Healthcheck` config, None when no flag was given (the image's applies).
    pub fn to_config(&self) -> Result<Option<HealthConfig>, String> {
        let any = self.health_cmd.is_some()
            || self.health_interval.is_some()
            || self.health_timeout.is_some()
            || self.health_retries.is_some()
            || self.health_start_period.is_some()
            || self.health_start_interval.is_some();
        if self.no_healthcheck {
            if any {
                return Err("--no-healthcheck conflicts with --health-* options".into());
            }
            return Ok(Some(HealthConfig {
                test: Some(vec!["NONE".into()]),
                ..Default::default()
            }));
        }
        if !any {
            return Ok(None);
        }
        let neg = |v: Option<i64>, name: &str| match v {
            Some(v) if v < 0 => Err(format!("--{name} cannot be negative")),
            v => Ok(v.unwrap_or(0)),
        };
        Ok(Some(HealthConfig {
            test: self
                .health_cmd
                .as_ref()
                .filter(|c| !c.is_empty())
                .map(|c| vec!["CMD-SHELL".into(), c.clone()]),
            interval: neg(self.health_interval, "health-interval")?,
            timeout: neg(self.health_timeout, "health-timeout")?,
            start_period: neg(self.health_start_period, "health-start-period")?,
            start_interval: neg(self.health_start_interval, "health-start-interval")?,
            retries: neg(self.health_retries, "health-retries")?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1s"), Ok(1_000_000_000));
        assert_eq!(parse_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("x").is_err());
    }

    #[test]
    fn flags_to_config() {
        assert_eq!(HealthFlags::default().to_config(), Ok(None));
        let f = HealthFlags {
            no_healthcheck: true,
            ..Default::default()
        };
        assert_eq!(
            f.to_config().unwrap().unwrap().test,
            Some(vec!["NONE".to_string()])
        );
        let f = HealthFlags {
            health_cmd: Some("true".into()),
            health_interval: Some(1_000_000_000),
            health_retries: Some(2),
            ..Default::default()
        };
        let c = f.to_config().unwrap().unwrap();
        assert_eq!(c.test, Some(vec!["CMD-SHELL".into(), "true".into()]));
        assert_eq!((c.interval, c.retries), (1_000_000_000, 2));
    }
}
