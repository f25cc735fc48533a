//! CLI parity (issue 5): attach and detach keys under a pty for the rocker and docker
//! clients, ps filters and formats, container prune, system df, shell completions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rocker_e2e::{
    assert_exit_code, bin_dir, docker_client, output_with_timeout, require_root, stdout, Daemon,
};

/// Drives a command under a pty: waits for text, sends bytes, then reports the exit code
/// and everything the terminal showed, as JSON.
const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select, json
steps = json.loads(sys.argv[1]); cmd = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b""
def pump(t):
    global out
    r, _, _ = select.select([fd], [], [], t)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            return False
        if not d:
            return False
        out += d
    return True
ok = True
for kind, arg in steps:
    if kind == "wait":
        deadline = time.time() + 15
        while arg.encode() not in out and time.time() < deadline:
            if not pump(0.2): break
        if arg.encode() not in out:
            ok = False; break
    elif kind == "send":
        os.write(fd, bytes.fromhex(arg))
    elif kind == "sleep":
        end = time.time() + arg
        while time.time() < end: pump(0.05)
code = None
deadline = time.time() + 15
while time.time() < deadline:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        code = os.waitstatus_to_exitcode(st); break
    pump(0.1)
if code is None:
    os.kill(pid, 9); os.waitpid(pid, 0)
end = time.time() + 2
while time.time() < end and pump(0.05): pass
print(json.dumps({"ok": ok, "code": code, "out": out.decode("utf-8", "replace")}))
"#;

