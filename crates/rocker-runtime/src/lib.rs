//! rocker-runtime: Rocker's OCI runtime as a library.
//!
//! [`create`] clones the container's init straight into its namespaces and cgroup (no
//! re-exec of any host binary), lets it set up the rootfs, user and capabilities, and
//! returns once the init is blocked at its gate; [`Created::start`] opens the gate and
//! returns once the user process has been exec'd. The `rocker-runtime` binary (runc-style
//! CLI) and `rocker-shim` both drive this library.
//!
//! Callers must be single-threaded when they call [`create`] (see [`rocker_sys::process::clone3`]).

pub mod cgroups;
mod channel;
mod container;
mod exec;
mod exec_process;
mod init;
pub mod mount_opts;
mod rootfs;
pub mod seccomp;
pub mod spec;

use serde::{Deserialize, Serialize};

pub use cgroups::{Cgroup, Layout};
pub use container::{create, release_fifo, CreateOptions, Created, Gate, Started, Stdio};
pub use exec_process::{exec, ExecError, ExecOptions, ExecProcess};

/// What kind of failure an error is; the API layer maps it to a status code and the shim
/// maps the exec kinds to Docker's exit codes 127 / 126.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    Conflict,
    InvalidArgument,
    Internal,
    /// The program to run does not exist (Docker: exit code 127).
    ExecutableNotFound,
    /// The program exists but cannot be executed (Docker: exit code 126).
    ExecutablePermissionDenied,
}

impl ErrorKind {
    /// Docker's exit code for a container whose process could not be exec'd.
    pub fn exec_exit_code(self) -> Option<i32> {
        match self {
            ErrorKind::ExecutableNotFound => Some(127),
            ErrorKind::ExecutablePermissionDenied => Some(126),
            _ => None,
        }
    }
}

/// Errors of [`create`] and [`Created::start`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid spec for container {id}: {source}")]
    ValidateSpec { id: String, source: spec::Error },
    #[error("create cgroup for container {id}: {source}")]
    CreateCgroup { id: String, source: cgroups::Error },
    #[error("open {path} of container {id}: {source}")]
    OpenFile {
        id: String,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("create init channel for container {id}: {source}")]
    CreateChannel { id: String, source: nix::Error },
    #[error("join pid namespace {path} for container {id}: {source}")]
    JoinPidNamespace {
        id: String,
        path: std::path::PathBuf,
        source: nix::Error,
    },
    #[error("clone init of container {id}: {source}")]
    CloneInit { id: String, source: nix::Error },
    #[error("place init of container {id} in cgroup: {source}")]
    PlaceInCgroup { id: String, source: cgroups::Error },
    #[error("write id mappings of container {id}: {source}")]
    WriteIdMappings { id: String, source: std::io::Error },
    #[error("talk to init of container {id}: {source}")]
    Channel { id: String, source: nix::Error },
    #[error("release exec fifo {path} of container {id}: {source}")]
    ReleaseFifo {
        id: String,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The init reported a failure (message as the init wrote it, e.g.
    /// `exec: "nosuch": executable file not found in $PATH`).
    #[error("{message}")]
    Init { message: String, kind: ErrorKind },
    #[error("init of container {id} died before reporting: {status}")]
    InitDied { id: String, status: String },
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::ValidateSpec { source, .. } => source.kind(),
            Error::CreateCgroup { source, .. } => source.kind(),
            Error::Init { kind, .. } => *kind,
            Error::OpenFile { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            _ => ErrorKind::Internal,
        }
    }

    /// Docker's exit code when the process could not be exec'd (127 / 126).
    pub fn exec_exit_code(&self) -> Option<i32> {
        self.kind().exec_exit_code()
    }
}
