//! Live-restore soak (issue 5): rockerd is SIGKILLed with 51 containers running, 11 of them
//! exit while it is down; after the restart the rest still run and stay attachable, logging,
//! measurable and reachable on their published ports, the exits are recorded with their
//! codes, and restart policies apply. Also the log-size guarantee: 100 MB written through
//! the default json-file rotation (10m x 3) leaves at most 30 MB on disk.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use rocker_e2e::{host, require_root, stdout, table_row, wait_until, Daemon};

/// Long-running containers without a network; one of them (`soak-log`) logs twice a second.
const QUIET: usize = 30;
/// Long-running busybox httpd containers on the default bridge, each with a published port.
const WEB: usize = 10;
/// Containers that exit (with codes 1..=EXITERS) while the daemon is down.
const EXITERS: usize = 10;

/// A free TCP port on the host (bound and released).
fn free_port() -> u16 {
    let l = TcpListener::bind(("0.0.0.0", 0)).expect("bind");
    l.local_addr().expect("addr").port()
}

/// GET / over plain TCP; the body, or None when nothing answers.
fn http_get(port: u16) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

fn http_get_retry(port: u16) -> String {
    let mut last = None;
    wait_until(Duration::from_secs(10), || {
        last = http_get(port);
        last.is_some()
    });
    last.unwrap_or_else(|| panic!("no HTTP answer on 127.0.0.1:{port}"))
}

