//! `rocker cp`: copies between a container and the host with Docker's rules. `CONTAINER:PATH`
//! on one side; `-` is a tar on stdin/stdout; a source ending in `/.` copies a directory's
//! contents; a destination that exists as a directory receives the source under its own name,
//! otherwise the source is renamed to the destination.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use rocker_api::{Client, ClientError};

/// Copy files/folders between a container and the local filesystem
#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Suppress progress output during copy (accepted; nothing is printed anyway)
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    #[arg(value_name = "SRC")]
    pub src: String,
    #[arg(value_name = "DEST")]
    pub dst: String,
}

/// `CONTAINER:PATH` -> (container, path); a local path (absolute, `./`, no colon) -> None.
fn split_spec(s: &str) -> Option<(&str, &str)> {
    if s.starts_with('/') || s.starts_with('.') {
        return None;
    }
    let (c, p) = s.split_once(':')?;
    (!c.is_empty()).then_some((c, p))
}

fn base_name(p: &str) -> String {
    Path::new(p.trim_end_matches('/'))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into())
}

fn parent_of(p: &str) -> String {
    let t = p.trim_end_matches('/');
    match t.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => t[..i].to_string(),
        None => ".".into(),
    }
}

pub async fn run(client: &Client, args: CpArgs) -> anyhow::Result<i32> {
    match (split_spec(&args.src), split_spec(&args.dst)) {
        (Some(_), Some(_)) => bail!("copying between containers is not supported"),
        (None, None) => bail!("must specify at least one container source"),
        (Some((c, p)), None) => from_container(client, c, p, &args).await,
        (None, Some((c, p))) => to_container(client, c, p, &args).await,
    }
}

async fn from_container(
    client: &Client,
    c: &str,
    path: &str,
    args: &CpArgs,
) -> anyhow::Result<i32> {
    let mut path = path.to_string();
    if args.follow_link {
        let st = client.container_stat_path(c, &path).await?;
        if st.is_symlink() && !st.link_target.is_empty() {
            path = st.link_target;
        }
    }
    let (_, tar) = client.container_archive_get(c, &path).await?;
    if args.dst == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(&tar)?;
        out.flush()?;
        return Ok(0);
    }
    let dst = PathBuf::from(&args.dst);
    let contents = path.ends_with("/.");
    // Where the archive's top entry lands.
    let top = if dst.is_dir() {
        if contents {
            dst.clone()
        } else {
            dst.join(base_name(&path))
        }
    } else {
        if args.dst.ends_with('/') {
            bail!("destination directory {} does not exist", args.dst);
        }
        dst.clone()
    };
    extract_host(&tar, &top)?;
    Ok(0)
}

/// Extracts `tar` whose first component is the copied item into `top` (the item renamed).
fn extract_host(tar: &[u8], top: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(std::io::Cursor::new(tar));
    let mut dirs: Vec<(PathBuf, u64)> = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw = entry.path()?.into_owned();
        let mut comps = raw
            .components()
            .filter(|c| !matches!(c, Component::RootDir));
        comps.next();
        let rest: PathBuf = comps.collect();
        if rest.components().any(|c| matches!(c, Component::ParentDir)) {
            continue;
        }
        let target = if rest.as_os_str().is_empty() {
            top.to_path_buf()
        } else {
            top.join(&rest)
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).ok();
        }
        let h = entry.header().clone();
        let kind = h.entry_type();
        if kind.is_hard_link() {
            let link = entry
                .link_name()?
                .map(|l| l.into_owned())
                .unwrap_or_default();
            let mut lc = link.components();
            lc.next();
            let lrest: PathBuf = lc.collect();
            let _ = std::fs::remove_file(&target);
            std::fs::hard_link(top.join(lrest), &target)
                .with_context(|| format!("hardlink {}", target.display()))?;
            continue;
        }
        if kind.is_dir() {
            if target.is_dir() {
                // Keep the existing directory; apply the mode.
                let mode = h.mode().unwrap_or(0o755);
                let _ = std::fs::set_permissions(
                    &target,
                    <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(mode),
                );
            } else {
                let _ = std::fs::remove_file(&target);
            }
        } else if target.symlink_metadata().is_ok() && !target.is_dir() {
            let _ = std::fs::remove_file(&target);
        }
        entry.set_preserve_permissions(true);
        entry.set_preserve_mtime(true);
        entry.set_unpack_xattrs(false);
        entry
            .unpack(&target)
            .with_context(|| format!("extract {}", target.display()))?;
        if let (Ok(uid), Ok(gid)) = (h.uid(), h.gid()) {
            let _ = std::os::unix::fs::lchown(
                &target,
                u32::try_from(uid).ok(),
                u32::try_from(gid).ok(),
            );
            if !kind.is_symlink() {
                // chown clears setuid bits: restore the mode.
                if let Ok(mode) = h.mode() {
                    let _ = std::fs::set_permissions(
                        &target,
                        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(
                            mode,
                        ),
                    );
                }
            }
        }
        if kind.is_dir() {
            dirs.push((target, h.mtime().unwrap_or(0)));
        }
    }
    for (d, mtime) in dirs.iter().rev() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(*mtime);
        if let Ok(f) = std::fs::File::open(d) {
            let _ = f.set_modified(t);
        }
    }
    Ok(())
}

async fn to_container(client: &Client, c: &str, path: &str, args: &CpArgs) -> anyhow::Result<i32> {
    if args.src == "-" {
        let mut tar = Vec::new();
        std::io::stdin().read_to_end(&mut tar)?;
        client
            .container_archive_put(c, path, tar, true, args.archive)
            .await?;
        return Ok(0);
    }
    let src = PathBuf::from(&args.src);
    let meta = if args.follow_link {
        std::fs::metadata(&src)
    } else {
        std::fs::symlink_metadata(&src)
    }
    .with_context(|| format!("could not find the file {}", args.src))?;
    let contents = args.src.ends_with("/.");
    // Stat the destination: an existing directory receives the source under its own name.
    let (dest_dir, name) = match client.container_stat_path(c, path).await {
        Ok(st) if st.is_dir() => (
            path.to_string(),
            if contents {
                ".".to_string()
            } else {
                base_name(&args.src)
            },
        ),
        Ok(_) if meta.is_dir() => bail!("cannot copy directory"),
        Ok(_) => (parent_of(path), base_name(path)),
        Err(ClientError::Api { status: 404, .. }) if !path.ends_with('/') => {
            (parent_of(path), base_name(path))
        }
        Err(e) => return Err(e.into()),
    };
    let mut b = tar::Builder::new(Vec::new());
    b.mode(tar::HeaderMode::Complete);
    b.follow_symlinks(false);
    if meta.is_dir() {
        b.append_dir_all(&name, &src)?;
    } else if args.follow_link {
        let mut f = std::fs::File::open(&src)?;
        b.append_file(&name, &mut f)?;
    } else {
        b.append_path_with_name(&src, &name)?;
    }
    let tar = b.into_inner()?;
    client
        .container_archive_put(c, &dest_dir, tar, true, args.archive)
        .await?;
    Ok(0)
}
