//! `--init` (HostConfig.Init): Rocker's tiny static init (crates/rocker-init/init.c, built by
//! build.rs and embedded here) runs as the container's PID 1, reaping orphans and forwarding
//! signals to the command.
//!
//! The daemon writes the binary once to `<data_root>/bin/rocker-init` and bind-mounts it
//! read-only at `/sbin/docker-init` (Docker's path for its tini), then prefixes the process
//! args with `/sbin/docker-init --`. It is a separate read-only file rather than the shim or
//! runtime binary so the container cannot reach a host binary it could overwrite through
//! `/proc/1/exe` (CVE-2019-5736 class).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The static init binary.
pub const BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rocker-init"));

/// Where the init appears inside a container.
pub const CONTAINER_PATH: &str = "/sbin/docker-init";

/// Where the daemon keeps the host copy.
pub fn host_path(data_root: &Path) -> PathBuf {
    data_root.join("bin").join("rocker-init")
}

/// Writes the init to [`host_path`] (mode 0555) unless it already holds exactly these bytes.
/// A changed file is replaced by rename, so running containers keep the inode they mounted.
pub fn install(data_root: &Path) -> Result<PathBuf> {
    let path = host_path(data_root);
    let current_ok = std::fs::read(&path).is_ok_and(|b| b == BINARY)
        && std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o7777 == 0o555);
    if current_ok {
        return Ok(path);
    }
    let dir = data_root.join("bin");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::internal(format!("creating {}: {e}", dir.display())))?;
    let tmp = dir.join(format!(".rocker-init.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(BINARY)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o555))?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::internal(format!("installing {}: {e}", path.display()))
    })?;
    Ok(path)
}

/// Whether a container runs under the init: its own HostConfig.Init, else the daemon default.
pub fn wanted(host_config_init: Option<bool>, daemon_default: bool) -> bool {
    host_config_init.unwrap_or(daemon_default)
}

/// The process args under the init: `/sbin/docker-init -- <args>`.
pub fn wrap_args(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 2);
    out.push(CONTAINER_PATH.to_string());
    out.push("--".to_string());
    out.extend(args);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_a_static_elf() {
        assert_eq!(&BINARY[..4], b"\x7fELF");
        assert_eq!(BINARY[4], 2, "ELF64");
        // No PT_INTERP program header: a dynamic binary names its loader there.
        let u16_at = |o: usize| u16::from_le_bytes([BINARY[o], BINARY[o + 1]]) as usize;
        let phoff = u64::from_le_bytes(BINARY[0x20..0x28].try_into().unwrap()) as usize;
        let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
        assert!(phnum > 0);
        for i in 0..phnum {
            let o = phoff + i * phentsize;
            let p_type = u32::from_le_bytes(BINARY[o..o + 4].try_into().unwrap());
            assert_ne!(p_type, 3, "PT_INTERP: the init must be static");
        }
    }

    #[test]
    fn install_writes_once_and_repairs() {
        let dir = tempfile::tempdir().unwrap();
        let p = install(dir.path()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), BINARY);
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o555);
        let ino = std::os::unix::fs::MetadataExt::ino(&meta);
        // Unchanged content: left alone.
        install(dir.path()).unwrap();
        let again = std::fs::metadata(&p).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::ino(&again), ino);
        // Tampered content: replaced.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(&p, b"junk").unwrap();
        install(dir.path()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), BINARY);
    }

    #[test]
    fn args_and_default() {
        assert_eq!(
            wrap_args(vec!["sh".into(), "-c".into(), "exit 7".into()]),
            ["/sbin/docker-init", "--", "sh", "-c", "exit 7"]
        );
        assert!(wanted(Some(true), false));
        assert!(!wanted(Some(false), true));
        assert!(wanted(None, true));
        assert!(!wanted(None, false));
    }
}
