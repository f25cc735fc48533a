//! Docker's exec model: an exec instance is created for a running container
//! (`POST /containers/{id}/exec`), started once (`POST /exec/{id}/start`, attached or
//! detached), inspected (`GET /exec/{id}/json`) and resized. Records live in memory, as in
//! Docker, until their container is removed (pruned lazily). The process itself is run by
//! the container's shim: the engine builds its OCI process from the container's own
//! (capabilities, rlimits, no_new_privs, env) plus the exec's overrides, and the shim's
//! connection becomes the exec's stdio stream.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rand::RngCore;
use rocker_api::models::{ExecConfig, ExecInspect, ExecProcessConfig, ExecStartConfig};
use rocker_shim_proto::{AttachStreams, Request, Response, SOCKET_FILE};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::error::{Error, Kind, Result};
use crate::spec::ALL_CAPS;
use crate::{lock, spec, user, Engine, Status};

/// Exit code recorded when the shim vanished before reporting the exec's exit (the exec
/// died with its container).
const KILLED_WITH_CONTAINER: i32 = 137;

/// One exec instance.
#[derive(Debug, Clone)]
struct ExecRecord {
    id: String,
    container_id: String,
    config: ExecConfig,
    started: bool,
    running: bool,
    exit_code: Option<i32>,
    pid: i32,
}

/// The in-memory exec records of every container.
#[derive(Default)]
pub struct ExecStore {
    map: Mutex<HashMap<String, ExecRecord>>,
}

/// What starting an exec gave.
pub enum ExecStarted {
    /// The process runs; the stream carries its stdio (stdcopy frames unless `tty`). When
    /// the stream ends, call [`Engine::exec_finished`] before closing the client.
    Attached { stream: UnixStream, tty: bool },
    /// Detached: the process runs on its own.
    Detached,
    /// The process could not be started: Docker writes this message into the stream (its
    /// exit code, 126 / 127, is recorded for inspect).
    Failed { message: String, tty: bool },
}

