use rocker_api::models::Ulimit;

use super::*;

fn hc() -> HostConfig {
    HostConfig::default()
}

fn spec_doc() -> Value {
    crate::spec::build(&crate::spec::SpecInput {
        rootfs: "/tmp/r".into(),
        args: vec!["sh".into()],
        env: vec![],
        cwd: "/".into(),
        uid: 0,
        gid: 0,
        additional_gids: vec![],
        hostname: "h".into(),
        tty: false,
        console_size: None,
        cgroups_path: "x/y".into(),
        resources: Default::default(),
        files: vec![],
        shm_size: 64 << 20,
        readonly_rootfs: false,
        netns: crate::spec::NetNs::New,
    })
}

fn applied(h: &HostConfig) -> Value {
    validate(h).unwrap();
    let mut doc = spec_doc();
    apply(&mut doc, h).unwrap();
    let _: oci_spec::runtime::Spec = serde_json::from_value(doc.clone()).unwrap();
    doc
}

fn err(h: &HostConfig) -> String {
    validate(h).unwrap_err().to_string()
}

#[test]
fn default_container_gets_default_caps_and_seccomp() {
    let doc = applied(&hc());
    assert_eq!(
        doc["process"]["capabilities"]["bounding"]
            .as_array()
            .unwrap()
            .len(),
        DEFAULT_CAPS.len()
    );
    assert_eq!(doc["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(doc["process"]["noNewPrivileges"], false);
}

#[test]
fn cap_add_and_drop() {
    let mut h = hc();
    h.cap_add = Some(vec!["sys_admin".into(), "CAP_NET_ADMIN".into()]);
    h.cap_drop = Some(vec!["CHOWN".into()]);
    let caps = capabilities(&h).unwrap();
    assert!(caps.contains(&"CAP_SYS_ADMIN".to_string()));
    assert!(caps.contains(&"CAP_NET_ADMIN".to_string()));
    assert!(!caps.contains(&"CAP_CHOWN".to_string()));
    // SYS_ADMIN lets mount through the default profile.
    let doc = applied(&h);
    assert!(doc["linux"]["seccomp"].to_string().contains("\"mount\""));

    h.cap_drop = Some(vec!["all".into()]);
    h.cap_add = Some(vec!["KILL".into()]);
    assert_eq!(capabilities(&h).unwrap(), vec!["CAP_KILL"]);

    h.cap_add = Some(vec!["NOPE".into()]);
    assert_eq!(err(&h), "unknown capability: \"CAP_NOPE\"");
    h.cap_add = None;
    h.cap_drop = Some(vec!["nope".into()]);
    assert_eq!(err(&h), "unknown capability drop: \"CAP_NOPE\"");
}

#[test]
fn privileged_has_no_confinement() {
    let mut h = hc();
    h.privileged = true;
    let doc = applied(&h);
    assert!(doc["linux"].get("seccomp").is_none());
    assert_eq!(doc["linux"]["maskedPaths"], json!([]));
    assert_eq!(doc["linux"]["readonlyPaths"], json!([]));
    let sys = doc["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == "/sys")
        .unwrap();
    assert!(!sys["options"].as_array().unwrap().contains(&json!("ro")));
    assert_eq!(
        doc["process"]["capabilities"]["bounding"],
        json!(host_caps())
    );
    assert!(doc["linux"]["devices"].as_array().unwrap().len() > 3);
}

#[test]
fn security_opts_parse() {
    let mut h = hc();
    h.security_opt = Some(vec![
        "no-new-privileges".into(),
        "seccomp=unconfined".into(),
        "apparmor=unconfined".into(),
        "label=disable".into(),
    ]);
    let doc = applied(&h);
    assert_eq!(doc["process"]["noNewPrivileges"], true);
    assert!(doc["linux"].get("seccomp").is_none());

    h.security_opt = Some(vec!["no-new-privileges:true".into()]);
    assert_eq!(applied(&h)["process"]["noNewPrivileges"], true);
    h.security_opt = Some(vec!["no-new-privileges=false".into()]);
    assert_eq!(applied(&h)["process"]["noNewPrivileges"], false);

    h.security_opt = Some(vec![
        r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#.into(),
    ]);
    let doc = applied(&h);
    assert_eq!(doc["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");

    h.security_opt = Some(vec!["apparmor=docker-default".into()]);
    assert!(err(&h).contains("not supported on this host"));
    h.security_opt = Some(vec!["label=type:svirt_t".into()]);
    assert!(err(&h).contains("not supported on this host"));
    h.security_opt = Some(vec!["bogus".into()]);
    assert_eq!(err(&h), "invalid --security-opt 1: \"bogus\"");
    h.security_opt = Some(vec!["seccomp={".into()]);
    assert!(err(&h).starts_with("Decoding seccomp profile failed"));
}

#[test]
fn ulimits_sysctls_and_resources() {
    let mut h = hc();
    h.ulimits = Some(vec![Ulimit {
        name: "nofile".into(),
        soft: 100,
        hard: 200,
    }]);
    h.sysctls = Some([("net.ipv4.ip_forward".to_string(), "1".to_string())].into());
    h.cpuset_cpus = "0".into();
    h.memory = 64 << 20;
    h.memory_reservation = 32 << 20;
    h.memory_swappiness = Some(10);
    h.oom_kill_disable = Some(true);
    h.oom_score_adj = 500;
    let doc = applied(&h);
    assert_eq!(
        doc["process"]["rlimits"],
        json!([{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}])
    );
    assert_eq!(doc["process"]["oomScoreAdj"], 500);
    assert_eq!(doc["linux"]["sysctl"]["net.ipv4.ip_forward"], "1");
    let res = &doc["linux"]["resources"];
    assert_eq!(res["cpu"]["cpus"], "0");
    assert_eq!(res["memory"]["reservation"], 32 << 20);
    assert_eq!(res["memory"]["swappiness"], 10);
    assert_eq!(res["memory"]["disableOOMKiller"], true);

    h.ulimits = Some(vec![Ulimit {
        name: "nofiles".into(),
        soft: 1,
        hard: 1,
    }]);
    assert_eq!(err(&h), "invalid ulimit type: nofiles");
    h.ulimits = None;
    h.sysctls = Some([("kernel.panic".to_string(), "1".to_string())].into());
    assert_eq!(err(&h), "sysctl 'kernel.panic' is not allowed");
    h.sysctls = None;
    h.cpuset_cpus = "0-x".into();
    assert_eq!(err(&h), "Invalid value 0-x for cpuset cpus");
    h.cpuset_cpus = "0-4095".into();
    assert!(err(&h).starts_with("Requested CPUs are not available"));
    h.cpuset_cpus.clear();
    h.memory_swappiness = Some(101);
    assert!(err(&h).contains("valid memory swappiness range is 0-100"));
    h.memory_swappiness = None;
    h.blkio_weight = 5;
    assert_eq!(err(&h), "Range of blkio weight is from 10 to 1000");
    h.blkio_weight = 0;
    h.oom_score_adj = 1001;
    assert!(err(&h).contains("range for oom score adj is [-1000, 1000]"));
    h.oom_score_adj = 0;
    h.memory_reservation = 128 << 20;
    assert!(err(&h).contains("can not be less than memory reservation"));
}

#[test]
fn devices_map_to_nodes_and_rules() {
    let mut h = hc();
    h.devices = Some(vec![DeviceMapping {
        path_on_host: "/dev/null".into(),
        path_in_container: "/dev/mynull".into(),
        cgroup_permissions: "rw".into(),
    }]);
    let doc = applied(&h);
    assert_eq!(
        doc["linux"]["devices"][0],
        json!({"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
               "fileMode": 0o666, "uid": 0, "gid": 0})
    );
    let rules = doc["linux"]["resources"]["devices"].as_array().unwrap();
    assert_eq!(
        rules.last().unwrap(),
        &json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"})
    );
    h.devices.as_mut().unwrap()[0].path_on_host = "/dev/nosuch".into();
    assert!(err(&h).starts_with(
        "error gathering device information while adding custom device \"/dev/nosuch\""
    ));
    h.devices.as_mut().unwrap()[0].path_on_host = "/etc/hostname".into();
    assert!(err(&h).ends_with("not a device node"));
    h.devices.as_mut().unwrap()[0].path_on_host = "/dev/null".into();
    h.devices.as_mut().unwrap()[0].cgroup_permissions = "rx".into();
    assert_eq!(err(&h), "invalid device mode: rx");
}
