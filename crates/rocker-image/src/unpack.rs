//! Secure layer extraction: turns one layer tar (plain or gzip) into an overlay-ready
//! directory.
//!
//! Layers are hostile input. Every entry is created relative to a directory fd that was reached
//! with `openat2(RESOLVE_IN_ROOT)` from the layer root, and the final component is always
//! created with `*at` calls that never follow symlinks, so neither `..`, nor absolute or
//! relative symlinks, nor hardlinks can make a write land outside the root. Paths are cleaned
//! lexically first and any that climb above the root are rejected outright. A symlink created
//! earlier in the same layer is followed as if the root were `/` (what Docker's chrooted
//! extraction does): `a -> /etc` then `a/passwd` writes `<root>/etc/passwd`.
//!
//! Each layer is unpacked into its own empty directory (overlay stacks them), so a path that
//! goes through a symlink from a *lower* layer becomes a real directory here; Docker-produced
//! layers never contain such paths.
//!
//! AUFS/OCI whiteouts are converted to the overlayfs form: `.wh.<name>` becomes a 0/0 character
//! device and `.wh..wh..opq` becomes `trusted.overlay.opaque=y` on the directory. Ownership,
//! modes, mtimes and xattrs (e.g. `security.capability`) are kept; `trusted.overlay.*` xattrs
//! from the tar itself are dropped so a layer cannot forge overlay metadata.
//!
//! The tar is read straight from the decompressor, which reads straight from the caller's
//! reader, while the uncompressed stream is hashed to check the layer's diff id.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{
    self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags, Timespec, Timestamps,
};
use rustix::io::Errno;

use crate::digest::{Digest, HashingReader};
use crate::ErrorKind;

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const XATTR_PAX_PREFIX: &str = "SCHILY.xattr.";
const COPY_BUF: usize = 128 * 1024;

/// Errors from extracting a layer.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// The destination directory could not be opened.
    #[error("open layer root {path}: {source}")]
    OpenRoot { path: PathBuf, source: io::Error },
    /// The layer is zstd-compressed, which this build cannot read.
    #[error("unsupported layer compression: zstd")]
    UnsupportedCompression,
    /// Reading the tar stream failed (corrupt tar or compression, or I/O on the source).
    #[error("read layer tar: {source}")]
    Read { source: io::Error },
    /// An entry path climbs above the layer root.
    #[error("layer entry {path:?} escapes the layer root")]
    PathEscape { path: String },
    /// A hardlink points above the layer root.
    #[error("hardlink {path:?} -> {target:?} escapes the layer root")]
    HardlinkEscape { path: String, target: String },
    /// A header field is missing or out of range.
    #[error("layer entry {path:?}: bad header: {what}")]
    BadHeader { path: String, what: &'static str },
    /// Creating a parent directory failed (or a non-directory is in the way).
    #[error("create parent of {path:?}: {source}")]
    Parent { path: String, source: io::Error },
    /// Creating the entry failed.
    #[error("create {path:?}: {source}")]
    Create { path: String, source: io::Error },
    /// Writing file content failed.
    #[error("write {path:?}: {source}")]
    WriteData { path: String, source: io::Error },
    /// Applying owner, mode, mtime or xattrs failed.
    #[error("set metadata of {path:?}: {source}")]
    Metadata { path: String, source: io::Error },
    /// A hardlink target does not exist in this layer.
    #[error("hardlink {path:?} -> {target:?}: {source}")]
    HardlinkTarget {
        path: String,
        target: String,
        source: io::Error,
    },
    /// The uncompressed layer does not hash to the diff id the image config declares.
    #[error("layer diff id mismatch: expected {expected}, got {actual}")]
    DiffIdMismatch { expected: Digest, actual: Digest },
}

