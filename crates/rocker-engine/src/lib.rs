//! The daemon's core: the state database, containers and their lifecycle, shim supervision,
//! and the image store behind one [`Engine`] value that the API layer drives.
//!
//! Containers live in memory (for `ps` and lookups without touching SQLite) and in the
//! `containers` table (for restarts); every change is written through. Each running container
//! has one watcher task waiting on its shim's control socket; after a daemon restart the
//! watchers are re-established from the shims' state directories, so containers outlive the
//! daemon.

#![forbid(unsafe_code)]

pub mod container;
pub mod db;
pub mod error;
pub mod events;
pub mod exec;
pub mod fs; // container file system API (P1)
pub mod health; // health (P2)
mod image_delete;
pub mod init; // --init (P5)
mod lifecycle;
pub mod log_opts;
pub mod logs;
mod mounts; // volumes (N3)
pub mod names;
pub mod network;
mod ops;
pub mod prune; // container prune, sizes (P3)
pub mod registry;
mod restart;
pub mod seccomp_profile;
mod security;
mod shim;
pub mod signal;
pub mod spec;
pub mod stats;
pub mod update; // update (P2)
pub mod user;
pub mod volumes; // volumes (N3)

use std::collections::HashMap;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rocker_shim_proto::AttachStreams;
use tokio::sync::watch;

pub use container::{Record, State, Status};
pub use error::{Error, Kind, Result};
pub use exec::ExecStarted;
pub use image_delete::DeleteItem;
pub use lifecycle::WaitCondition;
pub use ops::TopResult;
pub use update::UpdateConfig; // update (P2)

/// Where the engine keeps things and how it runs containers.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    /// Parent of every container's cgroup (relative to each hierarchy's root).
    pub cgroup_parent: String,
    /// The `rocker-shim` binary.
    pub shim_bin: PathBuf,
    pub log_max_size: u64,
    pub log_max_files: u32,
    /// Registries (`host[:port]`) that may be reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Bridge, subnet, nftables table and DNS settings.
    pub net: network::NetConfig,
    /// Run containers whose HostConfig.Init is unset under the init (`[daemon] init`, P5).
    pub init: bool,
}

/// Progress of a container that waiters watch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// How many times it has exited since the daemon loaded it.
    pub exits: u64,
    pub exit_code: i32,
    pub removed: bool,
}

/// One container in memory.
pub struct Entry {
    pub id: String,
    record: Mutex<Record>,
    /// Serialises lifecycle operations (start, stop, remove) on this container.
    op: tokio::sync::Mutex<()>,
    progress: watch::Sender<Progress>,
    /// Attach streams opened before start: (what they want, the shim's end).
    pending_attach: Mutex<Vec<(AttachStreams, StdUnixStream)>>,
}

impl Entry {
    fn new(record: Record) -> Arc<Entry> {
        let (tx, _) = watch::channel(Progress {
            exit_code: record.state.exit_code,
            ..Default::default()
        });
        Arc::new(Entry {
            id: record.id.clone(),
            record: Mutex::new(record),
            op: tokio::sync::Mutex::new(()),
            progress: tx,
            pending_attach: Mutex::new(Vec::new()),
        })
    }

    /// A copy of the record.
    pub fn record(&self) -> Record {
        lock(&self.record).clone()
    }

    fn status(&self) -> Status {
        lock(&self.record).state.status
    }
}

/// Locks a std mutex, recovering the data if a panicking thread poisoned it (the records are
/// always left consistent between statements).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Containers {
    by_id: HashMap<String, Arc<Entry>>,
    /// name -> id
    names: HashMap<String, String>,
}

/// The engine.
pub struct Engine {
    cfg: Config,
    db: db::Db,
    pub images: rocker_image::ImageStore,
    containers: Mutex<Containers>,
    /// Exec instances (in memory, as Docker keeps them).
    execs: exec::ExecStore,
    /// Container events for `GET /events`.
    events: events::EventBus,
    /// Networks and the wiring of running containers.
    net: network::Networks,
}

