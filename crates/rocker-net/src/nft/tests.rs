//! Tests for nft.rs: rendering (pure), applying into a throwaway table, and the real data
//! path through namespaces and bridges created here (never any foreign address).

use super::*;
use crate::link::tests::{require_root, unique, Cleanup};
use crate::link::{self, Endpoint};
use crate::netns;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

fn s(x: &str) -> Subnet {
    Subnet::parse(x).unwrap()
}

fn sample() -> Ruleset {
    Ruleset {
        table: "rocker_t".into(),
        networks: vec![
            NetRules {
                bridge: "br-a".into(),
                subnet: s("172.18.0.0/16"),
                internal: false,
                masquerade: true,
            },
            NetRules {
                bridge: "br-i".into(),
                subnet: s("172.19.0.0/16"),
                internal: true,
                masquerade: false,
            },
        ],
        ports: vec![
            PortRule {
                proto: Proto::Tcp,
                host_ip: None,
                host_port: 8080,
                container_ip: "172.18.0.2".parse().unwrap(),
                container_port: 80,
                bridge: "br-a".into(),
            },
            PortRule {
                proto: Proto::Udp,
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 5353,
                container_ip: "172.18.0.3".parse().unwrap(),
                container_port: 53,
                bridge: "br-a".into(),
            },
        ],
    }
}

#[test]
fn render_has_every_piece() {
    let r = sample().render();
    let lines: Vec<&str> = r.lines().map(str::trim).collect();
    let has = |l: &str| assert!(lines.contains(&l), "missing {l:?} in\n{r}");
    assert!(r.starts_with("table ip rocker_t {}\ndelete table ip rocker_t\ntable ip rocker_t {\n"));
    has("fib daddr type local tcp dport 8080 dnat to 172.18.0.2:80");
    has("ip daddr 127.0.0.1 udp dport 5353 dnat to 172.18.0.3:53");
    has("type nat hook prerouting priority dstnat; policy accept;");
    has("type nat hook output priority -100; policy accept;");
    assert_eq!(lines.iter().filter(|l| **l == "jump published").count(), 2);
    has("ip saddr 172.18.0.0/16 oifname != \"br-a\" masquerade");
    has("ip saddr 172.18.0.0/16 oifname \"br-a\" ct status dnat masquerade");
    has("ip saddr 127.0.0.0/8 oifname \"br-a\" masquerade");
    assert!(!r.contains("ip saddr 172.19.0.0/16 oifname != \"br-i\" masquerade"));
    has("iifname \"br-i\" oifname != \"br-i\" drop");
    has("oifname \"br-i\" iifname != \"br-i\" drop");
    has("ct state established,related accept");
    has("ip daddr 172.18.0.2 oifname \"br-a\" tcp dport 80 ct status dnat accept");
    has("iifname \"br-a\" oifname { \"br-i\" } drop");
    has("iifname \"br-a\" accept");
    has("oifname \"br-a\" iifname != \"br-a\" drop");
    assert!(!lines.contains(&"iifname \"br-i\" accept"));
    // Internal drops come before the established accept.
    let pos = |l: &str| lines.iter().position(|x| *x == l).unwrap();
    assert!(
        pos("iifname \"br-i\" oifname != \"br-i\" drop")
            < pos("ct state established,related accept")
    );
    assert_eq!(r.matches('{').count(), r.matches('}').count());
}

