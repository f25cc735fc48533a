//! Volumes, bind mounts and tmpfs end to end: named volumes outlive containers, `:ro` binds
//! are read-only, an image's VOLUME gets the image's content copied in, `rm -v` removes
//! anonymous volumes only, in-use volumes cannot be removed, bad input is refused with
//! Docker's messages and leaves nothing behind, and the real docker client works.

use rocker_e2e::{assert_exit_code, docker_client, require_root, stderr, stdout, Daemon};

/// `rocker run --rm <flags> busybox sh -c <script>`: (exit code, stdout + stderr).
fn sh(d: &Daemon, flags: &[&str], script: &str) -> (i32, String) {
    let mut args = vec!["run", "--rm", "--network", "none"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    let out = d.rocker(&args);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

fn volume_names(d: &Daemon) -> Vec<String> {
    let mut v: Vec<String> = d
        .rocker_ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn volume_dirs(d: &Daemon) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d.data_root().join("volumes"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn named_volume_survives_rm_and_in_use_is_409() {
    if !require_root() {
        return;
    }
    let mut d = Daemon::start();
    d.load_busybox();
    assert_eq!(d.rocker_ok(&["volume", "create", "v1"]).trim(), "v1");
    let (code, out) = sh(&d, &["-v", "v1:/data"], "echo kept > /data/f");
    assert_eq!(code, 0, "{out}");
    // The volume and its data survive a daemon restart.
    d.restart();
    assert_eq!(volume_names(&d), vec!["v1"]);
    let (code, out) = sh(&d, &["-v", "v1:/data:ro"], "cat /data/f; echo x > /data/g");
    assert_ne!(code, 0, "write to a :ro volume succeeded: {out}");
    assert!(out.contains("kept"), "{out}");

    // Used by a stopped container: 409 even with force.
    let id = d.rocker_ok(&[
        "create",
        "--network",
        "none",
        "-v",
        "v1:/data",
        "busybox",
        "true",
    ]);
    let id = id.trim();
    let r = d.api_response("DELETE", "/volumes/v1?force=1", None);
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.message(), format!("remove v1: volume is in use - [{id}]"));
    let v = d.inspect(id);
    assert_eq!(v["Mounts"][0]["Type"], "volume");
    assert_eq!(v["Mounts"][0]["Name"], "v1");
    assert_eq!(v["Mounts"][0]["Destination"], "/data");
    assert_eq!(v["Mounts"][0]["RW"], true);
    d.rocker_ok(&["rm", "-v", id]);
    // Named volumes are kept by rm -v.
    assert_eq!(volume_names(&d), vec!["v1"]);
    d.rocker_ok(&["volume", "rm", "v1"]);
    assert!(volume_names(&d).is_empty());
    assert!(volume_dirs(&d).is_empty(), "{:?}", volume_dirs(&d));
    d.assert_clean(0);
}

#[test]
fn binds_ro_and_missing_sources() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let host = d.root().join("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in"), "from-host\n").unwrap();
    let ro = format!("{}:/h:ro", host.display());
    let (code, out) = sh(&d, &["-v", &ro], "cat /h/in; touch /h/new");
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("from-host") && out.contains("Read-only"),
        "{out}"
    );
    assert!(!host.join("new").exists());
    let rw = format!("{}:/h", host.display());
    let (code, out) = sh(&d, &["-v", &rw], "echo w > /h/new");
    assert_eq!(code, 0, "{out}");
    assert!(host.join("new").exists());

    // --mount refuses a missing source; -v creates it.
    let missing = d.root().join("nope");
    let spec = format!("type=bind,source={},target=/x", missing.display());
    let out = d.rocker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--mount",
        &spec,
        "busybox",
        "true",
    ]);
    assert_exit_code(&out, 125, "missing bind source");
    assert!(
        stderr(&out).contains(&format!(
            "invalid mount config for type \"bind\": bind source path does not exist: {}",
            missing.display()
        )),
        "{}",
        stderr(&out)
    );
    assert!(!missing.exists());
    let v = format!("{}:/x", missing.display());
    let (code, out) = sh(&d, &["-v", &v], "test -d /x");
    assert_eq!(code, 0, "{out}");
    assert!(missing.is_dir());

    // --mount type=bind readonly
    let spec = format!("type=bind,src={},dst=/m,readonly", host.display());
    let (code, out) = sh(&d, &["--mount", &spec], "cat /m/in && ! touch /m/z");
    assert_eq!(code, 0, "{out}");
    d.assert_clean(0);
}

