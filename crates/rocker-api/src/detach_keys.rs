//! Docker's detach keys (`ctrl-p,ctrl-q` by default): the syntax of `--detach-keys` and the
//! `detachKeys` query parameter, and a streaming matcher that swallows the sequence from an
//! attach stream's input. Shared by `rockerd` (which detaches API clients) and the CLI
//! (which must know it detached rather than saw the container exit).

/// Docker's default sequence.
pub const DEFAULT: &str = "ctrl-p,ctrl-q";

/// Docker's message when a client detached (`term.EscapeError`).
pub const DETACHED_MESSAGE: &str = "read escape sequence";

/// A detach-key specification that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("Invalid detach keys ({spec}) provided")]
pub struct ParseError {
    pub spec: String,
}

/// Parses `ctrl-p,ctrl-q`, `a,ctrl-@`, … into the bytes to watch for.
pub fn parse(spec: &str) -> Result<Vec<u8>, ParseError> {
    let bad = || ParseError {
        spec: spec.to_string(),
    };
    let mut out = Vec::new();
    for key in spec.split(',') {
        let key = key.trim();
        if let Some(c) = key.strip_prefix("ctrl-") {
            let b = match c.as_bytes() {
                [b @ b'a'..=b'z'] => b - b'a' + 1,
                [b'@'] => 0,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => return Err(bad()),
            };
            out.push(b);
        } else if key.len() == 1 {
            out.push(key.as_bytes()[0]);
        } else {
            return Err(bad());
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Feeds input through the matcher: bytes that may start the sequence are held back until
/// they either complete it (detach) or stop matching (then they are passed on).
#[derive(Debug, Clone)]
pub struct Scanner {
    keys: Vec<u8>,
    matched: usize,
}

impl Scanner {
    pub fn new(keys: Vec<u8>) -> Self {
        Self { keys, matched: 0 }
    }

    /// Appends to `out` what to forward from `input`; true once the sequence is complete
    /// (nothing after it is forwarded).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        for &b in input {
            if self.keys.is_empty() {
                out.push(b);
                continue;
            }
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return true;
                }
                continue;
            }
            // Mismatch: release what was held, then retry this byte from the start.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return true;
                }
            } else {
                out.push(b);
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_syntax() {
        assert_eq!(parse(DEFAULT).unwrap(), vec![16, 17]);
        assert_eq!(parse("a,ctrl-@,ctrl-]").unwrap(), vec![b'a', 0, 29]);
        assert!(parse("ctrl-").is_err());
        assert!(parse("abc").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn scanner_holds_prefix_and_detaches() {
        let mut s = Scanner::new(vec![16, 17]);
        let mut out = Vec::new();
        assert!(!s.feed(b"ab\x10", &mut out));
        assert_eq!(out, b"ab");
        assert!(!s.feed(b"c", &mut out));
        assert_eq!(out, b"ab\x10c");
        out.clear();
        assert!(!s.feed(b"\x10\x10", &mut out));
        assert!(s.feed(b"\x11zz", &mut out));
        assert_eq!(out, b"\x10");
    }
}
