//! The runc-style state directory: `<root>/<id>/state.json` (what `state` prints plus
//! what `kill`/`delete` need) and `<root>/<id>/exec.fifo` (present while the container is
//! created but not started). The JSON layout is runc's, so tools reading it work:
//! `ociVersion, id, status, pid, bundle, rootfs, created, owner, annotations`, plus
//! rocker fields `cgroupsPath` and `startTime` (the init's /proc start time, which guards
//! against pid reuse). Written to a temp file and renamed, so it is never torn.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    pub status: Status,
    pub pid: i32,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    #[serde(default)]
    pub cgroups_path: PathBuf,
    #[serde(default)]
    pub start_time: u64,
}

pub fn container_dir(root: &Path, id: &str) -> Result<PathBuf> {
    if id.is_empty() || id.contains('/') || id == "." || id == ".." {
        bail!("invalid container id {id:?}");
    }
    Ok(root.join(id))
}

pub fn fifo_path(dir: &Path) -> PathBuf {
    dir.join("exec.fifo")
}

/// The start time (clock ticks since boot) of `pid`, or None if it does not exist.
pub fn proc_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces and parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

fn proc_is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')))
        .unwrap_or(true)
}

impl State {
    pub fn load(root: &Path, id: &str) -> Result<State> {
        let dir = container_dir(root, id)?;
        let text = std::fs::read_to_string(dir.join("state.json"))
            .with_context(|| format!("container {id} does not exist"))?;
        let mut state: State = serde_json::from_str(&text)
            .with_context(|| format!("parse state of container {id}"))?;
        state.status = state.current_status(&dir);
        Ok(state)
    }

    pub fn save(&self, root: &Path) -> Result<()> {
        let dir = container_dir(root, &self.id)?;
        let tmp = dir.join(".state.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self)?)
            .with_context(|| format!("write {}", tmp.display()))?;
        std::fs::rename(&tmp, dir.join("state.json"))
            .with_context(|| format!("rename {}", tmp.display()))?;
        Ok(())
    }

    /// True while the recorded init is the process with that pid.
    pub fn init_alive(&self) -> bool {
        self.pid > 0
            && proc_start_time(self.pid) == Some(self.start_time)
            && !proc_is_zombie(self.pid)
    }

    fn current_status(&self, dir: &Path) -> Status {
        if !self.init_alive() {
            Status::Stopped
        } else if fifo_path(dir).exists() {
            Status::Created
        } else if dir.join(super::pause::PAUSED_MARKER).exists() {
            Status::Paused
        } else {
            Status::Running
        }
    }
}
