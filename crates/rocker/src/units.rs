//! Docker's size and CPU flag syntax: `-m 32m`, `--memory-swap 1g`, `--cpus 1.5`.
//!
//! Sizes follow go-units `RAMInBytes`: a decimal number, an optional space, an optional unit
//! letter `b k m g t p` (any case, binary multiples), an optional `i` and an optional `b`.

/// Parses a memory size (`512k`, `32m`, `1.5g`, `1024`, `2GiB`) into bytes.
pub fn parse_mem_bytes(s: &str) -> Result<i64, String> {
    let invalid = || format!("invalid size: '{s}'");
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, rest) = s.split_at(num_end);
    if num.is_empty() || !num.starts_with(|c: char| c.is_ascii_digit()) || num.ends_with('.') {
        return Err(invalid());
    }
    let value: f64 = num.parse().map_err(|_| invalid())?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let mut chars = rest.chars().peekable();
    let mult: f64 = match chars.peek() {
        Some('k') => 1024f64,
        Some('m') => 1024f64.powi(2),
        Some('g') => 1024f64.powi(3),
        Some('t') => 1024f64.powi(4),
        Some('p') => 1024f64.powi(5),
        _ => 1.0,
    };
    if mult > 1.0 {
        chars.next();
        if chars.peek() == Some(&'i') {
            chars.next();
        }
    }
    if chars.peek() == Some(&'b') {
        chars.next();
    }
    if chars.next().is_some() {
        return Err(invalid());
    }
    let bytes = value * mult;
    if !bytes.is_finite() || bytes > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes as i64)
}

/// `--memory-swap`: a size, or `-1` for unlimited swap.
pub fn parse_mem_swap(s: &str) -> Result<i64, String> {
    if s == "-1" {
        return Ok(-1);
    }
    parse_mem_bytes(s)
}

/// `--cpus 1.5` -> NanoCpus 1_500_000_000.
pub fn parse_nano_cpus(s: &str) -> Result<i64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("failed to parse {s} as a rational number"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("invalid value for cpus: {s}"));
    }
    let nano = (v * 1e9).round();
    if nano > i64::MAX as f64 {
        return Err(format!("value is too large: {s}"));
    }
    Ok(nano as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_mem_bytes("1024"), Ok(1024));
        assert_eq!(parse_mem_bytes("512k"), Ok(512 * 1024));
        assert_eq!(parse_mem_bytes("32m"), Ok(32 << 20));
        assert_eq!(parse_mem_bytes("32M"), Ok(32 << 20));
        assert_eq!(parse_mem_bytes("1g"), Ok(1 << 30));
        assert_eq!(parse_mem_bytes("1.5g"), Ok(3 << 29));
        assert_eq!(parse_mem_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_mem_bytes("10 mb"), Ok(10 << 20));
        assert_eq!(parse_mem_bytes("100b"), Ok(100));
        for bad in ["", "m", "32x", "1.g", "-1", "32mm", ".5m"] {
            assert!(parse_mem_bytes(bad).is_err(), "{bad} should fail");
        }
        assert_eq!(parse_mem_swap("-1"), Ok(-1));
        assert_eq!(parse_mem_swap("64m"), Ok(64 << 20));
    }

    #[test]
    fn cpus() {
        assert_eq!(parse_nano_cpus("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_nano_cpus("0.25"), Ok(250_000_000));
        assert_eq!(parse_nano_cpus("2"), Ok(2_000_000_000));
        assert!(parse_nano_cpus("-1").is_err());
        assert!(parse_nano_cpus("abc").is_err());
    }
}
