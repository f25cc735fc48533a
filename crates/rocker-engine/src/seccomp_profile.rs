//! Seccomp profiles for containers: Docker's default profile (kept in
//! `seccomp_default.json`, in Rocker's own compact form) and profiles a user sends with
//! `--security-opt seccomp=<json>` (Docker's profile format), both rendered into the OCI
//! `linux.seccomp` object for one container: its capabilities, the host's architecture and
//! kernel decide which conditional rules apply, as in Docker.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// What a conditional rule is evaluated against.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The container's (bounding) capabilities, `CAP_*` names.
    pub caps: &'a [String],
    /// Host architecture, Rust's name (`x86_64`, `aarch64`, …).
    pub arch: &'a str,
    /// Host kernel version (major, minor).
    pub kernel: (u32, u32),
}

impl Target<'_> {
    fn has_any_cap(&self, caps: &[String]) -> bool {
        caps.iter().any(|c| self.caps.contains(c))
    }
}

/// The host's kernel version from /proc (0.0 when unreadable: minKernel rules then drop).
pub fn host_kernel() -> (u32, u32) {
    static KERNEL: OnceLock<(u32, u32)> = OnceLock::new();
    *KERNEL.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .and_then(|s| parse_kernel(&s))
            .unwrap_or((0, 0))
    })
}

fn parse_kernel(s: &str) -> Option<(u32, u32)> {
    let mut it = s.trim().split(['.', '-']);
    let major = it.next()?.parse().ok()?;
    let minor = it
        .next()
        .and_then(|m| {
            m.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .unwrap_or(0);
    Some((major, minor))
}

/// One rule of the default profile (see the file's "about").
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DefaultRule {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    errno: Option<u32>,
    #[serde(default)]
    args: Vec<Vec<Value>>,
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    not_caps: Vec<String>,
    #[serde(default)]
    arches: Vec<String>,
    #[serde(default)]
    not_arches: Vec<String>,
    min_kernel: Option<String>,
    #[serde(default, rename = "about")]
    _about: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DefaultProfile {
    default_errno_ret: u32,
    architectures: BTreeMap<String, Vec<String>>,
    rules: Vec<DefaultRule>,
}

const DEFAULT_PROFILE: &str = include_str!("seccomp_default.json");

fn default_profile() -> &'static DefaultProfile {
    static PROFILE: OnceLock<DefaultProfile> = OnceLock::new();
    PROFILE.get_or_init(|| {
        // The file is part of the build and pinned by a unit test.
        serde_json::from_str(DEFAULT_PROFILE).unwrap_or_else(|e| {
            tracing::error!("built-in seccomp profile is invalid: {e}");
            DefaultProfile {
                default_errno_ret: 1,
                architectures: BTreeMap::new(),
                rules: Vec::new(),
            }
        })
    })
}

fn kernel_at_least(min: &str, kernel: (u32, u32)) -> bool {
    parse_kernel(min).is_none_or(|m| kernel >= m)
}

/// `[index, op, value]` or `[index, "&=", mask, value]` in OCI form.
fn compact_arg(a: &[Value]) -> Value {
    let num = |i: usize| a.get(i).and_then(Value::as_u64).unwrap_or(0);
    let op = match a.get(1).and_then(Value::as_str).unwrap_or("==") {
        "!=" => "SCMP_CMP_NE",
        "<" => "SCMP_CMP_LT",
        "<=" => "SCMP_CMP_LE",
        ">=" => "SCMP_CMP_GE",
        ">" => "SCMP_CMP_GT",
        "&=" => "SCMP_CMP_MASKED_EQ",
        _ => "SCMP_CMP_EQ",
    };
    let mut v = json!({"index": num(0), "value": num(2), "op": op});
    if a.len() > 3 {
        v["valueTwo"] = json!(num(3));
    }
    v
}

/// Docker's default profile for a container, as the OCI `linux.seccomp` object.
pub fn default_for(t: &Target<'_>) -> Value {
    let p = default_profile();
    let mut syscalls = Vec::new();
    for r in &p.rules {
        let arch_ok = (r.arches.is_empty() || r.arches.iter().any(|a| a == t.arch))
            && !r.not_arches.iter().any(|a| a == t.arch);
        let caps_ok = r.caps.iter().all(|c| t.caps.contains(c)) && !t.has_any_cap(&r.not_caps);
        let kernel_ok = r
            .min_kernel
            .as_deref()
            .is_none_or(|m| kernel_at_least(m, t.kernel));
        if !(arch_ok && caps_ok && kernel_ok) {
            continue;
        }
        let (names, action) = if r.allow.is_empty() {
            (&r.names, "SCMP_ACT_ERRNO")
        } else {
            (&r.allow, "SCMP_ACT_ALLOW")
        };
        let mut s = json!({"names": names, "action": action});
        if let Some(e) = r.errno {
            s["errnoRet"] = json!(e);
        }
        if !r.args.is_empty() {
            s["args"] = Value::Array(r.args.iter().map(|a| compact_arg(a)).collect());
        }
        syscalls.push(s);
    }
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": p.default_errno_ret,
        "architectures": p.architectures.get(t.arch).cloned().unwrap_or_default(),
        "syscalls": syscalls,
    })
}

