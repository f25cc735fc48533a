//! The server end to end on 127.0.0.1: local answers over UDP and TCP, forwarding to fake
//! upstreams started here (never to a real resolver), failures and shutdown.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::wire::{self, build_query, parse_reply, TYPE_A, TYPE_AAAA, TYPE_PTR};
use super::*;

const WAIT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct FakeResolver {
    names: HashMap<String, Vec<Ipv4Addr>>,
    clients: Mutex<Vec<Ipv4Addr>>,
}

impl Resolver for FakeResolver {
    fn lookup(&self, client: Ipv4Addr, name: &str) -> Option<Vec<Ipv4Addr>> {
        self.clients.lock().unwrap().push(client);
        self.names.get(name).cloned()
    }
    fn reverse(&self, client: Ipv4Addr, ip: Ipv4Addr) -> Option<String> {
        self.clients.lock().unwrap().push(client);
        self.names
            .iter()
            .find(|(n, ips)| ips.contains(&ip) && !n.contains('.'))
            .map(|(n, _)| format!("{n}.mynet"))
    }
}

fn resolver() -> Arc<FakeResolver> {
    let mut names = HashMap::new();
    names.insert("web".to_string(), vec![Ipv4Addr::new(172, 18, 0, 2)]);
    names.insert(
        "db".to_string(),
        vec![Ipv4Addr::new(172, 18, 0, 3), Ipv4Addr::new(172, 18, 0, 4)],
    );
    Arc::new(FakeResolver {
        names,
        clients: Mutex::default(),
    })
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn start(upstreams: Vec<SocketAddr>) -> (DnsServer, Arc<FakeResolver>) {
    let r = resolver();
    let server = DnsServer::start(local(), r.clone(), upstreams)
        .await
        .unwrap();
    (server, r)
}

async fn udp_query(server: SocketAddr, packet: &[u8]) -> Vec<u8> {
    try_udp_query(server, packet, WAIT)
        .await
        .expect("udp reply")
}

async fn try_udp_query(server: SocketAddr, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind(local()).await.unwrap();
    sock.send_to(packet, server).await.unwrap();
    let mut buf = vec![0u8; 65535];
    match timeout(wait, sock.recv_from(&mut buf)).await {
        Ok(Ok((n, _))) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

async fn tcp_exchange(stream: &mut TcpStream, packet: &[u8]) -> Vec<u8> {
    write_framed(stream, packet).await.unwrap();
    let len = timeout(WAIT, stream.read_u16()).await.unwrap().unwrap();
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await.unwrap();
    buf
}

async fn tcp_query(server: SocketAddr, packet: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(server).await.unwrap();
    tcp_exchange(&mut stream, packet).await
}

/// A fake upstream on 127.0.0.1 (UDP and TCP on one port) answering every A question with
/// 192.0.2.<n> where n is 1 for UDP and 2 for TCP. Returns its address and the join handles.
async fn fake_upstream() -> (SocketAddr, Vec<JoinHandle<()>>) {
    let (udp, tcp) = bind(local()).await.unwrap();
    let addr = udp.local_addr().unwrap();
    let answer = |packet: &[u8], n: u8| {
        let q = wire::parse_query(packet).unwrap();
        let answers = [Answer::A(Ipv4Addr::new(192, 0, 2, n))];
        wire::build_reply(&q, wire::RCODE_NOERROR, &answers, 30, 65535).unwrap()
    };
    let udp_task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65535];
        loop {
            let (n, peer) = udp.recv_from(&mut buf).await.unwrap();
            let reply = answer(&buf[..n], 1);
            udp.send_to(&reply, peer).await.unwrap();
        }
    });
    let tcp_task = tokio::spawn(async move {
        loop {
            let (mut stream, _) = tcp.accept().await.unwrap();
            let len = stream.read_u16().await.unwrap();
            let mut buf = vec![0u8; usize::from(len)];
            stream.read_exact(&mut buf).await.unwrap();
            write_framed(&mut stream, &answer(&buf, 2)).await.unwrap();
        }
    });
    (addr, vec![udp_task, tcp_task])
}

