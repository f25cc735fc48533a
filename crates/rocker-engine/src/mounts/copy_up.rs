//! Copy-up: when an empty volume is mounted where the image has content, that content is
//! copied into the volume first (Docker's behaviour unless `nocopy`). The image is a stack
//! of unpacked layers (topmost first) in overlayfs form: a whiteout is a 0/0 character
//! device, an opaque directory has `trusted.overlay.opaque=y`. They are merged here with the
//! same rules overlayfs applies. Ownership, modes, symlinks, device nodes and xattrs (other
//! than overlay's own) are kept.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

fn is_whiteout(m: &std::fs::Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

fn is_opaque(p: &Path) -> bool {
    let mut buf = [0u8; 4];
    matches!(rustix::fs::lgetxattr(p, OPAQUE_XATTR, &mut buf), Ok(1) if buf[0] == b'y')
}

/// The layer directories that make up `dest` in the merged image, bottom first.
fn contributing(lowerdirs: &[PathBuf], dest: &str) -> Vec<PathBuf> {
    let comps: Vec<&str> = dest.split('/').filter(|c| !c.is_empty()).collect();
    let mut out = Vec::new();
    for layer in lowerdirs {
        let mut p = layer.clone();
        let mut present = true;
        let mut stop = false;
        for c in &comps {
            p.push(c);
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                present = false;
                break;
            };
            if is_whiteout(&m) || !m.is_dir() {
                // A whiteout, file or symlink hides this path in every lower layer.
                present = false;
                stop = true;
                break;
            }
            if is_opaque(&p) {
                stop = true;
            }
        }
        if present {
            out.push(p);
        }
        if stop {
            break;
        }
    }
    out.reverse();
    out
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(_) => Ok(()),
    }
}

fn copy_xattrs(src: &Path, dst: &Path) {
    let mut names = vec![0u8; 4096];
    let Ok(n) = rustix::fs::llistxattr(src, &mut names) else {
        return;
    };
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if name.starts_with("trusted.overlay.") {
            continue;
        }
        let mut val = vec![0u8; 65536];
        if let Ok(len) = rustix::fs::lgetxattr(src, name, &mut val) {
            let _ = rustix::fs::lsetxattr(dst, name, &val[..len], rustix::fs::XattrFlags::empty());
        }
    }
}

/// Owner, then mode (chown clears setuid bits), then xattrs.
fn copy_meta(m: &std::fs::Metadata, src: &Path, dst: &Path) -> std::io::Result<()> {
    std::os::unix::fs::lchown(dst, Some(m.uid()), Some(m.gid()))?;
    if !m.file_type().is_symlink() {
        std::fs::set_permissions(dst, std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
    }
    copy_xattrs(src, dst);
    Ok(())
}

/// Applies one layer's `src` tree onto `dst` with overlay rules.
fn merge(src: &Path, dst: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let sp = e.path();
        let dp = dst.join(e.file_name());
        let m = std::fs::symlink_metadata(&sp)?;
        if is_whiteout(&m) {
            remove_any(&dp)?;
            continue;
        }
        let ft = m.file_type();
        if ft.is_dir() {
            let existing = std::fs::symlink_metadata(&dp).ok();
            if existing.as_ref().is_some_and(|x| !x.is_dir()) || is_opaque(&sp) {
                remove_any(&dp)?;
            }
            if std::fs::symlink_metadata(&dp).is_err() {
                std::fs::create_dir(&dp)?;
            }
            merge(&sp, &dp)?;
            copy_meta(&m, &sp, &dp)?;
            continue;
        }
        remove_any(&dp)?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&sp)?, &dp)?;
        } else if ft.is_file() {
            std::fs::copy(&sp, &dp)?;
        } else {
            let kind = if ft.is_char_device() {
                nix::sys::stat::SFlag::S_IFCHR
            } else if ft.is_block_device() {
                nix::sys::stat::SFlag::S_IFBLK
            } else if ft.is_fifo() {
                nix::sys::stat::SFlag::S_IFIFO
            } else {
                continue; // sockets are not copied
            };
            nix::sys::stat::mknod(
                &dp,
                kind,
                nix::sys::stat::Mode::from_bits_truncate(m.mode() & 0o7777),
                m.rdev(),
            )
            .map_err(std::io::Error::from)?;
        }
        copy_meta(&m, &sp, &dp)?;
    }
    Ok(())
}

/// Copies the image's content at `dest` into `target` when `target` is empty.
pub(crate) fn copy_up(lowerdirs: &[PathBuf], dest: &str, target: &Path) -> std::io::Result<()> {
    if std::fs::read_dir(target)?.next().is_some() {
        return Ok(());
    }
    let layers = contributing(lowerdirs, dest);
    for l in &layers {
        merge(l, target)?;
    }
    if let Some(top) = layers.last() {
        let m = std::fs::symlink_metadata(top)?;
        copy_meta(&m, top, target)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_layers_with_whiteouts() {
        let t = tempfile::tempdir().unwrap();
        let low = t.path().join("low");
        let up = t.path().join("up");
        let out = t.path().join("out");
        std::fs::create_dir_all(low.join("data/sub")).unwrap();
        std::fs::write(low.join("data/a"), "a").unwrap();
        std::fs::write(low.join("data/gone"), "x").unwrap();
        std::fs::write(low.join("data/sub/s"), "s").unwrap();
        std::fs::create_dir_all(up.join("data")).unwrap();
        std::fs::write(up.join("data/b"), "b").unwrap();
        std::os::unix::fs::symlink("a", up.join("data/link")).unwrap();
        let root = nix::unistd::geteuid().is_root();
        if root {
            nix::sys::stat::mknod(
                &up.join("data/gone"),
                nix::sys::stat::SFlag::S_IFCHR,
                nix::sys::stat::Mode::empty(),
                0,
            )
            .unwrap();
        }
        std::fs::create_dir_all(&out).unwrap();
        copy_up(&[up.clone(), low.clone()], "/data", &out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a")).unwrap(), "a");
        assert_eq!(std::fs::read_to_string(out.join("b")).unwrap(), "b");
        assert_eq!(std::fs::read_to_string(out.join("sub/s")).unwrap(), "s");
        assert_eq!(
            std::fs::read_link(out.join("link")).unwrap(),
            Path::new("a")
        );
        assert_eq!(out.join("gone").exists(), !root);
        // A non-empty target is left alone.
        std::fs::write(low.join("data/late"), "l").unwrap();
        copy_up(&[up, low], "/data", &out).unwrap();
        assert!(!out.join("late").exists());
    }
}
