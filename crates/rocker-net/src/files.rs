//! The per-container `/etc/hosts` and `/etc/resolv.conf`, written the way Docker writes them,
//! plus the list of upstream resolvers the embedded DNS server forwards to.
//!
//! Everything here is a pure function of its inputs (the host's files are passed in as text),
//! so the engine decides where the files live and when they are rewritten.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Docker's fallback resolvers when the host has none a container can reach.
const FALLBACK_NAMESERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// The lines Docker puts at the top of every generated `/etc/hosts`.
const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n\
::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\n\
ff00::0\tip6-mcastprefix\n\
ff02::1\tip6-allnodes\n\
ff02::2\tip6-allrouters\n";

/// Bad input in one of the files' options. Always a bad parameter (HTTP 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilesError {
    /// `--add-host` without a `name:ip` / `name=ip` shape.
    #[error(
        "invalid argument {value:?} for \"--add-host\" flag: bad format for add-host: {value:?}"
    )]
    ExtraHostFormat { value: String },
    /// `--add-host` whose address is not an IP address (nor `host-gateway`).
    #[error(
        "invalid argument {value:?} for \"--add-host\" flag: invalid IP address in add-host: {ip:?}"
    )]
    ExtraHostAddress { value: String, ip: String },
}

/// `/etc/hosts` as Docker writes it: the localhost/ip6 lines, then the `--add-host` entries
/// (`extra`, as `(name, ip)`, in order; `host-gateway` already resolved by the caller), then one
/// `<ip>\t<hostname>` line per container address (`<ip>\t<hostname>.<domainname> <hostname>`
/// when a domain is set, also `<ip>\t<a.b> <a>` for a dotted hostname). This order, with
/// `--add-host` before the container's own lines, is the order Docker writes. Default-bridge `--link` entries come after the container's own lines
/// in Docker's file: the caller appends its `<ip>\t<alias> <name>` lines to the result.
///
/// With no address (`--network none`) only the default and `--add-host` lines are written.
/// `--network host` without `--add-host`: Docker copies the host's `/etc/hosts` instead; that
/// is the caller's business.
pub fn hosts(
    hostname: &str,
    domainname: &str,
    addrs: &[Ipv4Addr],
    extra: &[(String, String)],
) -> String {
    let mut out = String::from(DEFAULT_HOSTS);
    for (name, ip) in extra {
        out.push_str(&format!("{ip}\t{name}\n"));
    }
    // The FQDN, then the bare name when they differ (also for `--hostname a.example`).
    let mut names = if domainname.is_empty() {
        hostname.to_string()
    } else {
        format!("{hostname}.{domainname}")
    };
    if let Some((short, _)) = names.split_once('.') {
        names = format!("{names} {short}");
    }
    if !hostname.is_empty() {
        for addr in addrs {
            out.push_str(&format!("{addr}\t{names}\n"));
        }
    }
    out
}

/// Parses one `--add-host` entry: `name:ip` or `name=ip` (IPv6 allowed: `name:::1`, also
/// `name=[::1]`), or `name:host-gateway`. The address is returned in the form the user gave it
/// (brackets removed), as Docker does.
pub fn parse_extra_host(s: &str) -> Result<(String, String), FilesError> {
    let (name, ip) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .ok_or_else(|| FilesError::ExtraHostFormat {
            value: s.to_string(),
        })?;
    if name.is_empty() || name.contains(':') {
        return Err(FilesError::ExtraHostFormat {
            value: s.to_string(),
        });
    }
    if ip == "host-gateway" {
        return Ok((name.to_string(), ip.to_string()));
    }
    let ip = match ip.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) if !inner.is_empty() => inner,
        _ => ip,
    };
    if ip.trim().parse::<IpAddr>().is_err() {
        return Err(FilesError::ExtraHostAddress {
            value: s.to_string(),
            ip: ip.to_string(),
        });
    }
    Ok((name.to_string(), ip.to_string()))
}

