//! `GET /events` messages in Docker's shape (`events.Message`), shared by the daemon's event
//! bus and the CLI's `events` verb.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The object an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// One event. `status`, `id` and `from` are Docker's deprecated duplicates of
/// `Action`, `Actor.ID` and the image, still sent for old clients.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_dockers_shape() {
        let mut e = EventMessage {
            status: "die".into(),
            id: "abc".into(),
            from: "busybox".into(),
            kind: "container".into(),
            action: "die".into(),
            scope: "local".into(),
            time: 1,
            time_nano: 1_000_000_001,
            ..Default::default()
        };
        e.actor.id = "abc".into();
        e.actor.attributes.insert("exitCode".into(), "3".into());
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["Type"], "container");
        assert_eq!(v["Actor"]["ID"], "abc");
        assert_eq!(v["Actor"]["Attributes"]["exitCode"], "3");
        assert_eq!(v["timeNano"], 1_000_000_001i64);
        assert_eq!(v["from"], "busybox");
    }
}
