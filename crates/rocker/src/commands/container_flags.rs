//! Flags shared by `run` and `create`, and their translation into a create body.

use std::collections::BTreeMap;

use clap::Args;
use rocker_api::models::{
    ContainerConfig, ContainerCreateBody, DeviceMapping, HostConfig, LogConfig, RestartPolicy,
    Ulimit,
};

use crate::envfile::{expand_env_flag, read_env_file};
use crate::units::{parse_mem_bytes, parse_mem_swap, parse_nano_cpus};

/// Docker's container flags (the subset Rocker supports today).
#[derive(Debug, Args, Default, Clone)]
pub struct ContainerFlags {
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long, value_parser = parse_mem_bytes)]
    pub memory: Option<i64>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", value_parser = parse_mem_swap, allow_hyphen_values = true)]
    pub memory_swap: Option<i64>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_parser = parse_mem_bytes)]
    pub memory_reservation: Option<i64>,
    /// Number of CPUs
    #[arg(long, value_parser = parse_nano_cpus)]
    pub cpus: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares")]
    pub cpu_shares: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Connect a container to a network
    #[arg(long = "network", alias = "net")]
    pub network: Option<String>,
    #[command(flatten)]
    pub net: crate::commands::net_flags::NetFlags,
    // health (P2)
    #[command(flatten)]
    pub health: crate::commands::health_flags::HealthFlags,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Run an init inside the container
    #[arg(long)]
    pub init: bool,
    /// Logging driver for the container (json-file or none)
    #[arg(long = "log-driver")]
    pub log_driver: Option<String>,
    /// Log driver options (max-size=10m, max-file=3)
    #[arg(long = "log-opt")]
    pub log_opt: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Mount a tmpfs directory (path[:options])
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Ulimit options (name=soft[:hard])
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout")]
    pub stop_timeout: Option<i64>,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_parser = parse_mem_bytes)]
    pub shm_size: Option<i64>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Security Options
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Runtime to use for this container
    #[arg(long)]
    pub runtime: Option<String>,
    /// Add a host device to the container (host[:container][:permissions])
    #[arg(long)]
    pub device: Vec<String>,
    /// Sysctl options (key=value)
    #[arg(long)]
    pub sysctl: Vec<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long = "oom-score-adj", allow_hyphen_values = true)]
    pub oom_score_adj: Option<i64>,
    /// Tune container memory swappiness (0 to 100)
    #[arg(long = "memory-swappiness", allow_hyphen_values = true)]
    pub memory_swappiness: Option<i64>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
}

