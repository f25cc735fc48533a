//! Operations on a container that leave its lifecycle alone: pause/unpause (the shim freezes
//! the container's cgroup), rename, and top (the host's `ps` filtered to the container's
//! cgroup). Kept apart from `lifecycle` so that file stays about start/stop/exit.

use std::collections::HashSet;

use rocker_shim_proto::{Request, Response};

use crate::container::Status;
use crate::error::{Error, Result};
use crate::{lock, names, shim, Engine, Entry};

/// `GET /containers/{id}/top`: `ps` column titles and one row per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopResult {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

impl Engine {
    /// `POST /containers/{id}/pause`.
    pub async fn pause(&self, id: &str) -> Result<()> {
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        match entry.status() {
            Status::Running => {}
            Status::Paused => {
                return Err(Error::conflict(format!(
                    "Container {} is already paused",
                    entry.id
                )))
            }
            _ => {
                return Err(Error::conflict(format!(
                    "Container {} is not running",
                    entry.id
                )))
            }
        }
        self.freeze(&entry, true).await
    }

    /// `POST /containers/{id}/unpause`.
    pub async fn unpause(&self, id: &str) -> Result<()> {
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        if entry.status() != Status::Paused {
            return Err(Error::conflict(format!(
                "Container {} is not paused",
                entry.id
            )));
        }
        self.freeze(&entry, false).await
    }

    /// Thaws a paused container before it is signalled (Docker does the same for stop and
    /// kill, so the process sees the signal). No-op for any other state.
    pub(crate) async fn thaw_if_paused(&self, entry: &Entry) -> Result<()> {
        if entry.status() != Status::Paused {
            return Ok(());
        }
        self.freeze(entry, false).await
    }

    /// Asks the shim to freeze or thaw, then records the new state.
    async fn freeze(&self, entry: &Entry, frozen: bool) -> Result<()> {
        let req = if frozen {
            Request::Pause
        } else {
            Request::Resume
        };
        match shim::call(&self.shim_dir(&entry.id), &req).await? {
            Response::Ok => {}
            Response::Error { message } => return Err(Error::conflict(message)),
            other => return Err(Error::internal(format!("unexpected shim answer {other:?}"))),
        }
        let next = if frozen {
            Status::Paused
        } else {
            Status::Running
        };
        let snapshot = {
            let mut r = lock(&entry.record);
            r.state.transition(next)?;
            r.clone()
        };
        self.persist(&snapshot)?;
        self.emit(&snapshot, if frozen { "pause" } else { "unpause" }, &[]);
        Ok(())
    }

