//! Harness for Rocker's end-to-end tests.
//!
//! Every test starts its own `rockerd` ([`Daemon::start`]) with a private data root, exec
//! root, socket and cgroup parent, so tests run in parallel with each other and with a
//! production daemon on the same machine. The harness talks to the daemon three ways: the
//! `rocker` CLI, the real `docker` CLI, and raw HTTP over the unix socket ([`http`]), and it
//! inspects the host ([`host`]: mounts, cgroups, processes) to prove nothing leaks.
//!
//! Root is required: [`require_root`] fails loudly under CI and skips otherwise.

mod cmd;
mod daemon;
pub mod host;
pub mod http;
pub mod netfix;
pub mod registry;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use cmd::{output_with_timeout, CMD_TIMEOUT};
pub use daemon::Daemon;

/// True when running under CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"),
        Err(_) => false,
    }
}

/// Gate for tests that need root: returns true when we are root. When not root it panics
/// under CI (a silently skipped suite is a lie) and otherwise returns false after saying why,
/// so the test can `return` early.
pub fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if in_ci() {
        panic!("e2e tests need root (CI is set, refusing to skip)");
    }
    eprintln!("skipping: e2e tests need root");
    false
}

/// The `docker` client binary, if installed. Absent and CI unset: prints why and returns
/// None so the test skips. Absent under CI: panics.
pub fn docker_client() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ROCKER_E2E_DOCKER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push(PathBuf::from("/usr/local/bin"));
    dirs.push(PathBuf::from("/usr/bin"));
    if let Some(found) = dirs
        .into_iter()
        .map(|d| d.join("docker"))
        .find(|p| p.is_file())
    {
        return Some(found);
    }
    if in_ci() {
        panic!("the docker client is required under CI (not found on PATH or /usr/local/bin)");
    }
    eprintln!("skipping: docker client not installed");
    None
}

/// Root of the repository (the workspace).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Directory holding `rockerd`, `rocker`, `rocker-shim`: `ROCKER_BIN_DIR` if set, else the
/// profile directory this test binary was built into (`target/<profile>/deps/..`), else
/// `<repo>/target/debug`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ROCKER_BIN_DIR") {
        return PathBuf::from(dir);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(profile) = exe
            .parent()
            .filter(|d| d.ends_with("deps"))
            .and_then(Path::parent)
        {
            if profile.join("rockerd").is_file() {
                return profile.to_path_buf();
            }
        }
    }
    repo_root().join("target").join("debug")
}

/// A scratch directory for fixtures shared by the tests of one run: the target dir's
/// `tmp/rocker-e2e` (what cargo calls CARGO_TARGET_TMPDIR), else the system temp dir.
fn fixtures_dir() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?.to_path_buf();
        if !deps.ends_with("deps") {
            return None;
        }
        Some(deps.parent()?.parent()?.join("tmp").join("rocker-e2e"))
    });
    from_exe.unwrap_or_else(|| std::env::temp_dir().join("rocker-e2e"))
}

/// A `docker save` tar of `busybox:latest`, built once per test process by
/// `scripts/mk-busybox-image` (or taken from `ROCKER_E2E_BUSYBOX_TAR`). The build writes a
/// per-process temp file and renames it into place, so concurrent test binaries are safe
/// (the script is deterministic: every build has the same content).
pub fn busybox_tar() -> &'static Path {
    static TAR: OnceLock<PathBuf> = OnceLock::new();
    TAR.get_or_init(|| {
        if let Some(p) = std::env::var_os("ROCKER_E2E_BUSYBOX_TAR") {
            return PathBuf::from(p);
        }
        let script = repo_root().join("scripts").join("mk-busybox-image");
        assert!(
            script.is_file(),
            "{} is missing: it builds the busybox test image",
            script.display()
        );
        let dir = fixtures_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("create fixtures dir {}: {e}", dir.display()));
        let tmp = dir.join(format!("busybox.tar.{}.tmp", std::process::id()));
        let out = output_with_timeout(
            std::process::Command::new(&script).arg(&tmp),
            None,
            Duration::from_secs(120),
        );
        assert_success(&out, "scripts/mk-busybox-image");
        let tar = dir.join("busybox.tar");
        std::fs::rename(&tmp, &tar)
            .unwrap_or_else(|e| panic!("rename {} -> {}: {e}", tmp.display(), tar.display()));
        tar
    })
}

/// Poll `f` every 20ms until it returns true or `timeout` passes; returns the last result.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stdout of a finished command as UTF-8 (lossy).
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr of a finished command as UTF-8 (lossy).
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Panics with both streams unless the command exited 0.
pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// Panics with both streams unless the command exited with `code`.
pub fn assert_exit_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: wrong exit status ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// True when `s` is a full 64-hex-digit container/image id.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The row of a `ps`-style table whose last column (NAMES) is `name`.
pub fn table_row<'a>(table: &'a str, name: &str) -> Option<&'a str> {
    table
        .lines()
        .skip(1)
        .find(|line| line.split_whitespace().last() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_id_check() {
        assert!(is_full_id(&"a1".repeat(32)));
        assert!(!is_full_id("abc"));
        assert!(!is_full_id(&"A1".repeat(32)));
    }

    #[test]
    fn table_row_matches_names_column() {
        let t = "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS   PORTS   NAMES\n\
                 0123456789ab   busybox   \"sh\"      1s ago    Up 1s            web\n";
        assert!(table_row(t, "web").is_some());
        assert!(table_row(t, "busybox").is_none());
        assert!(table_row(t, "NAMES").is_none());
    }
}
