//! Networking end to end: user-defined networks with container DNS, the default bridge,
//! published TCP and UDP ports reached from the host's loopback, from a host address and
//! from a separate network namespace acting as a remote host; bad input; and no leftovers
//! (veth, namespace, nftables rule, address) after many cycles and a daemon kill -9.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::process::Command;
use std::time::Duration;

use rocker_e2e::{assert_success, require_root, stderr, stdout, wait_until, Daemon};

/// Fetches http://NAME/ from inside a container: NAME resolved with `nslookup` (the
/// container's DNS path), the page fetched with `nc`. Debian's busybox-static `wget`
/// crashes in static glibc's getaddrinfo, on the host too, whatever the URL.
fn fetch_by_name(name: &str) -> String {
    format!(
        "for i in 1 2 3 4 5 6 7 8 9 10; do ip=$(nslookup {name} 2>/dev/null | awk '/^Address/ {{a=$NF}} END {{print a}}'); case \"$ip\" in *:53|'') sleep 0.3;; *) printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $ip 80 | grep hello-from- && exit 0; sleep 0.3;; esac; done; exit 1"
    )
}

const WEB: &str =
    "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www";

/// A free TCP+UDP port on the host (bound and released).
fn free_port() -> u16 {
    for _ in 0..50 {
        let t = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
        let port = t.local_addr().expect("addr").port();
        if UdpSocket::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

/// GET / over plain TCP; the body, or None when it does not answer.
fn http_get(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

fn http_get_retry(addr: SocketAddr) -> String {
    let mut last = None;
    wait_until(Duration::from_secs(10), || {
        last = http_get(addr);
        last.is_some()
    });
    last.unwrap_or_else(|| panic!("no HTTP answer from {addr}"))
}

/// A network namespace wired to the host by a veth pair: a remote host for the tests.
struct Remote {
    name: String,
    host_if: String,
    host_ip: Ipv4Addr,
}

impl Remote {
    /// `172.16.a.base/30` (tests' default bridges live in 10.128.0.0/9; pools start at 172.17).
    fn new(tag: &str, a: u8, base: u8) -> Remote {
        let name = format!("rkremote{tag}");
        let host_if = format!("rkh{tag}");
        let host_ip = Ipv4Addr::new(172, 16, a, base + 1);
        let run = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("ip");
            assert_success(&out, &format!("ip {args:?}"));
        };
        run(&["netns", "add", &name]);
        run(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", "eth0", "netns", &name,
        ]);
        run(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_if]);
        run(&["link", "set", &host_if, "up"]);
        let ns = |args: &[&str]| {
            let mut v = vec!["netns", "exec", &name, "ip"];
            v.extend_from_slice(args);
            run(&v);
        };
        ns(&[
            "addr",
            "add",
            &format!("172.16.{a}.{}/30", base + 2),
            "dev",
            "eth0",
        ]);
        ns(&["link", "set", "eth0", "up"]);
        ns(&["link", "set", "lo", "up"]);
        ns(&["route", "add", "default", "via", &host_ip.to_string()]);
        Remote {
            name,
            host_if,
            host_ip,
        }
    }

    /// GET / from inside the namespace (busybox nc; its wget crashes, see fetch_by_name).
    fn http_get(&self, ip: Ipv4Addr, port: u16) -> std::process::Output {
        let script = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 5 {ip} {port}");
        Command::new("ip")
            .args(["netns", "exec", &self.name, "sh", "-c", &script])
            .output()
            .expect("ip netns exec")
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn json(d: &Daemon, args: &[&str]) -> serde_json::Value {
    let out = d.rocker_ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

/// Asserts the daemon holds no network state: no veth on its bridge, no namespace, no port
/// rule in its table, no address in use.
fn assert_net_clean(d: &Daemon) {
    let ok = wait_until(Duration::from_secs(3), || d.net().bridge_ports().is_empty());
    assert!(ok, "veths left on the bridge: {:?}", d.net().bridge_ports());
    let nsdir = d.exec_root().join("netns");
    let left: Vec<_> = std::fs::read_dir(&nsdir)
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "network namespaces left: {left:?}");
    let rules = d.net().ruleset();
    assert!(!rules.contains("dnat to"), "port rules left:\n{rules}");
    let bridge = json(d, &["network", "inspect", "bridge"]);
    assert_eq!(
        bridge[0]["Containers"],
        serde_json::json!({}),
        "addresses still allocated: {bridge}"
    );
}

#[test]
fn user_network_dns_by_name_and_alias() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let tag = &d.net().table[d.net().table.len() - 6..];
    let net = format!("app{tag}");
    d.rocker_ok(&["network", "create", "--subnet", &d.net().spare, &net]);
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        &net,
        "--network-alias",
        "site",
        "busybox",
        "sh",
        "-c",
        WEB,
    ]);
    for name in ["web", "site"] {
        let out = d.rocker(&[
            "run",
            "--rm",
            "--network",
            &net,
            "busybox",
            "sh",
            "-c",
            &fetch_by_name(name),
        ]);
        assert_success(&out, &format!("GET http://{name}/ on {net}"));
        assert!(stdout(&out).contains("hello-from-"), "{}", stdout(&out));
    }
    // resolv.conf points at the network's embedded DNS server.
    let resolv = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "busybox",
        "cat",
        "/etc/resolv.conf",
    ]);
    let inspect = json(&d, &["network", "inspect", &net]);
    let gw = inspect[0]["IPAM"]["Config"][0]["Gateway"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(resolv.contains(&format!("nameserver {gw}")), "{resolv}");
    // On the default bridge, names do not resolve (as in Docker).
    let out = d.rocker(&["run", "--rm", "busybox", "nslookup", "web"]);
    assert!(
        !out.status.success(),
        "web resolved on the default bridge: {}",
        stdout(&out)
    );
    // Inspect shows the endpoint; the network cannot be removed while in use.
    let web = d.inspect("web");
    let ep = &web["NetworkSettings"]["Networks"][&net];
    assert!(
        ep["IPAddress"].as_str().is_some_and(|ip| !ip.is_empty()),
        "{ep}"
    );
    let out = d.rocker(&["network", "rm", &net]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("active endpoints"),
        "{}",
        stderr(&out)
    );
    d.rocker_ok(&["rm", "-f", "web"]);
    d.rocker_ok(&["network", "rm", &net]);
    assert_net_clean(&d);
    d.assert_clean(0);
}

