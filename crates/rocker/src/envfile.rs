//! `--env-file` and `-e` handling with Docker's rules.
//!
//! An env file has one `KEY=VALUE` per line; blank lines and lines starting with `#` are
//! skipped, leading whitespace is ignored, a bare `KEY` takes the value from the host
//! environment (and is dropped when the host does not have it). `-e KEY` behaves the same
//! except that an unset `KEY` is passed through as is.

use std::path::Path;

/// Parses env-file contents; `lookup` reads the host environment.
pub fn parse_env_file_contents(
    contents: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, raw) in contents.lines().enumerate() {
        let raw = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line.trim_end(), None),
        };
        if key.is_empty() {
            return Err(format!("no variable name on line '{line}'"));
        }
        if key.contains(char::is_whitespace) {
            return Err(format!("variable '{key}' contains whitespaces"));
        }
        match value {
            Some(v) => out.push(format!("{key}={v}")),
            None => {
                if let Some(v) = lookup(key) {
                    out.push(format!("{key}={v}"));
                }
            }
        }
    }
    Ok(out)
}

/// Reads and parses an env file.
pub fn read_env_file(path: &Path) -> Result<Vec<String>, String> {
    let contents =
        std::fs::read_to_string(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    parse_env_file_contents(&contents, |k| std::env::var(k).ok())
}

/// `-e KEY[=VALUE]`: a bare key takes the host's value when it has one.
pub fn expand_env_flag(value: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    if value.contains('=') {
        return value.to_string();
    }
    match lookup(value) {
        Some(v) => format!("{value}={v}"),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(k: &str) -> Option<String> {
        (k == "HOME_X").then(|| "/root".to_string())
    }

    #[test]
    fn env_file_rules() {
        let text = "\u{feff}# comment\nA=1\n\n  B=indented\nHOME_X\nMISSING\nC=\nD=x=y\n   # indented comment\n";
        let env = parse_env_file_contents(text, host).expect("parse");
        assert_eq!(
            env,
            ["A=1", "B=indented", "HOME_X=/root", "C=", "D=x=y"].map(String::from)
        );
        // A key with whitespace is rejected, as Docker does.
        assert!(parse_env_file_contents("B =x\n", host).is_err_and(|e| e.contains("whitespaces")));
        assert!(parse_env_file_contents("=x\n", host).is_err());
    }

    #[test]
    fn env_flag() {
        assert_eq!(expand_env_flag("A=1", host), "A=1");
        assert_eq!(expand_env_flag("HOME_X", host), "HOME_X=/root");
        assert_eq!(expand_env_flag("NOPE", host), "NOPE");
    }
}
