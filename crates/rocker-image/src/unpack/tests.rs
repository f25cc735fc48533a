//! Tests for the secure layer extraction: metadata, whiteouts, and escape attempts.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use super::*;
use crate::test_support::{gzip, require_root, TarBuilder};

fn unpack(tar: &[u8]) -> (tempfile::TempDir, Result<UnpackStats, UnpackError>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let r = unpack_layer(tar, &root, None);
    (dir, r)
}

#[test]
fn extracts_files_links_and_metadata() {
    require_root();
    let tar = TarBuilder::new()
        .dir("bin/")
        .file_with("bin/tool", b"#!/bin/sh\n", 0o4755, 1000, 1001)
        .symlink("bin/sh", "/bin/busybox")
        .hardlink("bin/tool2", "bin/tool")
        .fifo("run/fifo")
        .file_with_xattrs("bin/ping", b"x", &[("security.capability", b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), ("trusted.overlay.redirect", b"/etc")])
        .file("./deep/er/file", b"abc")
        .finish();
    let (dir, r) = unpack(&tar);
    let stats = r.unwrap();
    assert_eq!(stats.size, 10 + 1 + 3);
    assert_eq!(stats.diff_id, Digest::of_bytes(&tar));
    let root = dir.path().join("root");
    let md = std::fs::metadata(root.join("bin/tool")).unwrap();
    assert_eq!(md.permissions().mode() & 0o7777, 0o4755);
    assert_eq!((md.uid(), md.gid()), (1000, 1001));
    assert_eq!(md.mtime(), 1_700_000_000);
    assert_eq!(md.nlink(), 2);
    assert_eq!(
        std::fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );
    assert!(std::fs::symlink_metadata(root.join("run/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(std::fs::read(root.join("deep/er/file")).unwrap(), b"abc");
    assert_eq!(
        std::fs::metadata(root.join("bin")).unwrap().mtime(),
        1_700_000_000
    );
    let mut buf = [0u8; 64];
    let n = rfs::getxattr(root.join("bin/ping"), "security.capability", &mut buf[..]).unwrap();
    assert_eq!(n, 20);
    assert!(rfs::getxattr(
        root.join("bin/ping"),
        "trusted.overlay.redirect",
        &mut buf[..]
    )
    .is_err());
}

#[test]
fn converts_whiteouts_to_overlay_form() {
    require_root();
    let tar = TarBuilder::new()
        .dir("etc/")
        .file("etc/.wh.removed", b"")
        .dir("var/cache/")
        .file("var/cache/.wh..wh..opq", b"")
        .file("var/cache/kept", b"k")
        .file(".wh..wh.plnk", b"")
        .finish();
    let (dir, r) = unpack(&tar);
    r.unwrap();
    let root = dir.path().join("root");
    let md = std::fs::symlink_metadata(root.join("etc/removed")).unwrap();
    assert!(md.file_type().is_char_device());
    assert_eq!(md.rdev(), 0);
    assert!(!root.join("etc/.wh.removed").exists());
    let mut buf = [0u8; 4];
    let n = rfs::getxattr(root.join("var/cache"), OPAQUE_XATTR, &mut buf[..]).unwrap();
    assert_eq!(&buf[..n], b"y");
    assert!(!root.join("var/cache/.wh..wh..opq").exists());
    assert!(root.join("var/cache/kept").exists());
    assert!(!root.join(".wh..wh.plnk").exists());
}

#[test]
fn rejects_dotdot_escape() {
    require_root();
    let marker = format!("rocker-escape-{}", rand::random::<u64>());
    let tar = TarBuilder::new()
        .file(&format!("../{marker}"), b"pwned")
        .finish();
    let (dir, r) = unpack(&tar);
    assert!(matches!(r, Err(UnpackError::PathEscape { .. })), "{r:?}");
    assert!(!dir.path().join(&marker).exists());
    let tar = TarBuilder::new()
        .file(&format!("a/../../{marker}"), b"pwned")
        .finish();
    let (dir, r) = unpack(&tar);
    assert!(matches!(r, Err(UnpackError::PathEscape { .. })));
    assert!(!dir.path().join(&marker).exists());
    // ".." that stays inside is just cleaned.
    let tar = TarBuilder::new().file("a/../b", b"ok").finish();
    let (dir, r) = unpack(&tar);
    r.unwrap();
    assert!(dir.path().join("root/b").exists());
}

#[test]
fn symlinked_parent_never_leaves_root() {
    require_root();
    // `a -> <outside>` then `a/file`: the write must stay inside the root.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().to_str().unwrap().to_string();
    let tar = TarBuilder::new()
        .symlink("a", &target)
        .file("a/passwd", b"pwned")
        .finish();
    let (dir, r) = unpack(&tar);
    assert!(
        !outside.path().join("passwd").exists(),
        "escaped through symlink"
    );
    if r.is_ok() {
        // Resolved as if root were "/": lands at <root>/<outside path>/passwd.
        let inside = dir
            .path()
            .join("root")
            .join(target.trim_start_matches('/'))
            .join("passwd");
        assert!(inside.exists());
    }
    // The classic form: a -> /etc, a/passwd.
    let before = std::fs::read("/etc/passwd").unwrap();
    let tar = TarBuilder::new()
        .dir("etc/")
        .symlink("a", "/etc")
        .file("a/passwd", b"pwned")
        .finish();
    let (dir, r) = unpack(&tar);
    r.unwrap();
    assert_eq!(std::fs::read("/etc/passwd").unwrap(), before);
    assert_eq!(
        std::fs::read(dir.path().join("root/etc/passwd")).unwrap(),
        b"pwned"
    );
    // Relative escape: b -> ../../.. then b/x.
    let tar = TarBuilder::new()
        .symlink("b", "../../..")
        .dir("b/")
        .file("b/x", b"x")
        .finish();
    let (dir, _r) = unpack(&tar);
    assert!(!dir.path().join("x").exists());
    assert!(!Path::new("/x").exists() || std::fs::read("/x").map(|c| c != b"x").unwrap_or(true));
}

#[test]
fn file_over_symlink_replaces_the_link() {
    require_root();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, b"original").unwrap();
    let tar = TarBuilder::new()
        .symlink("link", victim.to_str().unwrap())
        .file("link", b"pwned")
        .finish();
    let (dir, r) = unpack(&tar);
    r.unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"original");
    assert_eq!(
        std::fs::read(dir.path().join("root/link")).unwrap(),
        b"pwned"
    );
}

#[test]
fn hardlink_escapes_are_rejected() {
    require_root();
    let tar = TarBuilder::new().hardlink("x", "../../etc/passwd").finish();
    let (_dir, r) = unpack(&tar);
    assert!(
        matches!(r, Err(UnpackError::HardlinkEscape { .. })),
        "{r:?}"
    );
    // Through a symlink to an absolute path: resolved inside the root, where it is missing.
    let tar = TarBuilder::new()
        .symlink("e", "/etc")
        .hardlink("x", "e/passwd")
        .finish();
    let (dir, r) = unpack(&tar);
    assert!(r.is_err());
    assert!(!dir.path().join("root/x").exists());
    // Hardlink to a symlink links the symlink itself, not what it points to.
    let tar = TarBuilder::new()
        .symlink("s", "/etc/passwd")
        .hardlink("x", "s")
        .finish();
    let (dir, r) = unpack(&tar);
    r.unwrap();
    let md = std::fs::symlink_metadata(dir.path().join("root/x")).unwrap();
    assert!(md.file_type().is_symlink());
}

#[test]
fn gzip_layers_and_diff_id_check() {
    require_root();
    let tar = TarBuilder::new().file("hello", b"world").finish();
    let diff = Digest::of_bytes(&tar);
    let gz = gzip(&tar);
    let dir = tempfile::tempdir().unwrap();
    let stats = unpack_layer(&gz[..], dir.path(), Some(&diff)).unwrap();
    assert_eq!(stats.diff_id, diff);
    assert_eq!(std::fs::read(dir.path().join("hello")).unwrap(), b"world");
    let other = tempfile::tempdir().unwrap();
    let wrong = Digest::of_bytes(b"nope");
    let err = unpack_layer(&gz[..], other.path(), Some(&wrong)).unwrap_err();
    assert!(matches!(err, UnpackError::DiffIdMismatch { .. }));
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd]),
        Compression::Zstd
    );
    assert!(matches!(
        unpack_layer(&[0x28u8, 0xb5, 0x2f, 0xfd, 0][..], other.path(), None),
        Err(UnpackError::UnsupportedCompression)
    ));
}

#[test]
fn garbage_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let junk = vec![0x41u8; 2000];
    let err = unpack_layer(&junk[..], dir.path(), None).unwrap_err();
    assert!(matches!(err, UnpackError::Read { .. }), "{err:?}");
}

#[test]
fn clean_path_rules() {
    let c = |s: &str| {
        clean_path(s.as_bytes()).map(|v| {
            v.iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        c("./a//b/./c/"),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
    assert_eq!(c("/abs/x"), Some(vec!["abs".into(), "x".into()]));
    assert_eq!(c("a/../b"), Some(vec!["b".into()]));
    assert_eq!(c(".."), None);
    assert_eq!(c("a/../../b"), None);
}