#[test]
fn published_ports_from_loopback_host_address_and_remote_netns() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let port = free_port();
    let udp_port = free_port();
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &format!("{port}:80"),
        "-p",
        &format!("{udp_port}:9999/udp"),
        "busybox",
        "sh",
        "-c",
        WEB,
    ]);
    let body = http_get_retry(SocketAddr::from(([127, 0, 0, 1], port)));
    assert!(body.starts_with("hello-from-"), "{body}");
    // The bridge's address is one of the host's own.
    let body = http_get_retry(SocketAddr::from((d.net().gateway, port)));
    assert!(body.starts_with("hello-from-"), "{body}");
    // Stats count the traffic on the container's interface.
    let (status, body) = d.api("GET", "/containers/web/stats?stream=false", None);
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_slice(&body).expect("stats json");
    assert!(
        stats["networks"]["eth0"]["rx_bytes"].as_u64().unwrap_or(0) > 0,
        "{}",
        stats["networks"]
    );
    // `rocker port` shows the binding.
    let shown = d.rocker_ok(&["port", "web"]);
    assert!(
        shown.contains(&format!("80/tcp -> 0.0.0.0:{port}")),
        "{shown}"
    );

    // From another network namespace, through the host's address on its link.
    let g = d.net().gateway.octets();
    let remote = Remote::new(
        &d.net().table[d.net().table.len() - 6..],
        g[1] - 128,
        (g[2] / 2 % 64) * 4,
    );
    let out = remote.http_get(remote.host_ip, port);
    assert_success(&out, "GET from the remote namespace");
    assert!(stdout(&out).contains("hello-from-"), "{}", stdout(&out));

    // UDP: an echo server bound inside the container's namespace answers through the port.
    let sandbox = d.inspect("web")["NetworkSettings"]["SandboxKey"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(!sandbox.is_empty(), "no SandboxKey");
    let (tx, rx) = std::sync::mpsc::channel();
    // The socket pins the namespace (and so the veth) while it is open: it answers once and
    // is closed before the leftover checks.
    let echo = std::thread::spawn(move || {
        let ns = std::fs::File::open(&sandbox).expect("open netns");
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let sock = UdpSocket::bind("0.0.0.0:9999").expect("bind in container netns");
        tx.send(()).expect("ready");
        let mut buf = [0u8; 512];
        sock.set_read_timeout(Some(Duration::from_secs(20))).ok();
        if let Ok((n, peer)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(&buf[..n], peer);
        }
    });
    rx.recv().expect("echo server up");
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind");
    client
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut got = None;
    for _ in 0..10 {
        client
            .send_to(b"ping-udp", ("127.0.0.1", udp_port))
            .expect("send");
        let mut buf = [0u8; 64];
        if let Ok((n, _)) = client.recv_from(&mut buf) {
            got = Some(buf[..n].to_vec());
            break;
        }
    }
    assert_eq!(got.as_deref(), Some(&b"ping-udp"[..]), "no UDP echo");
    echo.join().expect("echo thread");

    // A second container cannot take the same host port; nothing is left of it.
    let out = d.rocker(&[
        "run",
        "-d",
        "--name",
        "web2",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sleep",
        "60",
    ]);
    assert!(!out.status.success(), "port taken twice");
    assert!(
        stderr(&out).contains("port is already allocated"),
        "{}",
        stderr(&out)
    );
    let one = wait_until(Duration::from_secs(3), || d.net().bridge_ports().len() == 1);
    assert!(one, "{:?}", d.net().bridge_ports());
    d.rocker_ok(&["rm", "-f", "web2"]);

    // A port held by a host process is refused the same way.
    let holder = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
    let held = holder.local_addr().expect("addr").port();
    let out = d.rocker(&[
        "run",
        "--rm",
        "-p",
        &format!("{held}:80"),
        "busybox",
        "true",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("port is already allocated"),
        "{}",
        stderr(&out)
    );
    drop(holder);

    // -P publishes exposed ports on ephemeral host ports.
    let id = d.rocker_ok(&[
        "run", "-d", "--expose", "80", "-P", "busybox", "sh", "-c", WEB,
    ]);
    let shown = d.rocker_ok(&["port", id.trim(), "80"]);
    let eph: u16 = shown
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("port output: {shown}"));
    let body = http_get_retry(SocketAddr::from(([127, 0, 0, 1], eph)));
    assert!(body.starts_with("hello-from-"), "{body}");

    d.rocker_ok(&["rm", "-f", "web", id.trim()]);
    assert!(http_get(SocketAddr::from(([127, 0, 0, 1], port))).is_none());
    assert_net_clean(&d);
    d.assert_clean(0);
}

