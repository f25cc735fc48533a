//! Registry credentials in Docker's client config file (`$DOCKER_CONFIG/config.json`,
//! default `~/.docker/config.json`): the `auths` map of server -> `{"auth": base64(user:pass)}`.
//! Other keys of the file are kept as they are, so docker and rocker can share it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// Docker Hub's key in `auths`.
pub const DOCKER_HUB: &str = "https://index.docker.io/v1/";

fn config_path() -> Result<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let home = std::env::var_os("HOME").context("HOME is not set")?;
            PathBuf::from(home).join(".docker")
        }
    };
    Ok(dir.join("config.json"))
}

fn load() -> Result<Map<String, Value>> {
    let path = config_path()?;
    match std::fs::read(&path) {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(b) => match serde_json::from_slice(&b)
            .with_context(|| format!("parsing {}", path.display()))?
        {
            Value::Object(m) => Ok(m),
            _ => anyhow::bail!("{}: not a JSON object", path.display()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save(cfg: &Map<String, Value>) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = config_path()?;
    let dir = path.parent().context("config path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(".config.json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(serde_json::to_string_pretty(cfg)?.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The `auths` key of a registry: Docker Hub's URL for Hub names, else `host[:port]`.
pub fn server_key(server: &str) -> String {
    let s = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let host = s.split('/').next().unwrap_or(s);
    match host {
        "" | "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        h => h.to_string(),
    }
}

/// The registry an image reference lives in (`busybox` -> Docker Hub).
pub fn registry_of(reference: &str) -> String {
    match reference.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            server_key(first)
        }
        _ => DOCKER_HUB.to_string(),
    }
}

/// Stored (username, password) for `server`, if any.
pub fn credentials(server: &str) -> Result<Option<(String, String)>> {
    let cfg = load()?;
    let key = server_key(server);
    let Some(auths) = cfg.get("auths").and_then(Value::as_object) else {
        return Ok(None);
    };
    let entry = auths.get(&key).or_else(|| {
        auths
            .iter()
            .find(|(k, _)| server_key(k) == key)
            .map(|(_, v)| v)
    });
    let Some(auth) = entry.and_then(|e| e.get("auth")).and_then(Value::as_str) else {
        return Ok(None);
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .with_context(|| format!("invalid auth for {key} in the config file"))?;
    let text = String::from_utf8(raw).context("auth in the config file is not UTF-8")?;
    let (user, pass) = text
        .split_once(':')
        .with_context(|| format!("invalid auth for {key} in the config file"))?;
    Ok(Some((user.to_string(), pass.to_string())))
}

pub fn store(server: &str, username: &str, password: &str) -> Result<()> {
    let mut cfg = load()?;
    let auths = cfg
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    if let Some(m) = auths.as_object_mut() {
        m.insert(server_key(server), json!({ "auth": auth }));
    }
    save(&cfg)
}

/// Removes the entry; Ok(false) when there was none.
pub fn erase(server: &str) -> Result<bool> {
    let mut cfg = load()?;
    let key = server_key(server);
    let removed = cfg
        .get_mut("auths")
        .and_then(Value::as_object_mut)
        .is_some_and(|m| {
            let before = m.len();
            m.retain(|k, _| server_key(k) != key);
            m.len() != before
        });
    if removed {
        save(&cfg)?;
    }
    Ok(removed)
}

/// Docker's `X-Registry-Auth` value for a reference's registry, from the stored credentials.
pub fn registry_auth_header(reference: &str) -> Result<Option<String>> {
    let server = registry_of(reference);
    Ok(credentials(&server)?.map(|(username, password)| {
        let body = json!({"username": username, "password": password, "serveraddress": server});
        base64::engine::general_purpose::URL_SAFE.encode(body.to_string())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_registries() {
        assert_eq!(server_key("docker.io"), DOCKER_HUB);
        assert_eq!(server_key("https://index.docker.io/v1/"), DOCKER_HUB);
        assert_eq!(server_key("localhost:5000"), "localhost:5000");
        assert_eq!(
            server_key("https://reg.example:5000/v2/"),
            "reg.example:5000"
        );
        assert_eq!(registry_of("busybox"), DOCKER_HUB);
        assert_eq!(registry_of("library/busybox:1"), DOCKER_HUB);
        assert_eq!(registry_of("127.0.0.1:5000/a/b:c"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/a"), "localhost");
    }

    #[test]
    fn store_read_erase_keeps_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        // One test touches the environment, so no other test here reads DOCKER_CONFIG.
        std::env::set_var("DOCKER_CONFIG", dir.path());
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{},"credsStore":"","detachKeys":"ctrl-x"}"#,
        )
        .unwrap();
        store("127.0.0.1:5000", "u", "p:w").unwrap();
        assert_eq!(
            credentials("http://127.0.0.1:5000/").unwrap(),
            Some(("u".into(), "p:w".into()))
        );
        let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
        assert!(text.contains("\"detachKeys\": \"ctrl-x\""), "{text}");
        assert!(text.contains("dTpwOnc="), "{text}");
        let header = registry_auth_header("127.0.0.1:5000/x:y").unwrap().unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE
            .decode(header)
            .unwrap();
        let v: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(v["username"], "u");
        assert!(erase("127.0.0.1:5000").unwrap());
        assert!(!erase("127.0.0.1:5000").unwrap());
        assert_eq!(credentials("127.0.0.1:5000").unwrap(), None);
    }
}
