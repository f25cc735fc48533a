//! Container names: validation of user-given names (Docker's rule) and generated
//! `adjective_noun` names for containers created without one.

use rand::seq::SliceRandom;

use crate::error::{Error, Result};

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring",
    "deft", "eager", "fervent", "fond", "gentle", "glad", "happy", "hardy", "humble", "keen",
    "kind", "lively", "lucid", "merry", "modest", "nimble", "noble", "patient", "plucky", "proud",
    "quick", "quiet", "rapid", "serene", "sharp", "silent", "steady", "stoic", "sturdy", "swift",
    "tender", "tidy", "vivid", "wise", "witty", "zealous",
];

const NOUNS: &[&str] = &[
    "babbage", "bardeen", "boole", "carson", "curie", "darwin", "dijkstra", "einstein", "euler",
    "faraday", "fermi", "feynman", "franklin", "galileo", "gauss", "goodall", "hamilton",
    "hawking", "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr", "lovelace", "maxwell",
    "meitner", "mendel", "newton", "noether", "pascal", "pasteur", "planck", "ritchie", "sagan",
    "shannon", "tesla", "thompson", "torvalds", "turing", "volta", "wilson", "wozniak", "yalow",
];

/// Checks a user-given name (an optional leading `/` is accepted, as Docker does) and returns
/// it without the slash.
pub fn validate(name: &str) -> Result<String> {
    let n = name.strip_prefix('/').unwrap_or(name);
    let mut chars = n.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {
            n.len() >= 2 && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        }
        _ => false,
    };
    if !ok {
        return Err(Error::invalid(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )));
    }
    Ok(n.to_string())
}

/// A random `adjective_noun`; `attempt` > 0 appends a number, as Docker does on collisions.
pub fn generate(attempt: u32) -> String {
    let mut rng = rand::thread_rng();
    let a = ADJECTIVES.choose(&mut rng).copied().unwrap_or("quick");
    let n = NOUNS.choose(&mut rng).copied().unwrap_or("turing");
    if attempt == 0 {
        format!("{a}_{n}")
    } else {
        format!("{a}_{n}{attempt}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        assert_eq!(validate("/web").unwrap(), "web");
        assert_eq!(validate("a_b.c-1").unwrap(), "a_b.c-1");
        for bad in ["", "a", "-x", "_x", "a/b", "a b", "é1"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_names_are_valid() {
        for i in 0..50 {
            let n = generate(i % 3);
            assert_eq!(validate(&n).unwrap(), n);
        }
    }
}
