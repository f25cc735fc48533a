//! Docker's `filters` for `GET /containers/json` (and container prune): id, name, label,
//! status, exited, ancestor, before, since, network, volume, health, publish, expose.

use std::collections::BTreeMap;

use rocker_engine::{Engine, Error, Record};

/// Parsed filters: key -> values (OR within a key, AND across keys; labels AND).
#[derive(Debug, Default)]
pub struct ContainerFilters {
    by_key: BTreeMap<String, Vec<String>>,
    /// Creation times bounding the list (`before` / `since`, resolved to containers).
    before: Option<String>,
    since: Option<String>,
}

const KEYS: &[&str] = &[
    "id",
    "name",
    "label",
    "label!",
    "status",
    "exited",
    "ancestor",
    "before",
    "since",
    "network",
    "volume",
    "health",
    "publish",
    "expose",
    "is-task",
    "isolation",
    "until",
];

const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

impl ContainerFilters {
    pub fn parse(engine: &Engine, pairs: Vec<(String, String)>) -> Result<Self, Error> {
        let mut f = ContainerFilters::default();
        for (k, v) in pairs {
            if !KEYS.contains(&k.as_str()) {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
            match k.as_str() {
                "status" if !STATUSES.contains(&v.as_str()) => {
                    return Err(Error::invalid(format!("invalid filter 'status={v}'")))
                }
                // health (P2)
                "health" if !["starting", "healthy", "unhealthy", "none"].contains(&v.as_str()) => {
                    return Err(Error::invalid(format!(
                        "Unrecognised filter value for health: {v}"
                    )))
                }
                "exited" if v.parse::<i32>().is_err() => {
                    return Err(Error::invalid(format!("invalid filter 'exited={v}'")))
                }
                "before" | "since" => {
                    let rec = engine.lookup(&v)?.record();
                    if k == "before" {
                        f.before = Some(rec.created);
                    } else {
                        f.since = Some(rec.created);
                    }
                }
                _ => {}
            }
            f.by_key.entry(k).or_default().push(v);
        }
        Ok(f)
    }

    /// A status or exited filter lists stopped containers without `all`, as Docker does.
    pub fn implies_all(&self) -> bool {
        self.by_key.contains_key("status") || self.by_key.contains_key("exited")
    }

    pub fn matches(&self, engine: &Engine, rec: &Record, status: &str) -> bool {
        if let Some(b) = &self.before {
            if rec.created >= *b {
                return false;
            }
        }
        if let Some(s) = &self.since {
            if rec.created <= *s {
                return false;
            }
        }
        let labels = rec.config.labels.clone().unwrap_or_default();
        self.by_key.iter().all(|(k, values)| match k.as_str() {
            "id" => values.iter().any(|v| rec.id.starts_with(v.as_str())),
            "name" => values.iter().any(|v| name_matches(&rec.name, v)),
            "label" => values.iter().all(|v| label_matches(&labels, v)),
            "label!" => !values.iter().any(|v| label_matches(&labels, v)),
            "status" => values.iter().any(|v| v == status),
            "exited" => {
                status == "exited"
                    && values
                        .iter()
                        .any(|v| v.parse::<i32>().ok() == Some(rec.state.exit_code))
            }
            "ancestor" => values.iter().any(|v| ancestor_matches(engine, rec, v)),
            "network" => values.iter().any(|v| {
                rec.endpoints_config.contains_key(v)
                    || engine
                        .networks()
                        .lookup(v)
                        .is_ok_and(|n| rec.endpoints_config.contains_key(&n.name))
                    || rec.host_config.network_mode == *v
            }),
            "volume" => values.iter().any(|v| {
                rec.mounts
                    .iter()
                    .any(|m| m.name == *v || m.destination == *v)
            }),
            // health (P2)
            "health" => values.iter().any(|v| {
                let status = rec
                    .state
                    .health
                    .as_ref()
                    .map_or("none", |h| h.status.as_str());
                *v == status
            }),
            "publish" | "expose" => values.iter().any(|v| {
                let key = if v.contains('/') {
                    v.clone()
                } else {
                    format!("{v}/tcp")
                };
                if k == "expose" {
                    rec.config
                        .exposed_ports
                        .as_ref()
                        .is_some_and(|p| p.contains_key(&key))
                } else {
                    rec.host_config
                        .port_bindings
                        .as_ref()
                        .is_some_and(|p| p.contains_key(&key))
                }
            }),
            "is-task" => values.iter().all(|v| v == "false"),
            _ => true,
        })
    }
}

/// Docker matches names with a regular expression against `/name`; we support the forms
/// people use: a substring, optionally anchored with `^` and `$`.
fn name_matches(name: &str, pattern: &str) -> bool {
    let full = format!("/{name}");
    let (anchored_start, p) = match pattern.strip_prefix('^') {
        Some(p) => (true, p),
        None => (false, pattern),
    };
    let (anchored_end, p) = match p.strip_suffix('$') {
        Some(p) => (true, p),
        None => (false, p),
    };
    let p = p.strip_prefix('/').unwrap_or(p);
    match (anchored_start, anchored_end) {
        (true, true) => name == p,
        (true, false) => name.starts_with(p),
        (false, true) => full.ends_with(p),
        (false, false) => full.contains(p),
    }
}

fn label_matches(labels: &BTreeMap<String, String>, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(filter),
    }
}

/// The container's image by name (`busybox`, `busybox:latest`) or id (full or short).
fn ancestor_matches(engine: &Engine, rec: &Record, v: &str) -> bool {
    let image = &rec.config.image;
    if image == v || image.strip_suffix(":latest") == Some(v) || *image == format!("{v}:latest") {
        return true;
    }
    let id = rec
        .image_id
        .strip_prefix("sha256:")
        .unwrap_or(&rec.image_id);
    let want = v.strip_prefix("sha256:").unwrap_or(v);
    if want.len() >= 4 && id.starts_with(want) {
        return true;
    }
    engine
        .images
        .resolve(v)
        .is_ok_and(|img| img.id == rec.image_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels() {
        assert!(name_matches("web-1", "web"));
        assert!(name_matches("web-1", "^/web"));
        assert!(name_matches("web-1", "^web-1$"));
        assert!(!name_matches("web-1", "^eb"));
        assert!(name_matches("myweb", "web$"));
        let mut l = BTreeMap::new();
        l.insert("a".to_string(), "1".to_string());
        assert!(label_matches(&l, "a"));
        assert!(label_matches(&l, "a=1"));
        assert!(!label_matches(&l, "a=2"));
        assert!(!label_matches(&l, "b"));
    }
}
