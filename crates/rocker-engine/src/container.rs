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
    /// Running with its cgroup frozen (`docker pause`).
    Paused,
    Exited,
    Removing,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Exited => "exited",
            Status::Removing => "removing",
            Status::Dead => "dead",
        }
    }

    /// Whether the container's processes exist (running or paused).
    pub fn is_alive(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
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
                | (Running, Paused)
                | (Paused, Running)
                | (Paused, Exited)
                | (Created | Exited | Running | Paused | Dead, Removing)
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
    /// Exited, and its restart policy will start it again after a back-off.
    #[serde(default)]
    pub restarting: bool,
    /// The health check's state (health (P2)); None without a health check.
    #[serde(default)]
    pub health: Option<rocker_api::models::Health>,
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
            restarting: false,
            health: None, // health (P2)
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
    /// Stopped or killed by a user: `always` / `unless-stopped` leave it stopped until it is
    /// started again (Docker's "manually stopped").
    #[serde(default)]
    pub manually_stopped: bool,
    /// The current restart back-off in milliseconds (0: none yet).
    #[serde(default)]
    pub restart_delay_ms: u64,
    /// Volumes, binds and tmpfs mounts resolved at create (inspect's `Mounts`).
    #[serde(default)]
    pub mounts: Vec<rocker_api::models::MountPoint>,
    /// Networks the container joins at start, by network name, with what was asked for
    /// each (aliases, static address); `network connect/disconnect` change it.
    #[serde(default)]
    pub endpoints_config: std::collections::BTreeMap<String, rocker_api::models::EndpointSettings>,
    /// What is wired while it runs: namespace, endpoints, published ports.
    #[serde(default)]
    pub net: Option<crate::network::NetState>,
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

    #[test]
    fn pause_transitions() {
        let mut s = State::default();
        assert!(s.transition(Status::Paused).is_err());
        s.transition(Status::Running).unwrap();
        s.transition(Status::Paused).unwrap();
        assert!(s.status.is_alive());
        s.transition(Status::Running).unwrap();
        s.transition(Status::Paused).unwrap();
        s.transition(Status::Exited).unwrap();
        assert!(!s.status.is_alive());
        assert!(s.transition(Status::Paused).is_err());
        assert_eq!(
            serde_json::to_string(&Status::Paused).unwrap(),
            "\"paused\""
        );
    }
}