/// A UDP socket on 127.0.0.1 that receives and never answers.
async fn silent_upstream() -> (SocketAddr, UdpSocket) {
    let sock = UdpSocket::bind(local()).await.unwrap();
    (sock.local_addr().unwrap(), sock)
}

/// An address on 127.0.0.1 where nothing listens.
async fn closed_port() -> SocketAddr {
    let sock = UdpSocket::bind(local()).await.unwrap();
    sock.local_addr().unwrap()
}

#[tokio::test]
async fn answers_a_over_udp_case_insensitively() {
    let (server, r) = start(vec![]).await;
    let reply = udp_query(server.local_addr(), &build_query(0x4242, "WeB.", TYPE_A)).await;
    let reply = parse_reply(&reply).unwrap();
    assert_eq!(reply.id, 0x4242);
    assert_eq!(reply.rcode, wire::RCODE_NOERROR);
    assert_eq!(reply.answers, vec![(TYPE_A, 600, "172.18.0.2".to_string())]);
    assert_eq!(r.clients.lock().unwrap()[0], Ipv4Addr::LOCALHOST);

    let reply = udp_query(server.local_addr(), &build_query(1, "db", TYPE_A)).await;
    let mut ips: Vec<String> = parse_reply(&reply)
        .unwrap()
        .answers
        .into_iter()
        .map(|a| a.2)
        .collect();
    ips.sort();
    assert_eq!(ips, vec!["172.18.0.3", "172.18.0.4"]);
}

#[tokio::test]
async fn aaaa_for_known_name_is_empty_noerror() {
    // No upstream: a forwarded query would be SERVFAIL.
    let (server, _) = start(vec![]).await;
    let reply = udp_query(server.local_addr(), &build_query(2, "web", TYPE_AAAA)).await;
    let reply = parse_reply(&reply).unwrap();
    assert_eq!(reply.rcode, wire::RCODE_NOERROR);
    assert!(reply.answers.is_empty());
}

#[tokio::test]
async fn answers_ptr_for_known_ip() {
    let (server, _) = start(vec![]).await;
    let q = build_query(3, "2.0.18.172.in-addr.arpa", TYPE_PTR);
    let reply = parse_reply(&udp_query(server.local_addr(), &q).await).unwrap();
    assert_eq!(reply.rcode, wire::RCODE_NOERROR);
    assert_eq!(
        reply.answers,
        vec![(TYPE_PTR, 600, "web.mynet".to_string())]
    );
}

#[tokio::test]
async fn answers_over_tcp_and_formerr_for_garbage() {
    let (server, _) = start(vec![]).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    for id in [10, 11] {
        let reply = tcp_exchange(&mut stream, &build_query(id, "web", TYPE_A)).await;
        let reply = parse_reply(&reply).unwrap();
        assert_eq!(reply.id, id);
        assert_eq!(reply.answers, vec![(TYPE_A, 600, "172.18.0.2".to_string())]);
    }
    let garbage = [0xBE, 0xEF, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF];
    let reply = tcp_exchange(&mut stream, &garbage).await;
    assert_eq!(&reply[..2], &[0xBE, 0xEF]);
    assert_eq!(reply[3] & 0x0F, wire::RCODE_FORMERR);
}

#[tokio::test]
async fn forwards_unknown_names_preserving_id() {
    let (up, _up_tasks) = fake_upstream().await;
    let (server, _) = start(vec![up]).await;
    let reply = udp_query(
        server.local_addr(),
        &build_query(0x1234, "example.org", TYPE_A),
    )
    .await;
    let reply = parse_reply(&reply).unwrap();
    assert_eq!(reply.id, 0x1234);
    assert_eq!(reply.answers, vec![(TYPE_A, 30, "192.0.2.1".to_string())]);

    // Over TCP the upstream is asked over TCP.
    let reply = tcp_query(
        server.local_addr(),
        &build_query(0x5678, "example.org", TYPE_A),
    )
    .await;
    let reply = parse_reply(&reply).unwrap();
    assert_eq!(reply.id, 0x5678);
    assert_eq!(reply.answers, vec![(TYPE_A, 30, "192.0.2.2".to_string())]);

    // Other types for known names are forwarded too.
    let reply = udp_query(server.local_addr(), &build_query(5, "web", 15)).await;
    assert_eq!(parse_reply(&reply).unwrap().answers.len(), 1);
}

