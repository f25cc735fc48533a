//! IPv4 address management: subnet parsing and arithmetic, Docker's default address pools,
//! sequential address allocation and Docker's IP-derived MAC addresses.
//!
//! Pure functions, no I/O: the engine keeps the used addresses and the last one handed out
//! per network and passes them in, so the state lives in one place (its database).

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;

use crate::kind::ErrorKind;

/// Errors from address management.
#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    /// The subnet string is not `a.b.c.d/n` (Docker's message shape).
    #[error("invalid subnet {0}: invalid CIDR address: {0}")]
    ParseSubnet(String),
    /// The MAC address string is not six colon-separated hex bytes.
    #[error("invalid MAC address: {0}")]
    ParseMac(String),
    /// The IP range does not lie inside the subnet.
    #[error("ip range {range} is not contained in subnet {subnet}")]
    RangeOutsideSubnet {
        /// The requested range.
        range: Subnet,
        /// The network's subnet.
        subnet: Subnet,
    },
    /// Every address of the range is taken.
    #[error("no available IPv4 addresses on this network's address pools: {0}")]
    Exhausted(Subnet),
}

impl IpamError {
    /// The error class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::ParseSubnet(_) | Self::ParseMac(_) | Self::RangeOutsideSubnet { .. } => {
                ErrorKind::InvalidArgument
            }
            Self::Exhausted(_) => ErrorKind::Conflict,
        }
    }
}

/// An IPv4 subnet; `addr` is always the network address (host bits cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subnet {
    /// The network address.
    pub addr: Ipv4Addr,
    /// The prefix length, 0..=32.
    pub prefix: u8,
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl Subnet {
    /// Builds a subnet from any address inside it, clearing the host bits.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Subnet {
        let prefix = prefix.min(32);
        Subnet {
            addr: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        }
    }

    /// Parses `"172.18.0.0/16"`. Host bits are accepted and cleared (`172.18.0.1/16` is
    /// `172.18.0.0/16`); anything that is not an IPv4 CIDR is an error.
    pub fn parse(s: &str) -> Result<Subnet, IpamError> {
        let bad = || IpamError::ParseSubnet(s.to_string());
        let (ip, prefix) = s.split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        Ok(Subnet::new(ip, prefix))
    }

    fn mask(&self) -> u32 {
        mask(self.prefix)
    }

    /// Whether `ip` lies in the subnet (network and broadcast addresses included).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr)
    }

    /// Whether the two subnets share at least one address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// Whether `other` lies entirely inside this subnet.
    pub fn contains_subnet(&self, other: &Subnet) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }

    /// The first usable host address (network + 1; the network address itself for /31, /32).
    pub fn first_host(&self) -> Ipv4Addr {
        if self.prefix >= 31 {
            self.addr
        } else {
            Ipv4Addr::from(u32::from(self.addr) + 1)
        }
    }

    /// The broadcast (last) address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }

    /// Number of addresses, network and broadcast included.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Next free address: within `range` (defaults to subnet), never network/broadcast/gateway