    /// `POST /containers/{id}/rename?name=`.
    pub async fn rename(&self, id: &str, new_name: &str) -> Result<()> {
        if id.is_empty() || new_name.is_empty() {
            return Err(Error::invalid("Neither old nor new names may be empty"));
        }
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        let wanted = new_name.strip_prefix('/').unwrap_or(new_name);
        let old = lock(&entry.record).name.clone();
        if wanted == old {
            return Err(Error::invalid(
                "Renaming a container with the same name as its current name",
            ));
        }
        let allocating = |e: Error| {
            Error::new(
                e.kind,
                format!("Error when allocating new name: {}", e.message),
            )
        };
        let wanted = names::validate(&format!("/{wanted}")).map_err(allocating)?;
        {
            let mut cs = lock(&self.containers);
            if let Some(owner) = cs.names.get(&wanted) {
                return Err(allocating(Error::conflict(format!(
                    "Conflict. The container name \"/{wanted}\" is already in use by container \"{owner}\". You have to remove (or rename) that container to be able to reuse that name."
                ))));
            }
            cs.names.insert(wanted.clone(), entry.id.clone());
        }
        let snapshot = {
            let mut r = lock(&entry.record);
            r.name = wanted.clone();
            r.clone()
        };
        if let Err(e) = self.persist(&snapshot) {
            lock(&entry.record).name = old;
            lock(&self.containers).names.remove(&wanted);
            return Err(e);
        }
        {
            let mut cs = lock(&self.containers);
            if cs.names.get(&old) == Some(&entry.id) {
                cs.names.remove(&old);
            }
        }
        self.emit(&snapshot, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    /// `GET /containers/{id}/top?ps_args=`: the host's `ps` output, keeping the rows of the
    /// processes in the container's cgroup.
    pub async fn top(&self, id: &str, ps_args: Option<&str>) -> Result<TopResult> {
        let entry = self.lookup(id)?;
        if !entry.status().is_alive() {
            return Err(Error::conflict(format!(
                "Container {} is not running",
                entry.id
            )));
        }
        let pids = match shim::call(&self.shim_dir(&entry.id), &Request::Pids).await? {
            Response::Pids { pids } => pids,
            Response::Error { message } => return Err(Error::internal(message)),
            other => return Err(Error::internal(format!("unexpected shim answer {other:?}"))),
        };
        let args = ps_args.filter(|a| !a.trim().is_empty()).unwrap_or("-ef");
        let out = tokio::process::Command::new("ps")
            .args(args.split_whitespace())
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|e| Error::internal(format!("ps: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let first = stderr.lines().next().unwrap_or("").trim().to_string();
            let why = if first.is_empty() {
                out.status.to_string()
            } else {
                first
            };
            return Err(Error::internal(format!("ps: {why}")));
        }
        parse_ps(
            &String::from_utf8_lossy(&out.stdout),
            &pids.into_iter().collect(),
        )
    }
}

/// Docker's parsing of `ps` output: titles from the header, the `PID` column selects rows,
/// the last column keeps its spaces, thread lines (`-` pid) follow their process.
fn parse_ps(output: &str, pids: &HashSet<i32>) -> Result<TopResult> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect();
    let pid_index = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| Error::internal("Couldn't find PID field in ps output"))?;
    let mut processes = Vec::new();
    let mut in_container = false;
    for line in lines {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.len() < titles.len() {
            continue;
        }
        let pid = fields[pid_index];
        if pid == "-" {
            if in_container {
                processes.push(row(&fields, titles.len()));
            }
            continue;
        }
        let pid: i32 = pid
            .parse()
            .map_err(|e| Error::internal(format!("Unexpected pid '{pid}': {e}")))?;
        in_container = pids.contains(&pid);
        if in_container {
            processes.push(row(&fields, titles.len()));
        }
    }
    Ok(TopResult { titles, processes })
}

/// The first `columns - 1` fields, then the rest joined by spaces (the command line).
fn row(fields: &[&str], columns: usize) -> Vec<String> {
    let mut out: Vec<String> = fields[..columns - 1]
        .iter()
        .map(|f| f.to_string())
        .collect();
    out.push(fields[columns - 1..].join(" "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: &str = "UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 18:00 ?        00:00:01 /sbin/init splash
root        4242    4000  0 18:01 ?        00:00:00 sleep 1000
root        4243    4242  0 18:01 ?        00:00:00 sh -c echo  hi
";

    #[test]
    fn keeps_only_container_pids_and_joins_the_command() {
        let pids: HashSet<i32> = [4242, 4243].into_iter().collect();
        let top = parse_ps(PS, &pids).unwrap();
        assert_eq!(
            top.titles,
            ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        );
        assert_eq!(top.processes.len(), 2);
        assert_eq!(top.processes[0][1], "4242");
        assert_eq!(top.processes[0][7], "sleep 1000");
        assert_eq!(top.processes[1][7], "sh -c echo hi");
    }

    #[test]
    fn thread_lines_follow_their_process() {
        let out = "PID TID CMD\n10 - a\n- 11 -\n20 - b\n- 21 -\n";
        let pids: HashSet<i32> = [10].into_iter().collect();
        let top = parse_ps(out, &pids).unwrap();
        assert_eq!(
            top.processes,
            vec![vec!["10", "-", "a"], vec!["-", "11", "-"]]
        );
    }

    #[test]
    fn output_without_pid_column_is_an_error() {
        let err = parse_ps("USER CMD\nroot x\n", &HashSet::new()).unwrap_err();
        assert_eq!(err.message, "Couldn't find PID field in ps output");
    }
}
