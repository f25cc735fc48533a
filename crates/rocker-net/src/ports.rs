//! Host port checks for published ports: whether a host process already holds a port
//! (Docker's "port is already allocated"), and picking a free ephemeral port for `-p 80`
//! and `-P`.
//!
//! Rocker publishes ports with DNAT only (no userland proxy), so nothing of ours listens on
//! the host: the engine passes the ports its own containers hold in `taken`.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};

use crate::kind::ErrorKind;
use crate::nft::Proto;

/// Errors from port checks.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Something already holds the port (Docker's message).
    #[error("Bind for {ip}:{port} failed: port is already allocated")]
    Allocated {
        /// The host address ("0.0.0.0" for all).
        ip: Ipv4Addr,
        /// The port.
        port: u16,
    },
    /// The bind test failed for another reason (e.g. an address that is not local).
    #[error("bind test for {ip}:{port}: {source}")]
    Bind {
        /// The host address.
        ip: Ipv4Addr,
        /// The port.
        port: u16,
        /// The cause.
        source: io::Error,
    },
    /// Reading the ephemeral port range.
    #[error("read /proc/sys/net/ipv4/ip_local_port_range: {0}")]
    Range(io::Error),
    /// Every port of the ephemeral range is in use.
    #[error("no free {0} port in the ephemeral range")]
    Exhausted(&'static str),
}

impl PortError {
    /// The error class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Allocated { .. } | Self::Exhausted(_) => ErrorKind::Conflict,
            Self::Bind { source, .. } if source.kind() == io::ErrorKind::AddrNotAvailable => {
                ErrorKind::InvalidArgument
            }
            _ => ErrorKind::Internal,
        }
    }
}

/// Fails (AddrInUse-like error with Docker's message shape: "Bind for 0.0.0.0:8080 failed:
/// port is already allocated") if a host process listens on proto/ip/port: bind-test.
pub fn check_free(proto: Proto, host_ip: Option<Ipv4Addr>, port: u16) -> Result<(), PortError> {
    let ip = host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let addr = SocketAddrV4::new(ip, port);
    // std sets SO_REUSEADDR on TCP listeners, so sockets in TIME_WAIT do not count.
    let result = match proto {
        Proto::Tcp => TcpListener::bind(addr).map(drop),
        Proto::Udp => UdpSocket::bind(addr).map(drop),
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(PortError::Allocated { ip, port }),
        Err(source) => Err(PortError::Bind { ip, port, source }),
    }
}

/// The kernel's ephemeral port range (inclusive).
pub fn ephemeral_range() -> Result<(u16, u16), PortError> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .map_err(PortError::Range)?;
    parse_range(&text).ok_or_else(|| {
        PortError::Range(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected content {text:?}"),
        ))
    })
}

fn parse_range(text: &str) -> Option<(u16, u16)> {
    let mut it = text.split_whitespace().map(str::parse::<u16>);
    let lo = it.next()?.ok()?;
    let hi = it.next()?.ok()?;
    (lo > 0 && lo <= hi).then_some((lo, hi))
}

/// A free ephemeral port (range from /proc/sys/net/ipv4/ip_local_port_range) not in `taken`.
/// Starts at a random point of the range so concurrent callers rarely collide.
pub fn ephemeral(
    proto: Proto,
    host_ip: Option<Ipv4Addr>,
    taken: &HashSet<u16>,
) -> Result<u16, PortError> {
    let (lo, hi) = ephemeral_range()?;
    let span = u32::from(hi - lo) + 1;
    let start = rand::random::<u32>() % span;
    for i in 0..span {
        let Ok(port) = u16::try_from(u32::from(lo) + (start + i) % span) else {
            continue;
        };
        if taken.contains(&port) {
            continue;
        }
        match check_free(proto, host_ip, port) {
            Ok(()) => return Ok(port),
            Err(PortError::Allocated { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(PortError::Exhausted(proto.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_listener_with_docker_message() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let e = check_free(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(
            e.to_string(),
            format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
        );
        // 0.0.0.0 overlaps a listener on 127.0.0.1.
        let e = check_free(Proto::Tcp, None, port).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("Bind for 0.0.0.0:{port} failed: port is already allocated")
        );
        drop(l);
        check_free(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port).unwrap();
    }

    #[test]
    fn udp_is_separate() {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        assert!(check_free(Proto::Udp, Some(Ipv4Addr::LOCALHOST), port).is_err());
        // A UDP socket does not make the TCP port busy (unless a TCP socket has it).
        let _ = check_free(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port);
    }

    #[test]
    fn non_local_address_is_invalid() {
        let e = check_free(Proto::Tcp, Some(Ipv4Addr::new(192, 0, 2, 77)), 8080).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }

    #[test]
    fn ephemeral_skips_taken_and_busy() {
        let (lo, hi) = ephemeral_range().unwrap();
        let mut taken = HashSet::new();
        for _ in 0..20 {
            let p = ephemeral(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), &taken).unwrap();
            assert!((lo..=hi).contains(&p));
            assert!(taken.insert(p), "{p} handed out twice");
        }
    }

    #[test]
    fn range_parsing() {
        assert_eq!(parse_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_range("5 5"), Some((5, 5)));
        assert_eq!(parse_range("9 5"), None);
        assert_eq!(parse_range(""), None);
        assert_eq!(parse_range("a b"), None);
    }
}