impl UnpackError {
    /// The error class, for mapping to API status codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            UnpackError::UnsupportedCompression
            | UnpackError::Read { .. }
            | UnpackError::PathEscape { .. }
            | UnpackError::HardlinkEscape { .. }
            | UnpackError::BadHeader { .. }
            | UnpackError::HardlinkTarget { .. }
            | UnpackError::DiffIdMismatch { .. } => ErrorKind::InvalidArgument,
            _ => ErrorKind::Internal,
        }
    }
}

/// What an extraction produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackStats {
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
    /// Sum of regular file sizes (Docker's layer "size").
    pub size: u64,
}

/// Stream compression of a layer blob, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// zstd (`28 b5 2f fd`), detected but not supported.
    Zstd,
}

impl Compression {
    /// Detects the compression from the first bytes of a stream.
    pub fn detect(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The Docker media type of a layer in this compression.
    pub fn docker_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
            Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// Wraps `src` in the decompressor its magic bytes call for.
pub fn decompress<'a>(mut src: impl Read + 'a) -> Result<Box<dyn Read + 'a>, UnpackError> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match src.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(UnpackError::Read { source }),
        }
    }
    let compression = Compression::detect(&head[..n]);
    let stream = io::Cursor::new(head).take(n as u64).chain(src);
    Ok(match compression {
        Compression::None => Box::new(stream),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(
            BufReader::with_capacity(COPY_BUF, stream),
        )),
        Compression::Zstd => return Err(UnpackError::UnsupportedCompression),
    })
}

/// Extracts a layer blob (plain or gzip tar) into the existing directory `root`. With
/// `expected_diff_id`, a different uncompressed digest is an error (the caller removes `root`).
pub fn unpack_layer(
    blob: impl Read,
    root: &Path,
    expected_diff_id: Option<&Digest>,
) -> Result<UnpackStats, UnpackError> {
    let mut hashing = HashingReader::new(decompress(blob)?);
    let size = unpack_tar(&mut hashing, root)?;
    let (diff_id, _) = hashing
        .finish()
        .map_err(|source| UnpackError::Read { source })?;
    if let Some(e) = expected_diff_id {
        if e != &diff_id {
            return Err(UnpackError::DiffIdMismatch {
                expected: e.clone(),
                actual: diff_id,
            });
        }
    }
    Ok(UnpackStats { diff_id, size })
}

/// Extracts an uncompressed tar stream into `root`; returns the sum of regular file sizes.
pub fn unpack_tar(src: impl Read, root: &Path) -> Result<u64, UnpackError> {
    let root_fd = rfs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| UnpackError::OpenRoot {
        path: root.to_path_buf(),
        source: e.into(),
    })?;
    let mut ex = Extractor {
        root: root_fd,
        cached_parent: None,
        dirs: Vec::new(),
        buf: vec![0; COPY_BUF],
    };
    let mut archive = tar::Archive::new(src);
    let mut size = 0u64;
    let entries = archive
        .entries()
        .map_err(|source| UnpackError::Read { source })?;
    for entry in entries {
        let mut entry = entry.map_err(|source| UnpackError::Read { source })?;
        size += ex.entry(&mut entry)?;
    }
    ex.finish_dirs()?;
    Ok(size)
}

/// Header facts merged from the ustar header and PAX records.
struct Meta {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

struct Extractor {
    root: OwnedFd,
    /// The last parent directory opened, by cleaned path; most entries share their parent.
    cached_parent: Option<(Vec<u8>, OwnedFd)>,
    /// Directories whose mtime is applied last (creating children changes it).
    dirs: Vec<(Vec<u8>, i64)>,
    buf: Vec<u8>,
}

impl Extractor {
    /// Extracts one entry; returns its contribution to the layer size.
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<u64, UnpackError> {
        let raw_path = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw_path).into_owned();
        let comps = clean_path(&raw_path).ok_or_else(|| UnpackError::PathEscape {
            path: shown.clone(),
        })?;
        let kind = entry.header().entry_type();
        let meta = read_meta(entry, &shown)?;

