use super::*;
use oci_spec::runtime::LinuxResources;
use std::fs;

const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

fn resources() -> LinuxResources {
    serde_json::from_value(serde_json::json!({
        "memory": {"limit": 67108864, "swap": 134217728},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000},
        "pids": {"limit": 32},
        "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]
    }))
    .expect("resources")
}

fn read(p: &Path) -> String {
    fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

fn v1_tree(dir: &Path) -> Layout {
    let mut hierarchies = Vec::new();
    for c in ["memory", "cpu", "cpuset", "pids", "devices", "freezer"] {
        fs::create_dir_all(dir.join(c)).expect("mkdir");
        hierarchies.push(V1Hierarchy {
            mountpoint: dir.join(c),
            controllers: vec![c.to_string()],
        });
    }
    fs::write(dir.join("cpuset/cpuset.cpus"), "0-1\n").expect("write");
    fs::write(dir.join("cpuset/cpuset.mems"), "0\n").expect("write");
    Layout::V1 { hierarchies }
}

#[test]
fn detects_hybrid_v1_and_v2() {
    match Layout::from_mountinfo(HYBRID).expect("layout") {
        Layout::Hybrid {
            hierarchies,
            unified,
        } => {
            assert_eq!(unified, PathBuf::from("/sys/fs/cgroup/unified"));
            assert_eq!(hierarchies.len(), 4);
            assert_eq!(hierarchies[3].controllers, vec!["name=systemd".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    let v1: String = HYBRID
        .lines()
        .filter(|l| !l.contains("cgroup2"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(matches!(Layout::from_mountinfo(&v1), Ok(Layout::V1 { .. })));
    let v2 = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
    assert_eq!(
        Layout::from_mountinfo(v2).expect("v2"),
        Layout::V2 {
            root: "/sys/fs/cgroup".into()
        }
    );
    let comounted = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
    match Layout::from_mountinfo(comounted).expect("v1") {
        Layout::V1 { hierarchies } => {
            assert_eq!(hierarchies[0].controllers, vec!["cpu", "cpuacct"])
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Layout::from_mountinfo(""),
        Err(Error::NoHierarchy)
    ));
}

#[test]
fn v1_create_applies_limits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let layout = v1_tree(tmp.path());
    // Swap accounting present for this test.
    fs::create_dir_all(tmp.path().join("memory/rocker/c1")).expect("mkdir");
    fs::write(
        tmp.path()
            .join("memory/rocker/c1/memory.memsw.limit_in_bytes"),
        "",
    )
    .expect("write");
    let cg = Cgroup::create(&layout, Path::new("/rocker/c1"), Some(&resources())).expect("create");
    let d = |c: &str| tmp.path().join(c).join("rocker/c1");
    assert_eq!(read(&d("memory").join("memory.limit_in_bytes")), "67108864");
    assert_eq!(
        read(&d("memory").join("memory.memsw.limit_in_bytes")),
        "134217728"
    );
    assert_eq!(read(&d("cpu").join("cpu.shares")), "512");
    assert_eq!(read(&d("cpu").join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(&d("cpu").join("cpu.cfs_period_us")), "100000");
    assert_eq!(read(&d("pids").join("pids.max")), "32");
    assert_eq!(read(&d("cpuset").join("cpuset.cpus")), "0-1");
    assert_eq!(read(&tmp.path().join("cpuset/rocker/cpuset.mems")), "0");
    // The fake files keep only the last write: the allow rule.
    assert_eq!(read(&d("devices").join("devices.deny")), "a *:* rwm");
    assert_eq!(read(&d("devices").join("devices.allow")), "c 1:3 rwm");
    assert_eq!(cg.path(), Path::new("/rocker/c1"));
    assert!(cg.unified_dir().is_none());

    cg.add_process(nix::unistd::Pid::from_raw(42), false)
        .expect("add");
    assert_eq!(read(&d("pids").join("cgroup.procs")), "42");
    assert_eq!(cg.pids().expect("pids"), vec![42]);
    // A second container on the same path is refused.
    let e = Cgroup::create(&layout, Path::new("/rocker/c1"), None).expect_err("in use");
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
}

#[test]
fn v1_oom_and_missing_swap_accounting() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let layout = v1_tree(tmp.path());
    let cg = Cgroup::create(&layout, Path::new("c2"), Some(&resources())).expect("create");
    assert!(!tmp
        .path()
        .join("memory/c2/memory.memsw.limit_in_bytes")
        .exists());
    fs::write(
        tmp.path().join("memory/c2/memory.oom_control"),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    )
    .expect("write");
    assert!(cg.oom_killed().expect("oom"));
}

#[test]
fn v2_enables_controllers_and_writes_limits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().to_path_buf();
    fs::write(
        root.join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids rdma\n",
    )
    .expect("write");
    let layout = Layout::V2 { root: root.clone() };
    let cg = Cgroup::create(&layout, Path::new("/rocker/c1"), Some(&resources())).expect("create");
    assert_eq!(
        read(&root.join("cgroup.subtree_control")),
        "+cpuset +cpu +io +memory +hugetlb +pids"
    );
    let leaf = root.join("rocker/c1");
    assert_eq!(cg.unified_dir(), Some(leaf.as_path()));
    assert_eq!(read(&leaf.join("memory.max")), "67108864");
    assert_eq!(read(&leaf.join("memory.swap.max")), "67108864");
    assert_eq!(
        read(&leaf.join("cpu.weight")),
        v2::shares_to_weight(512).to_string()
    );
    assert_eq!(read(&leaf.join("cpu.max")), "50000 100000");
    assert_eq!(read(&leaf.join("pids.max")), "32");
    assert!(!leaf.join("devices.allow").exists());

    fs::write(
        leaf.join("memory.events"),
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    )
    .expect("write");
    assert!(cg.oom_killed().expect("oom"));
    fs::write(leaf.join("cgroup.procs"), "7\n8\n").expect("write");
    assert_eq!(cg.pids().expect("pids"), vec![7, 8]);
    fs::remove_file(leaf.join("cgroup.procs")).expect("rm");
    for f in [
        "memory.max",
        "memory.swap.max",
        "cpu.weight",
        "cpu.max",
        "pids.max",
        "memory.events",
    ] {
        fs::remove_file(leaf.join(f)).expect("rm");
    }
    cg.destroy().expect("destroy");
    assert!(!leaf.exists());
    assert!(root.join("rocker").exists(), "parents stay");
}

#[test]
fn shares_map_to_weight_range() {
    assert_eq!(v2::shares_to_weight(2), 1);
    assert_eq!(v2::shares_to_weight(262_144), 10_000);
    assert_eq!(v2::shares_to_weight(1024), 39);
}

#[test]
fn hybrid_puts_limits_on_v1_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Layout::V1 { hierarchies } = v1_tree(tmp.path()) else {
        panic!("v1")
    };
    let unified = tmp.path().join("unified");
    fs::create_dir_all(&unified).expect("mkdir");
    let layout = Layout::Hybrid {
        hierarchies,
        unified: unified.clone(),
    };
    let cg = Cgroup::create(&layout, Path::new("/x/c1"), Some(&resources())).expect("create");
    assert_eq!(cg.unified_dir(), Some(unified.join("x/c1").as_path()));
    assert!(!unified.join("x/c1/memory.max").exists());
    assert!(!unified.join("cgroup.subtree_control").exists());
    assert_eq!(
        read(&tmp.path().join("memory/x/c1/memory.limit_in_bytes")),
        "67108864"
    );
    cg.add_process(nix::unistd::Pid::from_raw(5), true)
        .expect("add");
    assert!(
        !unified.join("x/c1/cgroup.procs").exists(),
        "cloned straight in"
    );
    assert_eq!(read(&tmp.path().join("memory/x/c1/cgroup.procs")), "5");
}

#[test]
fn failed_create_leaves_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // No pids hierarchy: a pids limit cannot be applied.
    let hierarchies = vec![V1Hierarchy {
        mountpoint: tmp.path().join("memory"),
        controllers: vec!["memory".into()],
    }];
    fs::create_dir_all(tmp.path().join("memory")).expect("mkdir");
    let layout = Layout::V1 { hierarchies };
    let pids_only: LinuxResources =
        serde_json::from_value(serde_json::json!({"pids": {"limit": 5}})).expect("res");
    let e = Cgroup::create(&layout, Path::new("/a/b/c"), Some(&pids_only)).expect_err("no pids");
    assert!(
        matches!(
            e,
            Error::ControllerMissing {
                controller: "pids",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        !tmp.path().join("memory/a").exists(),
        "created parents removed too"
    );
}

#[test]
fn paths_and_open() {
    assert!(matches!(
        relative_path(Path::new("/a/../b")),
        Err(Error::InvalidPath(_))
    ));
    assert!(matches!(
        relative_path(Path::new("/")),
        Err(Error::InvalidPath(_))
    ));
    assert_eq!(
        relative_path(Path::new("/a/./b")).expect("ok"),
        PathBuf::from("a/b")
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let layout = v1_tree(tmp.path());
    let e = Cgroup::open_in(&layout, Path::new("/nope")).expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    Cgroup::create(&layout, Path::new("/yes"), None).expect("create");
    assert_eq!(
        Cgroup::open_in(&layout, Path::new("/yes"))
            .expect("open")
            .v1_dirs()
            .len(),
        6
    );
}
