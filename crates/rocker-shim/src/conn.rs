//! Non-blocking buffered writes to a client socket, shared by the monitor's control-socket
//! clients and the exec streams: what the peer cannot take now stays queued for POLLOUT.

use std::io::{ErrorKind, Write};
use std::os::unix::net::UnixStream;

/// Writes as much of `out` as the socket takes now, removing what was written.
/// False: the peer is gone.
pub fn flush(sock: &mut UnixStream, out: &mut Vec<u8>) -> bool {
    while !out.is_empty() {
        match sock.write(out) {
            Ok(0) => return false,
            Ok(n) => {
                out.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn queued_bytes_drain_and_a_closed_peer_is_reported() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut out = b"hello".to_vec();
        assert!(flush(&mut a, &mut out));
        assert!(out.is_empty());
        let mut buf = [0u8; 5];
        b.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        drop(b);
        let mut out = b"x".to_vec();
        assert!(!flush(&mut a, &mut out));
    }
}
