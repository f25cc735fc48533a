//! Container lifecycle: create, start, stop, kill, remove, wait, attach, and the recording of
//! exits reported by shims. Every operation that changes a container holds its `op` lock;
//! exits are recorded without it (a stop waits for the exit while holding the lock).

use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use rocker_api::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use rocker_shim_proto::{AttachStreams, ExitRecord, ShimConfig};
use serde_json::json;
use tokio::net::UnixStream;

use crate::container::{now_rfc3339, Record, State, Status};
use crate::error::{Error, Kind, Result};
use crate::{lock, names, shim, spec, user, Engine, Entry};

/// Docker's `condition` for `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl std::str::FromStr for WaitCondition {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            other => Err(Error::invalid(format!("invalid condition: \"{other}\""))),
        }
    }
}

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_SHM: u64 = 64 << 20;

/// The image's config merged under the user's, as Docker does at create.
fn effective_config(mut cfg: ContainerConfig, image: &ContainerConfig) -> ContainerConfig {
    let image_env = image.env.clone().unwrap_or_default();
    let env = spec::merge_env(&image_env, cfg.env.as_deref().unwrap_or(&[]));
    cfg.env = Some(env);
    // A user entrypoint resets the image's cmd, as in Docker.
    if cfg.entrypoint.is_none() {
        cfg.entrypoint = image.entrypoint.clone();
        if cfg.cmd.is_none() {
            cfg.cmd = image.cmd.clone();
        }
    }
    if cfg.working_dir.is_empty() {
        cfg.working_dir = image.working_dir.clone();
    }
    if cfg.user.is_empty() {
        cfg.user = image.user.clone();
    }
    if cfg.stop_signal.is_none() {
        cfg.stop_signal = image.stop_signal.clone();
    }
    if cfg.healthcheck.is_none() {
        cfg.healthcheck = image.healthcheck.clone();
    }
    let mut labels = image.labels.clone().unwrap_or_default();
    labels.extend(cfg.labels.take().unwrap_or_default());
    cfg.labels = Some(labels);
    let mut ports = image.exposed_ports.clone().unwrap_or_default();
    ports.extend(cfg.exposed_ports.take().unwrap_or_default());
    cfg.exposed_ports = (!ports.is_empty()).then_some(ports);
    let mut vols = image.volumes.clone().unwrap_or_default();
    vols.extend(cfg.volumes.take().unwrap_or_default());
    cfg.volumes = (!vols.is_empty()).then_some(vols);
    cfg
}

