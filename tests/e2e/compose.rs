//! docker-compose (v1, Debian's package) against rockerd: a project with a user-defined
//! network, a named volume and a published port; services reach each other by service name;
//! `down -v` leaves nothing behind.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rocker_e2e::{assert_success, in_ci, require_root, stdout, wait_until, Daemon};

fn http_get(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn compose_project_with_network_volume_and_port() {
    if !require_root() {
        return;
    }
    if std::process::Command::new("docker-compose")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(
            !in_ci(),
            "docker-compose missing: scripts/deps.sh installs it"
        );
        eprintln!("docker-compose not installed; skipping");
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let port = {
        let l = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = format!(
        r#"version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'echo kept > /data/file; mkdir -p /www && echo hello-compose > /www/index.html && exec httpd -f -p 80 -h /www'
    ports:
      - "{port}:80"
    volumes:
      - data:/data
    networks: [front]
  client:
    image: busybox
    command: sh -c 'sleep 600'
    networks: [front]
    depends_on: [web]
volumes:
  data:
networks:
  front:
    ipam:
      config:
        - subnet: {}
"#,
        d.net().spare
    );
    std::fs::write(dir.path().join("docker-compose.yml"), file).expect("write compose file");
    let up = d.compose(dir.path(), &["-p", "rkproj", "up", "-d"]);
    assert_success(&up, "docker-compose up -d");
    let ps = stdout(&d.compose(dir.path(), &["-p", "rkproj", "ps"]));
    assert_eq!(ps.matches("rkproj_web_1").count(), 1, "{ps}");
    assert_eq!(ps.matches("rkproj_client_1").count(), 1, "{ps}");
    assert!(ps.contains(&format!("0.0.0.0:{port}->80/tcp")), "{ps}");

    let mut page = None;
    wait_until(Duration::from_secs(10), || {
        page = http_get(port).filter(|p| p.contains("hello-compose"));
        page.is_some()
    });
    assert!(
        page.is_some(),
        "published port of the web service did not answer"
    );
    // The client reaches the web service by its service name (an alias Compose sets).
    let script = "for i in 1 2 3 4 5 6 7 8 9 10; do ip=$(nslookup web 2>/dev/null | awk '/^Address/ {a=$NF} END {print a}'); case \"$ip\" in *:53|'') sleep 0.3;; *) printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $ip 80 | grep hello-compose && exit 0; sleep 0.3;; esac; done; exit 1";
    let out = d.compose(
        dir.path(),
        &["-p", "rkproj", "exec", "-T", "client", "sh", "-c", script],
    );
    assert_success(&out, "client -> web by service name");
    // The named volume holds what the service wrote.
    let vols = d.rocker_ok(&["volume", "ls", "-q"]);
    assert!(vols.lines().any(|v| v == "rkproj_data"), "{vols}");

    let down = d.compose(dir.path(), &["-p", "rkproj", "down", "-v"]);
    assert_success(&down, "docker-compose down -v");
    assert!(d.rocker_ok(&["ps", "-aq"]).trim().is_empty());
    assert!(d.rocker_ok(&["volume", "ls", "-q"]).trim().is_empty());
    let nets = d.rocker_ok(&["network", "ls"]);
    assert!(!nets.contains("rkproj_front"), "{nets}");
    assert!(
        d.net().bridge_ports().is_empty(),
        "{:?}",
        d.net().bridge_ports()
    );
    d.assert_clean(0);
}