#[test]
fn empty_ruleset_renders_and_names_are_checked() {
    let r = Ruleset {
        table: "rocker".into(),
        ..Default::default()
    };
    assert!(r.render().contains("chain forward {"));
    for bad in ["", "1x", "a-b", "a b", "a;b"] {
        let r = Ruleset {
            table: bad.into(),
            ..Default::default()
        };
        assert_eq!(
            r.apply().unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
        assert_eq!(
            delete_table(bad).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    let mut r = sample();
    r.networks[0].bridge = "br\"; flush ruleset".into();
    assert_eq!(r.apply().unwrap_err().kind(), ErrorKind::InvalidArgument);
}

/// Deletes the table on drop.
struct TableGuard(String);
impl Drop for TableGuard {
    fn drop(&mut self) {
        let _ = delete_table(&self.0);
    }
}

fn list_json(table: &str) -> Option<serde_json::Value> {
    let out = Command::new("nft")
        .args(["-j", "list", "table", "ip", table])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn apply_lists_and_deletes() {
    require_root();
    let mut rs = sample();
    rs.table = unique("rkt_");
    let _guard = TableGuard(rs.table.clone());
    let t = std::time::Instant::now();
    rs.apply().unwrap();
    eprintln!("nft apply: {:?}", t.elapsed());
    // Re-applying replaces the table atomically (idempotent).
    rs.ports.pop();
    rs.apply().unwrap();
    let json = list_json(&rs.table).expect("table exists");
    let items = json["nftables"].as_array().unwrap();
    let chains: Vec<&str> = items
        .iter()
        .filter_map(|i| i["chain"]["name"].as_str())
        .collect();
    for c in [
        "published",
        "prerouting",
        "output",
        "postrouting",
        "forward",
    ] {
        assert!(chains.contains(&c), "{c} in {chains:?}");
    }
    let dnats = items
        .iter()
        .filter(|i| i["rule"]["chain"] == "published")
        .count();
    assert_eq!(dnats, 1);
    delete_table(&rs.table).unwrap();
    assert!(list_json(&rs.table).is_none());
    delete_table(&rs.table).unwrap();
}

#[test]
fn apply_reports_nft_errors() {
    require_root();
    let mut rs = sample();
    rs.table = unique("rkt_");
    let _guard = TableGuard(rs.table.clone());
    rs.ports[0].host_port = 0; // nft accepts it; use a bad subnet prefix trick instead
    let bad = format!("table ip {} {{ chain x {{ bogus }} }}\n", rs.table);
    let e = run_nft(&rs.table, &bad).unwrap_err();
    assert!(matches!(e, NftError::Apply { .. }));
    assert!(
        e.to_string().contains("bogus") || e.to_string().contains("syntax"),
        "{e}"
    );
}

/// A listener in a namespace: the socket is created inside, then used from here.
fn listen_in(ns: &Path, addr: Ipv4Addr) -> TcpListener {
    netns::run_in(ns, move || TcpListener::bind((addr, 80)).unwrap()).unwrap()
}

fn connect_from(ns: Option<&Path>, to: SocketAddr) -> bool {
    let go = move || {
        TcpStream::connect_timeout(&to, Duration::from_secs(2))
            .and_then(|mut c| {
                c.set_read_timeout(Some(Duration::from_secs(2)))?;
                c.write_all(b"x")?;
                let mut b = [0u8; 1];
                c.read_exact(&mut b)?;
                Ok(b[0] == b'y')
            })
            .unwrap_or(false)
    };
    match ns {
        Some(ns) => netns::run_in(ns, go).unwrap(),
        None => go(),
    }
}

/// Namespace `name` attached to `bridge` at subnet + n, default route via the gateway.
fn endpoint(
    guard: &mut Cleanup,
    dir: &Path,
    name: &str,
    bridge: &str,
    subnet: Subnet,
    n: u32,
) -> (std::path::PathBuf, Ipv4Addr) {
    let path = dir.join("netns").join(name);
    netns::create(&path).unwrap();
    guard.netns.push(path.clone());
    let host_if = unique("rkv");
    guard.links.push(host_if.clone());
    let addr = Ipv4Addr::from(u32::from(subnet.addr) + n);
    link::attach(&Endpoint {
        netns: &path,
        host_ifname: &host_if,
        ifname: "eth0",
        bridge,
        mac: crate::ipam::mac_for(addr),
        addr,
        prefix: subnet.prefix,
        gateway: Some(subnet.first_host()),
        mtu: None,
    })
    .unwrap();
    (path, addr)
}

/// Revokes DOCKER-USER accepts on drop.
struct Revoke(Vec<String>);
impl Drop for Revoke {
    fn drop(&mut self) {
        for b in &self.0 {
            let _ = revoke_in_docker_user(b);
        }
    }
}

#[test]
fn published_port_data_path() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let mut guard = Cleanup::default();
    let third = rand::random::<u8>() % 250 + 1;
    let net = Subnet::new(Ipv4Addr::new(10, 251, third, 0), 24);
    let remote_net = Subnet::new(Ipv4Addr::new(10, 252, third, 0), 24);
    let gw = net.first_host();
    let remote_gw = remote_net.first_host();
    let br = unique("rkb");
    let rbr = unique("rkr");
    guard.links.push(br.clone());
    guard.links.push(rbr.clone());
    link::ensure_bridge(&br, gw, net.prefix, None).unwrap();
    link::ensure_bridge(&rbr, remote_gw, remote_net.prefix, None).unwrap();
    link::enable_forwarding(&br).unwrap();

    let (c1, c1_ip) = endpoint(&mut guard, dir.path(), "c1", &br, net, 2);
    let (c2, _) = endpoint(&mut guard, dir.path(), "c2", &br, net, 3);
    let (remote, remote_ip) = endpoint(&mut guard, dir.path(), "remote", &rbr, remote_net, 2);
    // dockerd's FORWARD policy drop (if present on this host) would hide our rules.
    let docker_user = allow_in_docker_user(&br).unwrap();
    allow_in_docker_user(&rbr).unwrap();
    let _revoke = Revoke(vec![br.clone(), rbr.clone()]);

    let listener = listen_in(&c1, c1_ip);
    listener.set_nonblocking(false).unwrap();
    let server = std::thread::spawn(move || {
        let mut peers = Vec::new();
        while let Ok((mut c, peer)) = listener.accept() {
            let mut b = [0u8; 1];
            if c.read_exact(&mut b).is_err() {
                break; // the shutdown connection
            }
            let _ = c.write_all(b"y");
            peers.push(peer.ip());
        }
        peers
    });

    let host_port = crate::ports::ephemeral(Proto::Tcp, None, &Default::default()).unwrap();
    let table = unique("rkt_");
    let _tguard = TableGuard(table.clone());
    Ruleset {
        table: table.clone(),
        networks: vec![NetRules {
            bridge: br.clone(),
            subnet: net,
            internal: false,
            masquerade: true,
        }],
        ports: vec![PortRule {
            proto: Proto::Tcp,
            host_ip: None,
            host_port,
            container_ip: c1_ip,
            container_port: 80,
            bridge: br.clone(),
        }],
    }
    .apply()
    .unwrap();

    let lo: SocketAddr = (Ipv4Addr::LOCALHOST, host_port).into();
    let host_addr: SocketAddr = (remote_gw, host_port).into();
    assert!(connect_from(None, lo), "host loopback -> published port");
    assert!(
        connect_from(None, host_addr),
        "host address -> published port"
    );
    let forward_ok = docker_user || !forward_blocked_by_other_tables(&table);
    let from_remote = connect_from(Some(&remote), host_addr);
    let hairpin = connect_from(Some(&c2), (gw, host_port).into());
    let self_hairpin = connect_from(Some(&c1), (gw, host_port).into());
    eprintln!(
        "forwarded paths: remote={from_remote} hairpin={hairpin} \
         (docker-user chain: {docker_user}, forward open: {forward_ok})"
    );
    if forward_ok {
        assert!(from_remote, "remote netns -> host address -> container");
        assert!(hairpin, "other container -> gateway address -> container");
        assert!(self_hairpin, "container -> its own published port");
    }
    // Direct container-to-container traffic is not NATed.
    // Egress: a container reaching another network leaves masqueraded to the host's
    // address on that network.
    let outside =
        netns::run_in(&remote, move || TcpListener::bind((remote_ip, 81)).unwrap()).unwrap();
    let egress = netns::run_in(&c2, move || {
        TcpStream::connect_timeout(&(remote_ip, 81).into(), Duration::from_secs(2)).is_ok()
    })
    .unwrap();
    if forward_ok {
        assert!(egress, "container -> outside");
        let (_, peer) = outside.accept().unwrap();
        assert_eq!(
            peer.ip(),
            std::net::IpAddr::V4(remote_gw),
            "egress is masqueraded"
        );
    }
    // Unpublished container ports are not reachable by routing from outside.
    assert!(
        !connect_from(Some(&remote), (c1_ip, 80).into()),
        "direct routed access to a container is dropped"
    );
    let direct = connect_from(Some(&c2), (c1_ip, 80).into());
    if forward_ok {
        assert!(direct);
    }
    // Ends the accept loop.
    let _ = TcpStream::connect_timeout(&lo, Duration::from_secs(1)).map(drop);
    delete_table(&table).unwrap();
    drop(guard);
    let peers = server.join().unwrap();
    eprintln!("peers seen by the container: {peers:?}");
    assert!(
        peers.contains(&std::net::IpAddr::V4(gw)),
        "loopback is masqueraded to the gateway"
    );
    assert!(peers.contains(&std::net::IpAddr::V4(remote_gw)));
    if forward_ok {
        assert!(peers.contains(&std::net::IpAddr::V4(remote_ip)));
    }
}
