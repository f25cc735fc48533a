//! The shim's event loop: one `poll(2)` over the container's pidfd, its output streams, the
//! control socket and every client connection. Attach clients receive the container's output
//! (Docker's stdcopy frames, or raw bytes with a TTY) and feed its stdin; `Wait` clients are
//! answered with the exit record. Slow clients are buffered up to a bound, then dropped, so a
//! stuck reader can never stall the log.

use std::collections::HashMap;
use std::fs;
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use rocker_shim_proto::{
    AttachStreams, ExitRecord, Request, Response, ShimConfig, EXIT_FILE, MAX_MESSAGE,
};

use crate::logfile::{JsonLog, Stream};
use crate::stdio;

/// A client buffering more than this much unsent output is dropped.
const MAX_CLIENT_BACKLOG: usize = 8 << 20;
/// How long to keep draining output after the container's init has exited.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Why the container could not be started.
pub struct StartFailure {
    pub message: String,
    pub exit_code: i32,
}

enum Mode {
    /// Reading the request.
    Request,
    Attach(AttachStreams),
    Wait,
    /// Flush what is buffered, then close.
    Closing,
}

struct Client {
    sock: UnixStream,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    mode: Mode,
    read_done: bool,
}

impl Client {
    fn new(sock: UnixStream, mode: Mode) -> Result<Self> {
        sock.set_nonblocking(true)?;
        Ok(Client {
            sock,
            inbuf: Vec::new(),
            out: Vec::new(),
            mode,
            read_done: false,
        })
    }

    /// Queues bytes and writes as much as the socket takes now. False: drop this client.
    fn send(&mut self, data: &[u8]) -> bool {
        self.out.extend_from_slice(data);
        self.flush() && self.out.len() <= MAX_CLIENT_BACKLOG
    }

    fn flush(&mut self) -> bool {
        crate::conn::flush(&mut self.sock, &mut self.out)
    }

    fn respond(&mut self, resp: &Response) -> bool {
        match rocker_shim_proto::encode(resp) {
            Ok(frame) => self.send(&frame),
            Err(_) => false,
        }
    }
}

/// Maps a runtime error to the start report: Docker's 127/126 for exec failures.
fn runtime_failure(e: rocker_runtime::Error) -> StartFailure {
    StartFailure {
        exit_code: e.exec_exit_code().unwrap_or(128),
        message: e.to_string(),
    }
}