/// `resolv.conf` for a container; `host` is the host's `/etc/resolv.conf` text and
/// `dns`/`search`/`options` are the `--dns`, `--dns-search`, `--dns-option` values (or the
/// daemon's), each replacing the host's value of its kind when non-empty.
///
/// - `embedded` `Some(ip)` (user-defined network): `nameserver <ip>` only, the search and
///   options of the host or the overrides, plus `options ndots:0` unless ndots is set already.
/// - `None` (default bridge): without overrides, the host's file minus loopback nameservers
///   (`127.x`, `::1`); with overrides, a file built from them and the host's remaining values.
///   When no nameserver is left: Docker's fallback `8.8.8.8` and `8.8.4.4`.
pub fn resolv_conf(
    host: &str,
    embedded: Option<Ipv4Addr>,
    dns: &[String],
    search: &[String],
    options: &[String],
) -> String {
    let parsed = HostResolv::parse(host);
    let overridden = !dns.is_empty() || !search.is_empty() || !options.is_empty();
    let pick = |over: &[String], own: &[String]| -> Vec<String> {
        if over.is_empty() {
            own.to_vec()
        } else {
            over.to_vec()
        }
    };
    let search = pick(search, &parsed.search);
    let mut options = pick(options, &parsed.options);
    match embedded {
        Some(ip) => {
            if !options.iter().any(|o| o.starts_with("ndots:")) {
                options.push("ndots:0".to_string());
            }
            build(&[ip.to_string()], &search, &options)
        }
        None if !overridden => {
            let mut out = String::new();
            for line in host.lines() {
                if parse_nameserver(line).is_some_and(|ip| ip.is_loopback()) {
                    continue;
                }
                out.push_str(line);
                out.push('\n');
            }
            if !parsed.nameservers.iter().any(|ip| !ip.is_loopback()) {
                for ns in FALLBACK_NAMESERVERS {
                    out.push_str(&format!("nameserver {ns}\n"));
                }
            }
            out
        }
        None => {
            let mut servers: Vec<String> = if dns.is_empty() {
                parsed
                    .nameservers
                    .iter()
                    .filter(|ip| !ip.is_loopback())
                    .map(|ip| ip.to_string())
                    .collect()
            } else {
                dns.to_vec()
            };
            if servers.is_empty() {
                servers = FALLBACK_NAMESERVERS.iter().map(|s| s.to_string()).collect();
            }
            // `--dns-search`/`--dns-option` given: the host's search/options are replaced only
            // for the kinds that were overridden, as in Docker.
            build(&servers, &search, &options)
        }
    }
}

/// Upstream servers for the embedded DNS server: `dns` when non-empty, else the host's
/// nameservers (loopback ones included: the server runs in the host's namespace). Entries may
/// be `ip` (port 53) or `ip:port` (`[v6]:port`); unparsable ones are skipped. With nothing
/// left, Docker's fallback `8.8.8.8` and `8.8.4.4`.
pub fn upstreams(host: &str, dns: &[String]) -> Vec<SocketAddr> {
    let from: Vec<String> = if dns.is_empty() {
        HostResolv::parse(host)
            .nameservers
            .iter()
            .map(|ip| ip.to_string())
            .collect()
    } else {
        dns.to_vec()
    };
    let mut out: Vec<SocketAddr> = from.iter().filter_map(|s| parse_server(s)).collect();
    if out.is_empty() {
        out = FALLBACK_NAMESERVERS
            .iter()
            .filter_map(|s| parse_server(s))
            .collect();
    }
    out
}

/// `ip` (port 53), `ip:port` or `[ipv6]:port`.
fn parse_server(s: &str) -> Option<SocketAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    s.parse::<SocketAddr>().ok()
}

