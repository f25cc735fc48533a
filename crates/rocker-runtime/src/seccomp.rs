//! Seccomp for the container's processes. The spec's `linux.seccomp` is compiled into a BPF
//! program in the parent, before the init is cloned (so a bad profile is a create error and
//! the init only makes one system call), with libseccomp: it knows every architecture's
//! syscall numbers and generates the argument comparisons. The init installs the program
//! itself with seccomp(2) (see [`install`]), never through libseccomp's loader, so the
//! no_new_privs bit stays what the spec says.
//!
//! Semantics follow runc: syscall names unknown to libseccomp are skipped, rules whose
//! action is the default action are dropped, a rule whose arguments name the same index
//! twice becomes one rule per argument (OR), otherwise one rule with all of them (AND);
//! `SCMP_CMP_MASKED_EQ` takes the mask in `value` and the datum in `valueTwo`.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};

/// Why a seccomp profile cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("seccomp: action {0} is not supported")]
    UnsupportedAction(String),
    #[error("seccomp: architecture {0} is not supported")]
    UnknownArchitecture(String),
    #[error("seccomp: errno {0} is out of range")]
    InvalidErrno(u32),
    #[error("seccomp: argument index {0} is out of range (0-5)")]
    InvalidArgIndex(usize),
    #[error("seccomp: create filter: {0}")]
    CreateFilter(libseccomp::error::SeccompError),
    #[error("seccomp: add architecture {arch}: {source}")]
    AddArchitecture {
        arch: String,
        source: libseccomp::error::SeccompError,
    },
    #[error("seccomp: add rule for {name}: {source}")]
    AddRule {
        name: String,
        source: libseccomp::error::SeccompError,
    },
    #[error("seccomp: export filter: {0}")]
    Export(String),
}

/// A compiled filter: the BPF program and the seccomp(2) flags to install it with.
#[derive(Clone)]
pub struct Filter {
    program: Arc<Vec<libc::sock_filter>>,
    flags: u32,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("instructions", &self.program.len())
            .field("flags", &self.flags)
            .finish()
    }
}

impl Filter {
    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// True for a program without instructions (never produced by [`compile`]).
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }
}

/// Installs the filter on the calling thread (the init, right before execve).
pub(crate) fn install(filter: &Filter) -> nix::Result<()> {
    rocker_sys::seccomp::set_filter(&filter.program, filter.flags)
}

/// Compiled filters of this process by profile; a shim starts one container and may exec
/// into it many times, so the profile is compiled once.
fn cache() -> &'static Mutex<HashMap<String, Filter>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Filter>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

static CACHE_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Keeps compiled filters in `dir` (created 0700) by a hash of the profile, the
/// architecture and the libseccomp version, so containers with the same profile share one
/// compilation: Docker's default profile costs 15-30 ms to compile for x86_64 + x86 + x32,
/// more than the rest of a container start. Call once per process; later calls are ignored.
pub fn set_cache_dir(dir: PathBuf) {
    let _ = CACHE_DIR.set(dir);
}

/// [`compile`], reusing an earlier result for the same profile: from this process's memory,
/// else from the cache directory ([`set_cache_dir`]).
pub fn compile_cached(profile: &LinuxSeccomp) -> Result<Filter, Error> {
    let key = serde_json::to_string(profile).map_err(|e| Error::Export(e.to_string()))?;
    if let Some(f) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(f);
    }
    let file = CACHE_DIR.get().map(|d| d.join(cache_name(&key)));
    let filter = match file.as_deref().and_then(read_cached) {
        Some(f) => f,
        None => {
            let f = compile(profile)?;
            if let Some(path) = &file {
                // Best effort: a failed write only costs the next container a compile.
                let _ = write_cached(path, &f);
            }
            f
        }
    };
    if let Ok(mut c) = cache().lock() {
        if c.len() >= 8 {
            c.clear();
        }
        c.insert(key, filter.clone());
    }
    Ok(filter)
}

fn cache_name(key: &str) -> String {
    use sha2::Digest;
    let v = libseccomp::ScmpVersion::current()
        .map(|v| v.to_string())
        .unwrap_or_default();
    let mut h = sha2::Sha256::new();
    for part in [key, std::env::consts::ARCH, &v] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.bpf")
}

/// File format: flags (u32, native endian), then the instructions as the kernel takes them.
fn read_cached(path: &Path) -> Option<Filter> {
    let bytes = std::fs::read(path).ok()?;
    let (flags, program) = bytes.split_first_chunk::<4>()?;
    Some(Filter {
        program: Arc::new(instructions(program).ok()?),
        flags: u32::from_ne_bytes(*flags),
    })
}