#[tokio::test]
async fn skips_dead_upstreams_in_order() {
    let (up, _up_tasks) = fake_upstream().await;
    let refused = closed_port().await;
    let (server, _) = start(vec![refused, up]).await;
    let started = Instant::now();
    let reply = udp_query(server.local_addr(), &build_query(6, "example.org", TYPE_A)).await;
    assert_eq!(parse_reply(&reply).unwrap().answers.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn servfail_when_no_upstream_answers() {
    let (silent, _keep) = silent_upstream().await;
    let (server, _) = start(vec![silent]).await;
    let started = Instant::now();
    let reply = udp_query(server.local_addr(), &build_query(7, "example.org", TYPE_A)).await;
    let elapsed = started.elapsed();
    let reply = parse_reply(&reply).unwrap();
    assert_eq!(reply.id, 7);
    assert_eq!(reply.rcode, wire::RCODE_SERVFAIL);
    assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");

    // No upstream at all: SERVFAIL at once.
    let (server, _) = start(vec![]).await;
    let reply = udp_query(server.local_addr(), &build_query(8, "example.org", TYPE_A)).await;
    assert_eq!(parse_reply(&reply).unwrap().rcode, wire::RCODE_SERVFAIL);
}

#[tokio::test]
async fn slow_forward_does_not_block_local_answers() {
    let (silent, _keep) = silent_upstream().await;
    let (server, _) = start(vec![silent]).await;
    let addr = server.local_addr();
    let slow =
        tokio::spawn(async move { udp_query(addr, &build_query(20, "example.org", TYPE_A)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let reply = udp_query(addr, &build_query(21, "web", TYPE_A)).await;
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(parse_reply(&reply).unwrap().answers.len(), 1);
    let slow = parse_reply(&slow.await.unwrap()).unwrap();
    assert_eq!(slow.rcode, wire::RCODE_SERVFAIL);
}

#[tokio::test]
async fn drops_malformed_udp() {
    let (server, _) = start(vec![]).await;
    let addr = server.local_addr();
    for garbage in [&[][..], &[1, 2, 3][..], &[0xFF; 40][..]] {
        assert!(try_udp_query(addr, garbage, Duration::from_millis(200))
            .await
            .is_none());
    }
    let reply = udp_query(addr, &build_query(9, "web", TYPE_A)).await;
    assert_eq!(parse_reply(&reply).unwrap().answers.len(), 1);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (server, _) = start(vec![]).await;
    let addr = server.local_addr();
    server.shutdown();
    // Aborted tasks release their sockets the next time the runtime runs.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err());
    assert!(try_udp_query(
        addr,
        &build_query(1, "web", TYPE_A),
        Duration::from_millis(200)
    )
    .await
    .is_none());
    // The port is free again.
    let again = DnsServer::start(addr, resolver(), vec![]).await.unwrap();
    assert_eq!(again.local_addr(), addr);
}

/// Cross-check with a real client: busybox nslookup against the server on 127.0.0.1.
#[tokio::test]
async fn busybox_nslookup_resolves() {
    if !std::path::Path::new("/bin/busybox").exists() {
        eprintln!("skipped: /bin/busybox not installed");
        return;
    }
    let (server, _) = start(vec![]).await;
    let target = server.local_addr().to_string();
    let out = tokio::process::Command::new("/bin/busybox")
        .args(["nslookup", "-type=a", "web", &target])
        .output();
    let out = timeout(WAIT, out).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("can't resolve") || !text.contains(&target) {
        eprintln!("skipped: busybox nslookup does not take a port: {text}");
        return;
    }
    assert!(text.contains("Address: 172.18.0.2"), "{text}");
}