#[derive(Debug)]
enum Step {
    Wait(&'static str),
    Send(&'static [u8]),
    Sleep(f64),
}

struct PtyRun {
    ok: bool,
    code: Option<i32>,
    out: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `program args` under a pty through the driver.
fn under_pty(d: &Daemon, program: &Path, args: &[&str], steps: &[Step]) -> PtyRun {
    let script = d.root().join("ptydrive.py");
    std::fs::write(&script, PTY_DRIVER).expect("write pty driver");
    let steps: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| match s {
            Step::Wait(t) => serde_json::json!(["wait", t]),
            Step::Send(b) => serde_json::json!(["send", hex(b)]),
            Step::Sleep(s) => serde_json::json!(["sleep", s]),
        })
        .collect();
    let config = d.root().join("docker-config");
    let _ = std::fs::create_dir_all(&config);
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(serde_json::Value::Array(steps).to_string())
        .arg(program)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .env("DOCKER_CONFIG", &config)
        .env("DOCKER_CLI_HINTS", "false")
        .env_remove("DOCKER_HOST")
        .env_remove("ROCKER_HOST");
    let out = output_with_timeout(&mut cmd, None, Duration::from_secs(90));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("pty driver output: {e}: {out:?}"));
    PtyRun {
        ok: v["ok"].as_bool().unwrap_or(false),
        code: v["code"].as_i64().map(|c| c as i32),
        out: v["out"].as_str().unwrap_or_default().to_string(),
    }
}

fn rocker_bin() -> PathBuf {
    bin_dir().join("rocker")
}

fn running(d: &Daemon, name: &str) -> bool {
    d.inspect(name)["State"]["Running"] == true
}

const CTRL_P_Q: &[u8] = b"\x10\x11";

#[test]
fn attach_and_detach_keys() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&["run", "-dit", "--name", "att", "busybox", "sh"]);

    // rocker attach, then ctrl-p ctrl-q: back with "read escape sequence", still running.
    let r = under_pty(
        &d,
        &rocker_bin(),
        &["attach", "att"],
        &[
            Step::Sleep(0.3),
            Step::Send(b"echo one$((1+1))\r"),
            Step::Wait("one2"),
            Step::Send(CTRL_P_Q),
        ],
    );
    assert!(
        r.ok && r.code == Some(1),
        "rocker attach: {:?} {}",
        r.code,
        r.out
    );
    assert!(r.out.contains("read escape sequence"), "{}", r.out);
    assert!(running(&d, "att"), "detach stopped the container");

    // Custom keys; the default sequence then passes through to the container.
    let r = under_pty(
        &d,
        &rocker_bin(),
        &["attach", "--detach-keys", "ctrl-a", "att"],
        &[
            Step::Sleep(0.3),
            Step::Send(b"echo two$((1+1))\r"),
            Step::Wait("two2"),
            Step::Send(b"\x01"),
        ],
    );
    assert!(
        r.ok && r.code == Some(1),
        "attach --detach-keys: {:?} {}",
        r.code,
        r.out
    );
    assert!(running(&d, "att"));

    // The docker client relies on the daemon's detection.
    if let Some(docker) = docker_client() {
        let r = under_pty(
            &d,
            &docker,
            &["attach", "att"],
            &[
                Step::Sleep(0.5),
                Step::Send(b"echo three$((1+2))\r"),
                Step::Wait("three3"),
                Step::Send(CTRL_P_Q),
            ],
        );
        // docker 28 reports the detach as an error: "read escape sequence", exit 1.
        assert!(
            r.ok && r.code == Some(1),
            "docker attach: {:?} {}",
            r.code,
            r.out
        );
        assert!(r.out.contains("read escape sequence"), "{}", r.out);
        assert!(running(&d, "att"), "docker detach stopped the container");
        let r = under_pty(
            &d,
            &docker,
            &["run", "-it", "--name", "drunit", "busybox", "sh"],
            &[
                Step::Sleep(0.5),
                Step::Send(b"echo five$((2+3))\r"),
                Step::Wait("five5"),
                Step::Send(CTRL_P_Q),
            ],
        );
        assert!(
            r.ok && r.code == Some(0),
            "docker run -it: {:?} {}",
            r.code,
            r.out
        );
        assert!(
            running(&d, "drunit"),
            "docker run -it detach stopped the container"
        );
        let r = under_pty(
            &d,
            &docker,
            &["exec", "-it", "drunit", "sh"],
            &[
                Step::Sleep(0.5),
                Step::Send(b"echo six$((3+3))\r"),
                Step::Wait("six6"),
                Step::Send(CTRL_P_Q),
            ],
        );
        assert!(
            r.ok && r.code == Some(1),
            "docker exec -it: {:?} {}",
            r.code,
            r.out
        );
        assert!(r.out.contains("read escape sequence"), "{}", r.out);
        d.rocker_ok(&["create", "-it", "--name", "dstart", "busybox", "sh"]);
        let r = under_pty(
            &d,
            &docker,
            &["start", "-ai", "dstart"],
            &[
                Step::Sleep(0.5),
                Step::Send(b"echo seven$((3+4))\r"),
                Step::Wait("seven7"),
                Step::Send(CTRL_P_Q),
            ],
        );
        assert!(
            r.ok && r.code == Some(0),
            "docker start -ai: {:?} {}",
            r.code,
            r.out
        );
        assert!(running(&d, "dstart"));
        d.rocker_ok(&["rm", "-f", "drunit", "dstart"]);
    }

    // Attached again, `exit 3` ends the container and the client with its code.
    let r = under_pty(
        &d,
        &rocker_bin(),
        &["attach", "att"],
        &[Step::Sleep(0.3), Step::Send(b"exit 3\r")],
    );
    assert_eq!(r.code, Some(3), "attach then exit: {}", r.out);
    assert!(!running(&d, "att"));
    let out = d.rocker(&["attach", "att"]);
    assert_exit_code(&out, 1, "attach to a stopped container");

    // `run -it` detaches the same way.
    let r = under_pty(
        &d,
        &rocker_bin(),
        &["run", "-it", "--name", "runit", "busybox", "sh"],
        &[
            Step::Sleep(0.5),
            Step::Send(b"echo four$((2+2))\r"),
            Step::Wait("four4"),
            Step::Send(CTRL_P_Q),
        ],
    );
    assert!(
        r.ok && r.code == Some(0),
        "run -it detach: {:?} {}",
        r.code,
        r.out
    );
    assert!(!r.out.contains("escape"), "{}", r.out);
    assert!(running(&d, "runit"));
    // rocker exec -it: like docker's, "read escape sequence" and 1; the shell keeps running.
    let r = under_pty(
        &d,
        &rocker_bin(),
        &["exec", "-it", "runit", "sh"],
        &[
            Step::Sleep(0.5),
            Step::Send(b"echo eight$((4+4))\r"),
            Step::Wait("eight8"),
            Step::Send(CTRL_P_Q),
        ],
    );
    assert!(
        r.ok && r.code == Some(1),
        "exec -it detach: {:?} {}",
        r.code,
        r.out
    );
    assert!(r.out.contains("read escape sequence"), "{}", r.out);
    // Keys given at exec create are the daemon's too.
    let r = under_pty(
        &d,
        &rocker_bin(),
        &["exec", "-it", "--detach-keys", "ctrl-a", "runit", "sh"],
        &[
            Step::Sleep(0.5),
            Step::Send(b"echo ten$((5+5))\r"),
            Step::Wait("ten10"),
            Step::Send(b"\x01"),
        ],
    );
    assert!(
        r.ok && r.code == Some(1),
        "exec --detach-keys: {:?} {}",
        r.code,
        r.out
    );
    // rocker start -ai of a created container detaches silently too.
    d.rocker_ok(&["create", "-it", "--name", "rstart", "busybox", "sh"]);
    let r = under_pty(
        &d,
        &rocker_bin(),
        &["start", "-ai", "rstart"],
        &[
            Step::Sleep(0.5),
            Step::Send(b"echo nine$((4+5))\r"),
            Step::Wait("nine9"),
            Step::Send(CTRL_P_Q),
        ],
    );
    assert!(
        r.ok && r.code == Some(0),
        "start -ai detach: {:?} {}",
        r.code,
        r.out
    );
    assert!(running(&d, "rstart"));

    // API: bad detach keys are rejected.
    let (status, _) = d.api(
        "POST",
        "/containers/runit/attach?stream=1&stdout=1&detachKeys=bogus",
        None,
    );
    assert_eq!(status, 400);
    d.rocker_ok(&["rm", "-f", "att", "runit", "rstart"]);
}

