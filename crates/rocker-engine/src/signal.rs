//! Signal names as Docker accepts them: `KILL`, `SIGKILL`, `sigkill` or `9`.

use std::str::FromStr;

use nix::sys::signal::Signal;

use crate::error::{Error, Result};

/// Parses a signal name or number.
pub fn parse(s: &str) -> Result<i32> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        return Err(Error::invalid(format!("Invalid signal: {s}")));
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if let Some(rt) = name.strip_prefix("SIGRTMIN") {
        let base = libc::SIGRTMIN();
        let off: i32 = match rt {
            "" => 0,
            r => r
                .trim_start_matches('+')
                .parse()
                .map_err(|_| Error::invalid(format!("Invalid signal: {s}")))?,
        };
        return Ok(base + off);
    }
    Signal::from_str(&name)
        .map(|sig| sig as i32)
        .map_err(|_| Error::invalid(format!("Invalid signal: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("KILL").unwrap(), 9);
        assert_eq!(parse("sigterm").unwrap(), 15);
        assert_eq!(parse("SIGHUP").unwrap(), 1);
        assert_eq!(parse("9").unwrap(), 9);
        assert!(parse("0").is_err());
        assert!(parse("NOPE").is_err());
    }
}