#[test]
fn bad_input_is_refused_and_leaves_nothing() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let r = d.api_response("POST", "/volumes/create", Some(br#"{"Name":"x/y"}"#));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.message()
            .starts_with("create x/y: \"x/y\" includes invalid characters for a local volume name"),
        "{}",
        r.message()
    );
    let r = d.api_response(
        "POST",
        "/volumes/create",
        Some(br#"{"Name":"ok1","Driver":"nosuch"}"#),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.message().contains("plugin \"nosuch\" not found"),
        "{}",
        r.message()
    );

    for (flags, msg) in [
        (
            vec!["-v", "/tmp:/x", "-v", "/var:/x"],
            "Duplicate mount point: /x",
        ),
        (vec!["-v", "rel:x"], "mount path must be absolute"),
        (vec!["-v", "/tmp:/"], "destination can't be '/'"),
        (vec!["-v", "a/b:/d"], "includes invalid characters"),
        (vec!["-v", "/tmp:/d:bogus"], "invalid mode: bogus"),
        // A later failure removes the anonymous volume the earlier entry made.
        (
            vec![
                "-v",
                "/anon",
                "--mount",
                "type=volume,dst=/z,volume-driver=nosuch",
            ],
            "plugin \"nosuch\" not found",
        ),
        (
            vec!["--volumes-from", "nosuch"],
            "No such container: nosuch",
        ),
    ] {
        let mut args = vec!["create", "--network", "none"];
        args.extend(flags.iter());
        args.extend(["busybox", "true"]);
        let out = d.rocker(&args);
        assert_exit_code(&out, 125, &format!("{flags:?}"));
        assert!(stderr(&out).contains(msg), "{flags:?}: {}", stderr(&out));
    }
    let out = d.rocker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--mount",
        "type=bind,x,target=/b",
        "busybox",
        "true",
    ]);
    assert!(
        stderr(&out).contains("invalid field 'x' must be a key=value pair"),
        "{}",
        stderr(&out)
    );
    assert!(volume_names(&d).is_empty(), "{:?}", volume_names(&d));
    assert!(volume_dirs(&d).is_empty(), "{:?}", volume_dirs(&d));
    d.assert_clean(0);
}

#[test]
fn anonymous_volumes_copy_up_and_rm_v() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    let tree = d.root().join("img-tree");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    std::fs::create_dir_all(tree.join("data/sub")).unwrap();
    std::fs::copy("/bin/busybox", tree.join("bin/busybox")).unwrap();
    for a in ["sh", "cat", "ls", "stat", "echo", "touch", "grep"] {
        std::os::unix::fs::symlink("busybox", tree.join("bin").join(a)).unwrap();
    }
    std::fs::write(tree.join("data/hello"), "from-image\n").unwrap();
    // A symlink in the image pointing at a host path: mount destinations through it must
    // resolve inside the rootfs.
    let host_target = d.root().join("host-target");
    std::fs::create_dir_all(&host_target).unwrap();
    std::os::unix::fs::symlink(&host_target, tree.join("link")).unwrap();
    std::fs::write(tree.join("data/sub/deep"), "deep\n").unwrap();
    std::os::unix::fs::chown(tree.join("data/hello"), Some(1234), Some(4321)).unwrap();
    let tar = d.root().join("img.tar");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let tar_s = tar.to_string_lossy().into_owned();
    d.rocker_ok(&[
        "import",
        "--change",
        "VOLUME /data",
        &tar_s,
        "volimg:latest",
    ]);

    // Anonymous volume from the image's VOLUME, with the image's content copied in.
    let id = d.rocker_ok(&[
        "create",
        "--network",
        "none",
        "volimg",
        "sh",
        "-c",
        "cat /data/hello /data/sub/deep; stat -c %u:%g /data/hello",
    ]);
    let id = id.trim().to_string();
    let out = d.rocker_ok(&["start", "-a", &id]);
    assert_eq!(out, "from-image\ndeep\n1234:4321\n");
    let v = d.inspect(&id);
    let anon = v["Mounts"][0]["Name"].as_str().unwrap().to_string();
    assert_eq!(anon.len(), 64, "{v}");
    assert_eq!(v["Mounts"][0]["Destination"], "/data");
    d.rocker_ok(&["rm", &id]);
    assert_eq!(
        volume_names(&d),
        vec![anon.clone()],
        "rm without -v keeps it"
    );

    // A named empty volume gets the content too; nocopy does not.
    let (code, out) = {
        let o = d.rocker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "named:/data",
            "volimg",
            "cat",
            "/data/hello",
        ]);
        (o.status.code().unwrap_or(-1), stdout(&o))
    };
    assert_eq!((code, out.as_str()), (0, "from-image\n"));
    let o = d.rocker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "empty:/data:nocopy",
        "volimg",
        "ls",
        "/data",
    ]);
    assert_eq!(stdout(&o), "", "{}", stderr(&o));

    let id = d.rocker_ok(&[
        "create",
        "--network",
        "none",
        "-v",
        "/anon2",
        "volimg",
        "true",
    ]);
    let id = id.trim().to_string();
    let anon2 = d.inspect(&id)["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/anon2")
        .unwrap()["Name"]
        .as_str()
        .unwrap()
        .to_string();
    d.rocker_ok(&["rm", "-v", &id]);
    let names = volume_names(&d);
    assert!(!names.contains(&anon2), "rm -v keeps {anon2}: {names:?}");
    assert!(names.contains(&"named".to_string()), "{names:?}");

    let src = d.root().join("bind-src");
    std::fs::create_dir_all(&src).unwrap();
    let spec = format!("{}:/link/x", src.display());
    let o = d.rocker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &spec,
        "volimg",
        "ls",
        "/link/x",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !host_target.join("x").exists(),
        "a mount destination escaped the rootfs through a symlink"
    );

    // prune: anonymous only, then -a for named ones.
    let out = d.rocker_ok(&["volume", "prune", "-f"]);
    assert!(out.contains(&anon), "{out}");
    assert_eq!(volume_names(&d), vec!["empty", "named"]);
    d.rocker_ok(&["volume", "prune", "-f", "-a"]);
    assert!(volume_names(&d).is_empty());
    assert!(volume_dirs(&d).is_empty(), "{:?}", volume_dirs(&d));
    d.assert_clean(0);
}