#[test]
fn no_leftovers_after_cycles_and_daemon_kill() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    for i in 0..100 {
        let port = 20000 + (i % 50) as u16 + (std::process::id() % 400) as u16 * 50;
        let id = d.rocker_ok(&[
            "create",
            "-p",
            &format!("{port}:80"),
            "busybox",
            "sleep",
            "30",
        ]);
        let id = id.trim();
        d.rocker_ok(&["start", id]);
        d.rocker_ok(&["kill", id]);
        d.rocker_ok(&["rm", "-f", id]);
    }
    assert_net_clean(&d);
    // Running containers survive a daemon kill -9 with their network; exited ones are
    // unwired at restart.
    let keep = d.rocker_ok(&["run", "-d", "busybox", "sleep", "300"]);
    let dies = d.rocker_ok(&["run", "-d", "-p", "80", "busybox", "sleep", "2"]);
    let ip = d.inspect(keep.trim())["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(!ip.is_empty());
    d.kill9();
    std::thread::sleep(Duration::from_secs(3));
    d.restart();
    let info = d.inspect(dies.trim());
    assert_eq!(info["State"]["Running"], false, "{info}");
    let one = wait_until(Duration::from_secs(3), || d.net().bridge_ports().len() == 1);
    assert!(one, "{:?}", d.net().bridge_ports());
    let out = d.rocker_ok(&["exec", keep.trim(), "ip", "-4", "addr", "show", "eth0"]);
    assert!(out.contains(&ip), "{out}");
    // A new container does not get the survivor's address.
    let other = d.rocker_ok(&["run", "--rm", "busybox", "ip", "-4", "addr", "show", "eth0"]);
    assert!(
        !other.contains(&format!("{ip}/")),
        "address handed out twice: {other}"
    );
    d.rocker_ok(&["rm", "-f", keep.trim(), dies.trim()]);
    assert_net_clean(&d);
    d.assert_clean(0);
}