impl ContainerFlags {
    /// The create body for `image` and `cmd`.
    pub fn to_create_body(
        &self,
        image: &str,
        cmd: &[String],
        detach: bool,
    ) -> Result<ContainerCreateBody, String> {
        let mut env = Vec::new();
        for f in &self.env_file {
            env.extend(read_env_file(f)?);
        }
        env.extend(
            self.env
                .iter()
                .map(|e| expand_env_flag(e, |k| std::env::var(k).ok())),
        );
        let labels: BTreeMap<String, String> = self
            .label
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (l.clone(), String::new()),
            })
            .collect();
        let (hostname, domainname) = match self.hostname.as_deref().unwrap_or("").split_once('.') {
            Some((h, d)) => (h.to_string(), d.to_string()),
            None => (self.hostname.clone().unwrap_or_default(), String::new()),
        };
        let entrypoint = self.entrypoint.as_ref().map(|e| vec![e.clone()]);
        let attach_stdin = self.interactive && !detach;
        let net = self.net.to_parts(self.network.as_deref(), &self.add_host)?;
        let config = ContainerConfig {
            hostname,
            domainname,
            user: self.user.clone().unwrap_or_default(),
            attach_stdin,
            attach_stdout: !detach,
            attach_stderr: !detach,
            tty: self.tty,
            open_stdin: self.interactive,
            stdin_once: attach_stdin,
            env: Some(env),
            cmd: (!cmd.is_empty()).then(|| cmd.to_vec()),
            image: image.to_string(),
            volumes: None,
            working_dir: self.workdir.clone().unwrap_or_default(),
            entrypoint,
            labels: Some(labels),
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            exposed_ports: net.exposed_ports,
            mac_address: net.mac_address,
            healthcheck: self.health.to_config()?, // health (P2)
            ..Default::default()
        };
        let host_config = HostConfig {
            binds: Some(self.volume.clone()),
            mounts: (!self.mount.is_empty())
                .then(|| {
                    self.mount
                        .iter()
                        .map(|m| crate::commands::volume::parse_mount_flag(m))
                        .collect()
                })
                .transpose()?,
            volumes_from: (!self.volumes_from.is_empty()).then(|| self.volumes_from.clone()),
            network_mode: net.network_mode,
            port_bindings: Some(net.port_bindings),
            publish_all_ports: net.publish_all,
            dns: Some(net.dns),
            dns_search: Some(net.dns_search),
            dns_options: Some(net.dns_options),
            links: net.links,
            restart_policy: parse_restart(self.restart.as_deref())?,
            log_config: log_config(self.log_driver.as_deref(), &self.log_opt)?,
            auto_remove: self.rm,
            cap_add: Some(self.cap_add.clone()),
            cap_drop: Some(self.cap_drop.clone()),
            extra_hosts: net.extra_hosts,
            privileged: self.privileged,
            readonly_rootfs: self.read_only,
            security_opt: Some(security_opts(&self.security_opt)?),
            devices: (!self.device.is_empty())
                .then(|| self.device.iter().map(|d| parse_device(d)).collect())
                .transpose()?,
            sysctls: (!self.sysctl.is_empty())
                .then(|| {
                    self.sysctl
                        .iter()
                        .map(|kv| match kv.split_once('=') {
                            Some((k, v)) => Ok((k.to_string(), v.to_string())),
                            None => Err(format!("invalid argument \"{kv}\" for \"--sysctl\" flag: sysctl '{kv}' is not allowed")),
                        })
                        .collect()
                })
                .transpose()?,
            cpuset_mems: self.cpuset_mems.clone().unwrap_or_default(),
            oom_kill_disable: self.oom_kill_disable.then_some(true),
            oom_score_adj: self.oom_score_adj.unwrap_or(0),
            memory_swappiness: self.memory_swappiness,
            blkio_weight: self.blkio_weight.unwrap_or(0),
            tmpfs: (!self.tmpfs.is_empty()).then(|| {
                self.tmpfs
                    .iter()
                    .map(|t| match t.split_once(':') {
                        Some((p, o)) => (p.to_string(), o.to_string()),
                        None => (t.clone(), String::new()),
                    })
                    .collect()
            }),
            shm_size: self.shm_size.unwrap_or(0),
            runtime: self.runtime.clone(),
            memory: self.memory.unwrap_or(0),
            memory_swap: self.memory_swap.unwrap_or(0),
            memory_reservation: self.memory_reservation.unwrap_or(0),
            nano_cpus: self.cpus.unwrap_or(0),
            cpu_shares: self.cpu_shares.unwrap_or(0),
            cpuset_cpus: self.cpuset_cpus.clone().unwrap_or_default(),
            pids_limit: self.pids_limit,
            ulimits: Some(
                self.ulimit
                    .iter()
                    .map(|u| parse_ulimit(u))
                    .collect::<Result<_, _>>()?,
            ),
            init: self.init.then_some(true),
            ..Default::default()
        };
        Ok(ContainerCreateBody {
            config,
            host_config: Some(host_config),
            networking_config: Some(net.networking_config),
        })
    }
}

// update (P2): pub(crate) for `rocker update --restart`.
pub(crate) fn parse_restart(s: Option<&str>) -> Result<RestartPolicy, String> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(RestartPolicy::default());
    };
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (
            n,
            c.parse::<i64>().map_err(|_| {
                format!(
                    "invalid restart policy format: maximum retry count must be an integer: {s}"
                )
            })?,
        ),
        None => (s, 0),
    };
    match name {
        "no" | "always" | "unless-stopped" | "on-failure" => Ok(RestartPolicy {
            name: name.to_string(),
            maximum_retry_count: count,
        }),
        _ => Err(format!("invalid restart policy: unknown policy '{name}'")),
    }
}