        let Some((name, parent)) = comps.split_last() else {
            // The root itself ("./"): only a directory entry makes sense; keep its metadata.
            if kind.is_dir() {
                self.apply_fd_meta(self.root.as_fd(), &meta, &shown)?;
                self.dirs.push((Vec::new(), meta.mtime));
            }
            return Ok(0);
        };
        let parent_path = parent.join(&b'/');

        if name.starts_with(WHITEOUT_PREFIX) {
            let pfd = self.parent(&parent_path, &shown)?;
            if *name == OPAQUE_MARKER {
                rfs::fsetxattr(&pfd, OPAQUE_XATTR, b"y", rfs::XattrFlags::empty())
                    .map_err(|e| meta_err(&shown, e))?;
            } else if name.starts_with(b".wh..wh.") {
                // AUFS internals (.wh..wh.plnk, .wh..wh.aufs): meaningless for overlay.
            } else {
                let target = &name[WHITEOUT_PREFIX.len()..];
                if target.is_empty() || target == b"." || target == b".." {
                    return Err(UnpackError::PathEscape { path: shown });
                }
                let full = join(&parent_path, target);
                self.invalidate(&full);
                let pfd = self.parent(&parent_path, &shown)?;
                create_replacing(&pfd, target, |fd, n| {
                    rfs::mknodat(
                        fd,
                        n,
                        FileType::CharacterDevice,
                        Mode::empty(),
                        rfs::makedev(0, 0),
                    )
                })
                .map_err(|e| create_err(&shown, e))?;
            }
            return Ok(0);
        }

