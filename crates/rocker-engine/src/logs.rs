//! Reading a container's json-file log (written by its shim): rotated files oldest first,
//! `tail`, `since`/`until`, and `follow` until the container stops.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::{Engine, Entry};

/// One log message.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// 1 stdout, 2 stderr.
    pub stream: u8,
    pub time: String,
    pub line: Vec<u8>,
}

#[derive(Deserialize)]
struct Raw {
    log: String,
    stream: String,
    time: String,
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub stdout: bool,
    pub stderr: bool,
    pub follow: bool,
    /// Last N lines only.
    pub tail: Option<usize>,
    /// Unix seconds (fractional); entries before are skipped.
    pub since: Option<f64>,
    pub until: Option<f64>,
}

fn parse_line(line: &str) -> Option<LogEntry> {
    let raw: Raw = serde_json::from_str(line).ok()?;
    Some(LogEntry {
        stream: if raw.stream == "stderr" { 2 } else { 1 },
        time: raw.time,
        line: raw.log.into_bytes(),
    })
}

fn unix_time(rfc3339: &str) -> Option<f64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9)
}

fn wanted(e: &LogEntry, o: &LogOptions) -> bool {
    if (e.stream == 1 && !o.stdout) || (e.stream == 2 && !o.stderr) {
        return false;
    }
    if o.since.is_some() || o.until.is_some() {
        let Some(t) = unix_time(&e.time) else {
            return true;
        };
        if o.since.is_some_and(|s| t < s) || o.until.is_some_and(|u| t > u) {
            return false;
        }
    }
    true
}

/// The log files, oldest first.
fn files(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in (1..100).rev() {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        let p = PathBuf::from(p);
        if p.exists() {
            out.push(p);
        }
    }
    out.push(path.to_path_buf());
    out
}

/// The live log file and its inode.
fn open_log(path: &Path) -> Option<(std::fs::File, u64)> {
    let f = std::fs::File::open(path).ok()?;
    let ino = f.metadata().ok()?.ino();
    Some((f, ino))
}

/// Sends the complete lines after `offset`; false when the receiver is gone.
fn read_appended(
    file: &mut std::fs::File,
    offset: &mut u64,
    opts: &LogOptions,
    tx: &mpsc::Sender<LogEntry>,
) -> bool {
    if file.seek(SeekFrom::Start(*offset)).is_err() {
        return true;
    }
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        let n = reader.read_line(&mut line).unwrap_or(0);
        if n == 0 || !line.ends_with('\n') {
            return true;
        }
        *offset += line.len() as u64;
        if let Some(e) = parse_line(&line) {
            if wanted(&e, opts) && tx.blocking_send(e).is_err() {
                return false;
            }
        }
        line.clear();
    }
}

impl Engine {
    /// Streams a container's log entries into `tx` (ends when done, or when the receiver is
    /// dropped).
    pub fn logs(
        self: &Arc<Self>,
        entry: Arc<Entry>,
        opts: LogOptions,
        tx: mpsc::Sender<LogEntry>,
    ) -> Result<()> {
        let path = self.log_path(&entry.id);
        let rx_progress = self.watch(&entry);
        tokio::task::spawn_blocking(move || {
            let mut all: Vec<LogEntry> = Vec::new();
            let mut offset = 0u64;
            let current = files(&path);
            for (i, f) in current.iter().enumerate() {
                let Ok(file) = std::fs::File::open(f) else {
                    continue;
                };
                let mut reader = BufReader::new(file);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    if line.ends_with('\n') {
                        if let Some(e) = parse_line(&line) {
                            if wanted(&e, &opts) {
                                all.push(e);
                            }
                        }
                        line.clear();
                    } else {
                        break;
                    }
                }
                if i == current.len() - 1 {
                    offset = reader.stream_position().unwrap_or(0) - line.len() as u64;
                }
            }
            let skip = match opts.tail {
                Some(n) => all.len().saturating_sub(n),
                None => 0,
            };
            for e in all.into_iter().skip(skip) {
                if tx.blocking_send(e).is_err() {
                    return;
                }
            }
            if !opts.follow {
                return;
            }
            // Follow: read what is appended until the container is no longer running and
            // everything it wrote has been read. The open file is kept across rounds, so
            // output is not lost when the file is rotated or the container removed (and its
            // directory with it) right after it exits.
            let mut cur = open_log(&path);
            loop {
                let running = entry.status().is_alive() && !rx_progress.borrow().removed;
                if let Some((file, _)) = cur.as_mut() {
                    if !read_appended(file, &mut offset, &opts, &tx) {
                        return;
                    }
                }
                let ino_now = std::fs::metadata(&path).ok().map(|m| m.ino());
                if ino_now.is_some() && ino_now != cur.as_ref().map(|(_, ino)| *ino) {
                    // Rotated (or created): what the old file held has been read above.
                    cur = open_log(&path);
                    offset = 0;
                    continue;
                }
                if !running || tx.is_closed() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_lines_and_filters() {
        let e = parse_line(r#"{"log":"hi\n","stream":"stderr","time":"2026-01-02T03:04:05.5Z"}"#)
            .unwrap();
        assert_eq!(e.stream, 2);
        assert_eq!(e.line, b"hi\n");
        let mut o = LogOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        assert!(wanted(&e, &o));
        o.stderr = false;
        assert!(!wanted(&e, &o));
        o.stderr = true;
        o.since = Some(unix_time("2026-01-02T03:04:06Z").unwrap());
        assert!(!wanted(&e, &o));
    }
}
