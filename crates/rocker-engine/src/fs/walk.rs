//! Writing a tar of a directory tree reached through directory fds: every child is opened
//! with `O_NOFOLLOW` relative to its parent's fd, so a symlink swapped in during the walk is
//! archived as a symlink and never followed.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};

/// A tar writer over fds.
pub(crate) struct TarWalker<W: Write> {
    b: tar::Builder<W>,
    /// (dev, ino) of files with several links -> the tar path written first.
    links: HashMap<(u64, u64), String>,
    /// When set, directories on another device are archived empty and files on another
    /// device without content (export skips /proc, /sys, bind-mounted /etc/hosts, ...).
    same_dev: Option<u64>,
}

fn io_err(e: rustix::io::Errno) -> io::Error {
    e.into()
}

impl<W: Write> TarWalker<W> {
    pub(crate) fn new(out: W, same_dev: Option<u64>) -> Self {
        let mut b = tar::Builder::new(out);
        b.mode(tar::HeaderMode::Complete);
        b.follow_symlinks(false);
        TarWalker {
            b,
            links: HashMap::new(),
            same_dev,
        }
    }

    /// Archives `name` in directory `dir` as `tpath`, recursively.
    pub(crate) fn add(&mut self, dir: BorrowedFd<'_>, name: &str, tpath: &str) -> io::Result<()> {
        let st = rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(io_err)?;
        let ft = FileType::from_raw_mode(st.st_mode);
        let mut h = tar::Header::new_gnu();
        h.set_mode(st.st_mode & 0o7777);
        h.set_uid(u64::from(st.st_uid));
        h.set_gid(u64::from(st.st_gid));
        h.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
        h.set_size(0);
        let foreign = self.same_dev.is_some_and(|d| d != st.st_dev);
        match ft {
            FileType::Directory => {
                h.set_entry_type(tar::EntryType::Directory);
                let p = format!("{}/", tpath.trim_end_matches('/'));
                self.put(&mut h, &p, io::empty())?;
                if !foreign {
                    let fd = rfs::openat(
                        dir,
                        name,
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                    .map_err(io_err)?;
                    self.add_contents(fd.as_fd(), tpath.trim_end_matches('/'))?;
                }
            }
            FileType::RegularFile => {
                let key = (st.st_dev, st.st_ino);
                if st.st_nlink > 1 {
                    if let Some(first) = self.links.get(&key) {
                        h.set_entry_type(tar::EntryType::Link);
                        let first = first.clone();
                        return self.put_link(&mut h, tpath, &first);
                    }
                    self.links.insert(key, tpath.to_string());
                }
                h.set_entry_type(tar::EntryType::Regular);
                if foreign {
                    return self.put(&mut h, tpath, io::empty());
                }
                let fd = rfs::openat(
                    dir,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(io_err)?;
                let size = u64::try_from(st.st_size).unwrap_or(0);
                h.set_size(size);
                // Pad with zeros if the file shrank while it was read, so the tar stays valid.
                let data = File::from(fd).take(size).chain(io::repeat(0)).take(size);
                self.put(&mut h, tpath, data)?;
            }
            FileType::Symlink => {
                let target = rfs::readlinkat(dir, name, Vec::new()).map_err(io_err)?;
                h.set_entry_type(tar::EntryType::Symlink);
                let target = target.to_string_lossy().into_owned();
                self.put_link(&mut h, tpath, &target)?;
            }
            FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo => {
                h.set_entry_type(match ft {
                    FileType::CharacterDevice => tar::EntryType::Char,
                    FileType::BlockDevice => tar::EntryType::Block,
                    _ => tar::EntryType::Fifo,
                });
                if ft != FileType::Fifo {
                    h.set_device_major(rfs::major(st.st_rdev))?;
                    h.set_device_minor(rfs::minor(st.st_rdev))?;
                }
                self.put(&mut h, tpath, io::empty())?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Appends an entry; `./x` names (a `dir/.` archive) are kept verbatim, which the tar
    /// crate's path setter would normalise to `x`.
    fn put<R: Read>(&mut self, h: &mut tar::Header, path: &str, data: R) -> io::Result<()> {
        if path.starts_with("./") && path.len() < 100 {
            set_raw_name(h, path);
            self.b.append(h, data)
        } else {
            self.b.append_data(h, path, data)
        }
    }

    fn put_link(&mut self, h: &mut tar::Header, path: &str, target: &str) -> io::Result<()> {
        if path.starts_with("./") && path.len() < 100 && target.len() < 100 {
            h.set_link_name(target)?;
            set_raw_name(h, path);
            self.b.append(h, io::empty())
        } else {
            self.b.append_link(h, path, target)
        }
    }

    /// Writes a directory entry `name/` with the given header.
    pub(crate) fn append_dir_header(&mut self, h: &mut tar::Header, name: &str) -> io::Result<()> {
        self.put(h, &format!("{}/", name.trim_end_matches('/')), io::empty())
    }

    /// Archives every child of directory `fd` under `prefix` (empty = archive root), sorted.
    pub(crate) fn add_contents(&mut self, fd: BorrowedFd<'_>, prefix: &str) -> io::Result<()> {
        let mut names: Vec<String> = rfs::Dir::read_from(fd)
            .map_err(io_err)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        for n in names {
            let p = if prefix.is_empty() {
                n.clone()
            } else {
                format!("{prefix}/{n}")
            };
            self.add(fd, &n, &p)?;
        }
        Ok(())
    }

    /// Writes the tar trailer and flushes.
    pub(crate) fn finish(self) -> io::Result<()> {
        let mut w = self.b.into_inner()?;
        w.flush()
    }
}

fn set_raw_name(h: &mut tar::Header, path: &str) {
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
    h.set_cksum();
}
