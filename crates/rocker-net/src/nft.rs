//! The one nftables table Rocker owns: egress NAT, isolation of internal networks and
//! between Rocker networks, and published ports (DNAT, hairpin, localhost).
//!
//! The engine describes the whole desired state as a [`Ruleset`]; [`Ruleset::apply`]
//! replaces the table in one `nft -f -` transaction, so the kernel never sees a half-built
//! table and there is no per-rule bookkeeping to get out of sync after a crash.
//!
//! Note on other firewalls: an `accept` in our forward chain ends the packet's walk through
//! *our* table only. Another table's base chain on the same hook (for example the
//! `ip filter FORWARD` chain with policy drop that dockerd leaves behind) still sees the
//! packet and can drop it; see [`forward_blocked_by_other_tables`].

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use crate::ipam::Subnet;
use crate::kind::ErrorKind;

/// Errors from nftables handling.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    /// The table or an interface name cannot be used in an nft script.
    #[error("invalid nftables name {0:?}")]
    InvalidName(String),
    /// Running `nft`.
    #[error("run nft for table {table}: {source}")]
    Spawn {
        /// The table.
        table: String,
        /// The cause.
        source: io::Error,
    },
    /// nft rejected the script.
    #[error("apply nftables table {table}: {stderr}")]
    Apply {
        /// The table.
        table: String,
        /// nft's error output.
        stderr: String,
    },
}

impl NftError {
    /// The error class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidName(_) => ErrorKind::InvalidArgument,
            _ => ErrorKind::Internal,
        }
    }
}

/// Transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// "tcp" / "udp".
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Rules of one Rocker network (one bridge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRules {
    /// The bridge device.
    pub bridge: String,
    /// The network's subnet.
    pub subnet: Subnet,
    /// No traffic in or out of the bridge (only within it).
    pub internal: bool,
    /// Masquerade traffic leaving the subnet by another interface.
    pub masquerade: bool,
}

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    /// Protocol.
    pub proto: Proto,
    /// Host address to match; None = every local address.
    pub host_ip: Option<Ipv4Addr>,
    /// Host port.
    pub host_port: u16,
    /// Container address.
    pub container_ip: Ipv4Addr,
    /// Container port.
    pub container_port: u16,
    /// Bridge the container address sits on.
    pub bridge: String,
}

/// The whole content of Rocker's table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// Table name (family `ip`).
    pub table: String,
    /// Networks.
    pub networks: Vec<NetRules>,
    /// Published ports.
    pub ports: Vec<PortRule>,
}

