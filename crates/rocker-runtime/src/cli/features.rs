//! `features`: what this runtime implements, in the OCI runtime-spec features format, so
//! callers (podman, containerd) can adapt.

use anyhow::Result;

pub fn run() -> Result<()> {
    let doc = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.2.0",
        "hooks": [],
        "mountOptions": rocker_runtime::mount_opts::known_options(),
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
            "capabilities": caps::all().iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {"enabled": true},
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
        },
        "annotations": {
            "org.opencontainers.runtime-spec.features.runtime": "rocker-runtime",
        },
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}
