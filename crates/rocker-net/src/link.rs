//! Network devices through rtnetlink: the per-network bridge, the veth pair of each
//! endpoint (peer created directly inside the container's namespace), addresses, routes,
//! and the host facts the engine needs to pick subnets (routes, addresses).
//!
//! One synchronous netlink socket per call sequence, no `ip` binary: attaching an endpoint
//! is a handful of round trips to the kernel, well under a millisecond or two.

use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::ipam::Subnet;
use crate::kind::ErrorKind;
use crate::netns::{self, NetnsError};

/// Errors from link handling; each names the step and the interface.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Opening the netlink socket.
    #[error("open netlink socket: {0}")]
    Socket(io::Error),
    /// The interface name is empty, too long (> 15 bytes) or has forbidden characters.
    #[error("invalid interface name {0:?}")]
    InvalidName(String),
    /// Looking an interface up.
    #[error("look up link {name}: {source}")]
    Lookup {
        /// The interface.
        name: String,
        /// The cause.
        source: io::Error,
    },
    /// The interface does not exist.
    #[error("link {0} not found")]
    NotFound(String),
    /// Creating an interface (bridge or veth pair).
    #[error("create link {name}: {source}")]
    Create {
        /// The interface.
        name: String,
        /// The cause.
        source: io::Error,
    },
    /// Changing an interface (up, MTU).
    #[error("configure link {name}: {source}")]
    Configure {
        /// The interface.
        name: String,
        /// The cause.
        source: io::Error,
    },
    /// Adding an address.
    #[error("add address {addr}/{prefix} to {name}: {source}")]
    AddAddress {
        /// The interface.
        name: String,
        /// The address.
        addr: Ipv4Addr,
        /// Its prefix length.
        prefix: u8,
        /// The cause.
        source: io::Error,
    },
    /// Adding the default route.
    #[error("add default route via {gateway} on {name}: {source}")]
    AddRoute {
        /// The interface.
        name: String,
        /// The gateway.
        gateway: Ipv4Addr,
        /// The cause.
        source: io::Error,
    },
    /// Deleting an interface.
    #[error("delete link {name}: {source}")]
    Delete {
        /// The interface.
        name: String,
        /// The cause.
        source: io::Error,
    },
    /// Listing links, addresses or routes.
    #[error("dump {what}: {source}")]
    Dump {
        /// What was listed.
        what: &'static str,
        /// The cause.
        source: io::Error,
    },
    /// Entering the endpoint's namespace.
    #[error("endpoint {name}: {source}")]
    Netns {
        /// The interface.
        name: String,
        /// The cause.
        source: NetnsError,
    },
    /// Writing a sysctl.
    #[error("write sysctl {path}: {source}")]
    Sysctl {
        /// The /proc/sys file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl LinkError {
    /// The error class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidName(_) => ErrorKind::InvalidArgument,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Create { source, .. } if source.raw_os_error() == Some(libc::EEXIST) => {
                ErrorKind::AlreadyExists
            }
            Self::Netns { source, .. } => source.kind(),
            _ => ErrorKind::Internal,
        }
    }
}

fn check_name(name: &str) -> Result<(), LinkError> {
    let ok = !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b <= b' ' || b == 0x7f);
    if ok {
        Ok(())
    } else {
        Err(LinkError::InvalidName(name.to_string()))
    }
}

/// One rtnetlink socket in the namespace of the thread that opened it.
struct Netlink {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

const RECV_BUF: usize = 128 * 1024;

impl Netlink {
    fn open() -> Result<Netlink, LinkError> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(LinkError::Socket)?;
        sock.bind_auto().map_err(LinkError::Socket)?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(LinkError::Socket)?;
        Ok(Netlink {
            sock,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
        })
    }

    fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.sock.send(&out, 0)?;
        Ok(self.seq)
    }

    /// Reads replies to `seq` until the ACK/error (or Done for dumps), collecting the
    /// inner messages. Requests that are not dumps must carry NLM_F_ACK, or this waits
    /// forever (a plain GET gets its answer but no ACK).
    fn replies(&mut self, seq: u32) -> io::Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        loop {
            self.buf.clear();
            let n = self.sock.recv(&mut self.buf, 0)?;
            let data = &self.buf[..n.min(self.buf.len())];
            let mut off = 0;
            while off + 16 <= data.len() {
                let len =
                    u32::from_ne_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]])
                        as usize;
                if len < 16 || off + len > data.len() {
                    break;
                }
                let chunk = &data[off..off + len];
                off += (len + 3) & !3;
                let msg_seq = u32::from_ne_bytes([chunk[8], chunk[9], chunk[10], chunk[11]]);
                if msg_seq != seq {
                    continue;
                }
                // A message this crate cannot decode is skipped rather than failing the
                // whole call (newer kernels add attributes).
                let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(chunk) else {
                    tracing::debug!(len, "skipping undecodable netlink message");
                    continue;
                };
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                        }
                    }
                    NetlinkPayload::InnerMessage(inner) => out.push(inner),
                    _ => {}
                }
            }
        }
    }

    /// Sends a request and waits for its ACK.
    fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        let seq = self.send(msg, flags | NLM_F_ACK)?;
        self.replies(seq).map(drop)
    }

    fn dump(&mut self, msg: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let seq = self.send(msg, NLM_F_DUMP)?;
        self.replies(seq)
    }

    /// The index of interface `name`, None if it does not exist.
    fn index_of(&mut self, name: &str) -> Result<Option<u32>, LinkError> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        let seq = self
            .send(RouteNetlinkMessage::GetLink(msg), NLM_F_ACK)
            .map_err(|source| lookup_err(name, source))?;
        match self.replies(seq) {
            Ok(replies) => Ok(replies.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(source) => Err(lookup_err(name, source)),
        }
    }

    fn delete(&mut self, name: &str) -> Result<(), LinkError> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        match self.request(RouteNetlinkMessage::DelLink(msg), 0) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
            Err(source) => Err(LinkError::Delete {
                name: name.to_string(),
                source,
            }),
        }
    }

    fn add_address(
        &mut self,
        name: &str,
        index: u32,
        addr: Ipv4Addr,
        prefix: u8,
    ) -> Result<(), LinkError> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        msg.header.prefix_len = prefix;
        msg.header.index = index;
        msg.attributes
            .push(AddressAttribute::Local(IpAddr::V4(addr)));
        msg.attributes
            .push(AddressAttribute::Address(IpAddr::V4(addr)));
        if prefix < 31 {
            let bcast = Subnet::new(addr, prefix).broadcast();
            msg.attributes.push(AddressAttribute::Broadcast(bcast));
        }
        self.request(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map_err(|source| LinkError::AddAddress {
            name: name.to_string(),
            addr,
            prefix,
            source,
        })
    }

    /// IPv4 addresses with their prefix, optionally of one interface.
    fn addresses(&mut self, index: Option<u32>) -> Result<Vec<(Ipv4Addr, u8)>, LinkError> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        let replies = self
            .dump(RouteNetlinkMessage::GetAddress(msg))
            .map_err(|source| LinkError::Dump {
                what: "addresses",
                source,
            })?;
        let mut out = Vec::new();
        for m in replies {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            if index.is_some_and(|i| i != a.header.index) {
                continue;
            }
            let local = a.attributes.iter().find_map(|at| match at {
                AddressAttribute::Local(IpAddr::V4(ip)) => Some(*ip),
                _ => None,
            });
            let address = a.attributes.iter().find_map(|at| match at {
                AddressAttribute::Address(IpAddr::V4(ip)) => Some(*ip),
                _ => None,
            });
            if let Some(ip) = local.or(address) {
                out.push((ip, a.header.prefix_len));
            }
        }
        Ok(out)
    }
}

fn lookup_err(name: &str, source: io::Error) -> LinkError {
    LinkError::Lookup {
        name: name.to_string(),
        source,
    }
}

fn up_header(msg: &mut LinkMessage) {
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
}