/// The OCI process for an exec: the container's process as the template, the exec's
/// command, environment, working directory, user, terminal and privileges on top.
fn exec_process(
    template: &Value,
    cfg: &ExecConfig,
    tty: bool,
    console_size: Option<[u32; 2]>,
    user: Option<&user::User>,
) -> Value {
    let mut p = match template {
        Value::Object(_) => template.clone(),
        _ => json!({"cwd": "/", "user": {"uid": 0, "gid": 0}}),
    };
    p["args"] = json!(cfg.cmd.clone().unwrap_or_default());
    let base: Vec<String> = p["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut env = spec::merge_env(&base, cfg.env.as_deref().unwrap_or_default());
    if tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    p["env"] = json!(env);
    if !cfg.working_dir.is_empty() {
        p["cwd"] = json!(cfg.working_dir);
    }
    if let Some(u) = user {
        let mut uj = json!({"uid": u.uid, "gid": u.gid});
        if !u.additional_gids.is_empty() {
            uj["additionalGids"] = json!(u.additional_gids);
        }
        p["user"] = uj;
    }
    p["terminal"] = json!(tty);
    match console_size {
        Some([h, w]) if tty && h > 0 && w > 0 => {
            p["consoleSize"] = json!({"height": h, "width": w});
        }
        _ => {
            if let Value::Object(m) = &mut p {
                m.remove("consoleSize");
            }
        }
    }
    if cfg.privileged {
        let all = json!(ALL_CAPS);
        p["capabilities"] = json!({
            "bounding": all, "effective": all, "permitted": all, "inheritable": all,
        });
    }
    p
}

fn no_such_exec(id: &str) -> Error {
    Error::not_found(format!("No such exec instance: {id}"))
}

async fn shim_request(state_dir: &Path, req: &Request) -> Result<(UnixStream, Response)> {
    let mut conn = UnixStream::connect(state_dir.join(SOCKET_FILE))
        .await
        .map_err(|e| Error::internal(format!("connecting to container shim: {e}")))?;
    let frame = rocker_shim_proto::encode(req).map_err(|e| Error::internal(e.to_string()))?;
    conn.write_all(&frame).await?;
    let len = conn.read_u32().await?;
    if len > rocker_shim_proto::MAX_MESSAGE {
        return Err(Error::internal("oversized message from container shim"));
    }
    let mut body = vec![0u8; len as usize];
    conn.read_exact(&mut body).await?;
    let resp = serde_json::from_slice(&body)
        .map_err(|e| Error::internal(format!("bad shim response: {e}")))?;
    Ok((conn, resp))
}

impl Engine {
    fn exec_record(&self, id: &str) -> Result<ExecRecord> {
        lock(&self.execs.map)
            .get(id)
            .cloned()
            .ok_or_else(|| no_such_exec(id))
    }

    fn update_exec(&self, id: &str, f: impl FnOnce(&mut ExecRecord)) {
        if let Some(r) = lock(&self.execs.map).get_mut(id) {
            f(r);
        }
    }

    /// `POST /containers/{id}/exec`: returns the new exec's id.
    pub fn exec_create(&self, container: &str, cfg: ExecConfig) -> Result<String> {
        let entry = self.lookup(container)?;
        if entry.status() != Status::Running {
            return Err(Error::conflict(format!(
                "Container {} is not running",
                entry.id
            )));
        }
        if cfg.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return Err(Error::invalid("No exec command specified"));
        }
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let action = format!(
            "exec_create: {}",
            cfg.cmd.as_deref().unwrap_or_default().join(" ")
        );
        let mut map = lock(&self.execs.map);
        // Docker keeps execs until their container is removed: prune those of removed ones.
        map.retain(|_, r| self.lookup(&r.container_id).is_ok());
        map.insert(
            id.clone(),
            ExecRecord {
                id: id.clone(),
                container_id: entry.id.clone(),
                config: cfg,
                started: false,
                running: false,
                exit_code: None,
                pid: 0,
            },
        );
        drop(map);
        self.emit(&entry.record(), &action, &[("execID", id.clone())]);
        Ok(id)
    }

    /// `POST /exec/{id}/start`.
    pub async fn exec_start(
        self: &Arc<Self>,
        exec_id: &str,
        start: &ExecStartConfig,
    ) -> Result<ExecStarted> {
        let rec = {
            let mut map = lock(&self.execs.map);
            let r = map.get_mut(exec_id).ok_or_else(|| no_such_exec(exec_id))?;
            if r.started {
                return Err(Error::conflict(format!(
                    "Exec command {exec_id} is already running"
                )));
            }
            r.started = true;
            r.clone()
        };
        let entry = self.lookup(&rec.container_id)?;
        let crec = entry.record();
        if crec.state.status != Status::Running {
            return Err(Error::conflict(format!(
                "Container {} is not running",
                crec.id
            )));
        }
        let cfg = &rec.config;
        let tty = cfg.tty;
        let detach = start.detach || cfg.detach;
        let usr = if cfg.user.is_empty() {
            None
        } else {
            let image = self
                .images
                .resolve(&crec.image_id)
                .map_err(|e| Error::internal(format!("image of container {}: {e}", crec.id)))?;
            let lowerdirs = self
                .images
                .lowerdirs(&image)
                .map_err(|e| Error::internal(format!("image layers: {e}")))?;
            Some(user::resolve(&cfg.user, &lowerdirs)?)
        };
        let bundle = self.container_dir(&crec.id).join("config.json");
        let container_spec: Value = serde_json::from_slice(&std::fs::read(&bundle)?)?;
        let process = exec_process(
            &container_spec["process"],
            cfg,
            tty,
            start.console_size.or(cfg.console_size),
            usr.as_ref(),
        );
        let state_dir = self.shim_dir(&crec.id);
        let req = Request::Exec {
            exec_id: exec_id.to_string(),
            process,
            tty,
            attach: AttachStreams {
                stdin: cfg.attach_stdin,
                stdout: cfg.attach_stdout,
                stderr: cfg.attach_stderr,
            },
            detach,
        };
        let (stream, resp) = shim_request(&state_dir, &req).await?;
        match resp {
            Response::ExecStarted { pid } => {
                self.update_exec(exec_id, |r| {
                    r.running = true;
                    r.pid = pid;
                });
                let action = format!(
                    "exec_start: {}",
                    cfg.cmd.as_deref().unwrap_or_default().join(" ")
                );
                self.emit(&crec, &action, &[("execID", exec_id.to_string())]);
                if detach {
                    drop(stream);
                    let (engine, id) = (self.clone(), exec_id.to_string());
                    tokio::spawn(async move { engine.exec_finished(&id).await });
                    return Ok(ExecStarted::Detached);
                }
                Ok(ExecStarted::Attached { stream, tty })
            }
            Response::ExecFailed { message, exit_code } => {
                self.update_exec(exec_id, |r| {
                    r.running = false;
                    r.exit_code = Some(exit_code);
                });
                let message = format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: {message}: unknown"
                );
                if detach {
                    return Err(Error::new(Kind::Internal, message));
                }
                Ok(ExecStarted::Failed { message, tty })
            }
            Response::Error { message } => {
                self.update_exec(exec_id, |r| r.started = false);
                Err(Error::conflict(message))
            }
            other => Err(Error::internal(format!("unexpected shim answer {other:?}"))),
        }
    }

    /// Waits for the exec's process to exit and records its exit code (at once after an
    /// attached stream ended: the shim closes it only after the exit).
    pub async fn exec_finished(&self, exec_id: &str) {
        let Ok(rec) = self.exec_record(exec_id) else {
            return;
        };
        let state_dir = self.shim_dir(&rec.container_id);
        let req = Request::ExecWait {
            exec_id: exec_id.to_string(),
        };
        let code = match shim_request(&state_dir, &req).await {
            Ok((_, Response::Exited(exit))) => exit.exit_code,
            _ => KILLED_WITH_CONTAINER,
        };
        self.update_exec(exec_id, |r| {
            r.running = false;
            r.exit_code = Some(code);
        });
    }

    /// Drops an exec record (health (P2): probes are not kept, as in Docker).
    pub(crate) fn exec_forget(&self, exec_id: &str) {
        lock(&self.execs.map).remove(exec_id);
    }

    /// `GET /exec/{id}/json`.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect> {
        let r = self.exec_record(exec_id)?;
        if self.lookup(&r.container_id).is_err() {
            return Err(no_such_exec(exec_id));
        }
        let cmd = r.config.cmd.clone().unwrap_or_default();
        Ok(ExecInspect {
            id: r.id.clone(),
            running: r.running,
            exit_code: r.exit_code,
            process_config: ExecProcessConfig {
                tty: r.config.tty,
                entrypoint: cmd.first().cloned().unwrap_or_default(),
                arguments: cmd.iter().skip(1).cloned().collect(),
                privileged: Some(r.config.privileged),
                user: (!r.config.user.is_empty()).then(|| r.config.user.clone()),
            },
            open_stdin: r.config.attach_stdin,
            open_stderr: r.config.attach_stderr,
            open_stdout: r.config.attach_stdout,
            can_remove: false,
            container_id: r.container_id.clone(),
            detach_keys: r.config.detach_keys.clone(),
            pid: r.pid,
        })
    }

    /// `POST /exec/{id}/resize`.
    pub async fn exec_resize(&self, exec_id: &str, height: u16, width: u16) -> Result<()> {
        let r = self.exec_record(exec_id)?;
        if !r.running {
            return Err(Error::conflict(format!("Exec {exec_id} is not running")));
        }
        let req = Request::ExecResize {
            exec_id: exec_id.to_string(),
            height,
            width,
        };
        match shim_request(&self.shim_dir(&r.container_id), &req).await? {
            (_, Response::Ok) => Ok(()),
            (_, Response::Error { message }) => Err(Error::invalid(message)),
            (_, other) => Err(Error::internal(format!("unexpected shim answer {other:?}"))),
        }
    }

    /// The ids of a container's execs that have not exited (container inspect's `ExecIDs`,
    /// as Docker: finished ones stay inspectable but leave this list; `None` when empty).
    pub fn exec_ids(&self, container_id: &str) -> Option<Vec<String>> {
        let ids: Vec<String> = lock(&self.execs.map)
            .values()
            .filter(|r| r.container_id == container_id && r.exit_code.is_none())
            .map(|r| r.id.clone())
            .collect();
        (!ids.is_empty()).then_some(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Value {
        json!({
            "args": ["sleep", "100"],
            "env": ["PATH=/bin", "A=1"],
            "cwd": "/srv",
            "user": {"uid": 0, "gid": 0},
            "capabilities": {"bounding": ["CAP_CHOWN"]},
            "noNewPrivileges": true,
        })
    }

    #[test]
    fn exec_process_overrides_the_container_process() {
        let cfg = ExecConfig {
            cmd: Some(vec!["echo".into(), "hi".into()]),
            env: Some(vec!["A=2".into(), "B=3".into()]),
            working_dir: "/tmp".into(),
            ..Default::default()
        };
        let u = user::User {
            uid: 1000,
            gid: 100,
            additional_gids: vec![10],
            home: None,
        };
        let p = exec_process(&template(), &cfg, true, Some([24, 80]), Some(&u));
        assert_eq!(p["args"], json!(["echo", "hi"]));
        assert_eq!(p["env"], json!(["PATH=/bin", "A=2", "B=3", "TERM=xterm"]));
        assert_eq!(p["cwd"], "/tmp");
        assert_eq!(
            p["user"],
            json!({"uid": 1000, "gid": 100, "additionalGids": [10]})
        );
        assert_eq!(p["terminal"], true);
        assert_eq!(p["consoleSize"], json!({"height": 24, "width": 80}));
        assert_eq!(p["capabilities"]["bounding"], json!(["CAP_CHOWN"]));
        assert_eq!(p["noNewPrivileges"], true);
    }

    #[test]
    fn defaults_and_privileged() {
        let cfg = ExecConfig {
            cmd: Some(vec!["id".into()]),
            privileged: true,
            ..Default::default()
        };
        let p = exec_process(&template(), &cfg, false, Some([24, 80]), None);
        assert_eq!(p["cwd"], "/srv");
        assert_eq!(p["user"], json!({"uid": 0, "gid": 0}));
        assert_eq!(p["terminal"], false);
        assert!(p.get("consoleSize").is_none());
        assert_eq!(
            p["capabilities"]["effective"].as_array().map(Vec::len),
            Some(ALL_CAPS.len())
        );
    }
}
