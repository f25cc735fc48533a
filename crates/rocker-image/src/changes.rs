//! `docker import --change` / `docker commit --change`: a small subset of Dockerfile
//! instructions (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL,
//! ONBUILD) applied to an image's container config, with Docker's quoting and JSON-vs-shell
//! form rules.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::ContainerConfig;

/// Why a change line was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The instruction is not allowed in `--change`.
    #[error("dockerfile changes: {0} is not a valid change command")]
    UnknownInstruction(String),
    /// The instruction needs arguments.
    #[error("dockerfile changes: {0} requires at least one argument")]
    MissingArgument(String),
    /// A malformed argument (bad quoting, bad KEY=value, bad port…).
    #[error("dockerfile changes: {instruction}: {reason}")]
    InvalidArgument { instruction: String, reason: String },
}

/// Applies every change line to `config`, in order.
pub fn apply_changes(config: &mut ContainerConfig, changes: &[String]) -> Result<(), ChangeError> {
    for line in changes {
        for l in line.lines() {
            apply_one(config, l)?;
        }
    }
    Ok(())
}

fn apply_one(config: &mut ContainerConfig, line: &str) -> Result<(), ChangeError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(());
    }
    let (instr, rest) = match line.split_once(|c: char| c.is_whitespace()) {
        Some((i, r)) => (i.to_ascii_uppercase(), r.trim()),
        None => (line.to_ascii_uppercase(), ""),
    };
    let invalid = |reason: String| ChangeError::InvalidArgument {
        instruction: instr.clone(),
        reason,
    };
    if rest.is_empty() {
        return Err(ChangeError::MissingArgument(instr));
    }
    match instr.as_str() {
        "CMD" => config.cmd = Some(command_form(rest, &config.shell).map_err(invalid)?),
        "ENTRYPOINT" => {
            config.entrypoint = Some(command_form(rest, &config.shell).map_err(invalid)?)
        }
        "ENV" => {
            for (k, v) in key_values(rest).map_err(invalid)? {
                let env = config.env.get_or_insert_with(Vec::new);
                let prefix = format!("{k}=");
                env.retain(|e| !e.starts_with(&prefix));
                env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            for (k, v) in key_values(rest).map_err(invalid)? {
                config.labels.get_or_insert_with(BTreeMap::new).insert(k, v);
            }
        }
        "WORKDIR" => {
            let dir = single_word(rest).map_err(invalid)?;
            let joined = if dir.starts_with('/') {
                dir
            } else {
                let base = config
                    .working_dir
                    .clone()
                    .unwrap_or_else(|| "/".to_string());
                format!("{}/{}", base.trim_end_matches('/'), dir)
            };
            config.working_dir = Some(joined);
        }
        "USER" => config.user = Some(single_word(rest).map_err(invalid)?),
        "STOPSIGNAL" => config.stop_signal = Some(single_word(rest).map_err(invalid)?),
        "EXPOSE" => {
            for word in split_words(rest).map_err(invalid)? {
                for port in expand_port(&word).map_err(invalid)? {
                    config
                        .exposed_ports
                        .get_or_insert_with(BTreeMap::new)
                        .insert(port, Value::Object(Default::default()));
                }
            }
        }
        "VOLUME" => {
            let vols = if rest.starts_with('[') {
                json_array(rest).map_err(invalid)?
            } else {
                split_words(rest).map_err(invalid)?
            };
            for v in vols {
                if v.is_empty() {
                    return Err(invalid("volume path cannot be empty".to_string()));
                }
                config
                    .volumes
                    .get_or_insert_with(BTreeMap::new)
                    .insert(v, Value::Object(Default::default()));
            }
        }
        "ONBUILD" => config
            .on_build
            .get_or_insert_with(Vec::new)
            .push(rest.to_string()),
        _ => return Err(ChangeError::UnknownInstruction(instr)),
    }
    Ok(())
}

/// JSON (exec) form if the argument is a JSON string array, else shell form wrapped in the
/// image's shell (default `/bin/sh -c`).
fn command_form(rest: &str, shell: &Option<Vec<String>>) -> Result<Vec<String>, String> {
    if rest.starts_with('[') {
        if let Ok(v) = json_array(rest) {
            return Ok(v);
        }
    }
    let mut cmd = shell
        .clone()
        .unwrap_or_else(|| vec!["/bin/sh".to_string(), "-c".to_string()]);
    cmd.push(rest.to_string());
    Ok(cmd)
}

