//! `GET /events` for the CLI's `events` verb: a stream of JSON lines.

use std::collections::BTreeMap;

use super::body::{BodyReader, JsonLines};
use super::error::ClientError;
use super::{Client, Query};
use crate::models::EventMessage;
use hyper::Method;

/// Options of `GET /events`.
#[derive(Debug, Clone, Default)]
pub struct EventsOptions {
    pub since: Option<String>,
    pub until: Option<String>,
    /// Docker's filters: key -> accepted values.
    pub filters: BTreeMap<String, Vec<String>>,
}

/// The daemon's events, one at a time (`next_message`).
pub type EventStream = JsonLines<EventMessage>;

impl Client {
    /// `GET /events?since=&until=&filters=`.
    pub async fn events(&self, opts: &EventsOptions) -> Result<EventStream, ClientError> {
        let mut q = Query::new();
        if let Some(s) = &opts.since {
            q.push("since", s.clone());
        }
        if let Some(u) = &opts.until {
            q.push("until", u.clone());
        }
        if !opts.filters.is_empty() {
            let f = serde_json::to_string(&opts.filters).map_err(|source| ClientError::Encode {
                path: "/events".into(),
                source,
            })?;
            q.push("filters", f);
        }
        let resp = self.send(Method::GET, "/events", &q, None).await?;
        Ok(JsonLines::new(
            BodyReader::new(resp.into_body()),
            "/events".into(),
        ))
    }
}
