//! Registry authentication: parsing `WWW-Authenticate` challenges and the credentials the
//! caller passes in (the engine gets them from `X-Registry-Auth`). A `Bearer` challenge is
//! answered by asking its `realm` for a token (with basic credentials when we have them); a
//! `Basic` challenge by sending the credentials directly.

use std::collections::BTreeMap;

use base64::Engine as _;

/// A user name and password (or identity token as password) for one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    /// The `Authorization: Basic …` header value.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// Decodes Docker's `X-Registry-Auth` header: base64url (padded or not) JSON with
    /// `username`, `password` (or `identitytoken`). Empty or undecodable: `None`.
    pub fn from_registry_auth(header: &str) -> Option<Credentials> {
        let header = header.trim();
        if header.is_empty() {
            return None;
        }
        let trimmed = header.trim_end_matches('=');
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let username = field("username");
        let mut password = field("password");
        if password.is_empty() {
            password = field("identitytoken");
        }
        if username.is_empty() && password.is_empty() {
            return None;
        }
        Some(Credentials { username, password })
    }
}

/// One parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="…"`.
    Basic,
    /// `Bearer realm="…",service="…",scope="…"`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value; unknown schemes give `None`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.find(char::is_whitespace) {
        Some(i) => (&header[..i], header[i..].trim()),
        None => (header, ""),
    };
    let params = parse_params(rest);
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        });
    }
    None
}

/// `k="v", k2=v2` (quoted strings may hold commas and `\"`).
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

/// The token endpoint's answer (`token`, or the OAuth2 `access_token`).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub access_token: String,
}

impl TokenResponse {
    pub(crate) fn into_token(self) -> Option<String> {
        if !self.token.is_empty() {
            Some(self.token)
        } else if !self.access_token.is_empty() {
            Some(self.access_token)
        } else {
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            }
        );
    }

    #[test]
    fn bearer_with_commas_in_scope_and_spaces() {
        let c = parse_challenge(
            r#"bearer  realm="http://127.0.0.1:5001/auth", scope="repository:a/b:pull,push",error="insufficient_scope""#,
        )
        .unwrap();
        match c {
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                assert_eq!(realm, "http://127.0.0.1:5001/auth");
                assert_eq!(service, None);
                assert_eq!(scope.as_deref(), Some("repository:a/b:pull,push"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn basic_and_unknown() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
    }

    #[test]
    fn registry_auth_header() {
        use base64::Engine as _;
        let json = r#"{"username":"u","password":"p+/?","serveraddress":"localhost:5000"}"#;
        let enc = base64::engine::general_purpose::URL_SAFE.encode(json);
        let c = Credentials::from_registry_auth(&enc).unwrap();
        assert_eq!(c.username, "u");
        assert_eq!(c.password, "p+/?");
        assert_eq!(c.basic_header(), "Basic dTpwKy8/");
        assert!(Credentials::from_registry_auth("").is_none());
        let empty = base64::engine::general_purpose::STANDARD.encode("{}");
        assert!(Credentials::from_registry_auth(&empty).is_none());
    }
}
