//! `rocker run -it` follows the terminal: the pty starts with the client's size and is
//! resized when the client's window changes (SIGWINCH), as with docker.

use std::process::Command;

use rocker_e2e::{assert_success, bin_dir, require_root, stdout, Daemon};

#[test]
fn run_it_follows_window_changes() {
    if !require_root() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    // A pty from Python's standard library: set a size, start the client, change the size.
    let driver = r#"
import os, pty, sys, time, fcntl, termios, struct, select
rocker, host = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(rocker, ["rocker", "-H", host, "run", "--rm", "-it", "busybox", "sh", "-c",
                      "sleep 1; stty size; sleep 1.5; stty size"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
time.sleep(1.8)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 133, 0, 0))
out = b""
end = time.time() + 10
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            data = os.read(fd, 1024)
        except OSError:
            break
        if not data:
            break
        out += data
sys.stdout.write(out.decode(errors="replace"))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(driver)
        .arg(bin_dir().join("rocker"))
        .arg(d.host())
        .output()
        .expect("python3");
    assert_success(&out, "pty driver");
    let text = stdout(&out);
    assert!(text.contains("30 100"), "initial size: {text:?}");
    assert!(text.contains("44 133"), "size after SIGWINCH: {text:?}");
    d.assert_clean(0);
}
