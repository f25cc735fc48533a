//! Shared fixtures for the root-only integration tests: a busybox bundle in a tempdir,
//! a private state root and cgroup parent per test, and the binary under test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oci_spec::runtime::Spec;

pub const BIN: &str = env!("CARGO_BIN_EXE_rocker-runtime");

/// True when the test may run. Not root: panics under CI=true, otherwise skips loudly.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs root (CI=true)");
    }
    eprintln!("SKIPPED {test}: needs root");
    false
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub name: String,
    pub spec: Spec,
}

const APPLETS: &[&str] = &[
    "sh", "echo", "cat", "hostname", "id", "ps", "mount", "ls", "true", "sleep", "touch", "seq",
    "grep", "pwd", "env", "wc", "head",
];

impl Fixture {
    /// A bundle whose rootfs holds /bin/busybox and its applet links; the spec is
    /// oci-spec's default (runc's) with a unique cgroupsPath and a cgroup mount.
    pub fn new(name: &str) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("rocker-rt-")
            .tempdir()
            .expect("tempdir");
        let bin = dir.path().join("bundle/rootfs/bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::copy("/bin/busybox", bin.join("busybox")).expect("copy busybox");
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", bin.join(a)).expect("symlink");
        }
        let name = format!("rocker-rt-test-{}-{name}", std::process::id());
        let mut spec = Spec::default();
        let mut process = spec.process().clone().expect("process");
        process.set_terminal(Some(false));
        spec.set_process(Some(process));
        let mut linux = spec.linux().clone().expect("linux");
        linux.set_cgroups_path(Some(PathBuf::from(format!("{name}/c"))));
        spec.set_linux(Some(linux));
        let mut mounts = spec.mounts().clone().unwrap_or_default();
        mounts.push(
            serde_json::from_value(serde_json::json!({
                "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]
            }))
            .expect("mount"),
        );
        spec.set_mounts(Some(mounts));
        Fixture { dir, name, spec }
    }

    pub fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    pub fn rootfs(&self) -> PathBuf {
        self.bundle().join("rootfs")
    }

    pub fn state_root(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn set_args(&mut self, args: &[&str]) {
        let mut p = self.spec.process().clone().expect("process");
        p.set_args(Some(args.iter().map(|s| s.to_string()).collect()));
        self.spec.set_process(Some(p));
    }

    pub fn edit_process(&mut self, f: impl FnOnce(&mut oci_spec::runtime::Process)) {
        let mut p = self.spec.process().clone().expect("process");
        f(&mut p);
        self.spec.set_process(Some(p));
    }

    pub fn edit_linux(&mut self, f: impl FnOnce(&mut oci_spec::runtime::Linux)) {
        let mut l = self.spec.linux().clone().expect("linux");
        f(&mut l);
        self.spec.set_linux(Some(l));
    }

    pub fn write_spec(&self) {
        self.spec
            .save(self.bundle().join("config.json"))
            .expect("save spec");
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--root").arg(self.state_root()).args(args);
        c
    }

    /// `run` in the foreground, capturing output.
    pub fn run(&self, id: &str) -> Output {
        self.write_spec();
        let out = self
            .cmd(&["run", id, "--bundle"])
            .arg(self.bundle())
            .output()
            .expect("spawn rocker-runtime");
        eprintln!(
            "run {id}: {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Directories of this test's cgroup parent, for checks and cleanup.
    pub fn cgroup_dirs(&self, controller: &str) -> PathBuf {
        Path::new("/sys/fs/cgroup")
            .join(controller)
            .join(&self.name)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else {
            return;
        };
        for e in entries.flatten() {
            let parent = e.path().join(&self.name);
            let _ = std::fs::remove_dir(parent.join("c"));
            let _ = std::fs::remove_dir(&parent);
        }
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
