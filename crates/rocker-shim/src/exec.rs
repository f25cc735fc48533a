//! Processes exec'd into the running container (`docker exec`), tracked by the shim's poll
//! loop beside the container itself: each has its pidfd, its output pipes (or terminal
//! master), its stdin and the connection that asked for it, which becomes its stdio stream
//! (stdcopy frames without a TTY, raw bytes with one). When the process exits its remaining
//! output is sent and the stream closed; the exit code is kept (for a bounded number of
//! execs) until an `ExecWait` asks for it. Nothing here ever blocks the container's own exit
//! handling: an exec's streams are separate from the container's.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::poll::PollFlags;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use rocker_shim_proto::{AttachStreams, ExitRecord, Response};

use crate::logfile::Stream;
use crate::stdio;

/// Exit records kept for `ExecWait` after the exec's process is gone.
const MAX_EXITED: usize = 256;
/// A connection buffering more than this much unsent output stops receiving more.
const MAX_BACKLOG: usize = 8 << 20;

/// What an exec-owned descriptor is, for the monitor's poll loop.
#[derive(Debug, Clone, Copy)]
pub enum ExecSrc {
    Pid(u64),
    Out(u64),
    Err(u64),
    Stdin(u64),
    Conn(u64),
    Waiter(u64),
    Closing(u64),
}

/// A connection owned by the exec machinery.
struct Conn {
    sock: UnixStream,
    out: Vec<u8>,
    read_done: bool,
}

impl Conn {
    fn new(sock: UnixStream) -> Conn {
        Conn {
            sock,
            out: Vec::new(),
            read_done: false,
        }
    }