/// Binds the control socket (replacing a stale one).
pub fn bind_control(path: &Path) -> Result<UnixListener> {
    let _ = fs::remove_file(path);
    let l = UnixListener::bind(path).with_context(|| format!("binding {}", path.display()))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

pub struct Monitor {
    state_dir: std::path::PathBuf,
    pid: i32,
    pidfd: OwnedFd,
    cgroup: rocker_runtime::cgroups::Cgroup,
    tty: bool,
    stdin_once: bool,
    out: Option<OwnedFd>,
    err: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
    stdin_buf: Vec<u8>,
    log: Option<JsonLog>,
    listener: UnixListener,
    clients: HashMap<u64, Client>,
    next_client: u64,
    /// Set when init has been reaped; recorded once output is drained.
    pending_exit: Option<ExitRecord>,
    /// Set once the exit is recorded on disk and announced.
    exit: Option<ExitRecord>,
    exited_at: Option<Instant>,
    /// The container id and seccomp profile, for execs.
    id: String,
    seccomp: Option<oci_spec::runtime::LinuxSeccomp>,
    /// Processes exec'd into the container.
    execs: crate::exec::Execs,
    /// The container's cgroup is frozen (`Pause`).
    paused: bool,
}

#[derive(Clone, Copy)]
enum Src {
    Pid,
    Out,
    Err,
    Stdin,
    Listener,
    Client(u64),
    Exec(crate::exec::ExecSrc),
}

impl Monitor {
    /// Creates and starts the container. On failure nothing of it is left.
    pub fn start(
        cfg: &ShimConfig,
        listener: UnixListener,
        initial_attach: Option<OwnedFd>,
    ) -> std::result::Result<Monitor, StartFailure> {
        let fail = |message: String| StartFailure {
            message,
            exit_code: 128,
        };
        let spec = oci_spec::runtime::Spec::load(cfg.bundle.join("config.json"))
            .map_err(|e| fail(format!("loading container spec: {e}")))?;
        let rootfs_mounts: Vec<oci_spec::runtime::Mount> = cfg
            .rootfs_mounts
            .iter()
            .map(|m| serde_json::from_value(m.clone()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| fail(format!("parsing rootfs mounts: {e}")))?;
        let streams = stdio::create(cfg.tty, cfg.open_stdin).map_err(|e| fail(format!("{e:#}")))?;
        let log = match &cfg.log_path {
            Some(p) => Some(
                JsonLog::open(p.clone(), cfg.log_max_size, cfg.log_max_files)
                    .map_err(|e| fail(format!("opening log {}: {e}", p.display())))?,
            ),
            None => None,
        };
        let mut created = rocker_runtime::create(rocker_runtime::CreateOptions {
            id: &cfg.id,
            bundle: &cfg.bundle,
            spec: &spec,
            stdio: streams.container,
            gate: rocker_runtime::Gate::Pipe,
            rootfs_mounts: &rootfs_mounts,
            console: cfg.tty,
        })
        .map_err(runtime_failure)?;
        let (mut out, mut stdin) = (streams.stdout, streams.stdin);
        if cfg.tty {
            let Some(master) = created.console.take() else {
                created.abort();
                return Err(fail("the runtime allocated no terminal".into()));
            };
            match stdio::console_streams(master, cfg.open_stdin) {
                Ok((m, i)) => {
                    out = Some(m);
                    stdin = i;
                }
                Err(e) => {
                    created.abort();
                    return Err(fail(format!("{e:#}")));
                }
            }
        }
        let started = created.start().map_err(runtime_failure)?;
        let (pid, pidfd) = (started.pid, started.pidfd);
        let mut mon = Monitor {
            state_dir: cfg.state_dir.clone(),
            pid,
            pidfd,
            cgroup: started.cgroup,
            tty: cfg.tty,
            stdin_once: cfg.stdin_once,
            out,
            err: streams.stderr,
            stdin,
            stdin_buf: Vec::new(),
            log,
            listener,
            clients: HashMap::new(),
            next_client: 0,
            pending_exit: None,
            exit: None,
            exited_at: None,
            id: cfg.id.clone(),
            seccomp: spec.linux().as_ref().and_then(|l| l.seccomp().clone()),
            execs: crate::exec::Execs::default(),
            paused: false,
        };
        if let (Some(fd), Some(streams)) = (initial_attach, cfg.initial_attach) {
            if let Ok(c) = Client::new(UnixStream::from(fd), Mode::Attach(streams)) {
                mon.add_client(c);
            }
        }
        Ok(mon)
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    fn add_client(&mut self, c: Client) {
        self.clients.insert(self.next_client, c);
        self.next_client += 1;
    }

    /// Runs until the container has exited and every client has been answered.
    pub fn run(&mut self) -> Result<()> {
        loop {
            if self.exit.is_some() && self.clients.values().all(|c| c.out.is_empty()) {
                return Ok(());
            }
            let timeout = match self.exited_at {
                Some(t) => {
                    let left = DRAIN_AFTER_EXIT.saturating_sub(t.elapsed());
                    if left.is_zero() {
                        self.finish()?;
                        if self.exit.is_some() {
                            // Give clients a last chance, then leave.
                            self.flush_clients_briefly();
                            return Ok(());
                        }
                        continue;
                    }
                    PollTimeout::try_from(left.as_millis().min(60_000) as i32)
                        .unwrap_or(PollTimeout::NONE)
                }
                None => PollTimeout::NONE,
            };
            let ready = self.wait_ready(timeout)?;
            for (src, flags) in ready {
                self.handle(src, flags)?;
            }
            if self.exited_at.is_some() && self.out.is_none() && self.err.is_none() {
                self.finish()?;
            }
        }
    }

    fn wait_ready(&self, timeout: PollTimeout) -> Result<Vec<(Src, PollFlags)>> {
        let mut srcs: Vec<(Src, BorrowedFd<'_>, PollFlags)> = Vec::new();
        let rd = PollFlags::POLLIN;
        if self.exited_at.is_none() {
            srcs.push((Src::Pid, self.pidfd.as_fd(), rd));
        }
        if let Some(fd) = &self.out {
            srcs.push((Src::Out, fd.as_fd(), rd));
        }
        if let Some(fd) = &self.err {
            srcs.push((Src::Err, fd.as_fd(), rd));
        }
        if let Some(fd) = &self.stdin {
            if !self.stdin_buf.is_empty() {
                srcs.push((Src::Stdin, fd.as_fd(), PollFlags::POLLOUT));
            }
        }
        if self.exit.is_none() {
            srcs.push((Src::Listener, self.listener.as_fd(), rd));
        }
        for (id, c) in &self.clients {
            let mut f = PollFlags::empty();
            if !c.read_done {
                f |= rd;
            }
            if !c.out.is_empty() {
                f |= PollFlags::POLLOUT;
            }
            if !f.is_empty() {
                srcs.push((Src::Client(*id), c.sock.as_fd(), f));
            }
        }
        for (src, fd, f) in self.execs.poll_fds() {
            srcs.push((Src::Exec(src), fd, f));
        }
        let mut fds: Vec<PollFd<'_>> = srcs.iter().map(|(_, fd, f)| PollFd::new(*fd, *f)).collect();
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(Vec::new()),
            Err(e) => return Err(e).context("poll"),
        }
        Ok(srcs
            .iter()
            .zip(fds.iter())
            .filter_map(|((src, _, _), fd)| {
                let r = fd.revents().unwrap_or(PollFlags::empty());
                (!r.is_empty()).then_some((*src, r))
            })
            .collect())
    }

    fn handle(&mut self, src: Src, flags: PollFlags) -> Result<()> {
        match src {
            Src::Pid => self.reap(),
            Src::Out => {
                self.pump_output(Stream::Stdout);
                Ok(())
            }
            Src::Err => {
                self.pump_output(Stream::Stderr);
                Ok(())
            }
            Src::Stdin => {
                self.flush_stdin();
                Ok(())
            }
            Src::Listener => {
                self.accept();
                Ok(())
            }
            Src::Client(id) => {
                self.client_ready(id, flags);
                Ok(())
            }
            Src::Exec(src) => {
                self.execs.handle(src, flags);
                Ok(())
            }
        }
    }

    fn reap(&mut self) -> Result<()> {
        let status = match waitpid(Pid::from_raw(self.pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => code,
            Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
            Ok(WaitStatus::StillAlive) => return Ok(()),
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::ECHILD) => 255,
            Err(e) => return Err(e).context("waiting for the container"),
        };
        let oom_killed = self.cgroup.oom_killed().unwrap_or(false);
        // Execs die with the pid namespace; make sure of it, without waiting for them.
        self.execs.kill_all();
        self.exited_at = Some(Instant::now());
        self.pending_exit = Some(ExitRecord {
            exit_code: status,
            exited_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            oom_killed,
        });
        Ok(())
    }

    fn pump_output(&mut self, stream: Stream) {
        let mut buf = [0u8; 32 * 1024];
        loop {
            let fd = match stream {
                Stream::Stdout => self.out.as_ref(),
                Stream::Stderr => self.err.as_ref(),
            };
            let Some(fd) = fd else { return };
            match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
                Ok(0) | Err(nix::errno::Errno::EIO) => {
                    // EOF (EIO on a pty master once every slave is closed).
                    match stream {
                        Stream::Stdout => self.out = None,
                        Stream::Stderr => self.err = None,
                    }
                    return;
                }
                Ok(n) => self.deliver(stream, &buf[..n]),
                Err(nix::errno::Errno::EAGAIN) => return,
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => {
                    match stream {
                        Stream::Stdout => self.out = None,
                        Stream::Stderr => self.err = None,
                    }
                    return;
                }
            }
        }
    }

    /// Sends output to the log and to every attached client that asked for this stream.
    fn deliver(&mut self, stream: Stream, data: &[u8]) {
        if let Some(log) = &mut self.log {
            if let Err(e) = log.write(stream, data) {
                eprintln!("rocker-shim: writing log: {e}");
            }
        }
        let frame = if self.tty {
            data.to_vec()
        } else {
            let mut f = Vec::with_capacity(data.len() + 8);
            f.push(match stream {
                Stream::Stdout => 1,
                Stream::Stderr => 2,
            });
            f.extend_from_slice(&[0, 0, 0]);
            f.extend_from_slice(&(data.len() as u32).to_be_bytes());
            f.extend_from_slice(data);
            f
        };
        let mut dead = Vec::new();
        for (id, c) in &mut self.clients {
            if let Mode::Attach(want) = c.mode {
                let wanted = self.tty
                    || match stream {
                        Stream::Stdout => want.stdout,
                        Stream::Stderr => want.stderr,
                    };
                if wanted && !c.send(&frame) {
                    dead.push(*id);
                }
            }
        }
        for id in dead {
            self.drop_client(id);
        }
    }

    fn flush_stdin(&mut self) {
        crate::stdio::flush_pending(&mut self.stdin, &mut self.stdin_buf);
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((sock, _)) => {
                    if let Ok(c) = Client::new(sock, Mode::Request) {
                        self.add_client(c);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn client_ready(&mut self, id: u64, flags: PollFlags) {
        let mut alive = true;
        if flags.contains(PollFlags::POLLOUT) {
            if let Some(c) = self.clients.get_mut(&id) {
                alive = c.flush();
            }
        }
        if alive && flags.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
            alive = self.client_read(id);
        }
        let closing_done = matches!(
            self.clients.get(&id),
            Some(Client { mode: Mode::Closing, out, .. }) if out.is_empty()
        );
        if !alive || closing_done {
            self.drop_client(id);
        }
    }

    /// Reads what a client sent. False: drop it.
    fn client_read(&mut self, id: u64) -> bool {
        let mut buf = [0u8; 32 * 1024];
        loop {
            let Some(c) = self.clients.get_mut(&id) else {
                return false;
            };
            let n = match c.sock.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
                c.read_done = true;
                return match c.mode {
                    Mode::Attach(want) => {
                        // detach keys (P3): like Docker, a tty's stdin outlives the
                        // client (it may have detached and attach again later).
                        if want.stdin && self.stdin_once && !self.tty {
                            self.close_stdin();
                        }
                        // A client that stopped sending may still read output.
                        true
                    }
                    Mode::Wait => true,
                    _ => false,
                };
            }
            match c.mode {
                Mode::Request => {
                    c.inbuf.extend_from_slice(&buf[..n]);
                    if !self.try_request(id) {
                        return false;
                    }
                }
                Mode::Attach(want) => {
                    if want.stdin && self.stdin.is_some() {
                        self.stdin_buf.extend_from_slice(&buf[..n]);
                        self.flush_stdin();
                    }
                }
                Mode::Wait | Mode::Closing => {}
            }
        }
    }

    /// Parses and answers a complete request, if one has arrived. False: drop the client.
    fn try_request(&mut self, id: u64) -> bool {
        let Some(c) = self.clients.get_mut(&id) else {
            return false;
        };
        if c.inbuf.len() < 4 {
            return true;
        }
        let len = u32::from_be_bytes([c.inbuf[0], c.inbuf[1], c.inbuf[2], c.inbuf[3]]);
        if len > MAX_MESSAGE {
            return false;
        }
        if c.inbuf.len() < 4 + len as usize {
            return true;
        }
        let rest = c.inbuf.split_off(4 + len as usize);
        let req: Request = match serde_json::from_slice(&c.inbuf[4..]) {
            Ok(r) => r,
            Err(e) => {
                c.respond(&Response::Error {
                    message: format!("bad request: {e}"),
                });
                c.mode = Mode::Closing;
                return true;
            }
        };
        c.inbuf.clear();
        let resp = match req {
            Request::State => Response::State {
                pid: self.pid,
                running: self.exited_at.is_none(),
                paused: self.paused,
            },
            Request::Pause => self.set_paused(true),
            Request::Resume => self.set_paused(false),
            Request::Pids => match self.cgroup.pids() {
                Ok(pids) => Response::Pids { pids },
                Err(e) => Response::Error {
                    message: e.to_string(),
                },
            },
            Request::Kill { signal, all } => self.kill(signal, all),
            Request::Wait => match &self.exit {
                Some(e) => Response::Exited(e.clone()),
                None => {
                    let Some(c) = self.clients.get_mut(&id) else {
                        return false;
                    };
                    c.mode = Mode::Wait;
                    return true;
                }
            },
            Request::Attach(want) => {
                let Some(c) = self.clients.get_mut(&id) else {
                    return false;
                };
                if !c.respond(&Response::Ok) {
                    return false;
                }
                c.mode = Mode::Attach(want);
                if want.stdin && !rest.is_empty() && self.stdin.is_some() {
                    self.stdin_buf.extend_from_slice(&rest);
                    self.flush_stdin();
                }
                return true;
            }
            Request::Resize { height, width } => match (&self.stdin, &self.out, self.tty) {
                (_, Some(master), true) => match stdio::resize(master, height, width) {
                    Ok(()) => Response::Ok,
                    Err(e) => Response::Error {
                        message: format!("{e:#}"),
                    },
                },
                _ => Response::Error {
                    message: "the container has no terminal".into(),
                },
            },
            Request::CloseStdin => {
                self.close_stdin();
                Response::Ok
            }
            Request::Exec {
                exec_id,
                process,
                tty,
                attach,
                detach,
            } if self.exited_at.is_none() => {
                // The connection becomes the exec's stream: the exec machinery owns it now.
                let Some(c) = self.clients.remove(&id) else {
                    return false;
                };
                let ctr = crate::exec::Container {
                    id: &self.id,
                    init_pid: self.pid,
                    cgroup: &self.cgroup,
                    seccomp: self.seccomp.as_ref(),
                };
                let req = crate::exec::ExecRequest {
                    exec_id,
                    process,
                    tty,
                    attach,
                    detach,
                };
                self.execs.start(&ctr, req, c.sock, &rest);
                return false;
            }
            Request::Exec { .. } => Response::Error {
                message: format!("Container {} is not running", self.id),
            },
            Request::ExecWait { exec_id } => {
                let Some(c) = self.clients.remove(&id) else {
                    return false;
                };
                self.execs.wait(exec_id, c.sock);
                return false;
            }
            Request::ExecResize {
                exec_id,
                height,
                width,
            } => self.execs.resize(&exec_id, height, width),
            Request::ExecKill { exec_id, signal } => self.execs.kill(&exec_id, signal),
        };
        let Some(c) = self.clients.get_mut(&id) else {
            return false;
        };
        let ok = c.respond(&resp);
        c.mode = Mode::Closing;
        ok
    }

    fn kill(&mut self, signal: i32, all: bool) -> Response {
        if self.exited_at.is_some() {
            return Response::Error {
                message: "container is not running".into(),
            };
        }
        let signal = match nix::sys::signal::Signal::try_from(signal) {
            Ok(s) => s,
            Err(_) => {
                return Response::Error {
                    message: format!("invalid signal {signal}"),
                }
            }
        };
        let res = if all {
            self.cgroup.kill_all(signal).map_err(|e| e.to_string())
        } else {
            rocker_sys::process::pidfd_send_signal(self.pidfd.as_fd(), signal)
                .map_err(|e| e.to_string())
        };
        // A frozen container only sees the signal once thawed; Docker resumes after killing.
        if self.paused {
            if let Err(e) = self.cgroup.thaw() {
                eprintln!("rocker-shim: thawing for a signal: {e}");
            }
            self.paused = false;
        }
        match res {
            Ok(()) => Response::Ok,
            Err(message) => Response::Error { message },
        }
    }

    /// Freezes or thaws the container's cgroup (`Pause` / `Resume`).
    fn set_paused(&mut self, paused: bool) -> Response {
        if self.exited_at.is_some() {
            return Response::Error {
                message: format!("Container {} is not running", self.id),
            };
        }
        let res = if paused {
            self.cgroup.freeze()
        } else {
            self.cgroup.thaw()
        };
        match res {
            Ok(()) => {
                self.paused = paused;
                Response::Ok
            }
            Err(e) => Response::Error {
                message: e.to_string(),
            },
        }
    }

    fn close_stdin(&mut self) {
        self.flush_stdin();
        self.stdin = None;
        self.stdin_buf.clear();
    }

    fn drop_client(&mut self, id: u64) {
        self.clients.remove(&id);
    }

    /// Records the exit once output is drained: log, cgroup removal, exit file, waiters.
    fn finish(&mut self) -> Result<()> {
        let Some(record) = self.pending_exit.take() else {
            return Ok(());
        };
        // Whatever is still readable is the container's last words.
        self.pump_output(Stream::Stdout);
        self.pump_output(Stream::Stderr);
        self.out = None;
        self.err = None;
        if let Some(log) = &mut self.log {
            let _ = log.flush_partial();
        }
        self.stdin = None;
        if let Err(e) = self.cgroup.destroy() {
            eprintln!("rocker-shim: removing cgroup: {e}");
        }
        let tmp = self.state_dir.join(".exit.tmp");
        fs::write(&tmp, serde_json::to_vec(&record)?)?;
        fs::rename(&tmp, self.state_dir.join(EXIT_FILE))?;
        let resp = Response::Exited(record.clone());
        let mut dead = Vec::new();
        for (id, c) in &mut self.clients {
            match c.mode {
                Mode::Wait => {
                    if !c.respond(&resp) {
                        dead.push(*id);
                    }
                    c.mode = Mode::Closing;
                }
                Mode::Attach(_) | Mode::Request => c.mode = Mode::Closing,
                Mode::Closing => {}
            }
        }
        for id in dead {
            self.drop_client(id);
        }
        let _ = fs::remove_file(self.state_dir.join(rocker_shim_proto::SOCKET_FILE));
        self.exit = Some(record);
        Ok(())
    }

    /// After the exit: flush buffered client output for a bounded time.
    fn flush_clients_briefly(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline && self.clients.values().any(|c| !c.out.is_empty()) {
            for c in self.clients.values_mut() {
                let _ = c.flush();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