fn json_array(s: &str) -> Result<Vec<String>, String> {
    serde_json::from_str::<Vec<String>>(s).map_err(|e| format!("invalid JSON array {s:?}: {e}"))
}

fn single_word(rest: &str) -> Result<String, String> {
    let words = split_words(rest)?;
    match words.as_slice() {
        [w] => Ok(w.clone()),
        _ => Err(format!("expected exactly one argument, got {rest:?}")),
    }
}

/// `KEY=value ...` (quotes allowed), or the legacy `KEY value with spaces` form when the
/// first word has no `=`.
fn key_values(rest: &str) -> Result<Vec<(String, String)>, String> {
    let first_raw = rest.split_whitespace().next().unwrap_or("");
    if !first_raw.contains('=') {
        let (k, v) = rest
            .split_once(|c: char| c.is_whitespace())
            .ok_or_else(|| format!("{rest:?} needs a value"))?;
        let v = split_words(v.trim())?.join(" ");
        return Ok(vec![(k.to_string(), v)]);
    }
    let mut out = Vec::new();
    for word in split_words(rest)? {
        let (k, v) = word
            .split_once('=')
            .ok_or_else(|| format!("{word:?} is not KEY=value"))?;
        if k.is_empty() {
            return Err(format!("{word:?} has an empty key"));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// Splits on unquoted whitespace; handles "double", 'single' quotes and backslash escapes.
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated quote in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch) => cur.push(ch),
                            None => return Err(format!("unterminated quote in {s:?}")),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated quote in {s:?}")),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// `80`, `80/udp`, `8000-8002/tcp` -> `["80/tcp"]`, …
fn expand_port(word: &str) -> Result<Vec<String>, String> {
    let (ports, proto) = match word.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (word, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid protocol in {word:?}"));
    }
    let parse = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("invalid port {word:?}"))
    };
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let p = parse(ports)?;
            (p, p)
        }
    };
    if lo > hi {
        return Err(format!("invalid port range {word:?}"));
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn apply(lines: &[&str]) -> ContainerConfig {
        let mut c = ContainerConfig::default();
        let v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        apply_changes(&mut c, &v).unwrap();
        c
    }

    #[test]
    fn cmd_and_entrypoint_forms() {
        let c = apply(&[r#"CMD ["sh","-c","echo hi"]"#, "ENTRYPOINT /bin/echo x"]);
        assert_eq!(c.cmd.unwrap(), vec!["sh", "-c", "echo hi"]);
        assert_eq!(c.entrypoint.unwrap(), vec!["/bin/sh", "-c", "/bin/echo x"]);
    }

    #[test]
    fn env_label_forms() {
        let c = apply(&[
            r#"ENV A=1 B="two words" C=x\ y"#,
            "env LEGACY value with spaces",
            "ENV A=3",
            r#"LABEL "com.example"="v 1" other=2"#,
        ]);
        assert_eq!(
            c.env.unwrap(),
            vec!["B=two words", "C=x y", "LEGACY=value with spaces", "A=3"]
        );
        let labels = c.labels.unwrap();
        assert_eq!(labels["com.example"], "v 1");
        assert_eq!(labels["other"], "2");
    }

    #[test]
    fn workdir_user_expose_volume_stopsignal() {
        let c = apply(&[
            "WORKDIR /app",
            "WORKDIR sub",
            "USER nobody:nogroup",
            "EXPOSE 80 53/udp 8000-8001",
            r#"VOLUME ["/data", "/logs"]"#,
            "VOLUME /cache",
            "STOPSIGNAL SIGINT",
            "ONBUILD RUN true",
        ]);
        assert_eq!(c.working_dir.as_deref(), Some("/app/sub"));
        assert_eq!(c.user.as_deref(), Some("nobody:nogroup"));
        let ports: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, vec!["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let vols: Vec<_> = c.volumes.unwrap().into_keys().collect();
        assert_eq!(vols, vec!["/cache", "/data", "/logs"]);
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(c.on_build.unwrap(), vec!["RUN true"]);
    }

    #[test]
    fn rejects_bad_changes() {
        let mut c = ContainerConfig::default();
        for bad in [
            "FROM busybox",
            "RUN true",
            "CMD",
            "EXPOSE 99999",
            "EXPOSE 80/foo",
            r#"ENV A="x"#,
            "USER a b",
        ] {
            assert!(
                apply_changes(&mut c, &[bad.to_string()]).is_err(),
                "{bad:?} should fail"
            );
        }
    }
}
