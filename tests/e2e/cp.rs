//! Container file system API end to end: `cp` both ways (rocker and the real docker CLI) on a
//! running and a stopped container with a byte-for-byte round trip, `diff`, `export`, the
//! symlink escape of CVE-2018-15664 (`/escape -> /`) for writes and reads, and bad input.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use rocker_e2e::{require_root, stderr, stdout, Daemon};

/// A small tree: files with modes, a nested dir, relative and absolute symlinks.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).expect("test fixture");
    std::fs::write(root.join("a.txt"), b"hello\n").expect("test fixture");
    std::fs::set_permissions(root.join("a.txt"), std::fs::Permissions::from_mode(0o640))
        .expect("test fixture");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(root.join("sub/big.bin"), &big).expect("test fixture");
    std::fs::set_permissions(
        root.join("sub/big.bin"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("test fixture");
    std::fs::write(root.join("sub/deeper/x"), b"x").expect("test fixture");
    std::os::unix::fs::symlink("a.txt", root.join("rel")).expect("test fixture");
    std::os::unix::fs::symlink("/etc/passwd", root.join("abs")).expect("test fixture");
}

/// Relative path -> (kind, mode, content or link target), for comparing trees.
fn describe(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .expect("test fixture")
            .flatten()
            .collect();
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let p = e.path();
            let rel = p
                .strip_prefix(base)
                .expect("test fixture")
                .to_string_lossy()
                .into_owned();
            let m = std::fs::symlink_metadata(&p).expect("test fixture");
            let desc = if m.file_type().is_symlink() {
                format!(
                    "link {}",
                    std::fs::read_link(&p).expect("test fixture").display()
                )
            } else if m.is_dir() {
                walk(base, &p, out);
                format!("dir {:o}", m.mode() & 0o7777)
            } else {
                let data = std::fs::read(&p).expect("test fixture");
                let sum: u64 = data
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (i as u64 + 1) * *b as u64)
                    .sum();
                format!("file {:o} {} {sum}", m.mode() & 0o7777, data.len())
            };
            out.push((rel, desc));
        }
    }
    walk(root, root, &mut out);
    out
}