/// Creates the bridge if missing, sets `gateway/prefix` on it if missing, MTU, brings it up.
/// Idempotent (daemon restart). Returns ifindex.
pub fn ensure_bridge(
    name: &str,
    gateway: Ipv4Addr,
    prefix: u8,
    mtu: Option<u32>,
) -> Result<u32, LinkError> {
    check_name(name)?;
    let mut nl = Netlink::open()?;
    let index = match nl.index_of(name)? {
        Some(index) => {
            let mut msg = LinkMessage::default();
            msg.header.index = index;
            up_header(&mut msg);
            if let Some(mtu) = mtu {
                msg.attributes.push(LinkAttribute::Mtu(mtu));
            }
            nl.request(RouteNetlinkMessage::NewLink(msg), 0)
                .map_err(|source| LinkError::Configure {
                    name: name.to_string(),
                    source,
                })?;
            index
        }
        None => {
            let mut msg = LinkMessage::default();
            up_header(&mut msg);
            msg.attributes.push(LinkAttribute::IfName(name.to_string()));
            if let Some(mtu) = mtu {
                msg.attributes.push(LinkAttribute::Mtu(mtu));
            }
            msg.attributes
                .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                    InfoKind::Bridge,
                )]));
            match nl.request(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL) {
                Ok(()) => {}
                // Lost a race with another caller: the bridge exists, which is the goal.
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(source) => {
                    return Err(LinkError::Create {
                        name: name.to_string(),
                        source,
                    })
                }
            }
            nl.index_of(name)?
                .ok_or_else(|| LinkError::NotFound(name.to_string()))?
        }
    };
    let present = nl.addresses(Some(index))?.contains(&(gateway, prefix));
    if !present {
        match nl.add_address(name, index, gateway, prefix) {
            Ok(()) => {}
            Err(LinkError::AddAddress { source, .. })
                if source.raw_os_error() == Some(libc::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(index)
}

/// Deletes a link by name; Ok if it does not exist.
pub fn delete_link(name: &str) -> Result<(), LinkError> {
    check_name(name)?;
    Netlink::open()?.delete(name)
}

/// Whether a link named `name` exists in the caller's namespace.
pub fn link_exists(name: &str) -> Result<bool, LinkError> {
    check_name(name)?;
    Ok(Netlink::open()?.index_of(name)?.is_some())
}

/// IPv4 routes of the host's main table as subnets (overlap detection for new networks).
/// The default route (0.0.0.0/0) is left out: it overlaps everything.
pub fn host_routes() -> Result<Vec<Subnet>, LinkError> {
    let mut nl = Netlink::open()?;
    let mut msg = RouteMessage::default();
    msg.header.address_family = AddressFamily::Inet;
    let replies = nl
        .dump(RouteNetlinkMessage::GetRoute(msg))
        .map_err(|source| LinkError::Dump {
            what: "routes",
            source,
        })?;
    let mut out = Vec::new();
    for m in replies {
        let RouteNetlinkMessage::NewRoute(r) = m else {
            continue;
        };
        let table = r
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::Table(t) => Some(*t),
                _ => None,
            })
            .unwrap_or(u32::from(r.header.table));
        if table != u32::from(RouteHeader::RT_TABLE_MAIN)
            || r.header.kind != RouteType::Unicast
            || r.header.destination_prefix_length == 0
        {
            continue;
        }
        let dst = r.attributes.iter().find_map(|a| match a {
            RouteAttribute::Destination(RouteAddress::Inet(ip)) => Some(*ip),
            _ => None,
        });
        if let Some(dst) = dst {
            let subnet = Subnet::new(dst, r.header.destination_prefix_length);
            if !out.contains(&subnet) {
                out.push(subnet);
            }
        }
    }
    Ok(out)
}

/// One container interface on one network.
#[derive(Debug, Clone)]
pub struct Endpoint<'a> {
    /// Bind-mounted namespace of the container.
    pub netns: &'a Path,
    /// Host end of the veth pair, e.g. "veth1a2b3c4" (<= 15 chars).
    pub host_ifname: &'a str,
    /// Name inside the container: "eth0", "eth1"...
    pub ifname: &'a str,
    /// The network's bridge.
    pub bridge: &'a str,
    /// MAC of the container end.
    pub mac: [u8; 6],
    /// Container address.
    pub addr: Ipv4Addr,
    /// Its prefix length.
    pub prefix: u8,
    /// Default route via it (only for the first network).
    pub gateway: Option<Ipv4Addr>,
    /// MTU of both ends.
    pub mtu: Option<u32>,
}