#[test]
fn ps_filters_formats_and_sizes() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--label",
        "tier=front",
        "busybox",
        "sleep",
        "100",
    ]);
    d.rocker_ok(&[
        "run",
        "--name",
        "done",
        "--label",
        "tier=back",
        "busybox",
        "sh",
        "-c",
        "echo 12345 > /f",
    ]);

    assert_eq!(d.rocker_ok(&["ps", "--format", "{{.Names}}"]), "web\n");
    assert_eq!(
        d.rocker_ok(&[
            "ps",
            "-a",
            "--filter",
            "label=tier=back",
            "--format",
            "{{.Names}} {{.State}}"
        ]),
        "done exited\n"
    );
    assert_eq!(
        d.rocker_ok(&["ps", "-f", "status=exited", "--format", "{{.Names}}"]),
        "done\n"
    );
    assert_eq!(
        d.rocker_ok(&["ps", "-a", "--format", "{{.Names}}={{.Label \"tier\"}}"]),
        "done=back\nweb=front\n"
    );
    let table = d.rocker_ok(&["ps", "--format", "table {{.ID}}\\t{{.Names}}"]);
    let mut lines = table.lines();
    assert!(
        lines.next().unwrap().starts_with("CONTAINER ID   NAMES"),
        "{table}"
    );
    assert!(lines.next().unwrap().ends_with("   web"), "{table}");
    let json = d.rocker_ok(&["ps", "--format", "{{json .}}"]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).expect("ps json");
    assert_eq!(v["Names"], "web");
    assert_eq!(v["Labels"], "tier=front");
    assert_eq!(
        d.rocker_ok(&["ps", "-l", "--format", "{{.Names}}"]),
        "done\n"
    );
    assert_eq!(d.rocker_ok(&["ps", "-n", "2", "-q"]).lines().count(), 2);
    // -s: the exited container wrote 6 bytes into its writable layer.
    let sized = d.rocker_ok(&["ps", "-a", "-s", "-f", "name=done", "--format", "{{.Size}}"]);
    assert!(sized.starts_with("6B (virtual "), "{sized}");
    let (status, body) = d.api("GET", "/containers/json?all=1&size=1", None);
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(list.as_array().unwrap().iter().any(|c| c["SizeRw"] == 6));
    // images --format/--filter and the positional reference.
    assert_eq!(
        d.rocker_ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
        "busybox:latest\n"
    );
    assert_eq!(
        d.rocker_ok(&["images", "-q", "--filter", "dangling=true"]),
        ""
    );
    assert_eq!(d.rocker_ok(&["images", "-q", "busy*"]).lines().count(), 1);
    assert_eq!(d.rocker_ok(&["images", "-q", "nothing"]), "");
    let out = d.rocker(&["images", "--filter", "nope=1"]);
    assert_exit_code(&out, 1, "images --filter unknown key");
    let out = d.rocker(&["ps", "--filter", "bogus"]);
    assert_exit_code(&out, 1, "ps --filter without =");
    let out = d.rocker(&["ps", "--filter", "nope=1"]);
    assert_exit_code(&out, 1, "ps --filter unknown key");

    if docker_client().is_some() {
        assert_eq!(
            d.docker_ok(&[
                "ps",
                "-a",
                "--filter",
                "label=tier=back",
                "--format",
                "{{.Names}}"
            ]),
            "done\n"
        );
        assert_eq!(d.docker_ok(&["ps", "--format", "{{.ID}}"]).trim().len(), 12);
        let sized = d.docker_ok(&["ps", "-a", "-s", "-f", "name=done", "--format", "{{.Size}}"]);
        assert!(sized.starts_with("6B (virtual "), "{sized}");
    }
    d.rocker_ok(&["rm", "-f", "web", "done"]);
}