#[test]
fn tmpfs_read_only_and_volumes_from() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let (code, out) = sh(
        &d,
        &["--read-only", "--tmpfs", "/run:rw,size=64m"],
        "grep ' /run tmpfs ' /proc/mounts && echo ok > /run/x && cat /run/x && ! touch /nope",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("size=65536k"), "{out}");
    let (code, out) = sh(
        &d,
        &["--mount", "type=tmpfs,dst=/t,tmpfs-size=1m"],
        "grep ' /t tmpfs ' /proc/mounts",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("size=1024k"), "{out}");
    let (code, out) = sh(
        &d,
        &["--read-only", "-v", "rw1:/w"],
        "echo ok > /w/f && cat /w/f",
    );
    assert_eq!((code, out.as_str()), (0, "ok\n"));

    // --volumes-from copies the mounts; :ro makes them read-only.
    d.rocker_ok(&[
        "create",
        "--network",
        "none",
        "--name",
        "src",
        "-v",
        "rw1:/w",
        "-v",
        "/anon",
        "busybox",
        "true",
    ]);
    let (code, out) = sh(&d, &["--volumes-from", "src"], "cat /w/f && test -d /anon");
    assert_eq!(code, 0, "{out}");
    let (code, out) = sh(&d, &["--volumes-from", "src:ro"], "touch /w/g");
    assert_ne!(code, 0, "{out}");
    d.rocker_ok(&["rm", "-v", "src"]);
    assert_eq!(volume_names(&d), vec!["rw1"]);
    d.rocker_ok(&["volume", "rm", "rw1"]);
    d.assert_clean(0);
}

#[test]
fn docker_client_volumes() {
    if !require_root() || docker_client().is_none() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    assert_eq!(
        d.docker_ok(&["volume", "create", "--label", "a=b", "dv"])
            .trim(),
        "dv"
    );
    let ls = d.docker_ok(&[
        "volume",
        "ls",
        "--filter",
        "label=a=b",
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(ls.trim(), "dv");
    let insp = d.docker_ok(&["volume", "inspect", "dv"]);
    let v: serde_json::Value = serde_json::from_str(&insp).unwrap();
    assert_eq!(v[0]["Driver"], "local");
    assert_eq!(v[0]["Labels"]["a"], "b");
    assert!(v[0]["Mountpoint"]
        .as_str()
        .unwrap()
        .ends_with("/volumes/dv/_data"));
    assert_eq!(
        d.docker_ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "dv:/d",
            "busybox",
            "sh",
            "-c",
            "echo hi > /d/f; cat /d/f"
        ]),
        "hi\n"
    );
    assert_eq!(
        d.docker_ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--mount",
            "source=dv,target=/d,readonly",
            "busybox",
            "cat",
            "/d/f"
        ]),
        "hi\n"
    );
    let out = d.docker(&["volume", "create", "x/y"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("includes invalid characters"),
        "{}",
        stderr(&out)
    );
    d.docker_ok(&["volume", "rm", "dv"]);
    let out = d.docker_ok(&["volume", "prune", "-f"]);
    assert!(out.contains("Total reclaimed space"), "{out}");
    assert!(d.docker_ok(&["volume", "ls", "-q"]).trim().is_empty());
    d.assert_clean(0);
}