#[test]
fn cp_round_trip_diff_export() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let tmp = tempfile::tempdir().expect("test fixture");
    let src = tmp.path().join("tree");
    make_tree(&src);
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "cpbox",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);

    // rocker cp host -> container -> host.
    d.rocker_ok(&["cp", src.to_str().unwrap(), "cpbox:/tmp/"]);
    let back = tmp.path().join("back");
    d.rocker_ok(&["cp", "cpbox:/tmp/tree", back.to_str().unwrap()]);
    assert_eq!(describe(&src), describe(&back));
    // Contents with `/.` into an existing directory.
    let contents = tmp.path().join("contents");
    std::fs::create_dir(&contents).expect("test fixture");
    d.rocker_ok(&["cp", "cpbox:/tmp/tree/.", contents.to_str().unwrap()]);
    assert_eq!(describe(&src), describe(&contents));
    // Inside the container the file is there with its content.
    assert_eq!(
        d.rocker_ok(&["exec", "cpbox", "cat", "/tmp/tree/a.txt"]),
        "hello\n"
    );

    // The real docker CLI both ways.
    let dback = tmp.path().join("dback");
    d.docker_ok(&["cp", src.to_str().unwrap(), "cpbox:/tmp/dtree"]);
    d.docker_ok(&["cp", "cpbox:/tmp/dtree", dback.to_str().unwrap()]);
    assert_eq!(describe(&src), describe(&dback));

    // diff.
    let diff = d.rocker_ok(&["diff", "cpbox"]);
    assert!(diff.lines().any(|l| l == "C /tmp"), "{diff}");
    assert!(diff.lines().any(|l| l == "A /tmp/tree"), "{diff}");
    assert!(diff.lines().any(|l| l == "A /tmp/tree/a.txt"), "{diff}");
    assert!(!diff.contains("/etc/hosts"), "{diff}");
    let ddiff = d.docker_ok(&["diff", "cpbox"]);
    assert!(ddiff.contains("A /tmp/dtree"), "{ddiff}");
    d.rocker_ok(&["exec", "cpbox", "rm", "/bin/ls"]);
    let diff = d.rocker_ok(&["diff", "cpbox"]);
    assert!(diff.lines().any(|l| l == "D /bin/ls"), "{diff}");
    assert!(diff.lines().any(|l| l == "C /bin"), "{diff}");

    // export: rocker -o and docker | tar t.
    let exp = tmp.path().join("exp.tar");
    d.rocker_ok(&["export", "-o", exp.to_str().unwrap(), "cpbox"]);
    let list = std::process::Command::new("tar")
        .arg("tf")
        .arg(&exp)
        .output()
        .expect("test fixture");
    let list = stdout(&list);
    assert!(list.lines().any(|l| l == "bin/busybox"), "{list}");
    assert!(list.lines().any(|l| l == "tmp/tree/sub/big.bin"), "{list}");
    assert!(!list.contains("proc/self"), "export went into /proc");
    let dexp = tmp.path().join("dexp.tar");
    d.docker_ok(&["export", "-o", dexp.to_str().unwrap(), "cpbox"]);
    let dl = stdout(
        &std::process::Command::new("tar")
            .arg("tf")
            .arg(&dexp)
            .output()
            .unwrap(),
    );
    assert!(dl.lines().any(|l| l == "tmp/dtree/a.txt"), "{dl}");

    // Stopped container: cp both ways works and leaves no mount on the host.
    d.rocker_ok(&["stop", "-t", "0", "cpbox"]);
    d.rocker_ok(&[
        "cp",
        src.join("a.txt").to_str().unwrap(),
        "cpbox:/stopped.txt",
    ]);
    let sback = tmp.path().join("sback.txt");
    d.rocker_ok(&["cp", "cpbox:/stopped.txt", sback.to_str().unwrap()]);
    assert_eq!(std::fs::read(&sback).unwrap(), b"hello\n");
    let sback2 = tmp.path().join("sback2");
    d.docker_ok(&["cp", "cpbox:/tmp/tree", sback2.to_str().unwrap()]);
    assert_eq!(describe(&src), describe(&sback2));
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("test fixture");
    assert!(
        !mountinfo.contains(d.data_root().to_str().unwrap()),
        "{mountinfo}"
    );
    let diff = d.rocker_ok(&["diff", "cpbox"]);
    assert!(diff.lines().any(|l| l == "A /stopped.txt"), "{diff}");
    d.rocker_ok(&["start", "cpbox"]);
    assert_eq!(
        d.rocker_ok(&["exec", "cpbox", "cat", "/stopped.txt"]),
        "hello\n"
    );
    d.rocker_ok(&["rm", "-f", "cpbox"]);
}

#[test]
fn cp_cannot_escape_through_symlinks() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let tmp = tempfile::tempdir().expect("test fixture");
    let tag = format!("rocker-p1-{}", std::process::id());
    let file = tmp.path().join("payload");
    std::fs::write(&file, b"pwned").expect("test fixture");
    let secret = std::env::temp_dir().join(format!("{tag}-secret"));
    std::fs::write(&secret, b"host secret").expect("test fixture");
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "esc",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "ln -s / /escape && mkdir -p /a/b && ln -s ../../../../../.. /a/b/chain && sleep 300",
    ]);
    assert!(rocker_e2e::wait_until(
        std::time::Duration::from_secs(5),
        || {
            d.rocker(&["exec", "esc", "test", "-L", "/a/b/chain"])
                .status
                .success()
        }
    ));
    for running in [true, false] {
        if !running {
            d.rocker_ok(&["stop", "-t", "0", "esc"]);
        }
        for (i, via) in ["/escape/tmp", "/a/b/chain/tmp"].iter().enumerate() {
            let name = format!("{tag}-{running}-{i}");
            let dst = format!("esc:{via}/{name}");
            let out = d.rocker(&["cp", file.to_str().unwrap(), &dst]);
            let host = std::env::temp_dir().join(&name);
            assert!(!host.exists(), "cp wrote to the host: {}", host.display());
            if out.status.success() {
                let back = tmp.path().join(&name);
                d.rocker_ok(&["cp", &format!("esc:/tmp/{name}"), back.to_str().unwrap()]);
                assert_eq!(std::fs::read(&back).unwrap(), b"pwned");
            }
            // docker too.
            let dname = format!("{name}-docker");
            let _ = d.docker(&["cp", file.to_str().unwrap(), &format!("esc:{via}/{dname}")]);
            assert!(!std::env::temp_dir().join(&dname).exists());
            // Reading the host's file through the link finds nothing.
            let secret_name = secret
                .file_name()
                .expect("test fixture")
                .to_str()
                .expect("test fixture");
            let out = d.rocker(&[
                "cp",
                &format!("esc:{via}/{secret_name}"),
                tmp.path().join("stolen").to_str().unwrap(),
            ]);
            assert!(!out.status.success(), "read the host's file through {via}");
            assert!(
                stderr(&out).contains("Could not find the file"),
                "{}",
                stderr(&out)
            );
        }
    }
    let _ = std::fs::remove_file(&secret);
    d.rocker_ok(&["rm", "-f", "esc"]);
}

