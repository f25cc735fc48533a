//! Log driver options (`--log-driver`, `--log-opt`, daemon `[log]`): which drivers exist and
//! what json-file's `max-size` / `max-file` mean, checked at create, applied at start.

use std::collections::BTreeMap;

use rocker_api::models::LogConfig;

use crate::error::{Error, Result};

/// json-file options Docker defines; the ones that only decorate entries are accepted and
/// have no effect on storage.
const JSON_FILE_OPTS: &[&str] = &[
    "max-size",
    "max-file",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
    "tag",
    "compress",
];

/// Parses Docker's size syntax (`10m`, `512k`, `1g`, `100`, `1.5MiB`; binary multiples).
pub fn parse_size(s: &str) -> Result<u64> {
    let invalid = || Error::invalid(format!("invalid size: '{s}'"));
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().map_err(|_| invalid())?;
    if !n.is_finite() || n < 0.0 {
        return Err(invalid());
    }
    Ok((n * mult as f64) as u64)
}

/// The rotation a container's json-file log gets: its `--log-opt`s over the daemon's.
pub fn rotation(cfg: &LogConfig, default_size: u64, default_files: u32) -> Result<(u64, u32)> {
    let opts: BTreeMap<String, String> = cfg.config.clone().unwrap_or_default();
    let size = match opts.get("max-size") {
        Some(v) if v == "-1" => 0,
        Some(v) => parse_size(v)?,
        None => default_size,
    };
    let files = match opts.get("max-file") {
        Some(v) => {
            let n: i64 = v
                .parse()
                .map_err(|_| Error::invalid(format!("invalid value for max-file: {v}")))?;
            if n < 1 {
                return Err(Error::invalid("max-file cannot be less than 1"));
            }
            if n > 1 && size == 0 {
                return Err(Error::invalid(
                    "max-file cannot be greater than 1 when max-size is not set",
                ));
            }
            n as u32
        }
        None => default_files,
    };
    Ok((size, files))
}

/// Docker's checks of `HostConfig.LogConfig` at create.
pub fn validate(cfg: &LogConfig) -> Result<()> {
    match cfg.r#type.as_str() {
        "" | "json-file" => {
            for (k, v) in cfg.config.iter().flatten() {
                if !JSON_FILE_OPTS.contains(&k.as_str()) {
                    return Err(Error::invalid(format!(
                        "unknown log opt '{k}' for json-file log driver"
                    )));
                }
                if k == "compress" && v == "true" {
                    return Err(Error::invalid(
                        "log opt compress=true is not supported: Rocker keeps rotated json-file logs uncompressed",
                    ));
                }
            }
            rotation(cfg, 10 << 20, 3).map(|_| ())
        }
        "none" => match cfg.config.as_ref().filter(|c| !c.is_empty()) {
            Some(c) => Err(Error::invalid(format!(
                "unknown log opt '{}' for none log driver",
                c.keys().next().map(String::as_str).unwrap_or("")
            ))),
            None => Ok(()),
        },
        // Docker's `local` driver keeps a binary format that only dockerd reads; Rocker's
        // json-file with rotation (the default) gives the same bounded disk use.
        "local" => Err(Error::invalid(
            "logger: the local log driver is not supported; use json-file (rotated by default: max-size 10m, max-file 3) or none",
        )),
        other => Err(Error::invalid(format!(
            "logger: no log driver named '{other}' is registered (Rocker supports json-file and none)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(t: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig {
            r#type: t.into(),
            config: Some(
                opts.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10m").unwrap(), 10 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("x").is_err());
        assert!(parse_size("-1k").is_err());
    }

    #[test]
    fn rotation_and_validation() {
        let c = cfg("json-file", &[("max-size", "1m"), ("max-file", "2")]);
        assert_eq!(rotation(&c, 10 << 20, 3).unwrap(), (1 << 20, 2));
        assert_eq!(rotation(&cfg("json-file", &[]), 7, 4).unwrap(), (7, 4));
        assert!(validate(&cfg("json-file", &[("max-file", "0")])).is_err());
        assert!(validate(&cfg("json-file", &[("bogus", "1")])).is_err());
        assert!(validate(&cfg("json-file", &[("max-size", "-1"), ("max-file", "3")])).is_err());
        assert!(validate(&cfg("json-file", &[("tag", "x"), ("max-size", "5k")])).is_ok());
        assert!(validate(&cfg("local", &[])).is_err());
        assert!(validate(&cfg("syslog", &[])).is_err());
        assert!(validate(&cfg("none", &[("max-size", "1m")])).is_err());
        assert!(validate(&LogConfig::default()).is_ok());
    }
}
