//! Private network resources of a test daemon: a default bridge name, a /24 that no route
//! of the host covers, and an nftables table name, all unique so that daemons run in
//! parallel; plus host-side checks and cleanup for them.

use std::net::Ipv4Addr;
use std::process::Command;

/// What one test daemon owns on the host's network stack.
#[derive(Debug, Clone)]
pub struct TestNet {
    pub bridge: String,
    /// `10.a.b.0/24` (b even) for the default bridge.
    pub subnet: String,
    /// `10.a.b+1.0/24`: free for one user-defined network of the test.
    pub spare: String,
    /// The bridge's address (`10.a.b.1`).
    pub gateway: Ipv4Addr,
    pub table: String,
}

/// IPv4 routes of the host as (network, prefix) from /proc/net/route.
fn routes() -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dst = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            Some((dst.swap_bytes(), mask.swap_bytes()))
        })
        .collect()
}

impl TestNet {
    /// A fresh name set and a /23 in 10.128.0.0/9 overlapping no route of the host.
    pub fn pick() -> TestNet {
        let taken = routes();
        for _ in 0..200 {
            let r: u32 = rand::random();
            let a = 128 + (r % 128) as u8;
            let b = ((r >> 8) % 128) as u8 * 2;
            let net = u32::from(Ipv4Addr::new(10, a, b, 0));
            // Our /23 inside a route, or a route inside our /23 (the default route aside).
            let clash = taken.iter().any(|(dst, mask)| {
                (*mask != 0 && (net & mask) == (dst & mask)) || (dst & 0xffff_fe00) == net
            });
            if clash {
                continue;
            }
            let tag = format!("{:08x}", rand::random::<u32>());
            return TestNet {
                bridge: format!("rk{tag}"),
                subnet: format!("10.{a}.{b}.0/24"),
                spare: format!("10.{a}.{}.0/24", b + 1),
                gateway: Ipv4Addr::new(10, a, b, 1),
                table: format!("rocker_e2e_{tag}"),
            };
        }
        panic!("no free test subnet in 10.128.0.0/9");
    }

    /// Names of the interfaces enslaved to this daemon's bridge (the host ends of veths).
    pub fn bridge_ports(&self) -> Vec<String> {
        let dir = format!("/sys/class/net/{}/brif", self.bridge);
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The table's ruleset as `nft list table` prints it ("" when it does not exist).
    pub fn ruleset(&self) -> String {
        Command::new("nft")
            .args(["list", "table", "ip", &self.table])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Removes the bridge and the table (the daemon leaves both, as dockerd leaves docker0),
    /// and the DOCKER-USER accepts it adds where a dockerd left its chains.
    pub fn cleanup(&self) {
        for dir in ["-i", "-o"] {
            for _ in 0..4 {
                let deleted = Command::new("iptables")
                    .args(["-w", "-D", "DOCKER-USER", dir, &self.bridge, "-j", "ACCEPT"])
                    .stderr(std::process::Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if !deleted {
                    break;
                }
            }
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = Command::new("nft")
            .args(["delete", "table", "ip", &self.table])
            .stderr(std::process::Stdio::null())
            .status();
    }
}
