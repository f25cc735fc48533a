use super::*;
use oci_spec::runtime::{LinuxNamespaceBuilder, ProcessBuilder, Spec};
use std::collections::HashMap;

fn bundle() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("rootfs")).expect("rootfs");
    dir
}

fn base() -> Spec {
    Spec::default()
}

#[test]
fn default_spec_plans() {
    let b = bundle();
    let p = plan(&base(), b.path(), &[]).expect("plan");
    assert_eq!(
        p.rootfs,
        b.path().join("rootfs").canonicalize().expect("canon")
    );
    assert!(p
        .clone_flags
        .contains(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS));
    assert!(p.new_net_ns);
    assert!(p.new_cgroup_ns);
    assert!(!p.clone_flags.contains(CloneFlags::CLONE_NEWCGROUP));
    assert_eq!(p.process.args[0].to_str().expect("utf8"), "sh");
    assert_eq!(
        p.process.path_env.as_deref(),
        Some("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    );
    let proc_mount = p
        .mounts
        .iter()
        .find(|m| m.destination == Path::new("/proc"))
        .expect("proc");
    assert_eq!(proc_mount.typ, "proc");
    assert_eq!(p.devices.len(), 6);
    let caps = p.process.caps.expect("caps");
    assert!(caps.bounding.contains(&caps::Capability::CAP_KILL));
    assert!(!caps.bounding.contains(&caps::Capability::CAP_SYS_ADMIN));
}

#[test]
fn missing_rootfs_is_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = plan(&base(), dir.path(), &[]).expect_err("no rootfs");
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[test]
fn rejects_relative_cwd_and_empty_args() {
    let b = bundle();
    let mut s = base();
    let mut p = s.process().clone().expect("process");
    p.set_cwd("relative".into());
    s.set_process(Some(p));
    assert!(matches!(
        plan(&s, b.path(), &[]),
        Err(Error::RelativeCwd(_))
    ));

    let mut s = base();
    s.set_process(Some(
        ProcessBuilder::default()
            .args(Vec::<String>::new())
            .build()
            .expect("process"),
    ));
    assert!(matches!(plan(&s, b.path(), &[]), Err(Error::MissingArgs)));
}

#[test]
fn hostname_needs_uts_and_namespaces_are_unique() {
    let b = bundle();
    let mut s = base();
    s.set_hostname(Some("box".into()));
    let mut linux = s.linux().clone().expect("linux");
    let without_uts: Vec<_> = linux
        .namespaces()
        .clone()
        .expect("ns")
        .into_iter()
        .filter(|n| n.typ() != LinuxNamespaceType::Uts)
        .collect();
    linux.set_namespaces(Some(without_uts.clone()));
    s.set_linux(Some(linux.clone()));
    assert!(matches!(
        plan(&s, b.path(), &[]),
        Err(Error::HostnameWithoutUts)
    ));

    let mut twice = without_uts;
    twice.push(
        LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::Pid)
            .build()
            .expect("ns"),
    );
    linux.set_namespaces(Some(twice));
    s.set_linux(Some(linux));
    s.set_hostname(None);
    assert!(matches!(
        plan(&s, b.path(), &[]),
        Err(Error::DuplicateNamespace(_))
    ));
}

#[test]
fn joined_namespaces_and_cgroup_ns() {
    let b = bundle();
    let mut s = base();
    let mut linux = s.linux().clone().expect("linux");
    let mut ns: Vec<_> = linux
        .namespaces()
        .clone()
        .expect("ns")
        .into_iter()
        .filter(|n| {
            !matches!(
                n.typ(),
                LinuxNamespaceType::Network | LinuxNamespaceType::Cgroup
            )
        })
        .collect();
    ns.push(
        LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::Network)
            .path("/run/netns/x")
            .build()
            .expect("ns"),
    );
    ns.push(
        LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::Cgroup)
            .build()
            .expect("ns"),
    );
    linux.set_namespaces(Some(ns));
    s.set_linux(Some(linux));
    let p = plan(&s, b.path(), &[]).expect("plan");
    assert!(!p.new_net_ns);
    assert!(p.new_cgroup_ns);
    assert!(!p.clone_flags.contains(CloneFlags::CLONE_NEWCGROUP));
    assert_eq!(
        p.join,
        vec![(CloneFlags::CLONE_NEWNET, PathBuf::from("/run/netns/x"))]
    );
}

#[test]
fn sysctls_must_be_namespaced() {
    let b = bundle();
    let mut s = base();
    let mut linux = s.linux().clone().expect("linux");
    linux.set_sysctl(Some(HashMap::from([(
        "net.ipv4.ip_forward".to_string(),
        "1".to_string(),
    )])));
    s.set_linux(Some(linux.clone()));
    assert_eq!(plan(&s, b.path(), &[]).expect("plan").sysctl.len(), 1);
    for bad in ["vm.overcommit_memory", "kernel.pid_max", "net/../../x"] {
        linux.set_sysctl(Some(HashMap::from([(bad.to_string(), "1".to_string())])));
        s.set_linux(Some(linux.clone()));
        assert!(
            matches!(plan(&s, b.path(), &[]), Err(Error::InvalidSysctl(_))),
            "{bad}"
        );
    }
}

#[test]
fn paths_are_cleaned_and_bind_sources_follow_the_bundle() {
    assert_eq!(
        clean_absolute(Path::new("/a/../../b/./c")),
        Some(PathBuf::from("/b/c"))
    );
    assert_eq!(clean_absolute(Path::new("rel")), None);
    let m: Mount = serde_json::from_value(serde_json::json!({
        "destination": "/data/../etc/x", "source": "files/x", "options": ["rbind", "ro"]
    }))
    .expect("mount");
    let p = mount_plan(&m, Path::new("/bundle")).expect("plan");
    assert_eq!(p.destination, PathBuf::from("/etc/x"));
    assert_eq!(p.source, Some(PathBuf::from("/bundle/files/x")));
    assert!(p.is_bind() && p.options.recursive);
    let rel: Mount =
        serde_json::from_value(serde_json::json!({"destination": "x", "type": "tmpfs"}))
            .expect("mount");
    assert!(matches!(
        mount_plan(&rel, Path::new("/b")),
        Err(Error::RelativeDestination(_))
    ));
}

#[test]
fn default_device_rules_are_appended() {
    let mut s = base();
    let mut linux = s.linux().clone().expect("linux");
    linux.set_resources(Some(
        serde_json::from_value(serde_json::json!({"devices": [{"allow": false, "access": "rwm"}]}))
            .expect("res"),
    ));
    s.set_linux(Some(linux));
    let res = effective_resources(&s).expect("resources");
    let devices = res.devices().clone().expect("devices");
    assert!(!devices[0].allow(), "spec's deny-all stays first");
    assert!(devices.len() > 10);
    assert!(devices
        .iter()
        .any(|d| d.allow() && d.major() == Some(1) && d.minor() == Some(3)));
}
