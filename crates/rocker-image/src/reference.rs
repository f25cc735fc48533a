//! Docker image references: parsing, validation and normalisation, following the rules of
//! distribution/reference so that `busybox`, `docker.io/library/busybox:latest` and
//! `index.docker.io/library/busybox` all name the same repository, and so that names are shown
//! back to users in Docker's "familiar" form (`busybox:latest`, `foo/bar:1`).

use std::fmt;

/// The registry implied when a reference has no domain.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The namespace implied for single-component names on the default registry.
pub const OFFICIAL_NAMESPACE: &str = "library";
/// The tag implied when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";

const LEGACY_DOMAIN: &str = "index.docker.io";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// Why a reference string was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// Empty input.
    #[error("invalid reference format: empty reference")]
    Empty,
    /// Upper-case letters in the repository path.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    /// The name part does not follow the grammar.
    #[error("invalid reference format: {0:?}")]
    InvalidFormat(String),
    /// The tag does not follow `[\w][\w.-]{0,127}`.
    #[error("invalid reference format: invalid tag in {0:?}")]
    InvalidTag(String),
    /// The digest is not `algorithm:hex`.
    #[error("invalid reference format: invalid digest in {0:?}")]
    InvalidDigest(String),
    /// The repository name is longer than 255 characters.
    #[error(
        "invalid reference format: repository name must not be more than 255 characters in {0:?}"
    )]
    NameTooLong(String),
    /// A 64-hex string is an image id, never a repository name.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
}

