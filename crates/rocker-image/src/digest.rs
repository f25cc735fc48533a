//! Content digests (`sha256:<hex>`): the one identity scheme of the store. Blobs, image ids,
//! layer diff ids and OCI chain ids are all digests, so they share one validated type and one
//! streaming hasher.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// Errors from parsing a digest string.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// Only `sha256:` digests are supported.
    #[error("unsupported digest algorithm in {0:?}")]
    UnsupportedAlgorithm(String),
    /// The hex part is not 64 lowercase hex characters.
    #[error("invalid digest {0:?}")]
    Invalid(String),
}

/// A validated `sha256:<64 lowercase hex>` digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// Parses `sha256:<hex>`.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let Some((algo, hex)) = s.split_once(':') else {
            return Err(DigestError::Invalid(s.to_string()));
        };
        if algo != "sha256" {
            return Err(DigestError::UnsupportedAlgorithm(s.to_string()));
        }
        Self::from_hex(hex).map_err(|_| DigestError::Invalid(s.to_string()))
    }

    /// Builds a digest from its 64-character hex part.
    pub fn from_hex(hex: &str) -> Result<Self, DigestError> {
        if is_sha256_hex(hex) {
            Ok(Self(format!("sha256:{hex}")))
        } else {
            Err(DigestError::Invalid(hex.to_string()))
        }
    }

    /// sha256 of a byte slice.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        let mut h = Hasher::new();
        h.update(bytes);
        h.finish()
    }

    /// The OCI chain id of a layer: its diff id for the bottom layer, else
    /// `sha256(parent_chain + " " + diff_id)`.
    pub fn chain(parent: Option<&Digest>, diff_id: &Digest) -> Self {
        match parent {
            None => diff_id.clone(),
            Some(p) => Self::of_bytes(format!("{p} {diff_id}").as_bytes()),
        }
    }

    /// The full `sha256:<hex>` form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64-character hex part.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True for exactly 64 lowercase hex characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Incremental sha256 producing a [`Digest`].
#[derive(Default, Clone)]
pub struct Hasher(Sha256);

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self(Sha256::new())
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        Digest(format!("sha256:{}", hex::encode(self.0.finalize())))
    }
}

/// A reader that hashes and counts every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
            count: 0,
        }
    }

    /// Reads `inner` to its end (so trailing padding is hashed too), then returns the digest
    /// and byte count of the whole stream.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.hasher.finish(), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_chain() {
        let d = Digest::of_bytes(b"");
        assert_eq!(
            d.as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(d.as_str()).unwrap(), d);
        assert!(Digest::parse("sha512:00").is_err());
        assert!(Digest::parse("sha256:ABC").is_err());
        assert_eq!(Digest::chain(None, &d), d);
        let c = Digest::chain(Some(&d), &d);
        assert_eq!(c, Digest::of_bytes(format!("{d} {d}").as_bytes()));
    }

    #[test]
    fn hashing_reader_reads_to_end() {
        let r = HashingReader::new(&b"hello world"[..]);
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, 11);
        assert_eq!(d, Digest::of_bytes(b"hello world"));
    }
}