#[test]
fn network_bad_input_and_modes() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let subnet = &d.net().subnet;
    // Overlaps the default bridge.
    let out = d.rocker(&["network", "create", "--subnet", subnet, "clash"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("overlaps"), "{}", stderr(&out));
    // Address outside the subnet, static address on the default bridge.
    let tag = &d.net().table[d.net().table.len() - 6..];
    let net = format!("n{tag}");
    // The spare /24 split in two: a network with an ip-range, and an internal one.
    let base = d.net().spare.trim_end_matches(".0/24").to_string();
    d.rocker_ok(&[
        "network",
        "create",
        "--subnet",
        &format!("{base}.0/25"),
        "--ip-range",
        &format!("{base}.64/26"),
        &net,
    ]);
    let cidr = json(&d, &["network", "inspect", &net])[0]["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(cidr, format!("{base}.0/25"));
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "busybox",
        "ip",
        "-4",
        "addr",
        "show",
        "eth0",
    ]);
    assert!(
        out.contains(&format!("inet {base}.64/25")),
        "first address of the range: {out}"
    );
    let internal = format!("i{tag}");
    d.rocker_ok(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        &format!("{base}.128/25"),
        &internal,
    ]);
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        &internal,
        "busybox",
        "ip",
        "route",
    ]);
    assert!(
        !out.contains("default"),
        "internal network with a default route: {out}"
    );
    let rules = d.net().ruleset();
    assert!(
        !rules.contains(&format!("ip saddr {base}.128/25 oifname !=")),
        "internal network masqueraded:\n{rules}"
    );
    d.rocker_ok(&["network", "rm", &internal]);
    let out = d.rocker(&[
        "run",
        "--rm",
        "--network",
        &net,
        "--ip",
        "192.0.2.200",
        "busybox",
        "true",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no configured subnet"),
        "{}",
        stderr(&out)
    );
    let out = d.rocker(&["run", "--rm", "--ip", "10.1.2.3", "busybox", "true"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("user defined networks only"),
        "{}",
        stderr(&out)
    );
    // A static address on a user network is used.
    let base: Vec<&str> = cidr.split('/').next().unwrap_or("").split('.').collect();
    let want = format!("{}.{}.{}.77", base[0], base[1], base[2]);
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "--ip",
        &want,
        "busybox",
        "ip",
        "-4",
        "addr",
    ]);
    assert!(out.contains(&format!("{want}/")), "{out}");
    // Unknown network, duplicate name, pre-defined networks.
    let out = d.rocker(&["run", "--rm", "--network", "nosuchnet", "busybox", "true"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    let out = d.rocker(&["network", "create", &net]);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = d.rocker(&["network", "rm", "bridge"]);
    assert!(stderr(&out).contains("pre-defined"), "{}", stderr(&out));
    // host and none modes.
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ip",
        "-o",
        "link",
    ]);
    assert!(!out.contains("eth0"), "{out}");
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "ip",
        "-o",
        "link",
    ]);
    assert!(out.contains(&d.net().bridge), "{out}");
    // container: mode shares the namespace.
    let a = d.rocker_ok(&["run", "-d", "busybox", "sleep", "60"]);
    let ip = d.inspect(a.trim())["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        &format!("container:{}", a.trim()),
        "busybox",
        "ip",
        "-4",
        "addr",
    ]);
    assert!(out.contains(&ip), "{out}");
    // connect / disconnect a running container.
    d.rocker_ok(&["network", "connect", &net, a.trim()]);
    let out = d.rocker_ok(&["exec", a.trim(), "ip", "-o", "link"]);
    assert!(out.contains("eth1"), "{out}");
    d.rocker_ok(&["network", "disconnect", &net, a.trim()]);
    let out = d.rocker_ok(&["exec", a.trim(), "ip", "-o", "link"]);
    assert!(!out.contains("eth1"), "{out}");
    // --add-host and --dns land in the files.
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--add-host",
        "db:10.9.8.7",
        "--dns",
        "10.0.0.53",
        "busybox",
        "cat",
        "/etc/hosts",
        "/etc/resolv.conf",
    ]);
    assert!(out.contains("10.9.8.7\tdb"), "{out}");
    assert!(out.contains("nameserver 10.0.0.53"), "{out}");
    d.rocker_ok(&["rm", "-f", a.trim()]);
    d.rocker_ok(&["network", "rm", &net]);
    assert_net_clean(&d);
    d.assert_clean(0);
}

