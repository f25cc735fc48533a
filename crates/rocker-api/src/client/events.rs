//! `GET /events` for the CLI's `events` verb: a stream of JSON lines.

use std::collections::BTreeMap;

use hyper::Method;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};

use super::body::BodyReader;
use super::error::ClientError;
use super::{Client, Query};
use crate::models::EventMessage;

/// Options of `GET /events`.
#[derive(Debug, Clone, Default)]
pub struct EventsOptions {
    pub since: Option<String>,
    pub until: Option<String>,
    /// Docker's filters: key -> accepted values.
    pub filters: BTreeMap<String, Vec<String>>,
}

/// The daemon's events, one at a time.
pub struct EventStream {
    lines: Lines<BufReader<BodyReader>>,
}

impl EventStream {
    /// The next event, `None` when the daemon ends the stream.
    pub async fn next_event(&mut self) -> Result<Option<EventMessage>, ClientError> {
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .map_err(|source| ClientError::ReadBody {
                    path: "/events".into(),
                    source,
                })?;
            let Some(line) = line else { return Ok(None) };
            if line.trim().is_empty() {
                continue;
            }
            return serde_json::from_str(&line)
                .map(Some)
                .map_err(|source| ClientError::Decode {
                    path: "/events".into(),
                    source,
                });
        }
    }
}

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
        Ok(EventStream {
            lines: BufReader::new(BodyReader::new(resp.into_body())).lines(),
        })
    }
}
