use std::os::fd::AsRawFd;

use super::*;

fn profile(v: serde_json::Value) -> LinuxSeccomp {
    serde_json::from_value(v).unwrap()
}

/// Runs `f` on a new thread with `filter` installed on that thread only (no TSYNC), so
/// the test process is unaffected.
fn with_filter<T: Send + 'static>(filter: Filter, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        install(&filter).unwrap();
        f()
    })
    .join()
    .unwrap()
}

fn dup_errno(fd: i32) -> Option<i32> {
    match nix::unistd::dup(fd) {
        Ok(new) => {
            let _ = nix::unistd::close(new);
            None
        }
        Err(e) => Some(e as i32),
    }
}

#[test]
fn errno_rules_and_argument_comparisons() {
    let file = std::fs::File::open("/dev/null").unwrap();
    let fd = file.as_raw_fd();
    let p = profile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["nosuchsyscall", "getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95,
             "args": [{"index": 0, "value": fd as u64, "op": "SCMP_CMP_EQ"}]},
            {"names": ["getpgid"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 1000000, "op": "SCMP_CMP_GT"}]},
            {"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 0, "value": 0o7000, "valueTwo": 0o1000, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["allowed_as_default"], "action": "SCMP_ACT_ALLOW"}
        ]
    }));
    let filter = compile(&p).unwrap();
    assert!(filter.len() > 5);
    let (ppid, dup_same, dup_other, pgid_big, pgid_self) = with_filter(filter, move || {
        (
            nix::unistd::getppid().as_raw(),
            dup_errno(fd),
            dup_errno(2),
            nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(2_000_000))).err(),
            nix::unistd::getpgid(None).is_ok(),
        )
    });
    assert_eq!(ppid, -libc::ENOSYS);
    assert_eq!(dup_same, Some(libc::EOPNOTSUPP));
    assert_eq!(dup_other, None);
    assert_eq!(pgid_big, Some(nix::errno::Errno::EPERM));
    assert!(pgid_self);
    drop(file);
}

#[test]
fn repeated_index_means_any_of_the_values() {
    // Docker's style for personality(2): one rule per allowed value, here as one rule
    // whose arguments repeat index 0 (runc turns that into OR).
    let p = profile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [
                {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}
             ]}
        ]
    }));
    let (a, b, c) = with_filter(compile(&p).unwrap(), || {
        (dup_errno(0), dup_errno(1), dup_errno(2))
    });
    assert_eq!((a, b, c), (Some(libc::EPERM), Some(libc::EPERM), None));
}

#[test]
fn errno_default_action_blocks_unlisted_syscalls() {
    // Allow what the test thread needs to finish; everything else gets ENOSYS.
    let p = profile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "syscalls": [{"names": [
            "futex", "exit", "exit_group", "munmap", "madvise", "rt_sigprocmask", "sigaltstack",
            "mmap", "mprotect", "rseq", "set_robust_list", "write", "sched_yield", "brk",
            "getrandom", "close"
        ], "action": "SCMP_ACT_ALLOW"}]
    }));
    let got = with_filter(compile(&p).unwrap(), || nix::unistd::getpgid(None).err());
    assert_eq!(got, Some(nix::errno::Errno::ENOSYS));
}

#[test]
fn notify_and_bad_arguments_are_rejected() {
    let notify = profile(serde_json::json!({"defaultAction": "SCMP_ACT_NOTIFY"}));
    assert!(matches!(compile(&notify), Err(Error::UnsupportedAction(_))));
    let bad_index = profile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["dup"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]
    }));
    assert!(matches!(
        compile(&bad_index),
        Err(Error::InvalidArgIndex(6))
    ));
    let bad_errno = profile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 100000
    }));
    assert!(matches!(
        compile(&bad_errno),
        Err(Error::InvalidErrno(100000))
    ));
}

#[test]
fn flags_and_cache() {
    let p = profile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_KILL_PROCESS"}]
    }));
    let a = compile_cached(&p).unwrap();
    let b = compile_cached(&p).unwrap();
    assert!(Arc::ptr_eq(&a.program, &b.program));
    assert_eq!(
        a.flags,
        rocker_sys::seccomp::FLAG_LOG | rocker_sys::seccomp::FLAG_SPEC_ALLOW
    );
}

#[test]
fn disk_cache_round_trips() {
    let dir = std::env::temp_dir().join(format!("rocker-seccomp-test-{}", std::process::id()));
    set_cache_dir(dir.clone());
    let p = profile(serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                     {"names": ["disk_cache_round_trips"], "action": "SCMP_ACT_ALLOW"}]
    }));
    let compiled = compile_cached(&p).unwrap();
    let key = serde_json::to_string(&p).unwrap();
    let file = CACHE_DIR.get().unwrap().join(cache_name(&key));
    let cached = read_cached(&file).expect("cache file written");
    assert_eq!(cached.flags, compiled.flags);
    assert_eq!(cached.program.len(), compiled.program.len());
    for (a, b) in cached.program.iter().zip(compiled.program.iter()) {
        assert_eq!((a.code, a.jt, a.jf, a.k), (b.code, b.jt, b.jf, b.k));
    }
    // A corrupt file is ignored (recompiled), never installed.
    std::fs::write(&file, [1, 2, 3]).unwrap();
    assert!(read_cached(&file).is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "timing probe: RSEC_PROFILE=<linux.seccomp json> cargo test --release -- --ignored"]
fn compile_timing_probe() {
    let Ok(path) = std::env::var("RSEC_PROFILE") else {
        return;
    };
    let p: LinuxSeccomp = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let f = compile(&p).unwrap();
        eprintln!("compile: {:?}, {} instructions", t.elapsed(), f.len());
    }
}
