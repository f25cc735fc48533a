//! [`Client`]: the HTTP side of the distribution API. It owns one connection pool, decides
//! per registry host whether to speak HTTPS or (for insecure registries) plain HTTP, and
//! answers `401` challenges once per request: basic credentials, or a bearer token fetched
//! from the challenge's realm. Authorization values are cached per host and repository so
//! streamed uploads (which cannot be replayed) go out already authorised.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use rocker_image::Reference;

use crate::auth::{parse_challenge, Challenge, Credentials, TokenResponse};
use crate::error::{Error, Result};

/// A repository on a registry: where requests go and whose credentials they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// Host (with port) requests go to: `registry-1.docker.io`, `localhost:5000`.
    pub host: String,
    /// Repository path: `library/busybox`.
    pub path: String,
}

impl Repo {
    /// The repository a reference names.
    pub fn of(reference: &Reference) -> Repo {
        Repo {
            host: crate::registry_host(reference.domain()).to_string(),
            path: reference.path().to_string(),
        }
    }

    /// The same registry, another repository.
    pub fn sibling(&self, path: &str) -> Repo {
        Repo {
            host: self.host.clone(),
            path: path.to_string(),
        }
    }
}

/// A request body that can be produced again (a `401` retry re-sends it).
pub(crate) type BodyFn<'a> = &'a (dyn Fn() -> Result<reqwest::Body> + Sync);

