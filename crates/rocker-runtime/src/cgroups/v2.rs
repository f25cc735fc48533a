//! cgroup v2 backend: the unified hierarchy. Controllers must be enabled in every
//! ancestor's cgroup.subtree_control before their files appear in the leaf.

use std::path::Path;
use std::time::Duration;

use oci_spec::runtime::LinuxResources;

use super::{read_file, write_file, Error, Result};

/// The controllers a container may need; enabled along the path when available.
const WANTED: &[&str] = &["cpuset", "cpu", "io", "memory", "hugetlb", "pids"];

/// Enables the wanted controllers from `root` down to the parent of `leaf`.
pub(super) fn enable_controllers(root: &Path, leaf: &Path) -> Result<()> {
    let Ok(rel) = leaf.strip_prefix(root) else {
        return Ok(());
    };
    let mut dir = root.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for c in comps
        .iter()
        .take(comps.len().saturating_sub(1))
        .map(Some)
        .chain([None])
    {
        let available = read_file(&dir.join("cgroup.controllers")).unwrap_or_default();
        let enabled = read_file(&dir.join("cgroup.subtree_control")).unwrap_or_default();
        let missing: Vec<String> = WANTED
            .iter()
            .filter(|w| available.split_whitespace().any(|a| a == **w))
            .filter(|w| !enabled.split_whitespace().any(|e| e == **w))
            .map(|w| format!("+{w}"))
            .collect();
        if !missing.is_empty() {
            let file = dir.join("cgroup.subtree_control");
            if write_file(&file, &missing.join(" ")).is_err() {
                // One by one, so one refused controller does not block the others.
                for m in &missing {
                    if let Err(e) = write_file(&file, m) {
                        tracing::warn!("{e}");
                    }
                }
            }
        }
        match c {
            Some(c) => dir.push(c),
            None => break,
        }
    }
    Ok(())
}

fn max_or(v: i64) -> String {
    if v < 0 {
        "max".to_string()
    } else {
        v.to_string()
    }
}

/// Maps v1 cpu shares (2..262144) onto v2 cpu.weight (1..10000), as the OCI runtimes do.
pub(super) fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

/// Applies `r` to the unified directory `dir`. Controllers listed in `skip` are handled by
/// v1 (hybrid hosts); unless `pure_v2`, only controllers available in `dir` are written.
pub(super) fn apply(dir: &Path, r: &LinuxResources, skip: &[&str], pure_v2: bool) -> Result<()> {
    let available = read_file(&dir.join("cgroup.controllers")).unwrap_or_default();
    let usable = |c: &'static str| {
        !skip.contains(&c) && (pure_v2 || available.split_whitespace().any(|a| a == c))
    };
    let write = |file: &str, value: &str| write_file(&dir.join(file), value);
    if usable("memory") {
        if let Some(m) = r.memory() {
            if let Some(l) = m.limit() {
                write("memory.max", &max_or(l))?;
            }
            if let Some(s) = m.swap() {
                // OCI swap is memory+swap; v2 limits swap alone.
                let v = match (s, m.limit()) {
                    (s, _) if s < 0 => "max".to_string(),
                    (s, Some(l)) if l >= 0 => (s - l).max(0).to_string(),
                    (s, _) => s.to_string(),
                };
                write("memory.swap.max", &v)?;
            }
            if let Some(v) = m.reservation() {
                write("memory.low", &max_or(v))?;
            }
            if m.disable_oom_killer() == Some(true) {
                tracing::warn!("disabling the OOM killer is not supported on cgroup v2; ignored");
            }
        }
    }
    if usable("cpu") {
        if let Some(c) = r.cpu() {
            if let Some(s) = c.shares() {
                write("cpu.weight", &shares_to_weight(s).to_string())?;
            }
            if c.quota().is_some() || c.period().is_some() {
                let quota = c
                    .quota()
                    .filter(|q| *q > 0)
                    .map_or("max".to_string(), |q| q.to_string());
                write(
                    "cpu.max",
                    &format!("{quota} {}", c.period().unwrap_or(100_000)),
                )?;
            }
        }
    }
    if usable("cpuset") {
        if let Some(c) = r.cpu() {
            if let Some(v) = c.cpus().as_deref().filter(|v| !v.is_empty()) {
                write("cpuset.cpus", v)?;
            }
            if let Some(v) = c.mems().as_deref().filter(|v| !v.is_empty()) {
                write("cpuset.mems", v)?;
            }
        }
    }
    if usable("pids") {
        if let Some(p) = r.pids() {
            write(
                "pids.max",
                &if p.limit() > 0 {
                    p.limit().to_string()
                } else {
                    "max".to_string()
                },
            )?;
        }
    }
    if usable("io") {
        if let Some(w) = r.block_io().as_ref().and_then(|b| b.weight()) {
            // blkio weight 10..1000 onto io.weight 1..10000.
            let w = 1 + (u64::from(w).clamp(10, 1000) - 10) * 9999 / 990;
            write("io.weight", &w.to_string())?;
        }
    }
    if usable("hugetlb") {
        for l in r.hugepage_limits().iter().flatten() {
            write(
                &format!("hugetlb.{}.max", l.page_size()),
                &max_or(l.limit()),
            )?;
        }
    }
    if pure_v2 {
        if r.devices().as_ref().is_some_and(|d| !d.is_empty()) {
            // TODO(issue 3): device rules need an eBPF program on v2.
            tracing::debug!("device cgroup rules are not enforced on cgroup v2 yet");
        }
        for (key, value) in r.unified().iter().flatten() {
            if key.contains('/') || key.starts_with('.') {
                return Err(Error::Write {
                    path: dir.join(key),
                    value: value.clone(),
                    source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
                });
            }
            write(key, value)?;
        }
    }
    Ok(())
}

/// Writes cgroup.freeze and waits (bounded) for cgroup.events to report the new state.
pub(super) fn set_frozen(dir: &Path, frozen: bool) -> Result<()> {
    write_file(&dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
    let want = if frozen { "frozen 1" } else { "frozen 0" };
    let mut delay = Duration::from_micros(100);
    for _ in 0..20 {
        let events = read_file(&dir.join("cgroup.events")).unwrap_or_default();
        if events.lines().any(|l| l.trim() == want) || !events.contains("frozen") {
            return Ok(());
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
    Err(Error::Freeze(dir.to_path_buf()))
}
