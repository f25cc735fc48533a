//! `create <id> --bundle DIR [--pid-file F]`: set the container up, init blocked on
//! `<root>/<id>/exec.fifo` until `start`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use nix::sys::stat::Mode;

use super::state::{container_dir, fifo_path, proc_start_time, State, Status};
use super::Context;

#[derive(clap::Args)]
pub struct Args {
    pub id: String,
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// With `process.terminal`: a unix socket to which the terminal's master is sent
    /// (SCM_RIGHTS), as runc does for podman's conmon and containerd's shim.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let dir = make_container_dir(&ctx.root, &args.id)?;
    let fifo = fifo_path(&dir);
    let result = (|| {
        nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o622))
            .with_context(|| format!("mkfifo {}", fifo.display()))?;
        let gate = rocker_runtime::Gate::Fifo(fifo.clone());
        let created = create_and_record(
            ctx,
            &args.id,
            &args.bundle,
            gate,
            args.pid_file.as_deref(),
            args.console_socket.as_deref(),
        )?;
        ctx.logger.debug(&format!(
            "created container {} pid {}",
            args.id, created.pid
        ));
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

pub fn make_container_dir(root: &Path, id: &str) -> Result<PathBuf> {
    let dir = container_dir(root, id)?;
    std::fs::create_dir_all(root).with_context(|| format!("create {}", root.display()))?;
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("container {id} already exists")
        }
        Err(e) => Err(e).with_context(|| format!("create {}", dir.display())),
    }
}

/// Creates through the library and writes state.json (and the pid file).
pub fn create_and_record(
    ctx: &Context,
    id: &str,
    bundle: &Path,
    gate: rocker_runtime::Gate,
    pid_file: Option<&Path>,
    console_socket: Option<&Path>,
) -> Result<rocker_runtime::Created> {
    let (bundle, spec) = super::load_bundle(bundle)?;
    let created = rocker_runtime::create(rocker_runtime::CreateOptions {
        id,
        bundle: &bundle,
        spec: &spec,
        stdio: super::inherited_stdio()?,
        gate,
        rootfs_mounts: &[],
        console: console_socket.is_some(),
    })?;
    if let (Some(sock), Some(master)) = (console_socket, created.console.as_ref()) {
        let sent = std::os::unix::net::UnixStream::connect(sock)
            .with_context(|| format!("connect to console socket {}", sock.display()))
            .and_then(|s| {
                use std::os::fd::AsFd;
                rocker_sys::socket::send_with_fd(s.as_fd(), b"/dev/ptmx", master.as_fd())
                    .context("send terminal to console socket")
            });
        if let Err(e) = sent {
            created.abort();
            return Err(e);
        }
    }
    let root_path = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .unwrap_or_default();
    let state = State {
        oci_version: spec.version().clone(),
        id: id.to_string(),
        status: Status::Created,
        pid: created.pid,
        rootfs: bundle.join(root_path),
        bundle,
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        owner: String::new(),
        annotations: spec.annotations().clone().unwrap_or_default(),
        cgroups_path: created.cgroup.path().to_path_buf(),
        start_time: proc_start_time(created.pid).unwrap_or(0),
    };
    let recorded = state.save(&ctx.root).and_then(|()| match pid_file {
        Some(f) => std::fs::write(f, created.pid.to_string())
            .with_context(|| format!("write pid file {}", f.display())),
        None => Ok(()),
    });
    if let Err(e) = recorded {
        created.abort();
        return Err(e);
    }
    Ok(created)
}