#[test]
fn docker_client_networks() {
    if !require_root() {
        return;
    }
    if rocker_e2e::docker_client().is_none() {
        eprintln!("docker client not installed; skipping");
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let tag = &d.net().table[d.net().table.len() - 6..];
    let net = format!("dk{tag}");
    let brname = format!("rkb{tag}");
    d.docker_ok(&[
        "network",
        "create",
        "--subnet",
        &d.net().spare,
        "--label",
        "k=v",
        "-o",
        &format!("com.docker.network.bridge.name={brname}"),
        &net,
    ]);
    assert!(
        std::path::Path::new(&format!("/sys/class/net/{brname}/bridge")).exists(),
        "bridge {brname} not created"
    );
    let ls = d.docker_ok(&["network", "ls"]);
    for n in ["bridge", "host", "none", net.as_str()] {
        assert!(ls.contains(n), "{ls}");
    }
    let port = free_port();
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "ww",
        "--network",
        &net,
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sh",
        "-c",
        WEB,
    ]);
    let body = http_get_retry(SocketAddr::from(([127, 0, 0, 1], port)));
    assert!(body.starts_with("hello-from-"), "{body}");
    let p = d.docker_ok(&["port", "ww"]);
    assert!(p.contains(&format!("0.0.0.0:{port}")), "{p}");
    let out = d.docker_ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "busybox",
        "sh",
        "-c",
        &fetch_by_name("ww"),
    ]);
    assert!(out.contains("hello-from-"), "{out}");
    let insp = d.docker_ok(&[
        "network",
        "inspect",
        "-f",
        "{{len .Containers}} {{.Labels.k}}",
        &net,
    ]);
    assert_eq!(insp.trim(), "1 v");
    // --mac-address sets the endpoint's MAC (through the rocker CLI: docker 28 refuses the
    // flag against API 1.43).
    let out = d.rocker_ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "--mac-address",
        "02:42:de:ad:be:ef",
        "busybox",
        "ip",
        "link",
        "show",
        "eth0",
    ]);
    assert!(out.contains("02:42:de:ad:be:ef"), "{out}");
    d.docker_ok(&["rm", "-f", "ww"]);
    d.docker_ok(&["network", "rm", &net]);
    assert!(!std::path::Path::new(&format!("/sys/class/net/{brname}")).exists());
    assert_net_clean(&d);
    d.assert_clean(0);
}

#[test]
fn default_bridge_avoids_a_subnet_taken_by_a_host_route() {
    if !require_root() {
        return;
    }
    // Another bridge holds the subnet the daemon is configured with (as docker0 would).
    let net = rocker_e2e::netfix::TestNet::pick();
    let dummy = format!("rkd{}", &net.table[net.table.len() - 8..]);
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("ip");
        assert_success(&out, &format!("ip {args:?}"));
    };
    ip(&["link", "add", &dummy, "type", "bridge"]);
    struct Gone(String);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).status();
        }
    }
    let _gone = Gone(dummy.clone());
    ip(&["addr", "add", &format!("{}/24", net.gateway), "dev", &dummy]);
    ip(&["link", "set", &dummy, "up"]);
    let d = Daemon::start_with_net(net.clone(), &[]);
    let bridge = json(&d, &["network", "inspect", "bridge"]);
    let subnet = bridge[0]["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(!subnet.is_empty() && subnet != net.subnet, "{bridge}");
    let log = std::fs::read_to_string(d.log_path()).unwrap_or_default();
    assert!(log.contains("overlaps the host route"), "{log}");
    d.load_busybox();
    let out = d.rocker_ok(&["run", "--rm", "busybox", "ip", "-4", "addr", "show", "eth0"]);
    let prefix: String = subnet.split('.').take(2).collect::<Vec<_>>().join(".");
    assert!(out.contains(&format!("inet {prefix}.")), "{out}");
}