/// The registry client. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    /// For insecure registries: HTTPS without certificate verification, as Docker does.
    http_unverified: reqwest::Client,
    insecure: Vec<String>,
    schemes: Mutex<HashMap<String, &'static str>>,
    auth: Mutex<HashMap<String, HeaderValue>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Client {
    /// A client; `insecure` lists registries (`host[:port]`) that may be reached over plain
    /// HTTP. Loopback hosts always may, as with Docker.
    pub fn new(insecure: Vec<String>) -> Result<Client> {
        let builder = || {
            reqwest::Client::builder()
                .user_agent(concat!("rocker/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(std::time::Duration::from_secs(15))
        };
        let http = builder().build().map_err(Error::ClientSetup)?;
        let http_unverified = builder()
            .danger_accept_invalid_certs(true)
            .build()
            .map_err(Error::ClientSetup)?;
        Ok(Client {
            http,
            http_unverified,
            insecure,
            schemes: Mutex::new(HashMap::new()),
            auth: Mutex::new(HashMap::new()),
        })
    }

    /// Whether plain HTTP is allowed for `host` (`host[:port]`).
    pub fn is_insecure(&self, host: &str) -> bool {
        let bare = match host.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty() => h,
            _ => host,
        };
        let bare = bare.trim_start_matches('[').trim_end_matches(']');
        matches!(bare, "localhost" | "::1")
            || bare.starts_with("127.")
            || self.insecure.iter().any(|i| {
                let i = i
                    .trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .trim_end_matches('/');
                i == host || i == bare
            })
    }

    /// The HTTP client for `url`: certificates are not verified for insecure registries.
    fn http_for(&self, url: &str) -> &reqwest::Client {
        let insecure = reqwest::Url::parse(url).ok().is_some_and(|u| {
            let host = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => return false,
            };
            self.is_insecure(&host)
        });
        if insecure {
            &self.http_unverified
        } else {
            &self.http
        }
    }

    /// `scheme://host`, probing HTTPS first for insecure hosts and falling back to HTTP when
    /// the TLS connection fails (Docker's behaviour); the answer is cached per host.
    pub(crate) async fn base(&self, host: &str) -> String {
        if let Some(s) = lock(&self.schemes).get(host) {
            return format!("{s}://{host}");
        }
        let scheme = if !self.is_insecure(host) {
            "https"
        } else {
            match self
                .http_unverified
                .get(format!("https://{host}/v2/"))
                .send()
                .await
            {
                Ok(_) => "https",
                Err(e) => {
                    tracing::debug!(host, error = %e, "https failed, using plain http");
                    "http"
                }
            }
        };
        lock(&self.schemes).insert(host.to_string(), scheme);
        format!("{scheme}://{host}")
    }

    /// `scheme://host/v2/<path>/<rest>`.
    pub(crate) async fn url(&self, repo: &Repo, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base(&repo.host).await, repo.path)
    }

    /// Cached authorization belongs to one repository *and* one set of credentials: a
    /// request without credentials, or with another user's, must never reuse it.
    fn auth_key(repo: &Repo, creds: Option<&Credentials>) -> String {
        let who = match creds {
            Some(c) => {
                let d = rocker_image::Digest::of_bytes(
                    format!("{}\0{}", c.username, c.password).as_bytes(),
                );
                d.to_string()
            }
            None => "anonymous".to_string(),
        };
        format!("{}|{}|{who}", repo.host, repo.path)
    }

    /// Sends a request for `repo`, answering one authentication challenge.
    pub(crate) async fn send(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<BodyFn<'_>>,
    ) -> Result<Response> {
        let key = Self::auth_key(repo, creds);
        let cached = lock(&self.auth).get(&key).cloned();
        let resp = self
            .send_once(&method, url, &headers, body, cached.as_ref())
            .await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let Some(challenge) = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge)
        else {
            return Ok(resp);
        };
        let value = self.answer(repo, creds, &method, challenge).await?;
        lock(&self.auth).insert(key, value.clone());
        self.send_once(&method, url, &headers, body, Some(&value))
            .await
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<BodyFn<'_>>,
        auth: Option<&HeaderValue>,
    ) -> Result<Response> {
        let mut req = self
            .http_for(url)
            .request(method.clone(), url)
            .headers(headers.clone());
        if let Some(a) = auth {
            req = req.header(AUTHORIZATION, a.clone());
        }
        if let Some(b) = body {
            req = req.body(b()?);
        }
        req.send().await.map_err(|source| Error::Request {
            method: method.to_string(),
            url: url.to_string(),
            source,
        })
    }

    /// Builds the `Authorization` value answering a challenge.
    async fn answer(
        &self,
        repo: &Repo,
        creds: Option<&Credentials>,
        method: &Method,
        challenge: Challenge,
    ) -> Result<HeaderValue> {
        let value = match challenge {
            Challenge::Basic => match creds {
                Some(c) => c.basic_header(),
                None => {
                    return Err(Error::Auth(
                        "unauthorized: authentication required".to_string(),
                    ))
                }
            },
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let actions = if *method == Method::GET || *method == Method::HEAD {
                    "pull"
                } else {
                    "pull,push"
                };
                // A login (no repository) asks for a token without a scope.
                let scope = scope.or_else(|| {
                    (!repo.path.is_empty()).then(|| format!("repository:{}:{actions}", repo.path))
                });
                let mut params: Vec<(&str, &str)> = Vec::new();
                if let Some(s) = &scope {
                    params.push(("scope", s.as_str()));
                }
                if let Some(s) = &service {
                    params.push(("service", s.as_str()));
                }
                let url = reqwest::Url::parse_with_params(&realm, &params)
                    .map_err(|e| Error::Auth(format!("invalid token realm {realm}: {e}")))?;
                let mut req = self.http_for(url.as_str()).get(url.clone());
                if let Some(c) = creds {
                    req = req.header(AUTHORIZATION, c.basic_header());
                }
                let resp = req.send().await.map_err(|source| Error::Request {
                    method: "GET".into(),
                    url: url.to_string(),
                    source,
                })?;
                if !resp.status().is_success() {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.unwrap_or_default();
                    return Err(Error::Auth(format!(
                        "get token from {realm}: {}",
                        render_errors(status, &body)
                    )));
                }
                let body = resp.bytes().await.map_err(|source| Error::Request {
                    method: "GET".into(),
                    url: url.to_string(),
                    source,
                })?;
                let token = serde_json::from_slice::<TokenResponse>(&body)
                    .ok()
                    .and_then(TokenResponse::into_token)
                    .ok_or_else(|| Error::Auth(format!("no token in answer from {realm}")))?;
                format!("Bearer {token}")
            }
        };
        HeaderValue::from_str(&value)
            .map_err(|_| Error::Auth("credentials are not a valid header value".to_string()))
    }

    /// `docker login`: checks `creds` against the registry's `/v2/` endpoint (answering its
    /// challenge), never using or filling the authorization cache.
    pub async fn login(&self, server: &str, creds: &Credentials) -> Result<()> {
        let host = login_host(server);
        let url = format!("{}/v2/", self.base(&host).await);
        let headers = HeaderMap::new();
        let resp = self
            .send_once(&Method::GET, &url, &headers, None, None)
            .await?;
        let resp = match resp.status() {
            StatusCode::UNAUTHORIZED => {
                let challenge = resp
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_challenge);
                match challenge {
                    Some(c) => {
                        let repo = Repo {
                            host: host.clone(),
                            path: String::new(),
                        };
                        let value = self
                            .answer(&repo, Some(creds), &Method::GET, c)
                            .await
                            .map_err(|e| match e {
                                Error::Auth(m) if m.contains("401") || m.contains("unauthorized") => {
                                    Error::Auth(format!(
                                        "login attempt to {url} failed with status: 401 Unauthorized"
                                    ))
                                }
                                e => e,
                            })?;
                        self.send_once(&Method::GET, &url, &headers, None, Some(&value))
                            .await?
                    }
                    None => resp,
                }
            }
            _ => resp,
        };
        if resp.status().is_success() {
            return Ok(());
        }
        let s = resp.status();
        Err(Error::Auth(format!(
            "login attempt to {url} failed with status: {} {}",
            s.as_u16(),
            s.canonical_reason().unwrap_or("")
        )))
    }

    /// Turns a non-success answer into an error carrying the registry's message.
    pub(crate) async fn fail(resp: Response) -> Error {
        let status = resp.status().as_u16();
        let body = resp.bytes().await.unwrap_or_default();
        Error::Status {
            status,
            message: render_errors(status, &body),
        }
    }
}

