//! The embedded DNS server of user-defined networks (Docker's 127.0.0.11, here on the
//! network's gateway address): containers resolve each other by name, alias and Compose
//! service name through a [`Resolver`] the engine implements; every other question is relayed
//! to the host's resolvers.
//!
//! One server per network, bound on UDP and TCP. Each UDP query runs in its own task, so a
//! slow upstream never holds up a local answer. The tasks live in [`JoinSet`]s owned by the
//! two serving tasks: aborting those (drop or [`DnsServer::shutdown`]) stops everything.

mod wire;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;
use tracing::debug;

use wire::{Answer, Query};

/// TTL of the answers for containers' names (Docker uses 600 seconds).
const TTL: u32 = 600;
/// How long each upstream resolver gets to answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an idle TCP connection from a client is kept.
const TCP_IDLE: Duration = Duration::from_secs(10);
/// Queries in flight per transport; beyond this, UDP queries are dropped (clients retry) and
/// TCP connections wait to be accepted.
const MAX_IN_FLIGHT: usize = 1024;
/// Largest DNS message (TCP length prefix, UDP datagram).
const MAX_MESSAGE: usize = 65535;
/// Attempts at finding a TCP port matching the UDP one when the caller asked for port 0.
const BIND_ATTEMPTS: usize = 16;

/// Answers names for the network the query arrives on. `client` is the querying
/// container's source address. Names are matched case-insensitively without trailing dot:
/// the server passes them lowercased, without the dot.
pub trait Resolver: Send + Sync + 'static {
    /// A records for `name` as seen by `client`, None if the name is not a container's.
    fn lookup(&self, client: Ipv4Addr, name: &str) -> Option<Vec<Ipv4Addr>>;
    /// Container name for a PTR lookup of `ip` (as seen by `client`), None if unknown.
    fn reverse(&self, client: Ipv4Addr, ip: Ipv4Addr) -> Option<String>;
}

/// A running DNS server; dropping it or calling [`DnsServer::shutdown`] stops it.
pub struct DnsServer {
    local_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

/// What every query handler needs.
struct Shared {
    resolver: Arc<dyn Resolver>,
    upstreams: Vec<SocketAddr>,
}

/// How a query arrived, which decides how it is forwarded and how big the reply may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

impl DnsServer {
    /// Binds UDP and TCP on `listen` (the network's gateway address, port 53 in production;
    /// port 0 picks a free port, the same for both) and serves until shut down.
    ///
    /// Known names get A answers (TTL 600); AAAA for a known name is NOERROR with no answers;
    /// PTR for known IPv4 addresses. Unknown names and other types are forwarded to
    /// `upstreams` in order (UDP with a 2 s timeout each, TCP for TCP queries) and the first
    /// reply is relayed as is; with no upstream answering: SERVFAIL. Malformed packets are
    /// dropped (UDP) or get FORMERR (TCP). The serving tasks are spawned on the current tokio
    /// runtime.
    pub async fn start(
        listen: SocketAddr,
        resolver: Arc<dyn Resolver>,
        upstreams: Vec<SocketAddr>,
    ) -> io::Result<DnsServer> {
        let (udp, tcp) = bind(listen).await?;
        let local_addr = udp.local_addr()?;
        // Never forward to ourselves: a `--dns <gateway>` would loop.
        let upstreams = upstreams.into_iter().filter(|u| *u != local_addr).collect();
        let shared = Arc::new(Shared {
            resolver,
            upstreams,
        });
        let tasks = vec![
            tokio::spawn(serve_udp(Arc::new(udp), shared.clone())),
            tokio::spawn(serve_tcp(tcp, shared)),
        ];
        debug!(%local_addr, "dns server started");
        Ok(DnsServer { local_addr, tasks })
    }

    /// The address the server listens on (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the server and every query in flight.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        debug!(local_addr = %self.local_addr, "dns server stopped");
    }
}

/// Binds the UDP socket, then TCP on the same port.
async fn bind(listen: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let mut attempt = 0;
    loop {
        let udp = UdpSocket::bind(listen).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e)
                if listen.port() == 0
                    && e.kind() == io::ErrorKind::AddrInUse
                    && attempt < BIND_ATTEMPTS =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The IPv4 address a client is known by (IPv4-mapped IPv6 unwrapped).
fn client_v4(peer: SocketAddr) -> Ipv4Addr {
    match peer.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(ip) => ip.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
    }
}

async fn serve_udp(sock: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut queries = JoinSet::new();
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        tokio::select! {
            received = sock.recv_from(&mut buf) => {
                let (n, peer) = match received {
                    Ok(r) => r,
                    Err(e) => {
                        debug!(error = %e, "dns udp receive failed");
                        continue;
                    }
                };
                if queries.len() >= MAX_IN_FLIGHT {
                    debug!(%peer, "dns udp query dropped: too many in flight");
                    continue;
                }
                let packet = buf[..n].to_vec();
                let (sock, shared) = (sock.clone(), shared.clone());
                queries.spawn(async move {
                    if let Some(reply) = handle(&shared, &packet, peer, Transport::Udp).await {
                        if let Err(e) = sock.send_to(&reply, peer).await {
                            debug!(%peer, error = %e, "dns udp reply failed");
                        }
                    }
                });
            }
            Some(_) = queries.join_next(), if !queries.is_empty() => {}
        }
    }
}

