//! `POST /containers/prune`: removes stopped containers, filtered by `until`, `label` and
//! `label!` like Docker, answering `{"ContainersDeleted": [...], "SpaceReclaimed": n}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hyper::StatusCode;
use rocker_api::models::ContainersPruneReport;
use rocker_engine::{Engine, Error, Record};

use crate::http::{from_engine, json, parse_filters, Query, Res};

/// What a prune keeps or removes.
#[derive(Debug, Default)]
struct PruneFilters {
    until: Option<DateTime<Utc>>,
    labels: Vec<String>,
    not_labels: Vec<String>,
}

impl PruneFilters {
    fn parse(pairs: Vec<(String, String)>, now: DateTime<Utc>) -> Result<Self, Error> {
        let mut f = PruneFilters::default();
        for (k, v) in pairs {
            match k.as_str() {
                "until" => {
                    let t = parse_until(&v, now).ok_or_else(|| {
                        Error::invalid(format!(
                            "failed to parse value of 'until' filter: invalid timestamp {v:?}"
                        ))
                    })?;
                    f.until = Some(f.until.map_or(t, |u: DateTime<Utc>| u.min(t)));
                }
                "label" => f.labels.push(v),
                "label!" => f.not_labels.push(v),
                _ => return Err(Error::invalid(format!("invalid filter '{k}'"))),
            }
        }
        Ok(f)
    }

    fn matches(&self, rec: &Record) -> bool {
        if let Some(until) = self.until {
            let created = rocker_api::gotime::parse(&rec.created);
            if created.is_none_or(|c| c >= until) {
                return false;
            }
        }
        let labels = rec.config.labels.clone().unwrap_or_default();
        self.labels.iter().all(|l| label_matches(&labels, l))
            && !self.not_labels.iter().any(|l| label_matches(&labels, l))
    }
}

fn label_matches(labels: &BTreeMap<String, String>, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(filter),
    }
}

/// Docker's timestamps: a Go duration before now (`10m`, `1h30m`), unix seconds
/// (`1700000000[.5]`), RFC 3339, or a date (`2006-01-02`).
pub fn parse_until(v: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(d) = parse_go_duration(v) {
        return Some(now - d);
    }
    if let Ok(secs) = v.parse::<f64>() {
        let whole = secs.trunc() as i64;
        let nanos = ((secs - secs.trunc()) * 1e9) as u32;
        return DateTime::from_timestamp(whole, nanos);
    }
    if let Some(t) = rocker_api::gotime::parse(v) {
        return Some(t);
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

fn parse_go_duration(v: &str) -> Option<chrono::Duration> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = v.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += num.parse::<f64>().ok()? * unit;
        num.clear();
        any = true;
    }
    if !any || !num.is_empty() {
        return None;
    }
    Some(chrono::Duration::milliseconds((total * 1000.0) as i64))
}

pub async fn prune(engine: &Arc<Engine>, q: &Query) -> Res {
    let filters = match parse_filters(q).and_then(|p| PruneFilters::parse(p, Utc::now())) {
        Ok(f) => f,
        Err(e) => return from_engine(&e),
    };
    match engine.prune_containers(|rec| filters.matches(rec)).await {
        Ok(p) => json(
            StatusCode::OK,
            &ContainersPruneReport {
                containers_deleted: (!p.deleted.is_empty()).then_some(p.deleted),
                space_reclaimed: p.space_reclaimed,
            },
        ),
        Err(e) => from_engine(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_forms() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(
            parse_until("1h30m", now),
            DateTime::from_timestamp(1_700_000_000 - 5400, 0)
        );
        assert_eq!(
            parse_until("1600000000", now),
            DateTime::from_timestamp(1_600_000_000, 0)
        );
        assert_eq!(
            parse_until("2020-09-13T12:26:40Z", now),
            DateTime::from_timestamp(1_600_000_000, 0)
        );
        assert!(parse_until("2020-09-13", now).is_some());
        assert!(parse_until("soon", now).is_none());
        assert!(PruneFilters::parse(vec![("name".into(), "x".into())], now).is_err());
    }
}
