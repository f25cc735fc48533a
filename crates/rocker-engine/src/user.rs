//! Resolution of Docker's `--user` (`name`, `uid`, `name:group`, `uid:gid`) against the
//! image's own `/etc/passwd` and `/etc/group`, read from its layers without mounting them.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A resolved user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    /// The home directory from passwd, if the user is listed there.
    pub home: Option<String>,
}

/// Reads a file of the image: the topmost layer that has it wins. A path that resolves to a
/// symlink or is absent gives `None` (the lookup then falls back to numeric ids).
fn read_from_layers(lowerdirs: &[PathBuf], rel: &str) -> Option<String> {
    for dir in lowerdirs {
        let p = dir.join(rel);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() => return std::fs::read_to_string(&p).ok(),
            Ok(_) => return None,
            Err(_) => {
                // A whiteout in this layer hides lower copies.
                if let Some(name) = Path::new(rel).file_name() {
                    let wh = p.with_file_name(format!(".wh.{}", name.to_string_lossy()));
                    if wh.exists() {
                        return None;
                    }
                }
            }
        }
    }
    None
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f[3]
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

/// Resolves `spec` ("" means root) against the image.
pub fn resolve(spec: &str, lowerdirs: &[PathBuf]) -> Result<User> {
    let passwd = read_from_layers(lowerdirs, "etc/passwd")
        .map(|t| parse_passwd(&t))
        .unwrap_or_default();
    let groups = read_from_layers(lowerdirs, "etc/group")
        .map(|t| parse_group(&t))
        .unwrap_or_default();
    resolve_with(spec, &passwd, &groups)
}

fn resolve_with(spec: &str, passwd: &[PasswdEntry], groups: &[GroupEntry]) -> Result<User> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let entry = match user_part.parse::<u32>() {
        Ok(uid) => passwd.iter().find(|e| e.uid == uid),
        Err(_) => Some(passwd.iter().find(|e| e.name == user_part).ok_or_else(|| {
            Error::invalid(format!(
                "unable to find user {user_part}: no matching entries in passwd file"
            ))
        })?),
    };
    let uid = match entry {
        Some(e) => e.uid,
        None => user_part
            .parse()
            .map_err(|_| Error::invalid(format!("invalid user: {user_part}")))?,
    };
    let mut gid = entry.map(|e| e.gid).unwrap_or(0);
    if let Some(g) = group_part {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => groups
                .iter()
                .find(|e| e.name == g)
                .map(|e| e.gid)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "unable to find group {g}: no matching entries in group file"
                    ))
                })?,
        };
    }
    let additional_gids = match (entry, group_part) {
        (Some(e), None) => groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == &e.name) && g.gid != gid)
            .map(|g| g.gid)
            .collect(),
        _ => Vec::new(),
    };
    Ok(User {
        uid,
        gid,
        additional_gids,
        home: entry.map(|e| e.home.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nstaff:x:50:www,other\nnogroup:x:65534:\n";

    fn res(spec: &str) -> Result<User> {
        resolve_with(spec, &parse_passwd(PASSWD), &parse_group(GROUP))
    }

    #[test]
    fn names_and_numbers_resolve() {
        assert_eq!(res("").unwrap().uid, 0);
        let www = res("www").unwrap();
        assert_eq!(
            (www.uid, www.gid, www.additional_gids.clone()),
            (33, 33, vec![50])
        );
        assert_eq!(www.home.as_deref(), Some("/var/www"));
        let n = res("65534:65534").unwrap();
        assert_eq!((n.uid, n.gid), (65534, 65534));
        let unknown_uid = res("1234").unwrap();
        assert_eq!((unknown_uid.uid, unknown_uid.gid), (1234, 0));
        assert_eq!(res("www:staff").unwrap().gid, 50);
        assert!(res("ghost").is_err());
        assert!(res("www:ghosts").is_err());
    }

    #[test]
    fn topmost_layer_wins_and_whiteouts_hide() {
        let top = tempfile::tempdir().unwrap();
        let low = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(top.path().join("etc")).unwrap();
        std::fs::create_dir_all(low.path().join("etc")).unwrap();
        std::fs::write(low.path().join("etc/passwd"), PASSWD).unwrap();
        let layers = vec![top.path().to_path_buf(), low.path().to_path_buf()];
        assert_eq!(resolve("www", &layers).unwrap().uid, 33);
        std::fs::write(top.path().join("etc/.wh.passwd"), "").unwrap();
        assert!(resolve("www", &layers).is_err());
    }
}