/// As the docker CLI: `seccomp=FILE` is sent as the file's content, `key:value` as
/// `key=value`.
fn security_opts(opts: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(opts.len());
    for opt in opts {
        if opt == "no-new-privileges" {
            out.push(opt.clone());
            continue;
        }
        let (key, value) = opt
            .split_once('=')
            .or_else(|| opt.split_once(':'))
            .ok_or_else(|| format!("Invalid --security-opt: {opt:?}"))?;
        if key == "seccomp" && value != "unconfined" && value != "builtin" {
            let content = std::fs::read_to_string(value)
                .map_err(|e| format!("opening seccomp profile ({value}) failed: {e}"))?;
            let compact: serde_json::Value = serde_json::from_str(&content).map_err(|e| {
                format!("compacting json for seccomp profile ({value}) failed: {e}")
            })?;
            out.push(format!("seccomp={compact}"));
        } else {
            out.push(format!("{key}={value}"));
        }
    }
    Ok(out)
}

/// `host[:container][:permissions]`.
fn parse_device(s: &str) -> Result<DeviceMapping, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let is_mode = |m: &str| !m.is_empty() && m.chars().all(|c| "rwm".contains(c));
    let (host, inside, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, m] if is_mode(m) => (*h, *h, *m),
        [h, c] => (*h, *c, "rwm"),
        [h, c, m] if is_mode(m) => (*h, *c, *m),
        _ => return Err(format!("invalid device specification: {s}")),
    };
    if host.is_empty() || !inside.starts_with('/') {
        return Err(format!("invalid device specification: {s}"));
    }
    Ok(DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: inside.to_string(),
        cgroup_permissions: perms.to_string(),
    })
}