#[test]
fn container_prune_and_system_df() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&["run", "-d", "--name", "keep", "busybox", "sleep", "100"]);
    d.rocker_ok(&["run", "--name", "old1", "--label", "k=1", "busybox", "true"]);
    let old2 = d.rocker_ok(&["create", "--name", "old2", "busybox", "true"]);
    d.rocker_ok(&["volume", "create", "vol1"]);

    // system df: docker's table.
    let df = d.rocker_ok(&["system", "df"]);
    let lines: Vec<&str> = df.lines().collect();
    assert!(
        lines[0].starts_with("TYPE            TOTAL     ACTIVE    SIZE"),
        "{df}"
    );
    assert!(lines[1].starts_with("Images          1         1 "), "{df}");
    assert!(lines[2].starts_with("Containers      3         1 "), "{df}");
    assert!(lines[3].starts_with("Local Volumes   1         0 "), "{df}");
    assert!(lines[4].starts_with("Build Cache     0         0 "), "{df}");
    let dfv = d.rocker_ok(&["system", "df", "-v"]);
    assert!(
        dfv.contains("Images space usage:") && dfv.contains("vol1"),
        "{dfv}"
    );
    let (status, body) = d.api("GET", "/system/df", None);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["Images"][0]["Containers"], 3);
    assert_eq!(v["Containers"].as_array().unwrap().len(), 3);
    assert_eq!(v["Volumes"][0]["UsageData"]["RefCount"], 0);
    assert!(v["BuildCache"].as_array().unwrap().is_empty());
    assert!(v["LayersSize"].as_i64().unwrap() > 0);

    // Prune by label first, then the rest; the running container stays.
    let out = d.rocker_ok(&["container", "prune", "-f", "--filter", "label=k=1"]);
    assert!(out.starts_with("Deleted Containers:\n"), "{out}");
    assert!(out.ends_with("\nTotal reclaimed space: 0B\n"), "{out}");
    assert_eq!(out.lines().count(), 4, "{out}");
    let (status, _) = d.api(
        "POST",
        "/containers/prune?filters=%7B%22name%22%3A%5B%22x%22%5D%7D",
        None,
    );
    assert_eq!(status, 400);
    let (status, body) = d.api(
        "POST",
        "/containers/prune?filters=%7B%22until%22%3A%5B%221h%22%5D%7D",
        None,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["ContainersDeleted"], serde_json::Value::Null);
    if docker_client().is_some() {
        let out = d.docker_ok(&["container", "prune", "-f"]);
        assert!(out.contains(old2.trim()), "{out}");
        assert!(out.ends_with("Total reclaimed space: 0B\n"), "{out}");
        let df = d.docker_ok(&["system", "df"]);
        assert!(df.contains("Containers      1         1"), "{df}");
        assert!(d.docker_ok(&["system", "df", "-v"]).contains("vol1"));
    } else {
        d.rocker_ok(&["container", "prune", "-f"]);
    }
    assert_eq!(
        d.rocker_ok(&["container", "ls", "-a", "--format", "{{.Names}}"]),
        "keep\n"
    );
    assert_eq!(
        d.rocker_ok(&["container", "inspect", "-f", "{{.Name}}", "keep"]),
        "/keep\n"
    );
    let out = d.rocker_ok(&["container", "prune", "-f"]);
    assert_eq!(out, "Total reclaimed space: 0B\n");

    // Python SDK.
    let py = format!(
        "import docker\nc = docker.DockerClient(base_url='unix://{}')\nprint(c.containers.prune())\nprint(sorted(c.df().keys()))\n",
        d.socket().display()
    );
    let out = output_with_timeout(
        Command::new("python3").arg("-c").arg(&py),
        None,
        Duration::from_secs(60),
    );
    let text = stdout(&out);
    assert!(text.contains("'SpaceReclaimed': 0"), "{text} {out:?}");
    assert!(
        text.contains("['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes']"),
        "{text}"
    );
    d.rocker_ok(&["container", "rm", "-f", "keep"]);
}

#[test]
fn completions_and_help() {
    let rocker = rocker_bin();
    if !rocker.is_file() {
        return;
    }
    for shell in ["bash", "zsh", "fish"] {
        let out = output_with_timeout(
            Command::new(&rocker).args(["completion", shell]),
            None,
            Duration::from_secs(30),
        );
        assert!(out.status.success(), "completion {shell}: {out:?}");
        let s = stdout(&out);
        assert!(s.contains("attach") && s.contains("prune"), "{shell}");
    }
    if Command::new("bash").arg("--version").output().is_ok() {
        let out = output_with_timeout(
            Command::new("bash").arg("-c").arg(format!(
                "source <({} completion bash) && complete -p rocker",
                rocker.display()
            )),
            None,
            Duration::from_secs(30),
        );
        assert!(stdout(&out).contains("rocker"), "{out:?}");
    }
    for args in [
        &["attach", "--help"][..],
        &["container", "prune", "--help"],
        &["system", "df", "--help"],
    ] {
        let out = output_with_timeout(
            Command::new(&rocker).args(args),
            None,
            Duration::from_secs(30),
        );
        assert!(
            out.status.success() && stdout(&out).contains("Usage: rocker"),
            "{args:?}"
        );
    }
}
