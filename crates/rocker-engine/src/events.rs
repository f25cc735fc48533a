//! Container events (`GET /events`): an in-memory broadcast bus the lifecycle operations
//! publish to, plus a bounded history so `since` can replay recent events, and the filters
//! and time parsing of Docker's events API.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use rocker_api::models::{EventActor, EventMessage};
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::{lock, Engine, Record};

/// Events kept for `since` (Docker keeps the last 256 too).
const HISTORY: usize = 256;

/// The bus: live subscribers and the recent history.
pub struct EventBus {
    tx: broadcast::Sender<EventMessage>,
    history: Mutex<VecDeque<EventMessage>>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        EventBus {
            tx,
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
        }
    }
}

impl EventBus {
    /// Records and broadcasts an event.
    pub fn publish(&self, e: EventMessage) {
        // Under the history lock so a subscriber sees each event either in its snapshot of
        // the history or on its receiver, never both nor neither.
        let mut h = lock(&self.history);
        if h.len() == HISTORY {
            h.pop_front();
        }
        h.push_back(e.clone());
        let _ = self.tx.send(e);
    }

    /// The history so far and a receiver for every later event.
    pub fn subscribe(&self) -> (Vec<EventMessage>, broadcast::Receiver<EventMessage>) {
        let h = lock(&self.history);
        (h.iter().cloned().collect(), self.tx.subscribe())
    }
}

/// A container event for `rec`: attributes are its name, image and labels plus `extra`.
pub fn container_event(rec: &Record, action: &str, extra: &[(&str, String)]) -> EventMessage {
    let mut attributes: BTreeMap<String, String> = rec.config.labels.clone().unwrap_or_default();
    attributes.insert("image".into(), rec.config.image.clone());
    attributes.insert("name".into(), rec.name.clone());
    for (k, v) in extra {
        attributes.insert(k.to_string(), v.clone());
    }
    let now = chrono::Utc::now();
    let time_nano = now.timestamp_nanos_opt().unwrap_or(0);
    EventMessage {
        status: action.to_string(),
        id: rec.id.clone(),
        from: rec.config.image.clone(),
        kind: "container".into(),
        action: action.to_string(),
        actor: EventActor {
            id: rec.id.clone(),
            attributes,
        },
        scope: "local".into(),
        time: now.timestamp(),
        time_nano,
    }
}

impl Engine {
    /// The event bus.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Publishes a container event.
    pub(crate) fn emit(&self, rec: &Record, action: &str, extra: &[(&str, String)]) {
        self.events.publish(container_event(rec, action, extra));
    }

    /// A network event (`create`, `destroy`, `connect`, `disconnect`), as Docker sends them.
    pub(crate) fn emit_network(
        &self,
        net: &crate::network::NetworkRec,
        action: &str,
        container: Option<&str>,
    ) {
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), net.name.clone());
        attributes.insert("type".to_string(), net.driver.clone());
        if let Some(c) = container {
            attributes.insert("container".to_string(), c.to_string());
        }
        let now = chrono::Utc::now();
        self.events.publish(EventMessage {
            status: String::new(),
            id: String::new(),
            from: String::new(),
            kind: "network".into(),
            action: action.to_string(),
            actor: EventActor {
                id: net.id.clone(),
                attributes,
            },
            scope: "local".into(),
            time: now.timestamp(),
            time_nano: now.timestamp_nanos_opt().unwrap_or(0),
        });
    }
}

/// Docker's `filters` for events: `{"type":["container"],"event":["die"],...}` (or the old
/// `{"event":{"die":true}}` form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter(BTreeMap<String, Vec<String>>);

impl EventFilter {
    pub fn parse(json: &str) -> Result<EventFilter> {
        if json.trim().is_empty() {
            return Ok(EventFilter::default());
        }
        let bad = |e: &dyn std::fmt::Display| Error::invalid(format!("invalid filter: {e}"));
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(&e))?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad(&"filters must be an object"))?;
        let mut out = BTreeMap::new();
        for (k, v) in obj {
            if !matches!(
                k.as_str(),
                "type" | "event" | "container" | "image" | "label" | "scope"
            ) {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
            let values: Vec<String> = match v {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                serde_json::Value::Object(m) => m.keys().cloned().collect(),
                _ => return Err(bad(&format!("bad values for {k}"))),
            };
            out.insert(k.clone(), values);
        }
        Ok(EventFilter(out))
    }

    fn any(&self, key: &str, pred: impl Fn(&str) -> bool) -> bool {
        match self.0.get(key) {
            None => true,
            Some(vs) if vs.is_empty() => true,
            Some(vs) => vs.iter().any(|v| pred(v)),
        }
    }

    pub fn matches(&self, e: &EventMessage) -> bool {
        let attr = |k: &str| e.actor.attributes.get(k).map(String::as_str);
        self.any("type", |v| v == e.kind)
            && self.any("scope", |v| v == e.scope)
            && self.any("event", |v| {
                v == e.action || e.action.split_once(": ").is_some_and(|(a, _)| a == v)
            })
            && self.any("container", |v| {
                (!v.is_empty() && e.actor.id.starts_with(v)) || attr("name") == Some(v)
            })
            && self.any("image", |v| attr("image") == Some(v) || e.from == v)
            && self.any("label", |v| match v.split_once('=') {
                Some((k, val)) => attr(k) == Some(val),
                None => attr(v).is_some(),
            })
    }
}