/// or anything in `used`; sequential starting after `last` (Docker's behaviour), wrapping.
pub fn allocate(
    subnet: &Subnet,
    range: Option<&Subnet>,
    gateway: Ipv4Addr,
    used: &HashSet<Ipv4Addr>,
    last: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, IpamError> {
    let range = range.copied().unwrap_or(*subnet);
    if !subnet.contains_subnet(&range) {
        return Err(IpamError::RangeOutsideSubnet {
            range,
            subnet: *subnet,
        });
    }
    let lo = u64::from(u32::from(range.addr));
    let size = range.size();
    let network = subnet.addr;
    let broadcast = subnet.broadcast();
    let usable = |ip: Ipv4Addr| {
        (subnet.prefix >= 31 || (ip != network && ip != broadcast))
            && ip != gateway
            && !used.contains(&ip)
    };
    let start = match last {
        Some(l) if range.contains(l) => u64::from(u32::from(l)) - lo + 1,
        _ => 0,
    };
    for step in 0..size {
        let offset = (start + step) % size;
        // lo + offset stays within the /0..=32 range, so it fits in u32.
        let ip = Ipv4Addr::from(u32::try_from(lo + offset).unwrap_or(u32::MAX));
        if usable(ip) {
            return Ok(ip);
        }
    }
    Err(IpamError::Exhausted(range))
}

/// Docker's default pools for new networks, in order: 172.17.0.0/16 .. 172.31.0.0/16, then
/// 192.168.0.0/20, 192.168.16.0/20 ... 192.168.240.0/20.
pub fn default_pools() -> impl Iterator<Item = Subnet> {
    let b = (17u8..=31).map(|n| Subnet::new(Ipv4Addr::new(172, n, 0, 0), 16));
    let c = (0u8..16).map(|n| Subnet::new(Ipv4Addr::new(192, 168, n * 16, 0), 20));
    b.chain(c)
}

/// The first default pool overlapping none of `taken` (existing networks and host routes).
pub fn pick_free_subnet(taken: &[Subnet]) -> Option<Subnet> {
    default_pools().find(|p| !taken.iter().any(|t| t.overlaps(p)))
}

/// Docker's MAC for an IPv4 address: 02:42:<4 ip bytes>.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// Formats a MAC as lowercase `02:42:ac:11:00:02`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `02:42:ac:11:00:02` (case-insensitive; `-` also accepted as separator).
pub fn parse_mac(s: &str) -> Result<[u8; 6], IpamError> {
    let bad = || IpamError::ParseMac(s.to_string());
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut mac = [0u8; 6];
    for (dst, part) in mac.iter_mut().zip(parts) {
        if part.len() != 2 {
            return Err(bad());
        }
        *dst = u8::from_str_radix(part, 16).map_err(|_| bad())?;
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Subnet {
        Subnet::parse(x).unwrap()
    }
    fn ip(x: &str) -> Ipv4Addr {
        x.parse().unwrap()
    }

    #[test]
    fn parse_normalises_and_rejects() {
        assert_eq!(s("172.18.0.0/16").to_string(), "172.18.0.0/16");
        assert_eq!(s("172.18.0.1/16").to_string(), "172.18.0.0/16");
        assert_eq!(s("10.1.2.3/32").to_string(), "10.1.2.3/32");
        assert_eq!(s("10.1.2.3/0").to_string(), "0.0.0.0/0");
        for bad in [
            "",
            "172.18.0.0",
            "172.18.0.0/",
            "172.18.0.0/33",
            "172.18.0/16",
            "x/16",
            "172.18.0.0/+1",
            "172.18.0.0/016",
            "::1/64",
            "172.18.0.0/16/1",
        ] {
            let e = Subnet::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
        assert_eq!(
            Subnet::parse("foo").unwrap_err().to_string(),
            "invalid subnet foo: invalid CIDR address: foo"
        );
    }

    #[test]
    fn arithmetic() {
        let n = s("172.18.0.0/16");
        assert!(n.contains(ip("172.18.255.255")));
        assert!(!n.contains(ip("172.19.0.0")));
        assert_eq!(n.first_host(), ip("172.18.0.1"));
        assert_eq!(n.broadcast(), ip("172.18.255.255"));
        assert_eq!(n.size(), 65536);
        assert_eq!(s("0.0.0.0/0").size(), 1 << 32);
        assert_eq!(s("0.0.0.0/0").broadcast(), ip("255.255.255.255"));
        assert_eq!(s("10.0.0.4/31").first_host(), ip("10.0.0.4"));
        assert!(n.overlaps(&s("172.18.5.0/24")));
        assert!(s("172.18.5.0/24").overlaps(&n));
        assert!(!n.overlaps(&s("172.19.0.0/16")));
        assert!(n.contains_subnet(&s("172.18.5.0/24")));
        assert!(!s("172.18.5.0/24").contains_subnet(&n));
        assert!(n.contains_subnet(&n));
        assert!(s("0.0.0.0/0").overlaps(&n));
    }

    #[test]
    fn allocate_sequential_skips_reserved() {
        let n = s("172.18.0.0/16");
        let gw = ip("172.18.0.1");
        let mut used = HashSet::new();
        let a = allocate(&n, None, gw, &used, None).unwrap();
        assert_eq!(a, ip("172.18.0.2"));
        used.insert(a);
        let b = allocate(&n, None, gw, &used, Some(a)).unwrap();
        assert_eq!(b, ip("172.18.0.3"));
        // Releasing .2 does not make it the next one: Docker continues after `last`.
        used.remove(&a);
        used.insert(b);
        assert_eq!(
            allocate(&n, None, gw, &used, Some(b)).unwrap(),
            ip("172.18.0.4")
        );
    }

    #[test]
    fn allocate_wraps_and_exhausts() {
        let n = s("10.9.0.0/29"); // .0 network, .1 gw, .2-.6 hosts, .7 broadcast
        let gw = ip("10.9.0.1");
        let mut used = HashSet::new();
        assert_eq!(
            allocate(&n, None, gw, &used, Some(ip("10.9.0.6"))).unwrap(),
            ip("10.9.0.2")
        );
        let mut last = None;
        for _ in 0..5 {
            let a = allocate(&n, None, gw, &used, last).unwrap();
            assert!(used.insert(a));
            last = Some(a);
        }
        let e = allocate(&n, None, gw, &used, last).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        used.remove(&ip("10.9.0.4"));
        assert_eq!(allocate(&n, None, gw, &used, last).unwrap(), ip("10.9.0.4"));
    }

    #[test]
    fn allocate_within_range() {
        let n = s("172.20.0.0/16");
        let r = s("172.20.5.0/24");
        let gw = ip("172.20.0.1");
        let used = HashSet::new();
        assert_eq!(
            allocate(&n, Some(&r), gw, &used, None).unwrap(),
            ip("172.20.5.0")
        );
        // Gateway inside the range is skipped.
        let gw2 = ip("172.20.5.0");
        assert_eq!(
            allocate(&n, Some(&r), gw2, &used, None).unwrap(),
            ip("172.20.5.1")
        );
        // A range ending at the subnet's broadcast never hands it out.
        let r2 = s("172.20.255.254/31");
        let mut used2 = HashSet::new();
        used2.insert(ip("172.20.255.254"));
        assert!(allocate(&n, Some(&r2), gw, &used2, None).is_err());
        let e = allocate(&n, Some(&s("10.0.0.0/24")), gw, &used, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn pools() {
        assert_eq!(pick_free_subnet(&[]).unwrap(), s("172.17.0.0/16"));
        let taken = [s("172.17.0.0/16"), s("172.18.3.0/24")];
        assert_eq!(pick_free_subnet(&taken).unwrap(), s("172.19.0.0/16"));
        let all_b: Vec<Subnet> = (17..=31)
            .map(|n| Subnet::new(Ipv4Addr::new(172, n, 0, 0), 16))
            .collect();
        assert_eq!(pick_free_subnet(&all_b).unwrap(), s("192.168.0.0/20"));
        let mut more = all_b.clone();
        more.push(s("192.168.1.0/24"));
        assert_eq!(pick_free_subnet(&more).unwrap(), s("192.168.16.0/20"));
        more.push(s("192.168.0.0/16"));
        assert_eq!(pick_free_subnet(&more), None);
        assert_eq!(pick_free_subnet(&[s("0.0.0.0/0")]), None);
        assert_eq!(default_pools().count(), 31);
    }

    #[test]
    fn macs() {
        let m = mac_for(ip("172.17.0.2"));
        assert_eq!(format_mac(&m), "02:42:ac:11:00:02");
        assert_eq!(parse_mac("02:42:AC:11:00:02").unwrap(), m);
        assert_eq!(parse_mac("02-42-ac-11-00-02").unwrap(), m);
        for bad in [
            "",
            "02:42:ac:11:00",
            "02:42:ac:11:00:02:03",
            "0g:42:ac:11:00:02",
            "2:42:ac:11:00:002",
        ] {
            assert_eq!(
                parse_mac(bad).unwrap_err().kind(),
                ErrorKind::InvalidArgument
            );
        }
    }
}
