//! Rocker's container networking: network namespaces, bridges and veth pairs (netlink),
//! address management, the nftables table that does NAT and port publishing, the embedded
//! DNS server of user-defined networks, and the per-container /etc files.
//!
//! Everything here is a mechanism: which container sits on which network, and what is
//! persisted, is the engine's business.

pub mod dns;
pub mod files;
pub mod ipam;
pub mod kind;
pub mod link;
pub mod netns;
pub mod nft;
pub mod ports;
