//! Root tests for link.rs: real bridges, veth pairs and namespaces with unique names,
//! removed by guards.

use super::*;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

pub(crate) fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (run the suite as root)"
    );
}

pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// Deletes links and namespaces on drop.
#[derive(Default)]
pub(crate) struct Cleanup {
    pub links: Vec<String>,
    pub netns: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for l in &self.links {
            let _ = delete_link(l);
        }
        for n in &self.netns {
            let _ = netns::remove(n);
        }
        // The test's namespace directory is a private bind mount of itself.
        for n in &self.netns {
            if let Some(dir) = n.parent() {
                let _ = nix::mount::umount2(dir, nix::mount::MntFlags::MNT_DETACH);
            }
        }
    }
}

/// A test subnet in 10.250.0.0/16 that is unique enough for parallel tests.
fn test_subnet() -> Subnet {
    let third = (rand::random::<u8>() % 250) + 1;
    Subnet::new(Ipv4Addr::new(10, 250, third, 0), 24)
}

/// Waits until `cond` holds (tests only: the kernel frees namespaces asynchronously).
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn names_are_checked() {
    for bad in ["", "a/b", "x y", "0123456789abcdef", "a:b"] {
        assert_eq!(
            delete_link(bad).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
    }
}

#[test]
fn bridge_is_idempotent() {
    require_root();
    let mut guard = Cleanup::default();
    let br = unique("rkb");
    guard.links.push(br.clone());
    let net = test_subnet();
    let gw = net.first_host();
    let i1 = ensure_bridge(&br, gw, net.prefix, Some(1400)).unwrap();
    let i2 = ensure_bridge(&br, gw, net.prefix, Some(1400)).unwrap();
    assert_eq!(i1, i2);
    assert!(link_exists(&br).unwrap());
    let mtu = std::fs::read_to_string(format!("/sys/class/net/{br}/mtu")).unwrap();
    assert_eq!(mtu.trim(), "1400");
    let mut nl = Netlink::open().unwrap();
    let addrs = nl.addresses(Some(i1)).unwrap();
    assert_eq!(addrs, vec![(gw, net.prefix)]);
    delete_link(&br).unwrap();
    delete_link(&br).unwrap();
    assert!(!link_exists(&br).unwrap());
}

#[test]
fn host_routes_lists_connected_subnets() {
    require_root();
    let mut guard = Cleanup::default();
    let br = unique("rkb");
    guard.links.push(br.clone());
    let net = test_subnet();
    ensure_bridge(&br, net.first_host(), net.prefix, None).unwrap();
    // The prefix route of a bridge without carrier exists (linkdown) in the main table.
    let routes = host_routes().unwrap();
    assert!(routes.contains(&net), "{net} in {routes:?}");
    assert!(!routes.iter().any(|r| r.prefix == 0));
}

#[test]
fn attach_configures_endpoint_fast_and_netns_removal_frees_it() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let mut guard = Cleanup::default();
    let br = unique("rkb");
    guard.links.push(br.clone());
    let net = test_subnet();
    let gw = net.first_host();
    ensure_bridge(&br, gw, net.prefix, None).unwrap();
    enable_forwarding(&br).unwrap();
    let ns_path = dir.path().join("netns").join("c1");
    guard.netns.push(ns_path.clone());
    netns::create(&ns_path).unwrap();

    let host_if = unique("rkv");
    guard.links.push(host_if.clone());
    let addr = Ipv4Addr::from(u32::from(gw) + 1);
    let mac = crate::ipam::mac_for(addr);
    let ep = Endpoint {
        netns: &ns_path,
        host_ifname: &host_if,
        ifname: "eth0",
        bridge: &br,
        mac,
        addr,
        prefix: net.prefix,
        gateway: Some(gw),
        mtu: Some(1450),
    };
    let t = Instant::now();
    attach(&ep).unwrap();
    let took = t.elapsed();
    eprintln!("attach: {took:?}");
    assert!(took < Duration::from_millis(50), "attach took {took:?}");
    assert!(link_exists(&host_if).unwrap());
    let master = std::fs::read_link(format!("/sys/class/net/{host_if}/master")).unwrap();
    assert!(master.ends_with(&br));
    let hairpin =
        std::fs::read_to_string(format!("/sys/class/net/{host_if}/brport/hairpin_mode")).unwrap();
    assert_eq!(hairpin.trim(), "1");
    // Second attach with the same host name: AlreadyExists, nothing changed.
    assert_eq!(attach(&ep).unwrap_err().kind(), ErrorKind::AlreadyExists);

    // The container reaches the host over the bridge (gateway address).
    let listener = TcpListener::bind((gw, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (inside_addrs, connected) = netns::run_in(&ns_path, || {
        let mut nl = Netlink::open().unwrap();
        let idx = nl.index_of("eth0").unwrap().unwrap();
        let addrs = nl.addresses(Some(idx)).unwrap();
        let ok = TcpStream::connect_timeout(&(gw, port).into(), Duration::from_secs(2)).is_ok();
        (addrs, ok)
    })
    .unwrap();
    assert_eq!(inside_addrs, vec![(addr, net.prefix)]);
    assert!(connected, "container reaches the gateway");
    let (_, peer) = listener.accept().unwrap();
    assert_eq!(peer.ip(), IpAddr::V4(addr));

    let t = Instant::now();
    netns::remove(&ns_path).unwrap();
    eprintln!("netns remove: {:?}", t.elapsed());
    assert!(
        eventually(|| !link_exists(&host_if).unwrap()),
        "removing the namespace frees the veth pair"
    );
    detach(&host_if).unwrap();
}

#[test]
fn failed_attach_leaves_nothing() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let mut guard = Cleanup::default();
    let br = unique("rkb");
    guard.links.push(br.clone());
    let net = test_subnet();
    let gw = net.first_host();
    ensure_bridge(&br, gw, net.prefix, None).unwrap();
    let ns_path = dir.path().join("netns").join("c1");
    guard.netns.push(ns_path.clone());
    netns::create(&ns_path).unwrap();
    let host_if = unique("rkv");
    guard.links.push(host_if.clone());
    let base = Endpoint {
        netns: &ns_path,
        host_ifname: &host_if,
        ifname: "eth0",
        bridge: &br,
        mac: [2, 0x42, 1, 2, 3, 4],
        addr: Ipv4Addr::from(u32::from(gw) + 1),
        prefix: net.prefix,
        gateway: Some(Ipv4Addr::new(192, 0, 2, 1)), // unreachable: route add fails
        mtu: None,
    };
    let e = attach(&base).unwrap_err();
    assert!(matches!(e, LinkError::AddRoute { .. }), "{e}");
    assert!(!link_exists(&host_if).unwrap());
    let missing_bridge = Endpoint {
        bridge: "rkb-missing0",
        ..base.clone()
    };
    assert_eq!(
        attach(&missing_bridge).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let missing_ns = dir.path().join("nope");
    let no_ns = Endpoint {
        netns: &missing_ns,
        ..base.clone()
    };
    assert_eq!(attach(&no_ns).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(!link_exists(&host_if).unwrap());
}

#[test]
fn timing_of_netns_and_attach() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let mut guard = Cleanup::default();
    let br = unique("rkb");
    guard.links.push(br.clone());
    let net = test_subnet();
    let gw = net.first_host();
    ensure_bridge(&br, gw, net.prefix, None).unwrap();
    let (mut create, mut att, mut det, mut rm) = (vec![], vec![], vec![], vec![]);
    for i in 0..10u32 {
        let path = dir.path().join("netns").join(format!("t{i}"));
        guard.netns.push(path.clone());
        let t = Instant::now();
        netns::create(&path).unwrap();
        create.push(t.elapsed());
        let host_if = unique("rkv");
        guard.links.push(host_if.clone());
        let addr = Ipv4Addr::from(u32::from(gw) + 1 + i);
        let t = Instant::now();
        attach(&Endpoint {
            netns: &path,
            host_ifname: &host_if,
            ifname: "eth0",
            bridge: &br,
            mac: crate::ipam::mac_for(addr),
            addr,
            prefix: net.prefix,
            gateway: Some(gw),
            mtu: None,
        })
        .unwrap();
        att.push(t.elapsed());
        let t = Instant::now();
        detach(&host_if).unwrap();
        det.push(t.elapsed());
        let t = Instant::now();
        netns::remove(&path).unwrap();
        rm.push(t.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (c, a, d, r) = (
        median(&mut create),
        median(&mut att),
        median(&mut det),
        median(&mut rm),
    );
    eprintln!("median of 10: netns create {c:?}, attach {a:?}, detach {d:?}, netns remove {r:?}");
    assert!(a < Duration::from_millis(25), "attach median {a:?}");
}