#[test]
fn archive_api_bad_input() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "bad",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);
    // Stat header on HEAD and GET.
    let r = d.api_response("HEAD", "/containers/bad/archive?path=/etc", None);
    assert_eq!(r.status, 200);
    assert!(r
        .headers
        .iter()
        .any(|(k, _)| k == "x-docker-container-path-stat"));
    // Missing path: 404 with Docker's message.
    let r = d.api_response("GET", "/containers/bad/archive?path=/nope", None);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.message(),
        "Could not find the file /nope in container bad"
    );
    // Missing container.
    let r = d.api_tar("PUT", "/containers/nosuch/archive?path=/tmp", b"");
    assert_eq!(r.status, 404);
    // Malformed tar: 400, nothing written.
    let mut junk = vec![0u8; 1024];
    junk[..100].copy_from_slice(&[b'z'; 100]);
    junk[512..600].copy_from_slice(&[b'q'; 88]);
    let r = d.api_tar("PUT", "/containers/bad/archive?path=/tmp", &junk);
    assert_eq!(r.status, 400, "{}", r.text());
    // A tar with a good entry followed by garbage writes nothing either.
    let tdir = tempfile::tempdir().expect("test fixture");
    std::fs::write(tdir.path().join("first"), b"ok").expect("test fixture");
    let mut t = std::process::Command::new("tar")
        .args(["cf", "-", "-C"])
        .arg(tdir.path())
        .arg("first")
        .output()
        .expect("test fixture")
        .stdout;
    t.truncate(1024);
    t.extend_from_slice(&[b'q'; 512]);
    let r = d.api_tar("PUT", "/containers/bad/archive?path=/tmp", &t);
    assert_eq!(r.status, 400, "{}", r.text());
    let r = d.api_response("HEAD", "/containers/bad/archive?path=/tmp/first", None);
    assert_eq!(r.status, 404);
    // Destination is a file.
    let r = d.api_tar(
        "PUT",
        "/containers/bad/archive?path=/etc/passwd",
        &[0u8; 1024],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.message(), "extraction point is not a directory");
    // Read-only rootfs.
    d.rocker_ok(&[
        "run",
        "-d",
        "--name",
        "ro",
        "--read-only",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);
    let r = d.api_tar("PUT", "/containers/ro/archive?path=/tmp", &[0u8; 1024]);
    assert!(r.status >= 400);
    assert_eq!(r.message(), "container rootfs is marked read-only");
    // Paused container: allowed.
    d.rocker_ok(&["pause", "bad"]);
    let out = d.rocker(&["cp", "bad:/etc/hostname", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    d.rocker_ok(&["unpause", "bad"]);
    // Python SDK: get_archive / put_archive.
    let script = format!(
        "import docker,io,tarfile\nc=docker.DockerClient(base_url='unix://{}').containers.get('bad')\n\
         bits,st=c.get_archive('/etc/hostname')\nassert st['name']=='hostname', st\n\
         buf=io.BytesIO()\nt=tarfile.open(fileobj=buf,mode='w')\ni=tarfile.TarInfo('py.txt');i.size=3\n\
         t.addfile(i,io.BytesIO(b'abc'));t.close()\nassert c.put_archive('/tmp',buf.getvalue())\nprint('ok')\n",
        d.socket().display()
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("test fixture");
    assert_eq!(stdout(&out).trim(), "ok", "{}", stderr(&out));
    assert_eq!(d.rocker_ok(&["exec", "bad", "cat", "/tmp/py.txt"]), "abc");
    d.rocker_ok(&["rm", "-f", "bad", "ro"]);
}