fn validate_host_config(hc: &HostConfig) -> Result<()> {
    if hc.memory != 0 && hc.memory < 6 << 20 {
        return Err(Error::invalid("Minimum memory limit allowed is 6MB"));
    }
    if hc.memory_swap > 0 && hc.memory > 0 && hc.memory_swap < hc.memory {
        return Err(Error::invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if hc.nano_cpus != 0 && (hc.cpu_quota != 0 || hc.cpu_period != 0) {
        return Err(Error::invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    if hc.nano_cpus < 0 {
        return Err(Error::invalid(
            "Range of CPUs is from 0.01 to the number of CPUs available",
        ));
    }
    if hc.cpu_period != 0 && !(1000..=1_000_000).contains(&hc.cpu_period) {
        return Err(Error::invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if hc.cpu_quota > 0 && hc.cpu_quota < 1000 {
        return Err(Error::invalid(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    if hc.shm_size < 0 {
        return Err(Error::invalid("SHM size can not be less than 0"));
    }
    let rp = &hc.restart_policy;
    if rp.name == "always" || rp.name == "unless-stopped" || rp.name == "on-failure" {
        if hc.auto_remove {
            return Err(Error::invalid(
                "can't create 'AutoRemove' container with restart policy",
            ));
        }
    } else if !rp.name.is_empty() && rp.name != "no" {
        return Err(Error::invalid(format!(
            "invalid restart policy '{}'",
            rp.name
        )));
    }
    crate::log_opts::validate(&hc.log_config)?;
    crate::security::validate(hc)
}

fn resources(hc: &HostConfig) -> spec::Resources {
    let mut r = spec::Resources::default();
    if hc.memory > 0 {
        r.memory = Some(hc.memory);
        r.memory_swap = match hc.memory_swap {
            0 => Some(hc.memory * 2),
            s => Some(s),
        };
    }
    if hc.cpu_shares > 0 {
        r.cpu_shares = Some(hc.cpu_shares as u64);
    }
    if hc.nano_cpus > 0 {
        let period: u64 = 100_000;
        r.cpu_period = Some(period);
        r.cpu_quota = Some((hc.nano_cpus as u128 * period as u128 / 1_000_000_000) as i64);
    } else {
        if hc.cpu_period > 0 {
            r.cpu_period = Some(hc.cpu_period as u64);
        }
        if hc.cpu_quota != 0 {
            r.cpu_quota = Some(hc.cpu_quota);
        }
    }
    if let Some(p) = hc.pids_limit {
        if p > 0 {
            r.pids_limit = Some(p);
        }
    }
    r
}

impl Engine {
    /// `POST /containers/create`.
    pub async fn create(&self, name: Option<&str>, body: ContainerCreateBody) -> Result<Record> {
        let ContainerCreateBody {
            config,
            host_config,
            networking_config,
        } = body;
        let mut host_config = host_config.unwrap_or_default();
        // Daemon defaults Docker records at create, which clients read back (docker-py
        // only reads logs of a json-file container).
        if host_config.log_config.r#type.is_empty() {
            host_config.log_config.r#type = "json-file".into();
        }
        if host_config.shm_size == 0 {
            host_config.shm_size = DEFAULT_SHM as i64;
        }
        if config.image.is_empty() {
            return Err(Error::invalid("Config.Image must be set"));
        }
        validate_host_config(&host_config)?;
        let endpoints_config = self.plan_endpoints(&mut host_config, networking_config)?;
        let image = self
            .images
            .resolve(&config.image)
            .map_err(|e| match e.kind() {
                rocker_image::ErrorKind::NotFound => {
                    Error::not_found(format!("No such image: {}", config.image))
                }
                _ => Error::internal(e.to_string()),
            })?;
        let image_cfg: ContainerConfig = image.container_config().unwrap_or_default();
        let cfg = effective_config(config, &image_cfg);
        let mut args: Vec<String> = cfg.entrypoint.clone().unwrap_or_default();
        args.extend(cfg.cmd.clone().unwrap_or_default());
        if args.is_empty() || args[0].is_empty() {
            return Err(Error::invalid("No command specified"));
        }

        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let mut cfg = cfg;
        if cfg.hostname.is_empty() {
            cfg.hostname = id[..12].to_string();
        }
        let name = self.reserve_name(name, &id)?;
        let crate::mounts::Resolved {
            mounts,
            created: made_volumes,
        } = self
            .resolve_mounts(&host_config, &cfg, &image)
            .inspect_err(|_| drop(lock(&self.containers).names.remove(&name)))?; // volumes (N3)
        let rec = Record {
            id: id.clone(),
            name: name.clone(),
            created: now_rfc3339(),
            image_id: image.id.clone(),
            config: cfg,
            host_config,
            path: args[0].clone(),
            args: args[1..].to_vec(),
            state: State::default(),
            restart_count: 0,
            manually_stopped: false,
            restart_delay_ms: 0,
            mounts, // volumes (N3)
            endpoints_config,
            net: None,
        };
        let made = self
            .make_container_dir(&rec)
            .and_then(|()| self.persist(&rec));
        if let Err(e) = made {
            let _ = std::fs::remove_dir_all(self.container_dir(&id));
            self.release_mounts(&made_volumes); // volumes (N3)
            lock(&self.containers).names.remove(&name);
            return Err(e);
        }
        lock(&self.containers)
            .by_id
            .insert(id.clone(), Entry::new(rec.clone()));
        self.emit(&rec, "create", &[]);
        Ok(rec)
    }

    fn reserve_name(&self, name: Option<&str>, id: &str) -> Result<String> {
        let mut cs = lock(&self.containers);
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            let n = names::validate(n)?;
            if let Some(owner) = cs.names.get(&n) {
                return Err(Error::conflict(format!(
                    "Conflict. The container name \"/{n}\" is already in use by container \"{owner}\". You have to remove (or rename) that container to be able to reuse that name."
                )));
            }
            cs.names.insert(n.clone(), id.to_string());
            return Ok(n);
        }
        for attempt in 0..100 {
            let n = names::generate(attempt / 10);
            if !cs.names.contains_key(&n) {
                cs.names.insert(n.clone(), id.to_string());
                return Ok(n);
            }
        }
        Err(Error::internal(
            "could not generate a unique container name",
        ))
    }

    fn make_container_dir(&self, rec: &Record) -> Result<()> {
        let dir = self.container_dir(&rec.id);
        for sub in ["rootfs", "upper", "work"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        std::fs::write(dir.join("hostname"), format!("{}\n", rec.config.hostname))?;
        // Written again at each start, when the addresses are known.
        let hosts =
            rocker_net::files::hosts(&rec.config.hostname, &rec.config.domainname, &[], &[]);
        std::fs::write(dir.join("hosts"), hosts)?;
        std::fs::write(dir.join("resolv.conf"), "")?;
        Ok(())
    }

    /// `POST /containers/{id}/start`.
    pub async fn start(self: &Arc<Self>, id: &str) -> Result<()> {
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        self.reset_restart(&entry)?;
        self.start_locked(&entry).await
    }

    /// Starts a created or exited container; the caller holds its `op` lock.
    pub(crate) async fn start_locked(self: &Arc<Self>, entry: &Arc<Entry>) -> Result<()> {
        let rec = entry.record();
        match rec.state.status {
            Status::Running => {
                return Err(Error::new(Kind::NotModified, "container already started"))
            }
            Status::Removing | Status::Dead => {
                return Err(Error::conflict(format!(
                    "cannot start container {}: it is being removed",
                    rec.id
                )))
            }
            Status::Paused => {
                return Err(Error::conflict(
                    "cannot start a paused container, try unpause instead",
                ))
            }
            Status::Created | Status::Exited => {}
        }
        let plan = match self.net_up(&rec).await {
            Ok(p) => p,
            Err(e) => {
                self.fail_start(entry, 128, &e.message);
                self.remove_if_auto(&rec);
                return Err(e);
            }
        };
        let net_state = plan.state.clone();
        let prepared = self.prepare_start(&rec, &plan.ns);
        let (shim_cfg, _) = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.net_down(&rec.id, plan.state);
                return Err(e);
            }
        };
        let mut pending: Vec<(AttachStreams, StdUnixStream)> =
            std::mem::take(&mut *lock(&entry.pending_attach));
        let first = if pending.is_empty() {
            None
        } else {
            Some(pending.remove(0))
        };
        let mut shim_cfg = shim_cfg;
        shim_cfg.initial_attach = first.as_ref().map(|(s, _)| *s);
        let started = shim::spawn(&self.cfg.shim_bin, &shim_cfg, first.map(|(_, sock)| sock)).await;
        let started = match started {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&shim_cfg.state_dir);
                self.net_down(&rec.id, net_state);
                self.fail_start(entry, 128, &e.message);
                return Err(e);
            }
        };
        match started {
            shim::Started::Running { pid } => {
                let snapshot = {
                    let mut r = lock(&entry.record);
                    r.state.transition(Status::Running)?;
                    r.state.pid = pid;
                    r.state.exit_code = 0;
                    r.state.error.clear();
                    r.state.oom_killed = false;
                    r.state.started_at = now_rfc3339();
                    r.state.finished_at.clear();
                    r.net = net_state;
                    r.clone()
                };
                self.persist(&snapshot)?;
                self.emit(&snapshot, "start", &[]);
                self.spawn_watcher(entry.clone());
                // health (P2)
                self.start_health(entry, true);
                // Late attachers beyond the first are joined to the running container.
                for (streams, sock) in pending {
                    let dir = shim_cfg.state_dir.clone();
                    tokio::spawn(async move {
                        if let Ok(conn) = shim::attach(&dir, streams).await {
                            if let Ok(sock) = sock
                                .set_nonblocking(true)
                                .and_then(|()| UnixStream::from_std(sock))
                            {
                                splice(conn, sock).await;
                            }
                        }
                    });
                }
                Ok(())
            }
            shim::Started::Failed { message, exit_code } => {
                let _ = std::fs::remove_dir_all(&shim_cfg.state_dir);
                self.net_down(&rec.id, net_state);
                self.fail_start(entry, exit_code, &message);
                self.remove_if_auto(&rec);
                let kind = if exit_code == 126 || exit_code == 127 {
                    Kind::InvalidArgument
                } else {
                    Kind::Internal
                };
                Err(Error::new(
                    kind,
                    format!("failed to create task for container: {message}: unknown"),
                ))
            }
        }
    }

    /// Docker removes an auto-remove container whose start failed.
    fn remove_if_auto(self: &Arc<Self>, rec: &Record) {
        if rec.host_config.auto_remove {
            let engine = self.clone();
            let id = rec.id.clone();
            tokio::spawn(async move {
                let _ = engine.remove(&id, true).await;
            });
        }
    }

    fn fail_start(&self, entry: &Entry, exit_code: i32, message: &str) {
        let snapshot = {
            let mut r = lock(&entry.record);
            r.state.exit_code = exit_code;
            r.state.error = message.to_string();
            r.clone()
        };
        let _ = self.persist(&snapshot);
        self.release_volume_mounts(&entry.id, &snapshot.mounts); // volumes (N3)
    }

    /// Writes the OCI bundle and the shim's configuration for a start.
    fn prepare_start(&self, rec: &Record, netns: &spec::NetNs) -> Result<(ShimConfig, PathBuf)> {
        let image = self
            .images
            .resolve(&rec.image_id)
            .map_err(|e| Error::internal(format!("image of container {}: {e}", rec.id)))?;
        let lowerdirs = self
            .images
            .lowerdirs(&image)
            .map_err(|e| Error::internal(format!("image layers: {e}")))?;
        let usr = user::resolve(&rec.config.user, &lowerdirs)?;
        let dir = self.container_dir(&rec.id);
        let hc = &rec.host_config;
        let mut env = rec.config.env.clone().unwrap_or_default();
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.insert(0, DEFAULT_PATH.to_string());
        }
        env = spec::merge_env(&[format!("HOSTNAME={}", rec.config.hostname)], &env);
        if rec.config.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
            env.push("TERM=xterm".into());
        }
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!(
                "HOME={}",
                usr.home.clone().unwrap_or_else(|| "/".into())
            ));
        }
        let mut args = vec![rec.path.clone()];
        args.extend(rec.args.iter().cloned());
        // --init (P5): the static init as PID 1, mounted read-only at /sbin/docker-init.
        let with_init = crate::init::wanted(hc.init, self.cfg.init);
        if with_init {
            args = crate::init::wrap_args(args);
        }
        let input = spec::SpecInput {
            rootfs: dir.join("rootfs"),
            args,
            env,
            cwd: if rec.config.working_dir.is_empty() {
                "/".into()
            } else {
                rec.config.working_dir.clone()
            },
            uid: usr.uid,
            gid: usr.gid,
            additional_gids: usr.additional_gids,
            hostname: rec.config.hostname.clone(),
            tty: rec.config.tty,
            console_size: hc.console_size.map(|[h, w]| (h, w)),
            cgroups_path: format!("{}/{}", self.cfg.cgroup_parent.trim_matches('/'), rec.id),
            resources: resources(hc),
            files: vec![
                ("/etc/resolv.conf".into(), dir.join("resolv.conf"), false),
                ("/etc/hostname".into(), dir.join("hostname"), false),
                ("/etc/hosts".into(), dir.join("hosts"), false),
            ]
            .into_iter()
            .chain(with_init.then(|| {
                let host = crate::init::host_path(&self.cfg.data_root);
                (crate::init::CONTAINER_PATH.to_string(), host, true) // --init (P5)
            }))
            .collect(),
            shm_size: if hc.shm_size > 0 {
                hc.shm_size as u64
            } else {
                DEFAULT_SHM
            },
            readonly_rootfs: hc.readonly_rootfs,
            netns: netns.clone(),
        };
        let mut doc = spec::build(&input);
        crate::security::apply(&mut doc, hc)?;
        self.add_spec_mounts(&mut doc, rec)?; // volumes (N3)
        spec::write(&dir, &doc)?;
        let lower = lowerdirs
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(":");
        let overlay = json!({
            "destination": "/",
            "type": "overlay",
            "source": "overlay",
            "options": [
                format!("lowerdir={lower}"),
                format!("upperdir={}", dir.join("upper").display()),
                format!("workdir={}", dir.join("work").display()),
            ],
        });
        let log_path = if hc.log_config.r#type.as_str() == "none" {
            None
        } else {
            Some(self.log_path(&rec.id))
        };
        let state_dir = self.shim_dir(&rec.id);
        let (log_max_size, log_max_files) = crate::log_opts::rotation(
            &hc.log_config,
            self.cfg.log_max_size,
            self.cfg.log_max_files,
        )?;
        Ok((
            ShimConfig {
                id: rec.id.clone(),
                bundle: dir.clone(),
                state_dir: state_dir.clone(),
                log_path,
                log_max_size,
                log_max_files,
                tty: rec.config.tty,
                open_stdin: rec.config.open_stdin,
                stdin_once: rec.config.stdin_once,
                rootfs_mounts: vec![overlay],
                initial_attach: None,
            },
            state_dir,
        ))
    }

    pub(crate) fn spawn_watcher(self: &Arc<Self>, entry: Arc<Entry>) {
        let engine = self.clone();
        tokio::spawn(async move {
            let dir = engine.shim_dir(&entry.id);
            let exit = match shim::wait(&dir).await {
                Ok(rec) => Some(rec),
                Err(_) => rocker_shim_proto::read_exit(&dir),
            };
            engine.record_exit(&entry, exit);
        });
    }

    /// Records an exit (None: the shim vanished without recording one) and applies `--rm`.
    pub(crate) fn record_exit(self: &Arc<Self>, entry: &Arc<Entry>, exit: Option<ExitRecord>) {
        let net;
        let snapshot = {
            let mut r = lock(&entry.record);
            if !matches!(
                r.state.status,
                Status::Running | Status::Paused | Status::Created
            ) {
                return;
            }
            r.state.status = Status::Exited;
            r.state.pid = 0;
            net = r.net.take();
            match &exit {
                Some(e) => {
                    r.state.exit_code = e.exit_code;
                    r.state.oom_killed = e.oom_killed;
                    r.state.finished_at = e.exited_at.clone();
                }
                None => {
                    r.state.exit_code = 255;
                    r.state.error = "container shim exited unexpectedly".into();
                    r.state.finished_at = now_rfc3339();
                }
            }
            r.clone()
        };
        self.net_down(&entry.id, net);
        if let Err(e) = self.persist(&snapshot) {
            tracing::error!(id = %entry.id, "recording exit: {e}");
        }
        let _ = std::fs::remove_dir_all(self.shim_dir(&entry.id));
        self.release_volume_mounts(&entry.id, &snapshot.mounts); // volumes (N3)
        if snapshot.state.oom_killed {
            self.emit(&snapshot, "oom", &[]);
        }
        self.emit(
            &snapshot,
            "die",
            &[("exitCode", snapshot.state.exit_code.to_string())],
        );
        self.schedule_restart(entry);
        entry.progress.send_modify(|p| {
            p.exits += 1;
            p.exit_code = snapshot.state.exit_code;
        });
        tracing::debug!(id = %entry.id, code = snapshot.state.exit_code, "container exited");
        if snapshot.host_config.auto_remove {
            let engine = self.clone();
            let id = entry.id.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.remove_opts(&id, true, true).await {
                    tracing::warn!(%id, "auto-removing container: {e}");
                }
            });
        }
    }

    /// `POST /containers/{id}/kill`.
    pub async fn kill(&self, id: &str, signal: Option<&str>) -> Result<()> {
        let entry = self.lookup(id)?;
        let sig = crate::signal::parse(signal.unwrap_or("KILL"))?;
        if !entry.status().is_alive() {
            return Err(Error::conflict(format!(
                "Container {} is not running",
                entry.id
            )));
        }
        // Docker thaws a paused container so it sees the signal.
        self.thaw_if_paused(&entry).await?;
        self.kill_marks_stopped(&entry, sig);
        // Before the signal, so a watcher's `die` cannot precede it.
        self.emit(&entry.record(), "kill", &[("signal", sig.to_string())]);
        shim::kill(&self.shim_dir(&entry.id), sig, false).await
    }

    /// `POST /containers/{id}/stop`: the stop signal, then SIGKILL after `timeout` seconds.
    pub async fn stop(&self, id: &str, timeout: Option<i64>, signal: Option<&str>) -> Result<()> {
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        self.stop_locked(&entry, timeout, signal).await
    }

    // restart (P2): pub(crate) for restart.
    pub(crate) async fn stop_locked(
        &self,
        entry: &Entry,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        if self.cancel_restart(entry) {
            return Ok(());
        }
        self.thaw_if_paused(entry).await?;
        let rec = entry.record();
        if rec.state.status != Status::Running {
            return Err(Error::new(Kind::NotModified, "container already stopped"));
        }
        self.mark_manually_stopped(entry);
        let sig_name = signal
            .map(str::to_string)
            .or(rec.config.stop_signal.clone())
            .unwrap_or_else(|| "SIGTERM".into());
        let sig = crate::signal::parse(&sig_name)?;
        let timeout = timeout.or(rec.config.stop_timeout).unwrap_or(10);
        let mut rx = entry.progress.subscribe();
        let exits = rx.borrow().exits;
        let dir = self.shim_dir(&entry.id);
        self.emit(&rec, "kill", &[("signal", sig.to_string())]);
        let _ = shim::kill(&dir, sig, false).await;
        let exited = |p: &crate::Progress| p.exits > exits;
        let graceful = if timeout < 0 {
            rx.wait_for(exited).await.is_ok()
        } else {
            tokio::time::timeout(Duration::from_secs(timeout as u64), rx.wait_for(exited))
                .await
                .map(|r| r.is_ok())
                .unwrap_or(false)
        };
        if !graceful {
            let _ = shim::kill(&dir, libc::SIGKILL, true).await;
            let _ = tokio::time::timeout(Duration::from_secs(30), rx.wait_for(exited)).await;
        }
        self.emit(&entry.record(), "stop", &[]);
        Ok(())
    }

    /// `DELETE /containers/{id}`.
    pub async fn remove(&self, id: &str, force: bool) -> Result<()> {
        self.remove_opts(id, force, false).await
    }

    /// `DELETE /containers/{id}?v=`: `volumes` also removes its anonymous volumes (N3).
    pub async fn remove_opts(&self, id: &str, force: bool, volumes: bool) -> Result<()> {
        let entry = self.lookup(id)?;
        let _op = entry.op.lock().await;
        let status = entry.status();
        if status == Status::Removing {
            return Err(Error::conflict(format!(
                "removal of container {} is already in progress",
                entry.id
            )));
        }
        if status.is_alive() {
            if !force {
                let procedure = if status == Status::Paused {
                    "Unpause and then stop the container before attempting removal or force remove"
                } else {
                    "Stop the container before attempting removal or force remove"
                };
                return Err(Error::conflict(format!(
                    "You cannot remove a {} container {}. {procedure}",
                    status.as_str(),
                    entry.id
                )));
            }
            self.thaw_if_paused(&entry).await?;
            let mut rx = entry.progress.subscribe();
            let exits = rx.borrow().exits;
            shim::kill(&self.shim_dir(&entry.id), libc::SIGKILL, true)
                .await
                .ok();
            let _ = tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|p| p.exits > exits))
                .await;
            if entry.status().is_alive() {
                return Err(Error::internal(format!(
                    "could not kill running container {}, cannot remove",
                    entry.id
                )));
            }
        }
        let name = {
            let mut r = lock(&entry.record);
            r.state.status = Status::Removing;
            r.name.clone()
        };
        {
            let conn = lock(&self.db);
            conn.execute("DELETE FROM containers WHERE id = ?1", [&entry.id])?;
        }
        {
            let mut cs = lock(&self.containers);
            cs.by_id.remove(&entry.id);
            if cs.names.get(&name) == Some(&entry.id) {
                cs.names.remove(&name);
            }
        }
        let _ = std::fs::remove_dir_all(self.shim_dir(&entry.id));
        let dir = self.container_dir(&entry.id);
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(id = %entry.id, "removing {}: {e}", dir.display());
            }
        }
        if volumes {
            self.remove_anonymous_volumes(&entry.record().mounts); // volumes (N3)
        }
        lock(&entry.record).state.status = Status::Dead;
        self.emit(&entry.record(), "destroy", &[]);
        entry.progress.send_modify(|p| p.removed = true);
        Ok(())
    }

    /// `POST /containers/{id}/wait`: registers the waiter now (so an exit right after this
    /// call is not missed) and returns a future resolving to the exit code.
    pub fn waiter(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<impl std::future::Future<Output = i32> + Send + 'static> {
        let entry = self.lookup(id)?;
        let mut rx = entry.progress.subscribe();
        let start = *rx.borrow();
        let immediate = (condition == WaitCondition::NotRunning && !entry.status().is_alive())
            .then(|| entry.record().state.exit_code);
        Ok(async move {
            if let Some(code) = immediate {
                return code;
            }
            let done = |p: &crate::Progress| match condition {
                WaitCondition::NotRunning | WaitCondition::NextExit => {
                    p.exits > start.exits || p.removed
                }
                WaitCondition::Removed => p.removed,
            };
            let waited = rx.wait_for(done).await.map(|p| p.exit_code);
            match waited {
                Ok(code) => code,
                Err(_) => rx.borrow().exit_code,
            }
        })
    }

    /// `POST /containers/{id}/attach`: a stream carrying the container's output (stdcopy
    /// frames without a TTY) and taking its stdin. Before start, the stream is handed to the
    /// shim at start so it sees output from the first byte.
    pub async fn attach(&self, id: &str, streams: AttachStreams) -> Result<(UnixStream, bool)> {
        let entry = self.lookup(id)?;
        let tty = lock(&entry.record).config.tty;
        if entry.status().is_alive() {
            let conn = shim::attach(&self.shim_dir(&entry.id), streams).await?;
            return Ok((conn, tty));
        }
        let (ours, theirs) = StdUnixStream::pair()?;
        lock(&entry.pending_attach).push((streams, theirs));
        ours.set_nonblocking(true)?;
        Ok((UnixStream::from_std(ours)?, tty))
    }

    /// `POST /containers/{id}/resize`.
    pub async fn resize(&self, id: &str, height: u16, width: u16) -> Result<()> {
        let entry = self.lookup(id)?;
        if !entry.status().is_alive() {
            return Err(Error::conflict(format!(
                "Container {} is not running",
                entry.id
            )));
        }
        shim::resize(&self.shim_dir(&entry.id), height, width).await
    }
}

/// Copies both ways between two streams until either side closes.
pub(crate) async fn splice(a: UnixStream, b: UnixStream) {
    let (mut ar, mut aw) = a.into_split();
    let (mut br, mut bw) = b.into_split();
    let one = async {
        let _ = tokio::io::copy(&mut ar, &mut bw).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut bw).await;
    };
    let two = async {
        let _ = tokio::io::copy(&mut br, &mut aw).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut aw).await;
    };
    tokio::join!(one, two);
}
