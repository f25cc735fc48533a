//! `events`: the daemon's event stream in Docker's one-line text format.

use chrono::{DateTime, Local, Offset};
use clap::Args;
use rocker_api::client::EventsOptions;
use rocker_api::models::EventMessage;
use rocker_api::Client;

use crate::exit::StatusError;

/// Get real time events from the server
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Show all events created since timestamp
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided
    #[arg(short, long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
}

/// Docker's `RFC3339NanoFixed` in local time (`Z` for UTC).
fn timestamp(e: &EventMessage) -> String {
    let nanos = if e.time_nano != 0 {
        e.time_nano
    } else {
        e.time.saturating_mul(1_000_000_000)
    };
    let t: DateTime<Local> = DateTime::from_timestamp_nanos(nanos).with_timezone(&Local);
    if t.offset().fix().local_minus_utc() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.9f%:z").to_string()
    }
}

/// `<time> <type> <action> <id> (k=v, ...)`, attributes sorted by key.
fn format_event(e: &EventMessage) -> String {
    let mut out = format!("{} {} {} {}", timestamp(e), e.kind, e.action, e.actor.id);
    if !e.actor.attributes.is_empty() {
        let attrs: Vec<String> = e
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        out.push_str(&format!(" ({})", attrs.join(", ")));
    }
    out
}

pub async fn run(client: &Client, args: EventsArgs) -> anyhow::Result<i32> {
    let mut opts = EventsOptions {
        since: args.since,
        until: args.until,
        ..Default::default()
    };
    for f in &args.filter {
        let Some((k, v)) = f.split_once('=') else {
            return Err(StatusError::fail(
                125,
                format!("invalid argument \"{f}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"),
            ));
        };
        opts.filters
            .entry(k.trim().to_lowercase())
            .or_default()
            .push(v.to_string());
    }
    let mut stream = client.events(&opts).await?;
    while let Some(e) = stream.next_message().await? {
        println!("{}", format_event(&e));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_docker() {
        let mut e = EventMessage {
            kind: "container".into(),
            action: "die".into(),
            time_nano: 1_700_000_000_123_456_789,
            ..Default::default()
        };
        e.actor.id = "abc".into();
        e.actor.attributes.insert("name".into(), "x".into());
        e.actor.attributes.insert("exitCode".into(), "0".into());
        let line = format_event(&e);
        assert!(
            line.ends_with(" container die abc (exitCode=0, name=x)"),
            "{line}"
        );
        assert!(line.contains(".123456789"), "{line}");
    }
}
