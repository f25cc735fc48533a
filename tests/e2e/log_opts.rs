//! Per-container log options: `--log-opt max-size/max-file` bound the json-file log on disk,
//! `--log-driver none` keeps nothing, unsupported drivers and options are refused.

use rocker_e2e::{require_root, stderr, Daemon};

fn log_files(d: &Daemon, id: &str) -> Vec<(String, u64)> {
    let dir = d.data_root().join("containers").join(id);
    let mut out: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("-json.log"))
                .map(|e| {
                    let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                    (e.file_name().to_string_lossy().into_owned(), len)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn log_opts_bound_the_log_and_bad_ones_are_refused() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // ~200 KB of output with a 16 KiB x 2 budget.
    let id = d.rocker_ok(&[
        "run", "-d", "--log-opt", "max-size=16k", "--log-opt", "max-file=2", "busybox", "sh",
        "-c", "i=0; while [ $i -lt 2000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo done",
    ]);
    let id = id.trim().to_string();
    d.rocker_ok(&["wait", &id]);
    let files = log_files(&d, &id);
    assert_eq!(files.len(), 2, "{files:?}");
    let total: u64 = files.iter().map(|(_, n)| n).sum();
    assert!(total <= 2 * 16 * 1024 + 1024, "{files:?}");
    let tail = d.rocker_ok(&["logs", "--tail", "1", &id]);
    assert_eq!(tail, "done\n");
    let info = d.inspect(&id);
    assert_eq!(info["HostConfig"]["LogConfig"]["Config"]["max-size"], "16k");

    // --log-driver none: nothing on disk, `logs` refuses like Docker's.
    let id2 = d.rocker_ok(&["run", "-d", "--log-driver", "none", "busybox", "echo", "hi"]);
    let id2 = id2.trim().to_string();
    d.rocker_ok(&["wait", &id2]);
    assert!(log_files(&d, &id2).is_empty());

    for (args, want) in [
        (
            vec!["--log-driver", "local"],
            "local log driver is not supported",
        ),
        (
            vec!["--log-driver", "syslog"],
            "no log driver named 'syslog'",
        ),
        (vec!["--log-opt", "bogus=1"], "unknown log opt 'bogus'"),
        (
            vec!["--log-opt", "max-file=0"],
            "max-file cannot be less than 1",
        ),
        (vec!["--log-opt", "max-size=lots"], "invalid size"),
    ] {
        let mut cmd = vec!["create"];
        cmd.extend(args.iter().copied());
        cmd.extend(["busybox", "true"]);
        let out = d.rocker(&cmd);
        assert!(!out.status.success(), "{cmd:?} succeeded");
        assert!(stderr(&out).contains(want), "{cmd:?}: {}", stderr(&out));
    }
    d.rocker_ok(&["rm", "-f", &id, &id2]);
    d.assert_clean(0);
}