/// Docker's `since`/`until` values as Unix nanoseconds: seconds (`1700000000`, optionally
/// with a fraction `1700000000.5`), RFC 3339, or a duration before `now` (`10m`, `1h30m`).
pub fn parse_time(s: &str, now_nanos: i64) -> Result<i64> {
    let s = s.trim();
    let bad = || Error::invalid(format!("invalid time value: {s}"));
    if let Some(d) = parse_duration(s) {
        return Ok(now_nanos - d);
    }
    if s.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        let mut nanos = 0i64;
        if !frac.is_empty() {
            let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
            nanos = digits.parse().map_err(|_| bad())?;
        }
        return Ok(secs.saturating_mul(1_000_000_000).saturating_add(nanos));
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .ok_or_else(bad)
}

/// Go-style durations made of `h`, `m`, `s`, `ms` parts; None when `s` is not one.
fn parse_duration(s: &str) -> Option<i64> {
    if s.is_empty() || !s.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "h" => 3600e9,
            "m" => 60e9,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Some(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(action: &str, name: &str) -> EventMessage {
        let mut e = EventMessage {
            kind: "container".into(),
            action: action.into(),
            scope: "local".into(),
            from: "busybox".into(),
            ..Default::default()
        };
        e.actor.id = "abcdef0123".into();
        e.actor.attributes.insert("name".into(), name.into());
        e.actor.attributes.insert("image".into(), "busybox".into());
        e.actor.attributes.insert("tier".into(), "web".into());
        e
    }

    #[test]
    fn filters_match_like_docker() {
        let f = EventFilter::parse(
            r#"{"type":["container"],"event":["die","exec_create"],"container":["x"]}"#,
        )
        .unwrap();
        assert!(f.matches(&ev("die", "x")));
        assert!(f.matches(&ev("exec_create: sh -c true", "x")));
        assert!(!f.matches(&ev("start", "x")));
        assert!(!f.matches(&ev("die", "y")));
        let f =
            EventFilter::parse(r#"{"container":{"abcdef":true},"label":["tier=web"]}"#).unwrap();
        assert!(f.matches(&ev("start", "y")));
        let f = EventFilter::parse(r#"{"label":["tier=db"]}"#).unwrap();
        assert!(!f.matches(&ev("start", "y")));
        assert!(EventFilter::parse("").unwrap().matches(&ev("start", "y")));
        assert_eq!(
            EventFilter::parse(r#"{"bogus":["x"]}"#)
                .unwrap_err()
                .message,
            "invalid filter 'bogus'"
        );
    }

    #[test]
    fn times_parse_like_docker() {
        let now = 2_000_000_000_000_000_000;
        assert_eq!(parse_time("0", now).unwrap(), 0);
        assert_eq!(parse_time("12", now).unwrap(), 12_000_000_000);
        assert_eq!(parse_time("12.5", now).unwrap(), 12_500_000_000);
        assert_eq!(parse_time("10m", now).unwrap(), now - 600_000_000_000);
        assert_eq!(parse_time("1h30m", now).unwrap(), now - 5_400_000_000_000);
        assert_eq!(
            parse_time("2001-09-09T01:46:40Z", now).unwrap(),
            1_000_000_000_000_000_000
        );
        assert!(parse_time("soon", now).is_err());
    }

    #[test]
    fn bus_replays_history_then_streams() {
        let bus = EventBus::default();
        bus.publish(ev("create", "x"));
        let (hist, mut rx) = bus.subscribe();
        assert_eq!(hist.len(), 1);
        bus.publish(ev("start", "x"));
        assert_eq!(rx.try_recv().unwrap().action, "start");
        for _ in 0..HISTORY + 5 {
            bus.publish(ev("kill", "x"));
        }
        assert_eq!(bus.subscribe().0.len(), HISTORY);
    }
}