/// Docker's architecture names (GOARCH) for a Rust one.
fn go_arches(arch: &str) -> &'static [&'static str] {
    match arch {
        "x86_64" => &["amd64", "x32"],
        "x86" => &["386", "x86"],
        "aarch64" => &["arm64"],
        "arm" => &["arm"],
        "powerpc64" => &["ppc64le", "ppc64"],
        "s390x" => &["s390x", "s390"],
        "riscv64" => &["riscv64"],
        "mips64" => &["mips64", "mips64le"],
        "loongarch64" => &["loong64"],
        _ => &[],
    }
}

/// The libseccomp name of the host architecture, for `archMap`.
fn scmp_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "SCMP_ARCH_X86_64",
        "x86" => "SCMP_ARCH_X86",
        "aarch64" => "SCMP_ARCH_AARCH64",
        "arm" => "SCMP_ARCH_ARM",
        "s390x" => "SCMP_ARCH_S390X",
        "riscv64" => "SCMP_ARCH_RISCV64",
        "powerpc64" => "SCMP_ARCH_PPC64LE",
        "mips64" => "SCMP_ARCH_MIPS64",
        "loongarch64" => "SCMP_ARCH_LOONGARCH64",
        _ => return None,
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A profile in Docker's format (what `docker run --security-opt seccomp=FILE` sends: the
/// file's content) rendered for a container. Errors are Docker's 400s.
pub fn from_docker_json(content: &str, t: &Target<'_>) -> Result<Value> {
    let bad =
        |e: &dyn std::fmt::Display| Error::invalid(format!("Decoding seccomp profile failed: {e}"));
    let p: Value = serde_json::from_str(content).map_err(|e| bad(&e))?;
    let obj = p.as_object().ok_or_else(|| bad(&"not a JSON object"))?;
    let default_action = obj
        .get("defaultAction")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad(&"defaultAction is required"))?;
    let mut out = json!({"defaultAction": default_action});
    if let Some(e) = obj.get("defaultErrnoRet").filter(|v| !v.is_null()) {
        out["defaultErrnoRet"] = e.clone();
    }
    let mut arches = strings(obj.get("architectures"));
    if let Some(map) = obj.get("archMap").and_then(Value::as_array) {
        if !arches.is_empty() {
            return Err(bad(&"use either 'architectures' or 'archMap'"));
        }
        let host = scmp_arch(t.arch);
        for m in map {
            if m.get("architecture").and_then(Value::as_str) == host {
                arches.extend(strings(m.get("architecture")));
                arches.extend(strings(m.get("subArchitectures")));
                if let Some(a) = host {
                    arches.insert(0, a.to_string());
                }
            }
        }
        arches.dedup();
    }
    if !arches.is_empty() {
        out["architectures"] = json!(arches);
    }
    if let Some(flags) = obj.get("flags").filter(|v| !v.is_null()) {
        out["flags"] = flags.clone();
    }
    let go = go_arches(t.arch);
    let mut syscalls = Vec::new();
    for s in obj
        .get("syscalls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut names = strings(s.get("names"));
        if let Some(n) = s.get("name").and_then(Value::as_str) {
            if !names.is_empty() {
                return Err(bad(&"use either 'name' or 'names'"));
            }
            names.push(n.to_string());
        }
        let inc = s.get("includes");
        let exc = s.get("excludes");
        let list = |v: Option<&Value>, k: &str| strings(v.and_then(|v| v.get(k)));
        let inc_arches = list(inc, "arches");
        if !inc_arches.is_empty() && !inc_arches.iter().any(|a| go.contains(&a.as_str())) {
            continue;
        }
        if list(exc, "arches").iter().any(|a| go.contains(&a.as_str())) {
            continue;
        }
        let inc_caps = list(inc, "caps");
        if !inc_caps.is_empty() && !inc_caps.iter().all(|c| t.caps.contains(c)) {
            continue;
        }
        if t.has_any_cap(&list(exc, "caps")) {
            continue;
        }
        if let Some(min) = inc.and_then(|i| i.get("minKernel")).and_then(Value::as_str) {
            if !kernel_at_least(min, t.kernel) {
                continue;
            }
        }
        let action = s.get("action").cloned().unwrap_or(Value::Null);
        let mut r = json!({"names": names, "action": action});
        if let Some(e) = s.get("errnoRet").filter(|v| !v.is_null()) {
            r["errnoRet"] = e.clone();
        }
        if let Some(a) = s.get("args").filter(|v| !v.is_null()) {
            r["args"] = a.clone();
        }
        syscalls.push(r);
    }
    out["syscalls"] = Value::Array(syscalls);
    // The result must be a valid OCI object (action names and operators checked here).
    serde_json::from_value::<oci_spec::runtime::LinuxSeccomp>(out.clone()).map_err(|e| bad(&e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(profile: &Value) -> Vec<String> {
        profile["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| strings(s.get("names")))
            .collect()
    }

    fn target(caps: &[String]) -> Target<'_> {
        Target {
            caps,
            arch: "x86_64",
            kernel: (6, 1),
        }
    }

    #[test]
    fn default_profile_is_pinned() {
        let p = default_profile();
        assert_eq!(p.rules.len(), 33);
        assert_eq!(p.rules[0].allow.len(), 361);
        assert_eq!(p.default_errno_ret, 1);
        let all: usize = p.rules.iter().map(|r| r.allow.len() + r.names.len()).sum();
        assert_eq!(all, 442);
        for name in ["read", "execve", "clone3", "ptrace", "mseal", "personality"] {
            assert!(DEFAULT_PROFILE.contains(&format!("\"{name}\"")), "{name}");
        }
        // Docker dropped io_uring from its default profile.
        assert!(!DEFAULT_PROFILE.contains("io_uring"));
        // socket: every family but AF_ALG (38) and AF_VSOCK (40).
        let socket: Vec<_> = p.rules.iter().filter(|r| r.allow == ["socket"]).collect();
        assert_eq!(socket.len(), 3);
    }

    #[test]
    fn default_rules_follow_capabilities() {
        let caps: Vec<String> = crate::spec::DEFAULT_CAPS
            .iter()
            .map(|c| c.to_string())
            .collect();
        let v = default_for(&target(&caps));
        let n = names(&v);
        assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(
            v["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        assert!(n.contains(&"arch_prctl".to_string()));
        assert!(
            n.contains(&"chroot".to_string()),
            "CAP_SYS_CHROOT is default"
        );
        assert!(!n.contains(&"mount".to_string()));
        assert!(!n.contains(&"unshare".to_string()));
        assert!(!n.contains(&"set_tls".to_string()), "arm only");
        // clone without CLONE_NEW*, clone3 -> ENOSYS.
        let clone3 = v["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["names"] == json!(["clone3"]))
            .unwrap();
        assert_eq!(clone3["action"], "SCMP_ACT_ERRNO");
        assert_eq!(clone3["errnoRet"], 38);
        let spec: oci_spec::runtime::LinuxSeccomp = serde_json::from_value(v).unwrap();
        assert!(spec.syscalls().as_ref().unwrap().len() > 10);

        let mut admin = caps.clone();
        admin.push("CAP_SYS_ADMIN".into());
        admin.push("CAP_SYS_PTRACE".into());
        let v = default_for(&target(&admin));
        let n = names(&v);
        assert!(n.contains(&"mount".to_string()));
        assert!(n.contains(&"kcmp".to_string()));
        assert!(!v["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["names"] == json!(["clone3"])));
    }

    #[test]
    fn docker_format_profiles_are_rendered() {
        let caps = vec!["CAP_CHOWN".to_string()];
        let p = r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
            "syscalls": [
              {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
              {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
              {"names": ["chown"], "action": "SCMP_ACT_ERRNO", "excludes": {"arches": ["amd64"]}}
            ]}"#;
        let v = from_docker_json(p, &target(&caps)).unwrap();
        assert_eq!(names(&v), vec!["mkdir"]);
        assert_eq!(
            v["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
        );
        let e = from_docker_json("{nope", &target(&caps)).unwrap_err();
        assert!(
            e.to_string().contains("Decoding seccomp profile failed"),
            "{e}"
        );
        let e = from_docker_json(r#"{"defaultAction": "SCMP_ACT_NOPE"}"#, &target(&caps));
        assert!(e.is_err());
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(parse_kernel("5.4"), Some((5, 4)));
        assert!(kernel_at_least("4.8", (6, 1)));
        assert!(!kernel_at_least("4.8", (4, 7)));
    }
}