async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept(), if conns.len() < MAX_IN_FLIGHT => {
                match accepted {
                    Ok((stream, peer)) => {
                        conns.spawn(serve_tcp_conn(stream, peer, shared.clone()));
                    }
                    Err(e) => debug!(error = %e, "dns tcp accept failed"),
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Serves the length-prefixed queries of one TCP connection, one after the other, until the
/// client closes it, goes idle, or sends something that is not DNS.
async fn serve_tcp_conn(mut stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    loop {
        let Ok(Ok(len)) = timeout(TCP_IDLE, stream.read_u16()).await else {
            return;
        };
        let mut packet = vec![0u8; usize::from(len)];
        if !matches!(
            timeout(TCP_IDLE, stream.read_exact(&mut packet)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let Some(reply) = handle(&shared, &packet, peer, Transport::Tcp).await else {
            return;
        };
        if write_framed(&mut stream, &reply).await.is_err() {
            return;
        }
    }
}

async fn write_framed(stream: &mut TcpStream, msg: &[u8]) -> io::Result<()> {
    let len = u16::try_from(msg.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "dns message too long"))?;
    let mut framed = Vec::with_capacity(msg.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(msg);
    stream.write_all(&framed).await
}

/// The reply to one packet, or None to send nothing (malformed over UDP).
async fn handle(
    shared: &Shared,
    packet: &[u8],
    peer: SocketAddr,
    transport: Transport,
) -> Option<Vec<u8>> {
    let query = match wire::parse_query(packet) {
        Ok(q) => q,
        Err(e) => {
            debug!(%peer, error = %e, "dns malformed query");
            return match transport {
                Transport::Udp => None,
                Transport::Tcp => wire::bare_reply(packet, wire::RCODE_FORMERR),
            };
        }
    };
    let limit = match transport {
        Transport::Udp => query.udp_limit(),
        Transport::Tcp => MAX_MESSAGE,
    };
    if let Some(reply) = answer_locally(shared, client_v4(peer), &query, limit) {
        return Some(reply);
    }
    if let Some(reply) = forward(&shared.upstreams, packet, query.id, transport).await {
        return Some(reply);
    }
    debug!(%peer, name = %query.question.name(), "dns no upstream answered");
    wire::build_reply(&query, wire::RCODE_SERVFAIL, &[], TTL, limit).ok()
}

/// The reply for a name the resolver knows, None when the query is to be forwarded.
fn answer_locally(
    shared: &Shared,
    client: Ipv4Addr,
    query: &Query,
    limit: usize,
) -> Option<Vec<u8>> {
    let question = &query.question;
    if question.qclass != wire::CLASS_IN {
        return None;
    }
    let name = question.name();
    let answers = match question.qtype {
        wire::TYPE_A => {
            let mut ips = shared.resolver.lookup(client, &name)?;
            // Round robin between the containers sharing a name, as Docker does.
            ips.shuffle(&mut rand::thread_rng());
            ips.into_iter().map(Answer::A).collect()
        }
        wire::TYPE_AAAA => {
            shared.resolver.lookup(client, &name)?;
            Vec::new()
        }
        wire::TYPE_PTR => {
            let ip = wire::ptr_ipv4(&name)?;
            vec![Answer::Ptr(shared.resolver.reverse(client, ip)?)]
        }
        _ => return None,
    };
    match wire::build_reply(query, wire::RCODE_NOERROR, &answers, TTL, limit) {
        Ok(reply) => Some(reply),
        Err(e) => {
            debug!(name = %name, error = %e, "dns local answer not encodable, forwarding");
            None
        }
    }
}

/// Relays `packet` to each upstream in turn; the first reply carrying the query's id wins.
async fn forward(
    upstreams: &[SocketAddr],
    packet: &[u8],
    id: u16,
    transport: Transport,
) -> Option<Vec<u8>> {
    for upstream in upstreams {
        let attempt = match transport {
            Transport::Udp => timeout(UPSTREAM_TIMEOUT, forward_udp(*upstream, packet, id)).await,
            Transport::Tcp => timeout(UPSTREAM_TIMEOUT, forward_tcp(*upstream, packet, id)).await,
        };
        match attempt {
            Ok(Ok(reply)) => return Some(reply),
            Ok(Err(e)) => debug!(%upstream, error = %e, "dns upstream failed"),
            Err(_) => debug!(%upstream, "dns upstream timed out"),
        }
    }
    None
}

async fn forward_udp(upstream: SocketAddr, packet: &[u8], id: u16) -> io::Result<Vec<u8>> {
    let local: SocketAddr = if upstream.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(local).await?;
    sock.connect(upstream).await?;
    sock.send(packet).await?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let n = sock.recv(&mut buf).await?;
        // Ignore stray datagrams that are not the reply to this query.
        if n >= wire::HEADER_LEN && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

async fn forward_tcp(upstream: SocketAddr, packet: &[u8], id: u16) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(upstream).await?;
    write_framed(&mut stream, packet).await?;
    let len = stream.read_u16().await?;
    let mut reply = vec![0u8; usize::from(len)];
    stream.read_exact(&mut reply).await?;
    if reply.len() < wire::HEADER_LEN || reply[..2] != id.to_be_bytes() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("dns reply from {upstream} does not match the query"),
        ));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests;