#[test]
fn local_driver_options_and_filters() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.rocker_ok(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=8m",
        "tv",
    ]);
    let (code, out) = sh(
        &d,
        &["-v", "tv:/t"],
        "grep ' /t tmpfs ' /proc/mounts && echo x > /t/f",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("size=8192k"), "{out}");
    // The tmpfs is the volume's own mount, shared by the containers using it, and unmounted
    // when the last one stops.
    let data = d.data_root().join("volumes/tv/_data");
    assert!(d.mounts().is_empty(), "{:?}", d.mounts());
    let c1 = d.rocker_ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "-v",
        "tv:/t",
        "busybox",
        "sh",
        "-c",
        "echo shared > /t/g; sleep 60",
    ]);
    assert!(rocker_e2e::wait_until(
        std::time::Duration::from_secs(10),
        || data.join("g").exists()
    ));
    assert!(d.mounts().contains(&data), "{:?}", d.mounts());
    let (code, out) = sh(&d, &["-v", "tv:/t"], "cat /t/g");
    assert_eq!((code, out.as_str()), (0, "shared\n"));
    d.rocker_ok(&["rm", "-f", c1.trim()]);
    assert!(d.mounts().is_empty(), "{:?}", d.mounts());
    let host = d.root().join("bound");
    std::fs::create_dir_all(&host).unwrap();
    let dev = format!("device={}", host.display());
    d.rocker_ok(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind",
        "-o",
        &dev,
        "bv",
    ]);
    let (code, out) = sh(&d, &["-v", "bv:/b"], "echo via-volume > /b/f");
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        std::fs::read_to_string(host.join("f")).unwrap(),
        "via-volume\n"
    );
    let insp = d.rocker_ok(&[
        "volume",
        "inspect",
        "-f",
        "{{.Options.type}} {{.Scope}}",
        "bv",
    ]);
    assert_eq!(insp.trim(), "none local");
    let out = d.rocker(&["volume", "create", "-o", "bogus=1", "bad1"]);
    assert_exit_code(&out, 1, "unknown driver option");

    // dangling / label filters; a container keeps its volume from being dangling.
    d.rocker_ok(&["volume", "create", "--label", "k=v", "lv"]);
    d.rocker_ok(&[
        "create",
        "--network",
        "none",
        "--name",
        "user",
        "-v",
        "lv:/l",
        "busybox",
        "true",
    ]);
    let dangling = d.rocker_ok(&["volume", "ls", "-q", "--filter", "dangling=true"]);
    assert_eq!(dangling, "bv\ntv\n");
    let labelled = d.rocker_ok(&["volume", "ls", "-q", "--filter", "label=k=v"]);
    assert_eq!(labelled, "lv\n");
    let ps = d.api_response("GET", "/containers/json?all=1", None).json();
    assert_eq!(ps[0]["Mounts"][0]["Name"], "lv");
    let r = d.api_response("GET", "/volumes/nosuch", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "get nosuch: no such volume");
    d.rocker_ok(&["rm", "user"]);
    d.rocker_ok(&["volume", "rm", "lv", "tv", "bv"]);
    assert!(volume_dirs(&d).is_empty(), "{:?}", volume_dirs(&d));
    assert!(
        host.join("f").exists(),
        "removing a bind volume keeps the host data"
    );
    d.assert_clean(0);
}

#[test]
fn docker_client_anonymous_volume() {
    if !require_root() || docker_client().is_none() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let id = d.docker_ok(&[
        "create",
        "--network",
        "none",
        "-v",
        "/anon",
        "busybox",
        "true",
    ]);
    let id = id.trim();
    let fmt = d.docker_ok(&[
        "inspect",
        "-f",
        "{{(index .Mounts 0).Type}} {{(index .Mounts 0).Destination}}",
        id,
    ]);
    assert_eq!(fmt.trim(), "volume /anon");
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]).lines().count(), 1);
    d.docker_ok(&["rm", "-v", id]);
    assert!(d.docker_ok(&["volume", "ls", "-q"]).trim().is_empty());
    d.assert_clean(0);
}
