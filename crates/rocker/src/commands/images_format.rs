//! `rocker images --filter/--format` and `images [REPOSITORY[:TAG]]`: Docker's image filters
//! (`dangling`, `label`, `reference`), applied to the list the daemon returns, and the
//! template fields of docker's image table.

use chrono::{DateTime, Utc};
use rocker_api::human::{human_since, human_size};
use rocker_api::models::ImageSummary;

use super::list_format::Row;
use crate::table::short_id;

/// Column titles of `--format 'table …'`.
pub const HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "SIZE"),
    ("Containers", "CONTAINERS"),
];

/// Checked filters; an unknown key is Docker's "invalid filter".
pub fn check_filters(filters: &[(String, String)]) -> Result<(), String> {
    for (k, v) in filters {
        match k.as_str() {
            "dangling" if !matches!(v.as_str(), "true" | "false" | "1" | "0") => {
                return Err(format!(
                    "Error response from daemon: invalid filter 'dangling={v}'"
                ))
            }
            "dangling" | "label" | "reference" => {}
            _ => return Err(format!("Error response from daemon: invalid filter '{k}'")),
        }
    }
    Ok(())
}

fn tagged(img: &ImageSummary) -> Vec<&String> {
    img.repo_tags
        .iter()
        .filter(|t| t.as_str() != "<none>:<none>")
        .collect()
}

/// Go's `path.Match` for the patterns people use: `*` (not across `/`) and `?`.
fn glob(pattern: &[u8], s: &[u8]) -> bool {
    match (pattern.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], s) || (!s.is_empty() && s[0] != b'/' && glob(pattern, &s[1..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&pattern[1..], &s[1..]),
        (Some(p), Some(c)) if p == c => glob(&pattern[1..], &s[1..]),
        _ => false,
    }
}

/// Whether `tag` (`repo:tag`) matches a reference pattern (`busybox`, `busy*`, `busybox:1*`).
pub fn reference_matches(pattern: &str, tag: &str) -> bool {
    let repo = tag.rsplit_once(':').map_or(tag, |(r, _)| r);
    glob(pattern.as_bytes(), tag.as_bytes()) || glob(pattern.as_bytes(), repo.as_bytes())
}

/// Applies the filters (and the positional reference), keeping only matching tags.
pub fn apply(
    list: Vec<ImageSummary>,
    filters: &[(String, String)],
    reference: Option<&str>,
) -> Vec<ImageSummary> {
    let mut refs: Vec<&str> = filters
        .iter()
        .filter(|(k, _)| k == "reference")
        .map(|(_, v)| v.as_str())
        .collect();
    refs.extend(reference);
    list.into_iter()
        .filter_map(|mut img| {
            let dangling = tagged(&img).is_empty();
            for (k, v) in filters {
                let ok = match k.as_str() {
                    "dangling" => dangling == matches!(v.as_str(), "true" | "1"),
                    "label" => match v.split_once('=') {
                        Some((lk, lv)) => img.labels.get(lk).is_some_and(|x| x == lv),
                        None => img.labels.contains_key(v),
                    },
                    _ => true,
                };
                if !ok {
                    return None;
                }
            }
            if !refs.is_empty() {
                img.repo_tags
                    .retain(|t| refs.iter().any(|p| reference_matches(p, t)));
                if img.repo_tags.is_empty() {
                    return None;
                }
            }
            Some(img)
        })
        .collect()
}

/// One template row per tag (one `<none>` row for an untagged image).
pub fn rows(list: &[ImageSummary], no_trunc: bool, now: DateTime<Utc>) -> Vec<Row> {
    let mut out = Vec::new();
    for img in list {
        let created = DateTime::from_timestamp(img.created, 0).unwrap_or(now);
        let mut tags: Vec<(String, String)> = tagged(img)
            .into_iter()
            .map(|t| match t.rsplit_once(':') {
                Some((r, tag)) if !tag.contains('/') => (r.to_string(), tag.to_string()),
                _ => (t.clone(), "<none>".to_string()),
            })
            .collect();
        if tags.is_empty() {
            tags.push(("<none>".into(), "<none>".into()));
        }
        for (repo, tag) in tags {
            let mut r = Row {
                labels: img.labels.clone(),
                ..Default::default()
            };
            let f = &mut r.fields;
            let id = if no_trunc {
                img.id.clone()
            } else {
                short_id(&img.id)
            };
            f.insert("ID", id);
            f.insert("Repository", repo);
            f.insert("Tag", tag);
            f.insert(
                "Digest",
                img.repo_digests
                    .first()
                    .and_then(|d| d.split_once('@'))
                    .map_or("<none>".to_string(), |(_, d)| d.to_string()),
            );
            f.insert("CreatedSince", format!("{} ago", human_since(created, now)));
            f.insert(
                "CreatedAt",
                created.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
            );
            f.insert("Size", human_size(img.size as f64, 3));
            f.insert("VirtualSize", human_size(img.size as f64, 3));
            let na = |v: i64| {
                if v < 0 {
                    "N/A".to_string()
                } else {
                    human_size(v as f64, 3)
                }
            };
            f.insert("SharedSize", na(img.shared_size));
            f.insert(
                "UniqueSize",
                if img.shared_size < 0 {
                    "N/A".to_string()
                } else {
                    human_size((img.size - img.shared_size) as f64, 3)
                },
            );
            f.insert(
                "Containers",
                if img.containers < 0 {
                    "N/A".to_string()
                } else {
                    img.containers.to_string()
                },
            );
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_references() {
        let img = |tags: &[&str]| ImageSummary {
            id: "sha256:0123456789abcdef".into(),
            repo_tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let list = vec![img(&["busybox:latest", "mine/app:1.0"]), img(&[])];
        let f = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(apply(list.clone(), &f("dangling", "true"), None).len(), 1);
        let by_ref = apply(list.clone(), &[], Some("busy*"));
        assert_eq!(by_ref.len(), 1);
        assert_eq!(by_ref[0].repo_tags, vec!["busybox:latest".to_string()]);
        assert_eq!(
            apply(list.clone(), &f("reference", "mine/*:1.0"), None).len(),
            1
        );
        assert!(check_filters(&f("nope", "x")).is_err());
        let now = DateTime::from_timestamp(0, 0).unwrap();
        assert_eq!(rows(&list, false, now).len(), 3);
    }
}