/// Docker's `resolvconf.Build`: search, nameservers, options.
fn build(servers: &[String], search: &[String], options: &[String]) -> String {
    let mut out = String::new();
    let joined = search.join(" ");
    if !search.is_empty() && joined.trim() != "." {
        out.push_str(&format!("search {joined}\n"));
    }
    for ns in servers {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    let joined = options.join(" ");
    if !joined.trim().is_empty() {
        out.push_str(&format!("options {joined}\n"));
    }
    out
}

/// The address of a `nameserver <ip>` line, comments ignored.
fn parse_nameserver(line: &str) -> Option<IpAddr> {
    let mut words = strip_comment(line).split_whitespace();
    if words.next() != Some("nameserver") {
        return None;
    }
    words.next()?.parse().ok()
}

fn strip_comment(line: &str) -> &str {
    let end = line.find(['#', ';']).unwrap_or(line.len());
    &line[..end]
}

/// The parts of a host's resolv.conf Docker looks at. For `search` and `options` the last
/// line of each kind wins, as in Docker.
#[derive(Debug, Default)]
struct HostResolv {
    nameservers: Vec<IpAddr>,
    search: Vec<String>,
    options: Vec<String>,
}

impl HostResolv {
    fn parse(text: &str) -> HostResolv {
        let mut out = HostResolv::default();
        for line in text.lines() {
            if let Some(ip) = parse_nameserver(line) {
                out.nameservers.push(ip);
                continue;
            }
            let mut words = strip_comment(line).split_whitespace();
            match words.next() {
                Some("search") | Some("domain") => {
                    out.search = words.map(str::to_string).collect();
                }
                Some("options") => out.options = words.map(str::to_string).collect(),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn hosts_bridge_container() {
        let got = hosts("3f4e1a2b9c0d", "", &["172.17.0.2".parse().unwrap()], &[]);
        assert_eq!(
            got,
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
             fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
             ff02::2\tip6-allrouters\n172.17.0.2\t3f4e1a2b9c0d\n"
        );
    }

    #[test]
    fn hosts_with_domain_extra_and_two_networks() {
        let extra = vec![
            ("foo".to_string(), "1.2.3.4".to_string()),
            ("six".to_string(), "::1".to_string()),
        ];
        let addrs: Vec<Ipv4Addr> = vec!["172.18.0.2".parse().unwrap(), "10.0.0.5".parse().unwrap()];
        let got = hosts("web", "example.com", &addrs, &extra);
        let tail = got.strip_prefix(DEFAULT_HOSTS).unwrap();
        assert_eq!(
            tail,
            "1.2.3.4\tfoo\n::1\tsix\n172.18.0.2\tweb.example.com web\n10.0.0.5\tweb.example.com web\n"
        );
    }

    #[test]
    fn hosts_network_none() {
        assert_eq!(hosts("abc", "", &[], &[]), DEFAULT_HOSTS);
    }

    #[test]
    fn hosts_dotted_hostname() {
        let got = hosts("db.corp", "", &[Ipv4Addr::new(10, 0, 0, 9)], &[]);
        assert_eq!(
            got.strip_prefix(DEFAULT_HOSTS).unwrap(),
            "10.0.0.9\tdb.corp db\n"
        );
    }

    #[test]
    fn extra_host_forms() {
        assert_eq!(
            parse_extra_host("foo:1.2.3.4").unwrap(),
            ("foo".into(), "1.2.3.4".into())
        );
        assert_eq!(
            parse_extra_host("foo=1.2.3.4").unwrap(),
            ("foo".into(), "1.2.3.4".into())
        );
        assert_eq!(
            parse_extra_host("foo:::1").unwrap(),
            ("foo".into(), "::1".into())
        );
        assert_eq!(
            parse_extra_host("foo=[::1]").unwrap(),
            ("foo".into(), "::1".into())
        );
        assert_eq!(
            parse_extra_host("gw:host-gateway").unwrap(),
            ("gw".into(), "host-gateway".into())
        );
    }

    #[test]
    fn extra_host_errors_use_dockers_messages() {
        assert_eq!(
            parse_extra_host("foo:bar").unwrap_err().to_string(),
            r#"invalid argument "foo:bar" for "--add-host" flag: invalid IP address in add-host: "bar""#
        );
        assert_eq!(
            parse_extra_host("foo").unwrap_err().to_string(),
            r#"invalid argument "foo" for "--add-host" flag: bad format for add-host: "foo""#
        );
        assert!(parse_extra_host(":1.2.3.4").is_err());
        assert!(parse_extra_host("foo:").is_err());
    }

    const HOST: &str = "# generated\nsearch corp.example lan\nnameserver 127.0.0.53\n\
                        nameserver 10.1.1.1\nnameserver ::1\noptions edns0 trust-ad\n";

    #[test]
    fn resolv_default_bridge_filters_loopback() {
        assert_eq!(
            resolv_conf(HOST, None, &[], &[], &[]),
            "# generated\nsearch corp.example lan\nnameserver 10.1.1.1\noptions edns0 trust-ad\n"
        );
    }

    #[test]
    fn resolv_default_bridge_fallback() {
        let host = "nameserver 127.0.0.53\noptions edns0\n";
        assert_eq!(
            resolv_conf(host, None, &[], &[], &[]),
            "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        assert_eq!(
            resolv_conf("", None, &[], &[], &[]),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn resolv_default_bridge_overrides() {
        assert_eq!(
            resolv_conf(HOST, None, &s(&["9.9.9.9"]), &[], &[]),
            "search corp.example lan\nnameserver 9.9.9.9\noptions edns0 trust-ad\n"
        );
        assert_eq!(
            resolv_conf(HOST, None, &[], &s(&["a.test"]), &s(&["ndots:2"])),
            "search a.test\nnameserver 10.1.1.1\noptions ndots:2\n"
        );
        assert_eq!(
            resolv_conf(HOST, None, &[], &s(&["."]), &[]),
            "nameserver 10.1.1.1\noptions edns0 trust-ad\n"
        );
    }

    #[test]
    fn resolv_embedded() {
        let ip = Some(Ipv4Addr::new(172, 18, 0, 1));
        assert_eq!(
            resolv_conf(HOST, ip, &[], &[], &[]),
            "search corp.example lan\nnameserver 172.18.0.1\noptions edns0 trust-ad ndots:0\n"
        );
        assert_eq!(
            resolv_conf("nameserver 1.1.1.1\n", ip, &s(&["8.8.8.8"]), &[], &[]),
            "nameserver 172.18.0.1\noptions ndots:0\n"
        );
        assert_eq!(
            resolv_conf(HOST, ip, &[], &[], &s(&["ndots:3"])),
            "search corp.example lan\nnameserver 172.18.0.1\noptions ndots:3\n"
        );
    }

    #[test]
    fn upstream_lists() {
        let got = upstreams(HOST, &[]);
        assert_eq!(
            got,
            vec![
                "127.0.0.53:53".parse::<SocketAddr>().unwrap(),
                "10.1.1.1:53".parse().unwrap(),
                "[::1]:53".parse().unwrap(),
            ]
        );
        let got = upstreams(
            HOST,
            &s(&["1.1.1.1", "127.0.0.1:5353", "bogus", "[::1]:54"]),
        );
        assert_eq!(
            got,
            vec![
                "1.1.1.1:53".parse::<SocketAddr>().unwrap(),
                "127.0.0.1:5353".parse().unwrap(),
                "[::1]:54".parse().unwrap(),
            ]
        );
        assert_eq!(upstreams("", &[]).len(), 2);
    }
}
