//! Docker's json-file log format, written by the shim so logs keep flowing while the daemon
//! is down: one JSON object per line, `{"log":"…\n","stream":"stdout","time":"RFC3339Nano"}`,
//! lines split on `\n` (a line longer than 16 KiB is written in parts, as Docker does), with
//! size-based rotation (`<log>.1`, `<log>.2`, …).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

/// Docker splits log messages longer than this into several entries.
const MAX_LINE: usize = 16 * 1024;

#[derive(Serialize)]
struct Entry<'a> {
    log: &'a str,
    stream: &'a str,
    time: &'a str,
}

use serde::Serialize;

/// A json-file log with per-stream line buffers.
pub struct JsonLog {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    max_files: u32,
    pending: [Vec<u8>; 2],
}

/// Which output stream bytes came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl JsonLog {
    pub fn open(path: PathBuf, max_size: u64, max_files: u32) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(JsonLog {
            path,
            file,
            size,
            max_size,
            max_files: max_files.max(1),
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Buffers output and writes every complete line.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> io::Result<()> {
        let idx = stream as usize;
        let mut buf = std::mem::take(&mut self.pending[idx]);
        buf.extend_from_slice(data);
        let mut start = 0;
        while start < buf.len() {
            let rest = &buf[start..];
            let cut = match rest.iter().position(|&b| b == b'\n') {
                Some(nl) if nl < MAX_LINE => nl + 1,
                _ if rest.len() >= MAX_LINE => MAX_LINE,
                _ => break,
            };
            self.entry(stream, &rest[..cut])?;
            start += cut;
        }
        buf.drain(..start);
        self.pending[idx] = buf;
        Ok(())
    }

    /// Writes whatever partial lines remain (at exit).
    pub fn flush_partial(&mut self) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let buf = std::mem::take(&mut self.pending[stream as usize]);
            if !buf.is_empty() {
                self.entry(stream, &buf)?;
            }
        }
        Ok(())
    }

    fn entry(&mut self, stream: Stream, msg: &[u8]) -> io::Result<()> {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let text = String::from_utf8_lossy(msg);
        let mut line = serde_json::to_vec(&Entry {
            log: &text,
            stream: stream.name(),
            time: &time,
        })
        .map_err(io::Error::other)?;
        line.push(b'\n');
        if self.max_size > 0 && self.size > 0 && self.size + line.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(&line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    /// `log` → `log.1` → `log.2` …, keeping `max_files` files in total.
    fn rotate(&mut self) -> io::Result<()> {
        if self.max_files <= 1 {
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        let name = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        let _ = fs::remove_file(name(self.max_files - 1));
        for n in (1..self.max_files - 1).rev() {
            let _ = fs::rename(name(n), name(n + 1));
        }
        fs::rename(&self.path, name(1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(path: &std::path::Path) -> Vec<serde_json::Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn splits_lines_and_keeps_partial_until_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut log = JsonLog::open(path.clone(), 0, 1).unwrap();
        log.write(Stream::Stdout, b"a\nb").unwrap();
        log.write(Stream::Stderr, b"err\n").unwrap();
        log.write(Stream::Stdout, b"c\n").unwrap();
        log.write(Stream::Stdout, b"tail").unwrap();
        log.flush_partial().unwrap();
        let e = entries(&path);
        let got: Vec<(&str, &str)> = e
            .iter()
            .map(|v| (v["log"].as_str().unwrap(), v["stream"].as_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a\n", "stdout"),
                ("err\n", "stderr"),
                ("bc\n", "stdout"),
                ("tail", "stdout")
            ]
        );
        assert!(e[0]["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn long_lines_are_cut_at_16k() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.log");
        let mut log = JsonLog::open(path.clone(), 0, 1).unwrap();
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.push(b'\n');
        log.write(Stream::Stdout, &data).unwrap();
        let e = entries(&path);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0]["log"].as_str().unwrap().len(), MAX_LINE);
        assert_eq!(e[1]["log"].as_str().unwrap().len(), 11);
    }

    #[test]
    fn rotation_bounds_total_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let mut log = JsonLog::open(path.clone(), 1000, 3).unwrap();
        for _ in 0..200 {
            log.write(Stream::Stdout, b"some output line\n").unwrap();
        }
        let total: u64 = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(total <= 3000, "total {total}");
        assert!(dir.path().join("r.log.2").exists());
        assert!(!dir.path().join("r.log.3").exists());
    }
}