/// The registry host of a login's `serveraddress` (`https://index.docker.io/v1/`,
/// `localhost:5000`, `http://host:port/`).
pub fn login_host(server: &str) -> String {
    let s = server.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let host = s.split('/').next().unwrap_or("");
    match host {
        "" | "index.docker.io" | "docker.io" => "registry-1.docker.io".to_string(),
        h => h.to_string(),
    }
}

/// Docker's rendering of a distribution error body: `code in lowercase words: message`,
/// joined by `; `; falls back to the status text.
pub(crate) fn render_errors(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<One>,
    }
    #[derive(serde::Deserialize)]
    struct One {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(b) = serde_json::from_slice::<Body>(body) {
        if !b.errors.is_empty() {
            return b
                .errors
                .iter()
                .map(|e| {
                    let code = e.code.to_ascii_lowercase().replace('_', " ");
                    if e.message.is_empty() {
                        code
                    } else {
                        format!("{code}: {}", e.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
        }
    }
    match status {
        401 => "unauthorized: authentication required".to_string(),
        404 => "not found".to_string(),
        s => format!(
            "unexpected status from registry: {s} {}",
            StatusCode::from_u16(s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("")
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn insecure_hosts() {
        let c = Client::new(vec!["reg.example:5000".into(), "other.example".into()]).unwrap();
        assert!(c.is_insecure("localhost:5000"));
        assert!(c.is_insecure("127.0.0.1:41234"));
        assert!(c.is_insecure("[::1]:5000"));
        assert!(c.is_insecure("reg.example:5000"));
        assert!(c.is_insecure("other.example:443"));
        assert!(!c.is_insecure("reg.example:5001"));
        assert!(!c.is_insecure("registry-1.docker.io"));
    }

    #[test]
    fn login_hosts() {
        assert_eq!(
            login_host("https://index.docker.io/v1/"),
            "registry-1.docker.io"
        );
        assert_eq!(login_host("localhost:5000"), "localhost:5000");
        assert_eq!(login_host("http://127.0.0.1:80/"), "127.0.0.1:80");
        assert_eq!(login_host(""), "registry-1.docker.io");
    }

    #[test]
    fn error_bodies() {
        let b = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(render_errors(404, b), "manifest unknown: manifest unknown");
        assert_eq!(render_errors(404, b""), "not found");
        assert!(render_errors(500, b"oops").contains("500"));
    }

    #[test]
    fn repo_of_reference() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            Repo::of(&r),
            Repo {
                host: "registry-1.docker.io".into(),
                path: "library/busybox".into()
            }
        );
        let r = Reference::parse("localhost:5000/test/bb:v1").unwrap();
        assert_eq!(Repo::of(&r).host, "localhost:5000");
        assert_eq!(Repo::of(&r).sibling("x/y").path, "x/y");
    }
}
