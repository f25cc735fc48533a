//! A container as the engine keeps it: Docker's Config and HostConfig as created, and an
//! explicit state machine for its lifecycle. The whole record is one JSON document in the
//! `containers` table (see [`crate::db`]).

use rocker_api::models::{ContainerConfig, HostConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Lifecycle of a container. Transitions are checked by [`Status::can_become`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
    Removing,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Removing => "removing",
            Status::Dead => "dead",
        }
    }

    /// Whether the state machine allows `self -> next`.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Created, Running)
                | (Created, Exited)
                | (Exited, Running)
                | (Running, Exited)
                | (Created | Exited | Running | Dead, Removing)
                | (Removing, Dead)
                | (_, Dead)
        )
    }
}

/// Runtime state, as shown in `inspect`'s `State`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    pub oom_killed: bool,
    /// RFC 3339 nano, or empty when never started.
    pub started_at: String,
    /// RFC 3339 nano, or empty when it has not finished.
    pub finished_at: String,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            oom_killed: false,
            started_at: String::new(),
            finished_at: String::new(),
        }
    }
}

impl State {
    /// Moves to `next`, refusing transitions the state machine does not have.
    pub fn transition(&mut self, next: Status) -> Result<()> {
        if !self.status.can_become(next) {
            return Err(Error::internal(format!(
                "container state cannot go from {} to {}",
                self.status.as_str(),
                next.as_str()
            )));
        }
        self.status = next;
        Ok(())
    }
}

/// A container record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// Without the leading slash.
    pub name: String,
    /// RFC 3339 nano.
    pub created: String,
    /// `sha256:…` of the image config.
    pub image_id: String,
    /// The effective config (image defaults merged in), as `inspect` shows it.
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    /// The process started: `Path` and `Args` of inspect.
    pub path: String,
    pub args: Vec<String>,
    pub state: State,
    pub restart_count: i64,
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_transitions() {
        let mut s = State::default();
        s.transition(Status::Running).unwrap();
        s.transition(Status::Exited).unwrap();
        s.transition(Status::Running).unwrap();
        s.transition(Status::Exited).unwrap();
        s.transition(Status::Removing).unwrap();
        assert!(s.transition(Status::Running).is_err());
        assert!(Status::Created.can_become(Status::Running));
        assert!(!Status::Running.can_become(Status::Created));
    }
}