/// Creates the veth pair with the peer made directly inside the netns (IFLA_NET_NS_FD on
/// the peer in the same RTM_NEWLINK; the goal is speed: no move after creation), enslaves
/// the host end to the bridge and brings it up, then inside the namespace: MAC, address,
/// up, default route. Any failure deletes the host end (which takes the peer with it).
pub fn attach(ep: &Endpoint) -> Result<(), LinkError> {
    check_name(ep.host_ifname)?;
    check_name(ep.ifname)?;
    check_name(ep.bridge)?;
    let ns = File::open(ep.netns).map_err(|source| LinkError::Netns {
        name: ep.host_ifname.to_string(),
        source: NetnsError::Open {
            path: ep.netns.to_path_buf(),
            source,
        },
    })?;
    let mut nl = Netlink::open()?;
    let bridge = nl
        .index_of(ep.bridge)?
        .ok_or_else(|| LinkError::NotFound(ep.bridge.to_string()))?;

    // The peer is brought up from inside the namespace: asking for IFF_UP on the peer in
    // the creating message fails with ENOTCONN (its other end is not registered yet).
    let mut peer = LinkMessage::default();
    peer.attributes
        .push(LinkAttribute::IfName(ep.ifname.to_string()));
    peer.attributes
        .push(LinkAttribute::Address(ep.mac.to_vec()));
    peer.attributes.push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
    let mut host = LinkMessage::default();
    up_header(&mut host);
    host.attributes
        .push(LinkAttribute::IfName(ep.host_ifname.to_string()));
    host.attributes.push(LinkAttribute::Controller(bridge));
    if let Some(mtu) = ep.mtu {
        peer.attributes.push(LinkAttribute::Mtu(mtu));
        host.attributes.push(LinkAttribute::Mtu(mtu));
    }
    host.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    nl.request(
        RouteNetlinkMessage::NewLink(host),
        NLM_F_CREATE | NLM_F_EXCL,
    )
    .map_err(|source| LinkError::Create {
        name: ep.host_ifname.to_string(),
        source,
    })?;
    drop(ns);

    let configured = set_hairpin(&mut nl, ep.host_ifname).and_then(|()| {
        netns::run_in(ep.netns, || configure_inside(ep))
            .map_err(|source| LinkError::Netns {
                name: ep.host_ifname.to_string(),
                source,
            })
            .and_then(|r| r)
    });
    if let Err(e) = configured {
        if let Err(cleanup) = nl.delete(ep.host_ifname) {
            tracing::warn!(error = %cleanup, "cleanup after failed attach");
        }
        return Err(e);
    }
    Ok(())
}

/// Hairpin mode on the host end's bridge port: with br_netfilter loaded, a container's
/// packet to its own published port is DNATed at the bridge layer and must leave by the
/// port it came in on (Docker sets the same when the userland proxy is off).
fn set_hairpin(nl: &mut Netlink, host_ifname: &str) -> Result<(), LinkError> {
    let mut msg = LinkMessage::default();
    msg.attributes
        .push(LinkAttribute::IfName(host_ifname.to_string()));
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::PortKind(InfoPortKind::Bridge),
        LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
            true,
        )])),
    ]));
    nl.request(RouteNetlinkMessage::NewLink(msg), 0)
        .map_err(|source| LinkError::Configure {
            name: host_ifname.to_string(),
            source,
        })
}

/// The namespace side of [`attach`]: address and default route on the container end.
fn configure_inside(ep: &Endpoint) -> Result<(), LinkError> {
    let mut nl = Netlink::open()?;
    let index = nl
        .index_of(ep.ifname)?
        .ok_or_else(|| LinkError::NotFound(ep.ifname.to_string()))?;
    nl.add_address(ep.ifname, index, ep.addr, ep.prefix)?;
    let mut up = LinkMessage::default();
    up.header.index = index;
    up_header(&mut up);
    nl.request(RouteNetlinkMessage::NewLink(up), 0)
        .map_err(|source| LinkError::Configure {
            name: ep.ifname.to_string(),
            source,
        })?;
    if let Some(gateway) = ep.gateway {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.scope = RouteScope::Universe;
        msg.header.kind = RouteType::Unicast;
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        msg.attributes.push(RouteAttribute::Oif(index));
        nl.request(
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map_err(|source| LinkError::AddRoute {
            name: ep.ifname.to_string(),
            gateway,
            source,
        })?;
    }
    Ok(())
}

/// Deletes the host end of an endpoint (Ok if already gone).
pub fn detach(host_ifname: &str) -> Result<(), LinkError> {
    delete_link(host_ifname)
}

fn write_sysctl(path: &str) -> Result<(), LinkError> {
    std::fs::write(path, b"1").map_err(|source| LinkError::Sysctl {
        path: PathBuf::from(path),
        source,
    })
}

/// Sysctls: enables net.ipv4.ip_forward and `net.ipv4.conf.<bridge>.route_localnet=1`
/// (needed for published ports on 127.0.0.1).
pub fn enable_forwarding(bridge: &str) -> Result<(), LinkError> {
    check_name(bridge)?;
    if std::fs::read("/proc/sys/net/ipv4/ip_forward")
        .ok()
        .as_deref()
        != Some(b"1\n")
    {
        write_sysctl("/proc/sys/net/ipv4/ip_forward")?;
    }
    write_sysctl(&format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"))
}

#[cfg(test)]
pub(crate) mod tests;