/// `POST /containers/{id}/attach?stream=1&stdout=1` over a raw upgraded connection; returns
/// what arrived within `timeout` once `needle` is seen (or the timeout passes).
fn attach_read(socket: &Path, id: &str, needle: &str, timeout: Duration) -> String {
    let mut s = UnixStream::connect(socket).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("read timeout");
    let req = format!(
        "POST /containers/{id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: rocker\r\n\
         Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("send attach request");
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        let text = String::from_utf8_lossy(&got);
        if let Some((_, body)) = text.split_once("\r\n\r\n") {
            if body.contains(needle) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Start every `(name, args)` with `rocker run -d`, four at a time.
fn run_all(d: &Daemon, specs: &[(String, Vec<String>)]) {
    std::thread::scope(|s| {
        for chunk in specs.chunks(specs.len().div_ceil(4)) {
            s.spawn(move || {
                for (name, args) in chunk {
                    let mut argv = vec!["run", "-d", "--name", name.as_str()];
                    argv.extend(args.iter().map(String::as_str));
                    d.rocker_ok(&argv);
                }
            });
        }
    });
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn fifty_containers_survive_kill9_and_exits_during_the_outage_are_recorded() {
    if !require_root() {
        return;
    }
    let began = Instant::now();
    let mut d = Daemon::start();
    d.load_busybox();

    let logger = "i=0; while true; do i=$((i+1)); echo tick $i; \
                  if [ -e /mark ]; then echo during-outage; rm /mark; fi; sleep 0.5; done";
    let waiter = |code: usize| {
        format!("while [ ! -e /go ]; do sleep 0.2; done; echo bye {code}; exit {code}")
    };
    let mut specs: Vec<(String, Vec<String>)> = Vec::new();
    specs.push((
        "soak-log".into(),
        strings(&["--network", "none", "busybox", "sh", "-c", logger]),
    ));
    for i in 1..QUIET {
        specs.push((
            format!("soak-q{i}"),
            strings(&["--network", "none", "busybox", "sleep", "600"]),
        ));
    }
    let ports: Vec<u16> = (0..WEB).map(|_| free_port()).collect();
    for (i, port) in ports.iter().enumerate() {
        let web = format!(
            "mkdir -p /www && echo soak-web-{i} > /www/index.html && exec httpd -f -p 80 -h /www"
        );
        specs.push((
            format!("soak-w{i}"),
            vec![
                "-p".into(),
                format!("{port}:80"),
                "busybox".into(),
                "sh".into(),
                "-c".into(),
                web,
            ],
        ));
    }
    for code in 1..=EXITERS {
        specs.push((
            format!("soak-x{code}"),
            strings(&["--network", "none", "busybox", "sh", "-c", &waiter(code)]),
        ));
    }
    // Exits during the outage; started again by its policy, it then stays up.
    let always = "if [ -e /ran ]; then exec sleep 600; fi; touch /ran; \
                  while [ ! -e /go ]; do sleep 0.2; done; exit 3";
    specs.push((
        "soak-always".into(),
        strings(&[
            "--network",
            "none",
            "--restart",
            "always",
            "busybox",
            "sh",
            "-c",
            always,
        ]),
    ));
    let t0 = Instant::now();
    run_all(&d, &specs);
    eprintln!("started {} containers in {:?}", specs.len(), t0.elapsed());

    let running_names: Vec<String> = specs
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| !n.starts_with("soak-x") && n != "soak-always")
        .collect();
    assert_eq!(running_names.len(), QUIET + WEB);
    for (i, port) in ports.iter().enumerate() {
        let body = http_get_retry(*port);
        assert!(
            body.contains(&format!("soak-web-{i}")),
            "port {port}: {body:?}"
        );
    }
    let pids: Vec<(String, i32)> = running_names
        .iter()
        .map(|n| {
            (
                n.clone(),
                d.inspect(n)["State"]["Pid"].as_i64().unwrap() as i32,
            )
        })
        .collect();
    d.wait_logs_contain("soak-log", "tick 2", Duration::from_secs(10));

    let pid_of = |name: &str| d.inspect(name)["State"]["Pid"].as_i64().unwrap_or(0) as i32;
    let exiter_pids: Vec<i32> = (1..=EXITERS)
        .map(|c| pid_of(&format!("soak-x{c}")))
        .collect();
    let always_pid = pid_of("soak-always");
    let log_pid = pid_of("soak-log");
    assert!(exiter_pids
        .iter()
        .chain([&always_pid, &log_pid])
        .all(|p| *p > 0));

    // The outage: the daemon dies, ten containers exit, one logs a marker, one `always`
    // container exits. Files are dropped into their roots through /proc.
    d.kill9();
    for pid in exiter_pids.iter().chain([&always_pid]) {
        std::fs::write(format!("/proc/{pid}/root/go"), b"x").expect("write go");
    }
    std::fs::write(format!("/proc/{log_pid}/root/mark"), b"x").expect("write mark");
    let all_exited = wait_until(Duration::from_secs(15), || {
        exiter_pids.iter().all(|p| !host::process_alive(*p)) && !host::process_alive(always_pid)
    });
    assert!(all_exited, "exiters did not exit during the outage");
    for (name, pid) in &pids {
        assert!(
            host::process_alive(*pid),
            "{name} (pid {pid}) died with the daemon"
        );
    }
    // Give the logger time to write the marker while nobody reads its shim.
    std::thread::sleep(Duration::from_millis(1200));

    let t_restart = Instant::now();
    d.restart();
    eprintln!("daemon back in {:?}", t_restart.elapsed());

    // The 40 still run, same pids, in inspect and in ps (ours and docker's).
    for (name, pid) in &pids {
        let info = d.inspect(name);
        assert_eq!(info["State"]["Running"], true, "{name}: {}", info["State"]);
        assert_eq!(info["State"]["Pid"], *pid, "{name}");
    }
    let ps = d.rocker_ok(&["ps"]);
    for name in &running_names {
        let row = table_row(&ps, name).unwrap_or_else(|| panic!("{name} missing:\n{ps}"));
        assert!(row.contains("Up"), "row: {row}");
    }
    if rocker_e2e::docker_client().is_some() {
        let names = d.docker_ok(&["ps", "--format", "{{.Names}}"]);
        for name in &running_names {
            assert!(
                names.lines().any(|l| l == name),
                "docker ps lacks {name}:\n{names}"
            );
        }
    }

    // Exit codes of those that exited while the daemon was down.
    for code in 1..=EXITERS {
        let name = format!("soak-x{code}");
        let info = d.wait_not_running(&name, Duration::from_secs(10));
        assert_eq!(
            info["State"]["ExitCode"], code as i64,
            "{name}: {}",
            info["State"]
        );
        assert_eq!(info["State"]["Status"], "exited", "{name}");
        assert_eq!(d.rocker_ok(&["logs", &name]), format!("bye {code}\n"));
    }
    let ps_a = d.rocker_ok(&["ps", "-a"]);
    let row = table_row(&ps_a, "soak-x7").unwrap_or_else(|| panic!("soak-x7 missing:\n{ps_a}"));
    assert!(row.contains("Exited (7)"), "row: {row}");

    // Restart policy: the `always` one runs again.
    let restarted = wait_until(Duration::from_secs(15), || {
        let s = &d.inspect("soak-always")["State"];
        s["Running"] == true && s["Pid"].as_i64().unwrap_or(0) as i32 != always_pid
    });
    let info = d.inspect("soak-always");
    assert!(restarted, "soak-always not restarted: {}", info["State"]);
    assert!(
        info["RestartCount"].as_i64().unwrap_or(0) >= 1,
        "{}",
        info["RestartCount"]
    );

    // Logs: the line written during the outage is there, and logging goes on.
    let logs = d.wait_logs_contain("soak-log", "during-outage", Duration::from_secs(5));
    let last_tick = |l: &str| {
        l.lines()
            .filter_map(|x| x.strip_prefix("tick "))
            .filter_map(|n| n.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
    };
    let before = last_tick(&logs);
    assert!(
        wait_until(Duration::from_secs(5), || {
            last_tick(&stdout(&d.rocker(&["logs", "soak-log"]))) > before
        }),
        "soak-log stopped logging after the restart"
    );

    // Attach (the API's hijacked stream) still reaches the container's output.
    let attached = attach_read(d.socket(), "soak-log", "tick", Duration::from_secs(5));
    assert!(attached.starts_with("HTTP/1.1 101"), "attach: {attached:?}");
    assert!(
        attached
            .split_once("\r\n\r\n")
            .is_some_and(|(_, b)| b.contains("tick")),
        "attach saw no output: {attached:?}"
    );

    // Stats, one shot.
    let (status, body) = d.api(
        "GET",
        "/containers/soak-q5/stats?stream=false&one-shot=1",
        None,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let s: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(s["memory_stats"]["usage"].as_u64().unwrap_or(0) > 0, "{s}");
    assert!(s["pids_stats"]["current"].as_u64().unwrap_or(0) >= 1, "{s}");

    // The published ports still answer, and the daemon still controls a restored container.
    for (i, port) in ports.iter().enumerate() {
        let body = http_get_retry(*port);
        assert!(
            body.contains(&format!("soak-web-{i}")),
            "port {port}: {body:?}"
        );
    }
    d.rocker_ok(&["stop", "-t", "1", "soak-w0"]);
    assert!(
        http_get(ports[0]).is_none(),
        "stopped web container still answers"
    );

    // Clean up in parallel: 51 removals.
    let names: Vec<String> = specs.iter().map(|(n, _)| n.clone()).collect();
    std::thread::scope(|s| {
        for chunk in names.chunks(names.len().div_ceil(4)) {
            let d = &d;
            s.spawn(move || {
                for n in chunk {
                    d.rocker_ok(&["rm", "-f", n]);
                }
            });
        }
    });
    d.assert_clean(0);
    eprintln!("soak took {:?}", began.elapsed());
}

/// Sum of the sizes of the container's `*-json.log*` files.
fn json_log_bytes(dir: &Path) -> (u64, usize) {
    let mut total = 0;
    let mut files = 0;
    for f in std::fs::read_dir(dir).expect("log dir").flatten() {
        if f.file_name().to_string_lossy().contains("-json.log") {
            total += f.metadata().expect("log file").len();
            files += 1;
        }
    }
    (total, files)
}

#[test]
fn hundred_megabytes_of_logs_keep_at_most_thirty_on_disk() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // 100 MB of 1000-byte lines (999 'a' and a newline), then a marker.
    let script = "head -c 100000000 /dev/zero | tr '\\0' a | fold -w 999; echo; echo log-done";
    let id = d.rocker_ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    let id = id.trim().to_string();
    let t0 = Instant::now();
    let info = d.wait_not_running(&id, Duration::from_secs(120));
    eprintln!("100 MB logged in {:?}", t0.elapsed());
    assert_eq!(info["State"]["ExitCode"], 0, "{}", info["State"]);
    let log_path = info["LogPath"].as_str().unwrap_or_default().to_string();
    assert!(!log_path.is_empty(), "no LogPath: {info}");
    let dir = Path::new(&log_path).parent().unwrap().to_path_buf();
    let (bytes, files) = json_log_bytes(&dir);
    eprintln!("json logs on disk: {bytes} bytes in {files} files");
    assert!(files >= 2, "no rotation happened: {files} file(s)");
    assert!(bytes <= 30 * 1024 * 1024, "{bytes} bytes of logs on disk");
    // The newest lines survive rotation.
    let tail = d.rocker_ok(&["logs", "--tail", "1", &id]);
    assert_eq!(tail, "log-done\n");
    d.rocker_ok(&["rm", &id]);
    d.assert_clean(0);
}