/// A normalised reference: `domain/path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Parses and normalises a user reference; no default tag is added (see
    /// [`Reference::with_default_tag`]).
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match s.split_once('@') {
            Some((n, d)) => {
                if !valid_digest(d) {
                    return Err(ReferenceError::InvalidDigest(s.to_string()));
                }
                (n, Some(d.to_string()))
            }
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let i = last_slash + i;
                let tag = &rest[i + 1..];
                if !valid_tag(tag) {
                    return Err(ReferenceError::InvalidTag(s.to_string()));
                }
                (&rest[..i], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(ReferenceError::InvalidFormat(s.to_string()));
        }
        let (mut domain, mut path) = split_domain(name);
        if domain == LEGACY_DOMAIN {
            domain = DEFAULT_DOMAIN.to_string();
        }
        if domain == DEFAULT_DOMAIN && !path.contains('/') {
            path = format!("{OFFICIAL_NAMESPACE}/{path}");
        }
        if !valid_domain(&domain) {
            return Err(ReferenceError::InvalidFormat(s.to_string()));
        }
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(name.to_string()));
        }
        if !path.split('/').all(valid_path_component) {
            return Err(ReferenceError::InvalidFormat(s.to_string()));
        }
        if crate::digest::is_sha256_hex(name) {
            return Err(ReferenceError::HexName(name.to_string()));
        }
        if domain.len() + 1 + path.len() > MAX_NAME_LEN {
            return Err(ReferenceError::NameTooLong(s.to_string()));
        }
        Ok(Self {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// Adds the `latest` tag when the reference has neither tag nor digest.
    pub fn with_default_tag(mut self) -> Self {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// Replaces the tag (and drops any digest).
    pub fn with_tag(mut self, tag: &str) -> Result<Self, ReferenceError> {
        if !valid_tag(tag) {
            return Err(ReferenceError::InvalidTag(tag.to_string()));
        }
        self.tag = Some(tag.to_string());
        self.digest = None;
        Ok(self)
    }

    /// Registry host (with port), e.g. `docker.io`, `localhost:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Repository path inside the registry, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:...`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Fully qualified repository name: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// Repository name as users write it: `busybox`, `foo/bar`, `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix("library/") {
                Some(rest) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// The whole reference in familiar form: `busybox:latest`.
    pub fn familiar(&self) -> String {
        self.render(&self.familiar_name())
    }

    fn render(&self, name: &str) -> String {
        let mut s = name.to_string();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form: `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&self.name()))
    }
}

/// Familiar form of a stored fully qualified reference; returns the input unchanged if it does
/// not parse.
pub fn familiarize(full: &str) -> String {
    Reference::parse(full).map_or_else(|_| full.to_string(), |r| r.familiar())
}

/// Splits off the domain: the first component is a domain when it contains `.` or `:` or is
/// `localhost`; otherwise the domain is `docker.io`.
fn split_domain(name: &str) -> (String, String) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() {
        return false;
    }
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        let sep_start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[sep_start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok || i == b.len() {
            return false;
        }
    }
}

/// Host name (dot-separated labels), IPv4, or `[ipv6]`, with optional `:port`.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip6, tail)) => {
                if ip6.is_empty() || !ip6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
                    return false;
                }
                match tail.strip_prefix(':') {
                    Some(p) => ("x", Some(p)),
                    None if tail.is_empty() => ("x", None),
                    None => return false,
                }
            }
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}

/// `[\w][\w.-]{0,127}`
pub fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= MAX_TAG_LEN
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// `algorithm:hex` with a known length for sha256/sha512.
fn valid_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    let hex_ok = |n: usize| hex.len() == n && hex.bytes().all(|b| b.is_ascii_hexdigit());
    match algo {
        "sha256" => hex_ok(64),
        "sha512" => hex_ok(128),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        Reference::parse(s).unwrap().with_default_tag().to_string()
    }

    #[test]
    fn normalises_official_images() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(
            full("docker.io/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            full("index.docker.io/library/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            full("docker.io/library/busybox:latest"),
            "docker.io/library/busybox:latest"
        );
    }

    #[test]
    fn domains_and_namespaces() {
        assert_eq!(full("foo/bar"), "docker.io/foo/bar:latest");
        assert_eq!(full("localhost/x"), "localhost/x:latest");
        assert_eq!(full("localhost:5000/x/y:t"), "localhost:5000/x/y:t");
        assert_eq!(full("quay.io/a/b/c"), "quay.io/a/b/c:latest");
        assert_eq!(full("127.0.0.1:5000/x"), "127.0.0.1:5000/x:latest");
        assert_eq!(full("[::1]:5000/x"), "[::1]:5000/x:latest");
        let r = Reference::parse("localhost:5000/x/y:t").unwrap();
        assert_eq!(r.domain(), "localhost:5000");
        assert_eq!(r.path(), "x/y");
        assert_eq!(r.tag(), Some("t"));
    }

    #[test]
    fn familiar_form() {
        let f = |s: &str| Reference::parse(s).unwrap().with_default_tag().familiar();
        assert_eq!(f("docker.io/library/busybox"), "busybox:latest");
        assert_eq!(f("docker.io/foo/bar:1"), "foo/bar:1");
        assert_eq!(f("docker.io/library/a/b"), "library/a/b:latest");
        assert_eq!(f("localhost:5000/x:t"), "localhost:5000/x:t");
        assert_eq!(
            familiarize("docker.io/library/busybox:latest"),
            "busybox:latest"
        );
    }

    #[test]
    fn digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("busybox@{d}"))
            .unwrap()
            .with_default_tag();
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest(), Some(d.as_str()));
        assert_eq!(r.to_string(), format!("docker.io/library/busybox@{d}"));
        let r = Reference::parse(&format!("busybox:1@{d}")).unwrap();
        assert_eq!(r.tag(), Some("1"));
        assert!(Reference::parse("busybox@sha256:abc").is_err());
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "Busybox",
            "foo/Bar",
            "a//b",
            "-a",
            "a-",
            "a..b",
            "a:",
            "a:-x",
            ":tag",
            "a b",
            "host:port/x",
            "a___b",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(matches!(
            Reference::parse(&"a".repeat(64)),
            Err(ReferenceError::HexName(_))
        ));
        assert!(Reference::parse(&format!("a:{}", "t".repeat(129))).is_err());
        assert!(Reference::parse("a__b-c--d.e").is_ok());
        assert!(
            Reference::parse("Docker.IO/x").is_ok(),
            "domains may contain uppercase"
        );
    }
}
