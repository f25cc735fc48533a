//! Timestamps as Docker's Go daemon writes them.
//!
//! The API carries times as Go's `time.RFC3339Nano` (fraction with trailing zeros trimmed,
//! no fraction when zero) and uses Go's zero time `0001-01-01T00:00:00Z` for "never".

use chrono::{DateTime, Timelike, Utc};

/// Go's zero `time.Time`, used for `StartedAt`/`FinishedAt` that did not happen yet.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Formats like Go's `t.UTC().Format(time.RFC3339Nano)`.
pub fn rfc3339_nano(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos == 0 {
        return format!("{base}Z");
    }
    let frac = format!("{nanos:09}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
}

/// Parses an RFC 3339 timestamp; Go's zero time and empty strings give `None`.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() || s.starts_with("0001-01-01") {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn nano_format_trims_like_go() {
        let t = Utc
            .with_ymd_and_hms(2024, 5, 6, 7, 8, 9)
            .single()
            .expect("valid time");
        assert_eq!(rfc3339_nano(t), "2024-05-06T07:08:09Z");
        let t2 = t + chrono::Duration::nanoseconds(485_331_000);
        assert_eq!(rfc3339_nano(t2), "2024-05-06T07:08:09.485331Z");
        assert_eq!(parse(&rfc3339_nano(t2)), Some(t2));
        assert_eq!(parse(ZERO_TIME), None);
        assert_eq!(parse(""), None);
    }
}
