//! Translation of mount(8)-style option strings (as found in an OCI spec's `mounts[].options`)
//! into mount(2) flags, propagation changes and the filesystem-specific data string.
//!
//! Kept pure (no system calls) so the table is unit-tested on its own.

use nix::mount::MsFlags;

/// The parsed form of one mount's option list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags to set on the mount (MS_RDONLY, MS_NOSUID, …), excluding MS_BIND/MS_REC.
    pub flags: MsFlags,
    /// Propagation changes applied after mounting, in order (e.g. MS_REC | MS_PRIVATE).
    pub propagation: Vec<MsFlags>,
    /// A bind mount (`bind` or `rbind`).
    pub bind: bool,
    /// A recursive bind mount (`rbind`).
    pub recursive: bool,
    /// Filesystem data: every option that is not a flag, joined with commas.
    pub data: String,
}

/// Options that set (`true`) or clear (`false`) one mount flag.
const FLAG_OPTIONS: &[(&str, bool, MsFlags)] = &[
    ("ro", true, MsFlags::MS_RDONLY),
    ("rw", false, MsFlags::MS_RDONLY),
    ("nosuid", true, MsFlags::MS_NOSUID),
    ("suid", false, MsFlags::MS_NOSUID),
    ("nodev", true, MsFlags::MS_NODEV),
    ("dev", false, MsFlags::MS_NODEV),
    ("noexec", true, MsFlags::MS_NOEXEC),
    ("exec", false, MsFlags::MS_NOEXEC),
    ("sync", true, MsFlags::MS_SYNCHRONOUS),
    ("async", false, MsFlags::MS_SYNCHRONOUS),
    ("dirsync", true, MsFlags::MS_DIRSYNC),
    ("mand", true, MsFlags::MS_MANDLOCK),
    ("nomand", false, MsFlags::MS_MANDLOCK),
    ("noatime", true, MsFlags::MS_NOATIME),
    ("atime", false, MsFlags::MS_NOATIME),
    ("nodiratime", true, MsFlags::MS_NODIRATIME),
    ("diratime", false, MsFlags::MS_NODIRATIME),
    ("relatime", true, MsFlags::MS_RELATIME),
    ("norelatime", false, MsFlags::MS_RELATIME),
    ("strictatime", true, MsFlags::MS_STRICTATIME),
    ("nostrictatime", false, MsFlags::MS_STRICTATIME),
    ("lazytime", true, MsFlags::MS_LAZYTIME),
    ("nolazytime", false, MsFlags::MS_LAZYTIME),
    ("silent", true, MsFlags::MS_SILENT),
    ("loud", false, MsFlags::MS_SILENT),
    (
        "nosymfollow",
        true,
        MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW),
    ),
    (
        "symfollow",
        false,
        MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW),
    ),
];

/// Propagation options, applied with a separate mount(2) call after the mount exists.
const PROPAGATION_OPTIONS: &[(&str, MsFlags)] = &[
    ("private", MsFlags::MS_PRIVATE),
    ("rprivate", MsFlags::MS_PRIVATE.union(MsFlags::MS_REC)),
    ("shared", MsFlags::MS_SHARED),
    ("rshared", MsFlags::MS_SHARED.union(MsFlags::MS_REC)),
    ("slave", MsFlags::MS_SLAVE),
    ("rslave", MsFlags::MS_SLAVE.union(MsFlags::MS_REC)),
    ("unbindable", MsFlags::MS_UNBINDABLE),
    ("runbindable", MsFlags::MS_UNBINDABLE.union(MsFlags::MS_REC)),
];

/// Options understood by other runtimes that have no kernel meaning here; dropped
/// instead of being passed to the filesystem (which would reject them).
const IGNORED_OPTIONS: &[&str] = &[
    "defaults",
    "tmpcopyup",
    "notmpcopyup",
    "auto",
    "noauto",
    "nofail",
    "_netdev",
];

/// Every option name this module understands (for `features`).
pub fn known_options() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = FLAG_OPTIONS.iter().map(|(n, _, _)| *n).collect();
    v.extend(PROPAGATION_OPTIONS.iter().map(|(n, _)| *n));
    v.extend(["bind", "rbind"]);
    v.extend(IGNORED_OPTIONS);
    v
}

/// Parses an OCI mount option list.
pub fn parse(options: &[String]) -> MountOptions {
    let mut out = MountOptions {
        flags: MsFlags::empty(),
        propagation: Vec::new(),
        bind: false,
        recursive: false,
        data: String::new(),
    };
    let mut data: Vec<&str> = Vec::new();
    for opt in options {
        let opt = opt.as_str();
        if let Some((_, set, flag)) = FLAG_OPTIONS.iter().find(|(name, _, _)| *name == opt) {
            if *set {
                out.flags.insert(*flag);
            } else {
                out.flags.remove(*flag);
            }
        } else if let Some((_, prop)) = PROPAGATION_OPTIONS.iter().find(|(name, _)| *name == opt) {
            out.propagation.push(*prop);
        } else if opt == "bind" {
            out.bind = true;
        } else if opt == "rbind" {
            out.bind = true;
            out.recursive = true;
        } else if opt == "remount" || IGNORED_OPTIONS.contains(&opt) {
            // remount is implied where needed; the rest are ignored on purpose.
        } else if !opt.is_empty() {
            data.push(opt);
        }
    }
    out.data = data.join(",");
    out
}

/// Parses a rootfsPropagation value (`rprivate`, `shared`, …); `None` for unknown values.
pub fn parse_propagation(value: &str) -> Option<MsFlags> {
    PROPAGATION_OPTIONS
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, flags)| *flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_and_data_are_split() {
        let m = parse(&opts(&["nosuid", "strictatime", "mode=755", "size=65536k"]));
        assert_eq!(m.flags, MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME);
        assert_eq!(m.data, "mode=755,size=65536k");
        assert!(!m.bind);
    }

    #[test]
    fn later_options_win() {
        let m = parse(&opts(&["ro", "rw", "noexec", "exec", "nodev"]));
        assert_eq!(m.flags, MsFlags::MS_NODEV);
    }

    #[test]
    fn devpts_options() {
        let m = parse(&opts(&[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ]));
        assert_eq!(m.flags, MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC);
        assert_eq!(m.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    }

    #[test]
    fn bind_and_propagation() {
        let m = parse(&opts(&["rbind", "ro", "rprivate", "defaults"]));
        assert!(m.bind && m.recursive);
        assert_eq!(m.flags, MsFlags::MS_RDONLY);
        assert_eq!(m.propagation, vec![MsFlags::MS_PRIVATE | MsFlags::MS_REC]);
        assert_eq!(m.data, "");
        let m = parse(&opts(&["bind"]));
        assert!(m.bind && !m.recursive);
    }

    #[test]
    fn rootfs_propagation_values() {
        assert_eq!(
            parse_propagation("rslave"),
            Some(MsFlags::MS_SLAVE | MsFlags::MS_REC)
        );
        assert_eq!(parse_propagation("shared"), Some(MsFlags::MS_SHARED));
        assert_eq!(parse_propagation("bogus"), None);
    }
}