/// `name=soft[:hard]`.
fn parse_ulimit(s: &str) -> Result<Ulimit, String> {
    let (name, limits) = s
        .split_once('=')
        .ok_or_else(|| format!("invalid ulimit argument: {s}"))?;
    let parse = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| format!("invalid ulimit argument: {s}"))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => (parse(limits)?, parse(limits)?),
    };
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// `--log-driver` / `--log-opt k=v` as the docker CLI sends them.
fn log_config(driver: Option<&str>, opts: &[String]) -> Result<LogConfig, String> {
    let mut config = BTreeMap::new();
    for o in opts {
        match o.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                config.insert(k.to_string(), v.to_string());
            }
            _ => {
                return Err(format!(
                    "invalid key value pair format in driver options: {o}"
                ))
            }
        }
    }
    Ok(LogConfig {
        r#type: driver.unwrap_or_default().to_string(),
        config: (!config.is_empty()).then_some(config),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::commands::Command;
    use crate::Cli;

    fn run_args(args: &[&str]) -> crate::commands::run::RunArgs {
        let cli = Cli::try_parse_from(["rocker", "run"].iter().chain(args)).expect("parse");
        match cli.command {
            Some(Command::Run(r)) => r,
            other => panic!("not run: {other:?}"),
        }
    }

    #[test]
    fn args_after_image_are_not_flags() {
        let r = run_args(&["-d", "--rm", "busybox", "ls", "-la", "-d", "--rm", "-h"]);
        assert!(r.detach && r.flags.rm);
        assert_eq!(r.image, "busybox");
        assert_eq!(r.command, ["ls", "-la", "-d", "--rm", "-h"]);
        let r = run_args(&["-it", "busybox"]);
        assert!(r.flags.interactive && r.flags.tty);
        assert!(r.command.is_empty());
    }

    #[test]
    fn flags_map_to_create_body() {
        let r = run_args(&[
            "--name",
            "web",
            "-e",
            "A=1",
            "-e",
            "RK_UNSET_VAR",
            "-w",
            "/tmp",
            "-u",
            "1000:1000",
            "-m",
            "32m",
            "--memory-swap",
            "-1",
            "--cpus",
            "1.5",
            "--cpu-shares",
            "512",
            "--pids-limit",
            "-1",
            "-h",
            "box.example.com",
            "--entrypoint",
            "",
            "-l",
            "a=b",
            "-l",
            "flag",
            "--ulimit",
            "nofile=10:20",
            "--restart",
            "on-failure:3",
            "img",
        ]);
        let b = r
            .flags
            .to_create_body(&r.image, &r.command, r.detach)
            .expect("body");
        let c = &b.config;
        assert_eq!(
            c.env.as_deref(),
            Some(&["A=1".to_string(), "RK_UNSET_VAR".to_string()][..])
        );
        assert_eq!(c.working_dir, "/tmp");
        assert_eq!(c.user, "1000:1000");
        assert_eq!(
            (c.hostname.as_str(), c.domainname.as_str()),
            ("box", "example.com")
        );
        assert_eq!(c.entrypoint, Some(vec![String::new()]));
        assert!(c.cmd.is_none());
        assert!(c.attach_stdout && !c.attach_stdin && !c.open_stdin);
        let labels = c.labels.as_ref().expect("labels");
        assert_eq!(labels["a"], "b");
        assert_eq!(labels["flag"], "");
        let hc = b.host_config.as_ref().expect("host config");
        assert_eq!(hc.memory, 32 << 20);
        assert_eq!(hc.memory_swap, -1);
        assert_eq!(hc.nano_cpus, 1_500_000_000);
        assert_eq!(hc.cpu_shares, 512);
        assert_eq!(hc.pids_limit, Some(-1));
        assert_eq!(hc.restart_policy.name, "on-failure");
        assert_eq!(hc.restart_policy.maximum_retry_count, 3);
        assert_eq!(
            hc.ulimits.as_ref().map(|u| (u[0].soft, u[0].hard)),
            Some((10, 20))
        );
        assert_eq!(hc.network_mode, "default");
    }

    #[test]
    fn security_and_device_flags_map_to_host_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("profile.json");
        std::fs::write(&f, "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n").expect("write");
        let seccomp = format!("seccomp={}", f.display());
        let r = run_args(&[
            "--cap-add",
            "SYS_ADMIN",
            "--cap-drop",
            "ALL",
            "--privileged",
            "--read-only",
            "--security-opt",
            &seccomp,
            "--security-opt",
            "no-new-privileges:true",
            "--device",
            "/dev/null:/dev/n:r",
            "--device",
            "/dev/zero",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "--cpuset-cpus",
            "0",
            "--cpuset-mems",
            "0",
            "--memory-swappiness",
            "10",
            "--oom-kill-disable",
            "--oom-score-adj",
            "-5",
            "--blkio-weight",
            "300",
            "img",
        ]);
        let b = r
            .flags
            .to_create_body(&r.image, &r.command, r.detach)
            .expect("body");
        let hc = b.host_config.expect("host config");
        assert_eq!(hc.cap_add, Some(vec!["SYS_ADMIN".to_string()]));
        assert_eq!(hc.cap_drop, Some(vec!["ALL".to_string()]));
        assert!(hc.privileged && hc.readonly_rootfs);
        assert_eq!(
            hc.security_opt,
            Some(vec![
                r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#.to_string(),
                "no-new-privileges=true".to_string()
            ])
        );
        let devices = hc.devices.expect("devices");
        assert_eq!(
            (
                devices[0].path_in_container.as_str(),
                devices[0].cgroup_permissions.as_str()
            ),
            ("/dev/n", "r")
        );
        assert_eq!(devices[1].path_in_container, "/dev/zero");
        assert_eq!(hc.sysctls.expect("sysctls")["net.ipv4.ip_forward"], "1");
        assert_eq!(
            (hc.cpuset_cpus.as_str(), hc.cpuset_mems.as_str()),
            ("0", "0")
        );
        assert_eq!(hc.memory_swappiness, Some(10));
        assert_eq!(hc.oom_kill_disable, Some(true));
        assert_eq!(hc.oom_score_adj, -5);
        assert_eq!(hc.blkio_weight, 300);

        let r = run_args(&["--security-opt", "seccomp=/nonexistent.json", "img"]);
        let e = r
            .flags
            .to_create_body(&r.image, &r.command, false)
            .unwrap_err();
        assert!(
            e.starts_with("opening seccomp profile (/nonexistent.json) failed"),
            "{e}"
        );
    }

    #[test]
    fn bad_memory_is_a_parse_error() {
        assert!(Cli::try_parse_from(["rocker", "run", "-m", "12x", "busybox"]).is_err());
        assert!(Cli::try_parse_from(["rocker", "run", "--cpus", "x", "busybox"]).is_err());
    }

    #[test]
    fn env_file_then_env_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("env");
        std::fs::write(&f, "# c\nX=1\nY=2\n").expect("write");
        let r = run_args(&[
            "--env-file",
            f.to_str().expect("utf8"),
            "-e",
            "Z=3",
            "img",
            "true",
        ]);
        let b = r
            .flags
            .to_create_body(&r.image, &r.command, false)
            .expect("body");
        assert_eq!(
            b.config.env,
            Some(vec!["X=1".into(), "Y=2".into(), "Z=3".into()])
        );
        assert_eq!(b.config.cmd, Some(vec!["true".to_string()]));
    }
}