impl Engine {
    /// Opens the state, then re-attaches to every container's shim.
    pub async fn open(cfg: Config) -> Result<Arc<Engine>> {
        for d in [
            cfg.data_root.clone(),
            cfg.data_root.join("containers"),
            cfg.exec_root.clone(),
            cfg.exec_root.join("shims"),
        ] {
            std::fs::create_dir_all(&d)
                .map_err(|e| Error::internal(format!("creating {}: {e}", d.display())))?;
        }
        init::install(&cfg.data_root)?; // --init (P5)
        let db = db::open(&cfg.data_root.join("rocker.db"))?;
        let images = rocker_image::ImageStore::new(&cfg.data_root, db.clone())
            .map_err(|e| Error::internal(format!("opening image store: {e}")))?;
        let net = network::Networks::new(cfg.net.clone(), &cfg.exec_root, db.clone());
        net.open()?;
        let engine = Arc::new(Engine {
            cfg,
            db,
            images,
            containers: Mutex::new(Containers::default()),
            execs: exec::ExecStore::default(),
            events: events::EventBus::default(),
            net,
        });
        engine.load_containers()?;
        engine.net_adopt();
        engine.reconcile().await;
        engine.net_reconcile().await;
        Ok(engine)
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The network service (lookups and listings for the API layer).
    pub fn networks(&self) -> &network::Networks {
        &self.net
    }

    fn load_containers(&self) -> Result<()> {
        let conn = lock(&self.db);
        let mut stmt = conn.prepare("SELECT record FROM containers")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut cs = lock(&self.containers);
        for row in rows {
            let rec: Record = serde_json::from_str(&row?)?;
            cs.names.insert(rec.name.clone(), rec.id.clone());
            cs.by_id.insert(rec.id.clone(), Entry::new(rec));
        }
        Ok(())
    }

    /// Writes a record through to the database.
    fn persist(&self, rec: &Record) -> Result<()> {
        let conn = lock(&self.db);
        conn.execute(
            "INSERT INTO containers (id, name, image_id, created, record) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record",
            rusqlite::params![
                rec.id,
                rec.name,
                rec.image_id,
                rec.created,
                serde_json::to_string(rec)?
            ],
        )?;
        Ok(())
    }

    /// Looks a container up by full id, name, or unique id prefix (Docker's order).
    pub fn lookup(&self, id_or_name: &str) -> Result<Arc<Entry>> {
        let cs = lock(&self.containers);
        if let Some(e) = cs.by_id.get(id_or_name) {
            return Ok(e.clone());
        }
        let name = id_or_name.strip_prefix('/').unwrap_or(id_or_name);
        if let Some(id) = cs.names.get(name) {
            if let Some(e) = cs.by_id.get(id) {
                return Ok(e.clone());
            }
        }
        if !id_or_name.is_empty() {
            let mut found = cs.by_id.iter().filter(|(id, _)| id.starts_with(id_or_name));
            if let Some((_, e)) = found.next() {
                if found.next().is_some() {
                    return Err(Error::not_found(format!(
                        "multiple IDs found with provided prefix: {id_or_name}"
                    )));
                }
                return Ok(e.clone());
            }
        }
        Err(Error::no_such_container(id_or_name))
    }

    /// Every container's record, newest first.
    pub fn list(&self) -> Vec<Record> {
        let entries: Vec<Arc<Entry>> = lock(&self.containers).by_id.values().cloned().collect();
        let mut out: Vec<Record> = entries.iter().map(|e| e.record()).collect();
        out.sort_by(|a, b| b.created.cmp(&a.created));
        out
    }

    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.cfg.data_root.join("containers").join(id)
    }

    pub fn shim_dir(&self, id: &str) -> PathBuf {
        self.cfg.exec_root.join("shims").join(id)
    }

    /// The json-file log of a container.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.container_dir(id).join(format!("{id}-json.log"))
    }

    /// Subscribes to a container's progress (exits, removal).
    pub fn watch(&self, entry: &Entry) -> watch::Receiver<Progress> {
        entry.progress.subscribe()
    }

    /// After a restart: adopt live shims, record exits that happened while we were away.
    async fn reconcile(self: &Arc<Self>) {
        let entries: Vec<Arc<Entry>> = lock(&self.containers).by_id.values().cloned().collect();
        let was_restarting: Vec<String> = entries
            .iter()
            .filter(|e| lock(&e.record).state.restarting)
            .map(|e| e.id.clone())
            .collect();
        for entry in entries {
            let dir = self.shim_dir(&entry.id);
            if !dir.exists() {
                if entry.status().is_alive() {
                    self.record_exit(&entry, None);
                }
                continue;
            }
            match shim::call(&dir, &rocker_shim_proto::Request::State).await {
                Ok(rocker_shim_proto::Response::State {
                    pid,
                    running: true,
                    paused,
                }) => {
                    {
                        // The shim owns the cgroup: its frozen state is the truth.
                        let status = if paused {
                            Status::Paused
                        } else {
                            Status::Running
                        };
                        let mut rec = lock(&entry.record);
                        if rec.state.status != status {
                            rec.state.status = status;
                            rec.state.pid = pid;
                            if rec.state.started_at.is_empty() {
                                rec.state.started_at = container::now_rfc3339();
                            }
                            let snapshot = rec.clone();
                            drop(rec);
                            let _ = self.persist(&snapshot);
                        }
                    }
                    self.spawn_watcher(entry.clone());
                    self.start_health(&entry, false); // health (P2)
                }
                _ => {
                    // The shim is gone or finishing: its exit record (if any) is the truth.
                    let exit = rocker_shim_proto::read_exit(&dir);
                    if exit.is_some() || entry.status().is_alive() {
                        self.record_exit(&entry, exit);
                    }
                }
            }
        }
        self.remove_orphan_shim_dirs();
        self.restart_on_boot(&was_restarting);
    }

    fn remove_orphan_shim_dirs(&self) {
        let Ok(rd) = std::fs::read_dir(self.cfg.exec_root.join("shims")) else {
            return;
        };
        let known: Vec<String> = lock(&self.containers).by_id.keys().cloned().collect();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !known.contains(&name) && !shim::socket_path(&e.path()).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    /// Number of containers in each state: (running, paused, stopped).
    pub fn counts(&self) -> (usize, usize, usize) {
        let cs = lock(&self.containers);
        let running = cs
            .by_id
            .values()
            .filter(|e| e.status() == Status::Running)
            .count();
        let paused = cs
            .by_id
            .values()
            .filter(|e| e.status() == Status::Paused)
            .count();
        (running, paused, cs.by_id.len() - running - paused)
    }
}