    /// Queues bytes and writes what the socket takes now. False: the peer is gone.
    fn send(&mut self, data: &[u8]) -> bool {
        if self.out.len() + data.len() > MAX_BACKLOG {
            return false;
        }
        self.out.extend_from_slice(data);
        self.flush()
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

/// One running exec.
struct Session {
    exec_id: String,
    pid: i32,
    pidfd: OwnedFd,
    tty: bool,
    attach: AttachStreams,
    out: Option<OwnedFd>,
    err: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
    stdin_buf: Vec<u8>,
    /// The client closed its side: close stdin once the buffer is written.
    stdin_eof: bool,
    conn: Option<Conn>,
}

/// What [`Execs::start`] needs to know about the container.
pub struct Container<'a> {
    pub id: &'a str,
    pub init_pid: i32,
    pub cgroup: &'a rocker_runtime::Cgroup,
    pub seccomp: Option<&'a oci_spec::runtime::LinuxSeccomp>,
}

/// An `Exec` request.
pub struct ExecRequest {
    pub exec_id: String,
    pub process: serde_json::Value,
    pub tty: bool,
    pub attach: AttachStreams,
    pub detach: bool,
}

/// Every exec of the container.
#[derive(Default)]
pub struct Execs {
    sessions: HashMap<u64, Session>,
    exited: VecDeque<(String, ExitRecord)>,
    waiters: HashMap<u64, (String, Conn)>,
    /// Connections flushing their last bytes before they are closed.
    closing: HashMap<u64, Conn>,
    next: u64,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn frame(tty: bool, stream: Stream, data: &[u8]) -> Vec<u8> {
    if tty {
        return data.to_vec();
    }
    let mut f = Vec::with_capacity(data.len() + 8);
    f.push(match stream {
        Stream::Stdout => 1,
        Stream::Stderr => 2,
    });
    f.extend_from_slice(&[0, 0, 0]);
    f.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    f.extend_from_slice(data);
    f
}

impl Execs {
    fn key(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn known(&self, exec_id: &str) -> bool {
        self.sessions.values().any(|s| s.exec_id == exec_id)
            || self.exited.iter().any(|(id, _)| id == exec_id)
    }

    fn record_exit(&mut self, exec_id: String, record: ExitRecord) {
        let resp = Response::Exited(record.clone());
        let waiting: Vec<u64> = self
            .waiters
            .iter()
            .filter(|(_, (id, _))| *id == exec_id)
            .map(|(k, _)| *k)
            .collect();
        for k in waiting {
            if let Some((_, mut conn)) = self.waiters.remove(&k) {
                if conn.respond(&resp) && !conn.out.is_empty() {
                    self.closing.insert(k, conn);
                }
            }
        }
        self.exited.push_back((exec_id, record));
        while self.exited.len() > MAX_EXITED {
            self.exited.pop_front();
        }
    }

    /// Starts an exec; `sock` is the requesting connection, `rest` what it sent after the
    /// request (early stdin).
    pub fn start(&mut self, ctr: &Container<'_>, req: ExecRequest, sock: UnixStream, rest: &[u8]) {
        let mut conn = Conn::new(sock);
        let key = self.key();
        if self.known(&req.exec_id) {
            conn.respond(&Response::Error {
                message: format!("exec {} already exists", req.exec_id),
            });
            self.closing.insert(key, conn);
            return;
        }
        match self.spawn(ctr, &req) {
            Ok(mut session) => {
                let pid = session.pid;
                if conn.respond(&Response::ExecStarted { pid }) && !req.detach {
                    if session.stdin.is_some() && !rest.is_empty() {
                        session.stdin_buf.extend_from_slice(rest);
                    }
                    session.conn = Some(conn);
                } else {
                    let ck = self.key();
                    self.closing.insert(ck, conn);
                }
                self.sessions.insert(key, session);
                self.flush_stdin(key);
            }
            Err(e) => {
                let exit_code = e.exec_exit_code().unwrap_or(126);
                conn.respond(&Response::ExecFailed {
                    message: e.to_string(),
                    exit_code,
                });
                self.closing.insert(key, conn);
                self.record_exit(
                    req.exec_id,
                    ExitRecord {
                        exit_code,
                        exited_at: now(),
                        oom_killed: false,
                    },
                );
            }
        }
    }

    fn spawn(
        &mut self,
        ctr: &Container<'_>,
        req: &ExecRequest,
    ) -> Result<Session, rocker_runtime::ExecError> {
        let internal = |message: String| rocker_runtime::ExecError::Process {
            message,
            kind: rocker_runtime::ErrorKind::Internal,
        };
        let process: oci_spec::runtime::Process = serde_json::from_value(req.process.clone())
            .map_err(|e| internal(format!("invalid exec process: {e}")))?;
        let want_stdin = req.attach.stdin && !req.detach;
        let streams = stdio::create(req.tty, want_stdin).map_err(|e| internal(format!("{e:#}")))?;
        let started = rocker_runtime::exec(rocker_runtime::ExecOptions {
            id: ctr.id,
            init_pid: ctr.init_pid,
            process: &process,
            cgroup: Some(ctr.cgroup),
            stdio: streams.container,
            console: req.tty,
            seccomp: ctr.seccomp,
        })?;
        let (mut out, mut stdin) = (streams.stdout, streams.stdin);
        if req.tty {
            let master = started
                .console
                .ok_or_else(|| internal("the runtime allocated no terminal".into()))?;
            let (m, i) = stdio::console_streams(master, want_stdin)
                .map_err(|e| internal(format!("{e:#}")))?;
            out = Some(m);
            stdin = i;
        }
        if let Some(fd) = &stdin {
            stdio::set_nonblocking(fd).map_err(|e| internal(format!("{e:#}")))?;
        }
        Ok(Session {
            exec_id: req.exec_id.clone(),
            pid: started.pid,
            pidfd: started.pidfd,
            tty: req.tty,
            attach: req.attach,
            out,
            err: streams.stderr,
            stdin,
            stdin_buf: Vec::new(),
            stdin_eof: false,
            conn: None,
        })
    }

    /// `ExecWait`: answers at once if the exec has exited, else keeps the connection.
    pub fn wait(&mut self, exec_id: String, sock: UnixStream) {
        let key = self.key();
        let mut conn = Conn::new(sock);
        if let Some((_, rec)) = self.exited.iter().rev().find(|(id, _)| *id == exec_id) {
            conn.respond(&Response::Exited(rec.clone()));
            self.closing.insert(key, conn);
        } else if self.sessions.values().any(|s| s.exec_id == exec_id) {
            self.waiters.insert(key, (exec_id, conn));
        } else {
            conn.respond(&Response::Error {
                message: format!("no such exec: {exec_id}"),
            });
            self.closing.insert(key, conn);
        }
    }

    fn find(&self, exec_id: &str) -> Option<&Session> {
        self.sessions.values().find(|s| s.exec_id == exec_id)
    }

    /// `ExecResize`.
    pub fn resize(&self, exec_id: &str, height: u16, width: u16) -> Response {
        match self.find(exec_id) {
            Some(Session {
                tty: true,
                out: Some(master),
                ..
            }) => match stdio::resize(master, height, width) {
                Ok(()) => Response::Ok,
                Err(e) => Response::Error {
                    message: format!("{e:#}"),
                },
            },
            Some(_) => Response::Error {
                message: format!("exec {exec_id} has no terminal"),
            },
            None => Response::Error {
                message: format!("exec {exec_id} is not running"),
            },
        }
    }

    /// `ExecKill`.
    pub fn kill(&self, exec_id: &str, signal: i32) -> Response {
        let Some(s) = self.find(exec_id) else {
            return Response::Error {
                message: format!("exec {exec_id} is not running"),
            };
        };
        let Ok(signal) = Signal::try_from(signal) else {
            return Response::Error {
                message: format!("invalid signal {signal}"),
            };
        };
        match rocker_sys::process::pidfd_send_signal(s.pidfd.as_fd(), signal) {
            Ok(()) => Response::Ok,
            Err(e) => Response::Error {
                message: e.to_string(),
            },
        }
    }

    /// The container exited: its execs die with its pid namespace; make sure of it.
    pub fn kill_all(&self) {
        for s in self.sessions.values() {
            let _ = rocker_sys::process::pidfd_send_signal(s.pidfd.as_fd(), Signal::SIGKILL);
        }
    }

    /// Everything to poll, with what it waits for.
    pub fn poll_fds(&self) -> Vec<(ExecSrc, BorrowedFd<'_>, PollFlags)> {
        let rd = PollFlags::POLLIN;
        let mut v = Vec::new();
        for (k, s) in &self.sessions {
            v.push((ExecSrc::Pid(*k), s.pidfd.as_fd(), rd));
            // Output waits while the client is backed up (bounded memory).
            let backed_up = s
                .conn
                .as_ref()
                .is_some_and(|c| c.out.len() > MAX_BACKLOG / 2);
            if !backed_up {
                if let Some(fd) = &s.out {
                    v.push((ExecSrc::Out(*k), fd.as_fd(), rd));
                }
                if let Some(fd) = &s.err {
                    v.push((ExecSrc::Err(*k), fd.as_fd(), rd));
                }
            }
            if let (Some(fd), false) = (&s.stdin, s.stdin_buf.is_empty()) {
                v.push((ExecSrc::Stdin(*k), fd.as_fd(), PollFlags::POLLOUT));
            }
            if let Some(c) = &s.conn {
                let mut f = PollFlags::empty();
                if !c.read_done && s.stdin_buf.len() < MAX_BACKLOG {
                    f |= rd;
                }
                if !c.out.is_empty() {
                    f |= PollFlags::POLLOUT;
                }
                if !f.is_empty() {
                    v.push((ExecSrc::Conn(*k), c.sock.as_fd(), f));
                }
            }
        }
        for (k, (_, c)) in &self.waiters {
            if !c.out.is_empty() {
                v.push((ExecSrc::Waiter(*k), c.sock.as_fd(), PollFlags::POLLOUT));
            }
        }
        for (k, c) in &self.closing {
            v.push((ExecSrc::Closing(*k), c.sock.as_fd(), PollFlags::POLLOUT));
        }
        v
    }

    /// Handles readiness of one exec-owned descriptor.
    pub fn handle(&mut self, src: ExecSrc, flags: PollFlags) {
        match src {
            ExecSrc::Pid(k) => self.reap(k),
            ExecSrc::Out(k) => self.pump(k, Stream::Stdout),
            ExecSrc::Err(k) => self.pump(k, Stream::Stderr),
            ExecSrc::Stdin(k) => self.flush_stdin(k),
            ExecSrc::Conn(k) => self.conn_ready(k, flags),
            ExecSrc::Waiter(k) => {
                if let Some((_, c)) = self.waiters.get_mut(&k) {
                    if !c.flush() {
                        self.waiters.remove(&k);
                    }
                }
            }
            ExecSrc::Closing(k) => {
                let done = self
                    .closing
                    .get_mut(&k)
                    .is_none_or(|c| !c.flush() || c.out.is_empty());
                if done {
                    self.closing.remove(&k);
                }
            }
        }
    }

    fn reap(&mut self, k: u64) {
        let Some(s) = self.sessions.get(&k) else {
            return;
        };
        let code = match waitpid(Pid::from_raw(s.pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => code,
            Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
            Ok(_) => return,
            Err(_) => 255,
        };
        // Whatever is still readable is the process's last words.
        self.pump(k, Stream::Stdout);
        self.pump(k, Stream::Stderr);
        let Some(mut s) = self.sessions.remove(&k) else {
            return;
        };
        if let Some(mut conn) = s.conn.take() {
            if conn.flush() && !conn.out.is_empty() {
                self.closing.insert(k, conn);
            }
        }
        self.record_exit(
            s.exec_id,
            ExitRecord {
                exit_code: code,
                exited_at: now(),
                oom_killed: false,
            },
        );
    }

    fn pump(&mut self, k: u64, stream: Stream) {
        let Some(s) = self.sessions.get_mut(&k) else {
            return;
        };
        let mut buf = [0u8; 32 * 1024];
        loop {
            let fd = match stream {
                Stream::Stdout => s.out.as_ref(),
                Stream::Stderr => s.err.as_ref(),
            };
            let Some(fd) = fd else { return };
            match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
                Ok(0) | Err(nix::errno::Errno::EIO) => {
                    // EOF (EIO on a pty master once the slave is closed). Keep a tty's
                    // master for resize until the process exits.
                    match stream {
                        Stream::Stdout if !s.tty => s.out = None,
                        Stream::Stdout => return,
                        Stream::Stderr => s.err = None,
                    }
                    return;
                }
                Ok(n) => {
                    let wanted = s.tty
                        || match stream {
                            Stream::Stdout => s.attach.stdout,
                            Stream::Stderr => s.attach.stderr,
                        };
                    if let (true, Some(c)) = (wanted, s.conn.as_mut()) {
                        if !c.send(&frame(s.tty, stream, &buf[..n])) {
                            // The client is gone: the process keeps running, output is
                            // discarded (as Docker does).
                            s.conn = None;
                        }
                    }
                    if s.conn
                        .as_ref()
                        .is_some_and(|c| c.out.len() > MAX_BACKLOG / 2)
                    {
                        return;
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => return,
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => {
                    match stream {
                        Stream::Stdout => s.out = None,
                        Stream::Stderr => s.err = None,
                    }
                    return;
                }
            }
        }
    }

    fn flush_stdin(&mut self, k: u64) {
        let Some(s) = self.sessions.get_mut(&k) else {
            return;
        };
        crate::stdio::flush_pending(&mut s.stdin, &mut s.stdin_buf);
        if !s.stdin_buf.is_empty() || s.stdin.is_none() {
            return;
        }
        if s.stdin_eof && !s.tty {
            s.stdin = None;
        }
    }

    fn conn_ready(&mut self, k: u64, flags: PollFlags) {
        let Some(s) = self.sessions.get_mut(&k) else {
            return;
        };
        let Some(c) = s.conn.as_mut() else {
            return;
        };
        if flags.contains(PollFlags::POLLOUT) && !c.flush() {
            s.conn = None;
            return;
        }
        if !flags.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
            return;
        }
        let mut buf = [0u8; 32 * 1024];
        loop {
            let Some(c) = s.conn.as_mut() else { return };
            match c.sock.read(&mut buf) {
                Ok(n) if n > 0 => {
                    if s.stdin.is_some() {
                        s.stdin_buf.extend_from_slice(&buf[..n]);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                _ => {
                    // EOF or error: the client sends no more stdin (it may still read).
                    c.read_done = true;
                    s.stdin_eof = true;
                    break;
                }
            }
        }
        self.flush_stdin(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_stdcopy_without_tty() {
        assert_eq!(
            frame(false, Stream::Stderr, b"hi"),
            vec![2, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']
        );
        assert_eq!(frame(true, Stream::Stderr, b"hi"), b"hi".to_vec());
    }

    #[test]
    fn exit_records_are_bounded_and_answer_waiters() {
        let mut execs = Execs::default();
        for i in 0..(MAX_EXITED + 10) {
            execs.record_exit(
                format!("e{i}"),
                ExitRecord {
                    exit_code: 7,
                    exited_at: now(),
                    oom_killed: false,
                },
            );
        }
        assert_eq!(execs.exited.len(), MAX_EXITED);
        assert!(!execs.known("e0"));
        assert!(execs.known(&format!("e{}", MAX_EXITED + 9)));
        let (a, mut b) = UnixStream::pair().expect("pair");
        a.set_nonblocking(true).expect("nonblocking");
        execs.wait(format!("e{}", MAX_EXITED + 9), a);
        let resp: Response = rocker_shim_proto::read_message(&mut b).expect("answer");
        assert!(matches!(
            resp,
            Response::Exited(ExitRecord { exit_code: 7, .. })
        ));
    }
}