        let full = comps.join(&b'/');
        self.invalidate(&full);
        let pfd = self.parent(&parent_path, &shown)?;
        let name: &[u8] = name;
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous | T::GNUSparse => {
                let fd = create_replacing(&pfd, name, |fd, n| {
                    rfs::openat(
                        fd,
                        n,
                        OFlags::WRONLY
                            | OFlags::CREATE
                            | OFlags::EXCL
                            | OFlags::NOFOLLOW
                            | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o600),
                    )
                })
                .map_err(|e| create_err(&shown, e))?;
                let mut file = File::from(fd);
                let n = copy(entry, &mut file, &mut self.buf).map_err(|source| {
                    UnpackError::WriteData {
                        path: shown.clone(),
                        source,
                    }
                })?;
                self.apply_fd_meta(file.as_fd(), &meta, &shown)?;
                set_fd_mtime(file.as_fd(), meta.mtime).map_err(|e| meta_err(&shown, e))?;
                Ok(n)
            }
            T::Directory => {
                match rfs::mkdirat(&pfd, name, Mode::from_raw_mode(0o700)) {
                    Ok(()) => {}
                    Err(Errno::EXIST) => {
                        let st = rfs::statat(&pfd, name, AtFlags::SYMLINK_NOFOLLOW)
                            .map_err(|e| create_err(&shown, e))?;
                        if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                            remove_any(pfd.as_fd(), name).map_err(|e| create_err(&shown, e))?;
                            rfs::mkdirat(&pfd, name, Mode::from_raw_mode(0o700))
                                .map_err(|e| create_err(&shown, e))?;
                        }
                    }
                    Err(e) => return Err(create_err(&shown, e)),
                }
                let dfd = rfs::openat(
                    &pfd,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| create_err(&shown, e))?;
                self.apply_fd_meta(dfd.as_fd(), &meta, &shown)?;
                self.dirs.push((full, meta.mtime));
                Ok(0)
            }
            T::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or(UnpackError::BadHeader {
                        path: shown.clone(),
                        what: "symlink without target",
                    })?
                    .into_owned();
                if target.is_empty() {
                    return Err(UnpackError::BadHeader {
                        path: shown,
                        what: "empty symlink target",
                    });
                }
                // The link text is stored verbatim (absolute targets are fine as contents); it
                // is never followed here because every later lookup is RESOLVE_IN_ROOT.
                create_replacing(&pfd, name, |fd, n| rfs::symlinkat(target.as_slice(), fd, n))
                    .map_err(|e| create_err(&shown, e))?;
                rfs::chownat(
                    &pfd,
                    name,
                    Some(uid(meta.uid)),
                    Some(gid(meta.gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(|e| meta_err(&shown, e))?;
                rfs::utimensat(&pfd, name, &times(meta.mtime), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| meta_err(&shown, e))?;
                Ok(0)
            }
            T::Link => {
                let target_raw = entry
                    .link_name_bytes()
                    .ok_or(UnpackError::BadHeader {
                        path: shown.clone(),
                        what: "hardlink without target",
                    })?
                    .into_owned();
                let target_shown = String::from_utf8_lossy(&target_raw).into_owned();
                let escape = || UnpackError::HardlinkEscape {
                    path: shown.clone(),
                    target: target_shown.clone(),
                };
                let tcomps = clean_path(&target_raw).ok_or_else(escape)?;
                let (tname, tparent) = tcomps.split_last().ok_or_else(escape)?;
                let tparent_fd = open_in_root(&self.root, &tparent.join(&b'/')).map_err(|e| {
                    UnpackError::HardlinkTarget {
                        path: shown.clone(),
                        target: target_shown.clone(),
                        source: e.into(),
                    }
                })?;
                let tname: &[u8] = tname;
                create_replacing(&pfd, name, |fd, n| {
                    rfs::linkat(&tparent_fd, tname, fd, n, AtFlags::empty())
                })
                .map_err(|e| UnpackError::HardlinkTarget {
                    path: shown.clone(),
                    target: target_shown.clone(),
                    source: e.into(),
                })?;
                Ok(0)
            }
            T::Char | T::Block | T::Fifo => {
                let (ft, dev) = match kind {
                    T::Fifo => (FileType::Fifo, 0),
                    _ => {
                        let hdr = entry.header();
                        let bad = |_| UnpackError::BadHeader {
                            path: shown.clone(),
                            what: "device number",
                        };
                        let major = hdr.device_major().map_err(bad)?.unwrap_or(0);
                        let minor = hdr.device_minor().map_err(bad)?.unwrap_or(0);
                        let ft = if kind == T::Char {
                            FileType::CharacterDevice
                        } else {
                            FileType::BlockDevice
                        };
                        (ft, rfs::makedev(major, minor))
                    }
                };
                create_replacing(&pfd, name, |fd, n| {
                    rfs::mknodat(fd, n, ft, Mode::empty(), dev)
                })
                .map_err(|e| create_err(&shown, e))?;
                rfs::chownat(
                    &pfd,
                    name,
                    Some(uid(meta.uid)),
                    Some(gid(meta.gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(|e| meta_err(&shown, e))?;
                rfs::chmodat(&pfd, name, Mode::from_raw_mode(meta.mode), AtFlags::empty())
                    .map_err(|e| meta_err(&shown, e))?;
                rfs::utimensat(&pfd, name, &times(meta.mtime), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| meta_err(&shown, e))?;
                Ok(0)
            }
            other => {
                tracing::debug!(path = %shown, kind = ?other, "skipping unsupported tar entry type");
                Ok(0)
            }
        }
    }

    /// Owner, then mode (chown clears setuid bits), then xattrs.
    fn apply_fd_meta(
        &self,
        fd: BorrowedFd<'_>,
        meta: &Meta,
        shown: &str,
    ) -> Result<(), UnpackError> {
        rfs::fchown(fd, Some(uid(meta.uid)), Some(gid(meta.gid)))
            .map_err(|e| meta_err(shown, e))?;
        rfs::fchmod(fd, Mode::from_raw_mode(meta.mode)).map_err(|e| meta_err(shown, e))?;
        for (name, value) in &meta.xattrs {
            if let Err(e) = rfs::fsetxattr(fd, name.as_str(), value, rfs::XattrFlags::empty()) {
                tracing::warn!(path = %shown, xattr = %name, error = %e, "cannot set xattr");
            }
        }
        Ok(())
    }

    /// Drops the cached parent if `path` is it or one of its ancestors (it is being replaced).
    fn invalidate(&mut self, path: &[u8]) {
        if let Some((p, _)) = &self.cached_parent {
            if p.as_slice() == path || (p.starts_with(path) && p.get(path.len()) == Some(&b'/')) {
                self.cached_parent = None;
            }
        }
    }

    /// Opens (creating missing directories) the parent directory `path` inside the root.
    fn parent(&mut self, path: &[u8], shown: &str) -> Result<OwnedFd, UnpackError> {
        if let Some((p, fd)) = &self.cached_parent {
            if p.as_slice() == path {
                return rustix::io::dup(fd).map_err(|e| parent_err(shown, e));
            }
        }
        let fd = match open_in_root(&self.root, path) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => self.mkdir_all(path).map_err(|e| parent_err(shown, e))?,
            Err(e) => return Err(parent_err(shown, e)),
        };
        let dup = rustix::io::dup(&fd).map_err(|e| parent_err(shown, e))?;
        self.cached_parent = Some((path.to_vec(), dup));
        Ok(fd)
    }

    /// Creates each missing component of `path` (mode 0755, root-owned, like tar does).
    fn mkdir_all(&self, path: &[u8]) -> Result<OwnedFd, Errno> {
        let comps: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
        let mut cur = rustix::io::dup(&self.root)?;
        for i in 0..comps.len() {
            let prefix = comps[..=i].join(&b'/');
            cur = match open_in_root(&self.root, &prefix) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    rfs::mkdirat(&cur, comps[i], Mode::from_raw_mode(0o755))?;
                    open_in_root(&self.root, &prefix)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(cur)
    }

    /// Applies directory mtimes, deepest last-created first.
    fn finish_dirs(&mut self) -> Result<(), UnpackError> {
        self.cached_parent = None;
        for (path, mtime) in self.dirs.iter().rev() {
            let shown = String::from_utf8_lossy(path);
            let fd = open_in_root(&self.root, path).map_err(|e| meta_err(&shown, e))?;
            set_fd_mtime(fd.as_fd(), *mtime).map_err(|e| meta_err(&shown, e))?;
        }
        Ok(())
    }
}

/// Opens directory `path` (relative, cleaned; empty = root) with every symlink resolved as if
/// `root` were `/`.
fn open_in_root(root: &OwnedFd, path: &[u8]) -> Result<OwnedFd, Errno> {
    let p: &[u8] = if path.is_empty() { b"." } else { path };
    rfs::openat2(
        root,
        p,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_XDEV,
    )
}

/// Runs `create(dirfd, name)`; if the name exists, removes whatever is there and retries once.
fn create_replacing<T>(
    dirfd: &OwnedFd,
    name: &[u8],
    create: impl Fn(BorrowedFd<'_>, &[u8]) -> Result<T, Errno>,
) -> Result<T, Errno> {
    match create(dirfd.as_fd(), name) {
        Err(Errno::EXIST) => {
            remove_any(dirfd.as_fd(), name)?;
            create(dirfd.as_fd(), name)
        }
        other => other,
    }
}

/// Removes `name` under `dirfd`, recursively for directories, never following symlinks.
/// (Also used by the engine's extraction into containers.)
pub fn remove_any(dirfd: BorrowedFd<'_>, name: &[u8]) -> Result<(), Errno> {
    match rfs::unlinkat(dirfd, name, AtFlags::empty()) {
        Ok(()) => Ok(()),
        Err(Errno::ISDIR) | Err(Errno::PERM) => {
            let sub = rfs::openat(
                dirfd,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let children: Vec<Vec<u8>> = rfs::Dir::read_from(&sub)?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_bytes().to_vec())
                .filter(|n| n != b"." && n != b"..")
                .collect();
            for child in children {
                remove_any(sub.as_fd(), &child)?;
            }
            rfs::unlinkat(dirfd, name, AtFlags::REMOVEDIR)
        }
        Err(e) => Err(e),
    }
}

/// Lexically cleans a tar path into components: strips `/` and `.`, applies `..`; `None` when
/// the path climbs above the root. Empty components and a leading `/` are ignored (tar paths
/// are always relative to the archive root).
pub(crate) fn clean_path(raw: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>, shown: &str) -> Result<Meta, UnpackError> {
    let hdr = entry.header();
    let bad = |what| UnpackError::BadHeader {
        path: shown.to_string(),
        what,
    };
    let mut uid = hdr.uid().map_err(|_| bad("uid"))?;
    let mut gid = hdr.gid().map_err(|_| bad("gid"))?;
    let mode = hdr.mode().map_err(|_| bad("mode"))? & 0o7777;
    let mut mtime =
        i64::try_from(hdr.mtime().map_err(|_| bad("mtime"))?).map_err(|_| bad("mtime"))?;
    let mut xattrs = Vec::new();
    if let Some(pax) = entry
        .pax_extensions()
        .map_err(|source| UnpackError::Read { source })?
    {
        for ext in pax {
            let ext = ext.map_err(|source| UnpackError::Read { source })?;
            let Ok(key) = ext.key() else { continue };
            let value = ext.value_bytes();
            match key {
                "uid" => uid = parse_pax_int(value).ok_or_else(|| bad("pax uid"))?,
                "gid" => gid = parse_pax_int(value).ok_or_else(|| bad("pax gid"))?,
                "mtime" => {
                    let secs = value.split(|&b| b == b'.').next().unwrap_or(b"0");
                    mtime = parse_pax_int(secs)
                        .and_then(|v| i64::try_from(v).ok())
                        .ok_or_else(|| bad("pax mtime"))?;
                }
                k => {
                    if let Some(name) = k.strip_prefix(XATTR_PAX_PREFIX) {
                        if !name.starts_with("trusted.overlay.") {
                            xattrs.push((name.to_string(), value.to_vec()));
                        }
                    }
                }
            }
        }
    }
    Ok(Meta {
        uid: u32::try_from(uid).map_err(|_| bad("uid out of range"))?,
        gid: u32::try_from(gid).map_err(|_| bad("gid out of range"))?,
        mode,
        mtime,
        xattrs,
    })
}

fn parse_pax_int(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn copy(src: &mut impl Read, dst: &mut impl Write, buf: &mut [u8]) -> io::Result<u64> {
    let mut total = 0;
    loop {
        let n = match src.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dst.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    if parent.is_empty() {
        name.to_vec()
    } else {
        let mut v = parent.to_vec();
        v.push(b'/');
        v.extend_from_slice(name);
        v
    }
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

fn set_fd_mtime(fd: BorrowedFd<'_>, mtime: i64) -> Result<(), Errno> {
    rfs::futimens(fd, &times(mtime))
}

fn uid(u: u32) -> rfs::Uid {
    rfs::Uid::from_raw(u)
}

fn gid(g: u32) -> rfs::Gid {
    rfs::Gid::from_raw(g)
}

fn create_err(path: &str, e: Errno) -> UnpackError {
    UnpackError::Create {
        path: path.to_string(),
        source: e.into(),
    }
}

fn meta_err(path: &str, e: Errno) -> UnpackError {
    UnpackError::Metadata {
        path: path.to_string(),
        source: e.into(),
    }
}

fn parent_err(path: &str, e: Errno) -> UnpackError {
    UnpackError::Parent {
        path: path.to_string(),
        source: e.into(),
    }
}

#[cfg(test)]
mod tests;