fn valid_table(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Ruleset {
    fn validate(&self) -> Result<(), NftError> {
        if !valid_table(&self.table) {
            return Err(NftError::InvalidName(self.table.clone()));
        }
        let bridges = self.networks.iter().map(|n| &n.bridge);
        for b in bridges.chain(self.ports.iter().map(|p| &p.bridge)) {
            if !valid_ifname(b) {
                return Err(NftError::InvalidName(b.clone()));
            }
        }
        Ok(())
    }

    /// The nft script: create-if-missing + delete + full table, one transaction.
    pub fn render(&self) -> String {
        let t = &self.table;
        let mut s = String::new();
        // `table` creates it if missing, so the `delete` never fails.
        let _ = writeln!(s, "table ip {t} {{}}");
        let _ = writeln!(s, "delete table ip {t}");
        let _ = writeln!(s, "table ip {t} {{");

        // DNAT of published ports, shared by prerouting (other hosts, namespaces and
        // containers, hairpin included) and output (the host itself, 127.0.0.1 included).
        let _ = writeln!(s, "\tchain published {{");
        for p in &self.ports {
            let dst = match p.host_ip {
                Some(ip) if !ip.is_unspecified() => format!("ip daddr {ip}"),
                _ => "fib daddr type local".to_string(),
            };
            let _ = writeln!(
                s,
                "\t\t{dst} {proto} dport {hp} dnat to {cip}:{cp}",
                proto = p.proto.as_str(),
                hp = p.host_port,
                cip = p.container_ip,
                cp = p.container_port,
            );
        }
        let _ = writeln!(s, "\t}}");
        let _ = writeln!(s, "\tchain prerouting {{");
        let _ = writeln!(
            s,
            "\t\ttype nat hook prerouting priority dstnat; policy accept;"
        );
        let _ = writeln!(s, "\t\tjump published");
        let _ = writeln!(s, "\t}}");
        let _ = writeln!(s, "\tchain output {{");
        let _ = writeln!(s, "\t\ttype nat hook output priority -100; policy accept;");
        let _ = writeln!(s, "\t\tjump published");
        let _ = writeln!(s, "\t}}");

        let _ = writeln!(s, "\tchain postrouting {{");
        let _ = writeln!(
            s,
            "\t\ttype nat hook postrouting priority srcnat; policy accept;"
        );
        for n in &self.networks {
            let (br, net) = (&n.bridge, n.subnet);
            // Host loopback to a published port (needs route_localnet on the bridge).
            let _ = writeln!(s, "\t\tip saddr 127.0.0.0/8 oifname \"{br}\" masquerade");
            // Hairpin: a container reaching a published port of its own network.
            let _ = writeln!(
                s,
                "\t\tip saddr {net} oifname \"{br}\" ct status dnat masquerade"
            );
            if n.masquerade && !n.internal {
                let _ = writeln!(s, "\t\tip saddr {net} oifname != \"{br}\" masquerade");
            }
        }
        let _ = writeln!(s, "\t}}");

        // Filtering. Our accepts do not override a drop in another table's forward chain.
        let _ = writeln!(s, "\tchain forward {{");
        let _ = writeln!(
            s,
            "\t\ttype filter hook forward priority filter; policy accept;"
        );
        for n in self.networks.iter().filter(|n| n.internal) {
            let br = &n.bridge;
            let _ = writeln!(s, "\t\tiifname \"{br}\" oifname != \"{br}\" drop");
            let _ = writeln!(s, "\t\toifname \"{br}\" iifname != \"{br}\" drop");
        }
        let _ = writeln!(s, "\t\tct state established,related accept");
        for p in &self.ports {
            let _ = writeln!(
                s,
                "\t\tip daddr {cip} oifname \"{br}\" {proto} dport {cp} ct status dnat accept",
                cip = p.container_ip,
                br = p.bridge,
                proto = p.proto.as_str(),
                cp = p.container_port,
            );
        }
        // Isolation between Rocker networks (Docker's DOCKER-ISOLATION chains).
        let bridges: Vec<&str> = self.networks.iter().map(|n| n.bridge.as_str()).collect();
        for br in &bridges {
            let others: Vec<String> = bridges
                .iter()
                .filter(|b| *b != br)
                .map(|b| format!("\"{b}\""))
                .collect();
            if !others.is_empty() {
                let _ = writeln!(
                    s,
                    "\t\tiifname \"{br}\" oifname {{ {} }} drop",
                    others.join(", ")
                );
            }
        }
        for n in self.networks.iter().filter(|n| !n.internal) {
            let br = &n.bridge;
            // Unsolicited traffic routed to container addresses from outside is dropped
            // (only published ports, accepted above, get in), as Docker >= 28 does.
            let _ = writeln!(s, "\t\toifname \"{br}\" iifname != \"{br}\" drop");
            let _ = writeln!(s, "\t\tiifname \"{br}\" accept");
        }
        let _ = writeln!(s, "\t}}");
        let _ = writeln!(s, "}}");
        s
    }

    /// Replaces the table with `nft -f -` (one transaction); nft's stderr in the error.
    pub fn apply(&self) -> Result<(), NftError> {
        self.validate()?;
        run_nft(&self.table, &self.render())
    }
}

fn run_nft(table: &str, script: &str) -> Result<(), NftError> {
    let spawn_err = |source| NftError::Spawn {
        table: table.to_string(),
        source,
    };
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).map_err(spawn_err)?;
    }
    let out = child.wait_with_output().map_err(spawn_err)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NftError::Apply {
            table: table.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Deletes the table; Ok if it does not exist.
pub fn delete_table(table: &str) -> Result<(), NftError> {
    if !valid_table(table) {
        return Err(NftError::InvalidName(table.to_string()));
    }
    run_nft(
        table,
        &format!("table ip {table} {{}}\ndelete table ip {table}\n"),
    )
}

/// Whether another `ip`-family table has a forward base chain with policy drop (dockerd's
/// leftover `ip filter FORWARD`), which drops forwarded container traffic whatever our
/// table says. For diagnostics and tests; reads `nft list chains`.
pub fn forward_blocked_by_other_tables(own_table: &str) -> bool {
    let Ok(out) = Command::new("nft").args(["list", "chains", "ip"]).output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut table = "";
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("table ip ") {
            table = rest.trim_end_matches(" {").trim();
        } else if table != own_table && l.contains("hook forward") && l.contains("policy drop") {
            return true;
        }
    }
    false
}

/// Runs `iptables -w <args>`; Ok(true) on success, Ok(false) on exit status 1 (rule or
/// chain missing), an error otherwise.
fn iptables(args: &[&str]) -> Result<bool, NftError> {
    let out = Command::new("iptables")
        .arg("-w")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| NftError::Spawn {
            table: "filter".into(),
            source,
        })?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(NftError::Apply {
            table: "filter".into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
    }
}

/// When dockerd's chains are present (`DOCKER-USER` in iptables' `filter` table), makes
/// sure forwarded traffic in and out of `bridge` is accepted there: dockerd's `FORWARD`
/// chain has policy drop and an accept in our own table cannot override it. DOCKER-USER is
/// the hook Docker documents for other software; our table still does the filtering
/// (internal networks, isolation). Idempotent; returns whether the chain exists.
pub fn allow_in_docker_user(bridge: &str) -> Result<bool, NftError> {
    if !valid_ifname(bridge) {
        return Err(NftError::InvalidName(bridge.to_string()));
    }
    if !iptables(&["-n", "-L", "DOCKER-USER"])? {
        return Ok(false);
    }
    for dir in ["-i", "-o"] {
        let rule = ["DOCKER-USER", dir, bridge, "-j", "ACCEPT"];
        if !iptables(&[&["-C"], &rule[..]].concat())? {
            iptables(&[&["-I"], &rule[..]].concat())?;
        }
    }
    Ok(true)
}

/// Removes what [`allow_in_docker_user`] added for `bridge`; Ok if absent.
pub fn revoke_in_docker_user(bridge: &str) -> Result<(), NftError> {
    if !valid_ifname(bridge) {
        return Err(NftError::InvalidName(bridge.to_string()));
    }
    for dir in ["-i", "-o"] {
        let rule = ["DOCKER-USER", dir, bridge, "-j", "ACCEPT"];
        // -D deletes one copy; loop in case of duplicates.
        while iptables(&[&["-D"], &rule[..]].concat())? {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
