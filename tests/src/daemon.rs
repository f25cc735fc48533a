//! One private `rockerd` per test: its own temp dir (data root, exec root, socket, log,
//! config), its own cgroup parent, the CLIs pointed at it, and a Drop that leaves the host as
//! it found it (containers removed, processes killed, mounts and cgroups gone).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cmd::{output_with_timeout, CMD_TIMEOUT};
use crate::http::{self, Response};
use crate::{assert_success, bin_dir, busybox_tar, host, stdout, wait_until};

/// How long `start`/`restart` wait for `_ping` to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for one raw API call.
const API_TIMEOUT: Duration = Duration::from_secs(60);

/// A running test daemon. Dropping it tears everything down.
pub struct Daemon {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    socket: PathBuf,
    data_root: PathBuf,
    exec_root: PathBuf,
    config: PathBuf,
    log: PathBuf,
    pidfile: PathBuf,
    cgroup_parent: String,
    /// Private default bridge, subnet and nftables table.
    net: crate::netfix::TestNet,
    bins: PathBuf,
    child: Option<Child>,
}

fn unique_suffix() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{:x}{}",
        std::process::id(),
        nanos & 0xffff,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Daemon {
    /// Start a daemon with fresh private paths and wait until `_ping` answers.
    pub fn start() -> Daemon {
        Self::start_with_args(&[])
    }

    /// Like [`Daemon::start`], with extra `rockerd` flags.
    pub fn start_with_args(extra: &[&str]) -> Daemon {
        Self::start_with_net(crate::netfix::TestNet::pick(), extra)
    }

    /// Like [`Daemon::start_with_args`], with the given private network names and subnet.
    pub fn start_with_net(net: crate::netfix::TestNet, extra: &[&str]) -> Daemon {
        let bins = bin_dir();
        let rockerd = bins.join("rockerd");
        assert!(
            rockerd.is_file(),
            "{} not found: build the binaries first (`cargo build -j2`) or set ROCKER_BIN_DIR",
            rockerd.display()
        );
        // Short prefix: shim sockets live below the exec root and sun_path is 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("re2e-")
            .tempdir()
            .unwrap_or_else(|e| panic!("create temp dir: {e}"));
        let root = dir.path().to_path_buf();
        let config = root.join("config.toml");
        let resolv = root.join("resolv.conf");
        std::fs::write(&resolv, "nameserver 127.0.0.1\n")
            .unwrap_or_else(|e| panic!("write {}: {e}", resolv.display()));
        std::fs::write(
            &config,
            format!(
                "# rocker e2e test daemon: private bridge, subnet, nftables table; DNS only on\n# the host's own bridge address, so no query ever leaves the machine\n[network]\nbridge = \"{}\"\ndefault_bridge_subnet = \"{}\"\nnft_table = \"{}\"\nresolv_conf = \"{}\"\ndns = [\"{}\"]\n",
                net.bridge,
                net.subnet,
                net.table,
                resolv.display(),
                net.gateway
            ),
        )
        .unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
        let mut d = Daemon {
            socket: root.join("rocker.sock"),
            data_root: root.join("data"),
            exec_root: root.join("run"),
            log: root.join("rockerd.log"),
            pidfile: root.join("rockerd.pid"),
            config,
            cgroup_parent: format!("rocker-e2e-{}", unique_suffix()),
            net,
            bins,
            child: None,
            dir: Some(dir),
            root,
        };
        d.spawn(extra);
        d
    }

    fn spawn(&mut self, extra: &[&str]) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|e| panic!("open {}: {e}", self.log.display()));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("dup log fd: {e}"));
        let child = Command::new(self.bins.join("rockerd"))
            .arg("-H")
            .arg(self.host())
            .arg("--data-root")
            .arg(&self.data_root)
            .arg("--exec-root")
            .arg(&self.exec_root)
            .arg("--config-file")
            .arg(&self.config)
            .arg("--pidfile")
            .arg(&self.pidfile)
            .arg("--cgroup-parent")
            .arg(&self.cgroup_parent)
            .arg("--log-level")
            .arg("debug")
            .args(extra)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn rockerd: {e}"));
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    panic!(
                        "rockerd exited during startup ({status})\n{}",
                        self.log_tail(60)
                    );
                }
            }
            let ping = http::request(&self.socket, "GET", "/_ping", None, Duration::from_secs(2));
            if matches!(&ping, Ok(r) if r.status == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rockerd did not answer /_ping on {} within {READY_TIMEOUT:?} (last: {ping:?})\n{}",
                self.socket.display(),
                self.log_tail(60)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `unix:///.../rocker.sock`, for `-H`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The private directory holding everything of this daemon.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_root(&self) -> &Path {
        &self.data_root
    }

    pub fn exec_root(&self) -> &Path {
        &self.exec_root
    }

    /// The daemon's private default bridge, its subnet and nftables table.
    pub fn net(&self) -> &crate::netfix::TestNet {
        &self.net
    }

    pub fn cgroup_parent(&self) -> &str {
        &self.cgroup_parent
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Pid of the daemon process, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The last `n` lines of the daemon log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(n);
        format!(
            "--- rockerd log {} (last {n} lines) ---\n{}",
            self.log.display(),
            lines[start..].join("\n")
        )
    }

    /// Run the `rocker` CLI against this daemon (`-H` set, ROCKER_HOST cleared, stdin empty).
    pub fn rocker(&self, args: &[&str]) -> Output {
        self.rocker_with_stdin(args, None)
    }

    /// Run the `rocker` CLI with `stdin` as its input.
    pub fn rocker_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new(self.bins.join("rocker"));
        // Registry credentials: the same private client config the docker client gets.
        cmd.arg("-H")
            .arg(self.host())
            .args(args)
            .env("DOCKER_CONFIG", self.root.join("docker-config"))
            .env_remove("ROCKER_HOST");
        output_with_timeout(&mut cmd, stdin, CMD_TIMEOUT)
    }

    /// Run `rocker`, assert it succeeded, return its stdout.
    pub fn rocker_ok(&self, args: &[&str]) -> String {
        let out = self.rocker(args);
        assert_success(&out, &format!("rocker {}", args.join(" ")));
        stdout(&out)
    }

    /// Run docker-compose (v1, Python; Debian's `docker-compose`) in `dir` against this daemon.
    pub fn compose(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("docker-compose");
        cmd.current_dir(dir)
            .args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.root.join("docker-config"))
            .env("COMPOSE_INTERACTIVE_NO_CLI", "1")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
        output_with_timeout(&mut cmd, None, CMD_TIMEOUT)
    }

    /// Run the real `docker` client against this daemon, with a private config dir and no
    /// inherited DOCKER_* settings (API version negotiated from `_ping`).
    pub fn docker(&self, args: &[&str]) -> Output {
        let docker = crate::docker_client().unwrap_or_else(|| PathBuf::from("docker"));
        let config = self.root.join("docker-config");
        let _ = std::fs::create_dir_all(&config);
        let mut cmd = Command::new(docker);
        cmd.arg("-H")
            .arg(self.host())
            .args(args)
            .env("DOCKER_CONFIG", &config)
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
        output_with_timeout(&mut cmd, None, CMD_TIMEOUT)
    }

    /// Run `docker`, assert it succeeded, return its stdout.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert_success(&out, &format!("docker {}", args.join(" ")));
        stdout(&out)
    }

    /// Raw HTTP request to the API socket: (status, body). Panics on transport errors.
    pub fn api(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
        let r = self.api_response(method, path, body);
        (r.status, r.body)
    }

    /// Raw HTTP request returning the full [`Response`] (headers, `message()`, `json()`).
    pub fn api_response(&self, method: &str, path: &str, body: Option<&[u8]>) -> Response {
        http::request(&self.socket, method, path, body, API_TIMEOUT)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log_tail(30)))
    }

    /// Raw request with a tar body (`Content-Type: application/x-tar`), as `docker load` and
    /// `docker import` send it.
    pub fn api_tar(&self, method: &str, path: &str, body: &[u8]) -> Response {
        http::request_typed(
            &self.socket,
            method,
            path,
            Some(body),
            "application/x-tar",
            API_TIMEOUT,
        )
        .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log_tail(30)))
    }

    /// `GET /containers/{id}/json`, asserting 200.
    pub fn inspect(&self, id: &str) -> serde_json::Value {
        let r = self.api_response("GET", &format!("/containers/{id}/json"), None);
        assert_eq!(r.status, 200, "inspect {id}: {}", r.text());
        r.json()
    }

    /// Ids of all containers (`GET /containers/json?all=1`).
    pub fn container_ids(&self) -> Vec<String> {
        let r = self.api_response("GET", "/containers/json?all=1", None);
        assert_eq!(r.status, 200, "list containers: {}", r.text());
        ids_of(&r.json())
    }

    /// Ids of all images (`GET /images/json`).
    pub fn image_ids(&self) -> Vec<String> {
        let r = self.api_response("GET", "/images/json", None);
        assert_eq!(r.status, 200, "list images: {}", r.text());
        ids_of(&r.json())
    }

    /// Poll inspect until the container is no longer running; returns its inspect JSON.
    pub fn wait_not_running(&self, id: &str, timeout: Duration) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        let done = wait_until(timeout, || {
            last = self.inspect(id);
            last["State"]["Running"] == serde_json::Value::Bool(false)
        });
        assert!(
            done,
            "container {id} still running after {timeout:?}: {last}"
        );
        last
    }

    /// Poll `rocker logs` until its stdout+stderr contains `needle`; returns the logs.
    pub fn wait_logs_contain(&self, container: &str, needle: &str, timeout: Duration) -> String {
        let mut logs = String::new();
        let found = wait_until(timeout, || {
            let out = self.rocker(&["logs", container]);
            logs = format!("{}{}", stdout(&out), crate::stderr(&out));
            logs.contains(needle)
        });
        assert!(
            found,
            "logs of {container} lack {needle:?} after {timeout:?}:\n{logs}"
        );
        logs
    }

    /// `rocker load -i <busybox.tar>`, asserting success.
    pub fn load_busybox(&self) {
        let tar = busybox_tar().to_string_lossy().into_owned();
        self.rocker_ok(&["load", "-i", &tar]);
    }

    /// Mount points below this daemon's private directory.
    /// (The daemon keeps its network-namespace directory a private mount of itself while it
    /// lives; that one is not a leftover, the namespaces mounted inside it are.)
    pub fn mounts(&self) -> Vec<PathBuf> {
        let nsdir = self.exec_root.join("netns");
        let mut m = host::mounts_under(&self.root);
        m.retain(|p| *p != nsdir);
        m
    }

    /// Cgroup directories below this daemon's cgroup parent, in every hierarchy.
    pub fn cgroups(&self) -> Vec<PathBuf> {
        host::cgroups_under_parent(&self.cgroup_parent)
    }

    /// Assert the daemon holds exactly `containers` containers and, when that leaves nothing
    /// running, that no mount is left under its directories and no cgroup under its parent.
    pub fn assert_clean(&self, containers: usize) {
        let ids = self.container_ids();
        assert_eq!(ids.len(), containers, "unexpected containers: {ids:?}");
        // Exited containers keep no mounts or cgroups either (Docker unmounts on exit).
        let running: Vec<&String> = ids
            .iter()
            .filter(|id| self.inspect(id)["State"]["Running"] == serde_json::Value::Bool(true))
            .collect();
        if running.is_empty() {
            let ok = wait_until(Duration::from_secs(2), || {
                self.mounts().is_empty() && self.cgroups().is_empty()
            });
            assert!(
                ok,
                "leftovers: mounts {:?}, cgroups {:?}",
                self.mounts(),
                self.cgroups()
            );
        }
    }

    /// SIGKILL the daemon (containers and shims must survive).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stop the daemon with SIGTERM (SIGKILL after 15s). Containers keep running (live restore).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    eprintln!("rockerd ignored SIGTERM for 15s; killing it");
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
            }
        }
    }

    /// Stop the daemon if it runs (SIGTERM), then start it again on the same paths.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn(&[]);
    }

    fn teardown(&mut self) {
        if self.child.is_some() {
            if let Ok(r) = http::request(
                &self.socket,
                "GET",
                "/containers/json?all=1",
                None,
                Duration::from_secs(10),
            ) {
                for id in ids_of(&r.json()) {
                    let path = format!("/containers/{id}?force=1&v=1");
                    let _ =
                        http::request(&self.socket, "DELETE", &path, None, Duration::from_secs(20));
                }
            }
            let _ = http::request(
                &self.socket,
                "POST",
                "/networks/prune",
                None,
                Duration::from_secs(20),
            );
        }
        self.stop();
        self.net.cleanup();
        host::kill_leftovers(&self.root, &self.cgroup_parent);
        let mounts = host::unmount_all_under(&self.root);
        let cgroups = host::remove_cgroups(&self.cgroup_parent);
        if !cgroups.is_empty() {
            eprintln!("could not remove cgroups: {cgroups:?}");
        }
        let Some(dir) = self.dir.take() else {
            return;
        };
        let keep = std::env::var_os("ROCKER_E2E_KEEP").is_some_and(|v| v != "0");
        if keep || !mounts.is_empty() {
            // Never delete through a mount point that would not go away.
            let path = dir.keep();
            eprintln!(
                "kept {} (ROCKER_E2E_KEEP or mounts left: {mounts:?})",
                path.display()
            );
        }
        // Otherwise `dir` drops here and removes the tree.
    }
}

fn ids_of(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["Id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail(100));
        }
        self.teardown();
    }
}