fn write_cached(path: &Path, f: &Filter) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut bytes = Vec::with_capacity(4 + f.program.len() * 8);
    bytes.extend_from_slice(&f.flags.to_ne_bytes());
    for i in f.program.iter() {
        bytes.extend_from_slice(&i.code.to_ne_bytes());
        bytes.extend_from_slice(&[i.jt, i.jf]);
        bytes.extend_from_slice(&i.k.to_ne_bytes());
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn errno(value: Option<u32>) -> Result<i32, Error> {
    let v = value.unwrap_or(libc::EPERM as u32);
    match i32::try_from(v) {
        Ok(e) if e <= i32::from(u16::MAX) => Ok(e),
        _ => Err(Error::InvalidErrno(v)),
    }
}

fn action(a: LinuxSeccompAction, errno_ret: Option<u32>) -> Result<ScmpAction, Error> {
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno(errno_ret)?),
        LinuxSeccompAction::ScmpActTrace => {
            let v = errno(errno_ret)?;
            ScmpAction::Trace(u16::try_from(v).map_err(|_| Error::InvalidErrno(v as u32))?)
        }
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(Error::UnsupportedAction("SCMP_ACT_NOTIFY".into()))
        }
    })
}

fn compare(arg: &oci_spec::runtime::LinuxSeccompArg) -> Result<ScmpArgCompare, Error> {
    let index = u32::try_from(arg.index())
        .ok()
        .filter(|i| *i < 6)
        .ok_or(Error::InvalidArgIndex(arg.index()))?;
    let (op, datum) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    Ok(ScmpArgCompare::new(index, op, datum))
}

/// The spec's name of an architecture (`SCMP_ARCH_X86_64`).
fn arch_name(a: &oci_spec::runtime::Arch) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{a:?}"))
}

/// Compiles `profile` into a BPF program for this host.
pub fn compile(profile: &LinuxSeccomp) -> Result<Filter, Error> {
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default).map_err(Error::CreateFilter)?;
    for a in profile.architectures().iter().flatten() {
        let name = arch_name(a);
        let arch: ScmpArch = name
            .parse()
            .map_err(|_| Error::UnknownArchitecture(name.clone()))?;
        ctx.add_arch(arch)
            .map_err(|source| Error::AddArchitecture {
                arch: name.clone(),
                source,
            })?;
    }
    for rule in profile.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret())?;
        if act == default {
            continue;
        }
        let args = rule.args().as_deref().unwrap_or_default();
        let conds = args.iter().map(compare).collect::<Result<Vec<_>, _>>()?;
        let mut seen = [false; 6];
        let repeated = args.iter().any(|a| {
            let i = a.index().min(5);
            std::mem::replace(&mut seen[i], true)
        });
        for name in rule.names() {
            let Ok(sys) = ScmpSyscall::from_name(name) else {
                // Unknown to this libseccomp / architecture: skipped, as runc does.
                continue;
            };
            let added = if conds.is_empty() {
                ctx.add_rule(act, sys).map(drop)
            } else if repeated {
                conds
                    .iter()
                    .try_for_each(|c| ctx.add_rule_conditional(act, sys, &[*c]).map(drop))
            } else {
                ctx.add_rule_conditional(act, sys, &conds).map(drop)
            };
            added.map_err(|source| Error::AddRule {
                name: name.clone(),
                source,
            })?;
        }
    }
    let mut flags = 0;
    for f in profile.flags().iter().flatten() {
        flags |= match f {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => rocker_sys::seccomp::FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => rocker_sys::seccomp::FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                rocker_sys::seccomp::FLAG_SPEC_ALLOW
            }
        };
    }
    Ok(Filter {
        program: Arc::new(export(&ctx)?),
        flags,
    })
}

/// The filter as BPF instructions (libseccomp 2.5 exports only to a file descriptor).
fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>, Error> {
    let err = |e: &dyn std::fmt::Display| Error::Export(e.to_string());
    let fd = nix::sys::memfd::memfd_create(
        c"rocker-seccomp",
        nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC,
    )
    .map_err(|e| err(&e))?;
    ctx.export_bpf(&fd).map_err(|e| err(&e))?;
    let mut file = std::fs::File::from(fd);
    file.rewind().map_err(|e| err(&e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| err(&e))?;
    instructions(&bytes)
}

/// Raw BPF bytes (8 per instruction, native endian) as instructions.
fn instructions(bytes: &[u8]) -> Result<Vec<libc::sock_filter>, Error> {
    if bytes.is_empty() || !bytes.chunks_exact(8).remainder().is_empty() {
        return Err(Error::Export(format!(
            "program of {} bytes is not a whole number of instructions",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

#[cfg(test)]
mod tests;
