//! Docker's port syntax on the command line: `-p/--publish` and `--expose` specs turned into
//! `ExposedPorts` and `HostConfig.PortBindings`, and the published ports rendered back for
//! `ps` and `port`.
//!
//! The rules and messages are those of the docker CLI (its `nat` package): a spec is
//! `[ip:][hostPort:]containerPort[/proto]`, each port may be a `start-end` range, a host range
//! with a single container port is a range to allocate from, `[v6]` addresses lose their
//! brackets, and the long form `published=P,target=T,protocol=X` is accepted too.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rocker_api::models::{EmptyObject, Port, PortBinding};

/// `ExposedPorts` keys (`"80/tcp"`) of a create body.
pub type ExposedPorts = BTreeMap<String, EmptyObject>;
/// `HostConfig.PortBindings` of a create body.
pub type PortBindings = BTreeMap<String, Vec<PortBinding>>;

/// Docker's `SplitProtoPort`: `80/udp` -> (`udp`, `80`); the protocol defaults to `tcp`.
fn split_proto_port(raw: &str) -> (&str, &str) {
    let mut parts = raw.split('/');
    let port = parts.next().unwrap_or("");
    if raw.is_empty() || port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(proto) => (proto, port),
    }
}

/// Docker's `ParsePortRange`: `80` or `80-90` (only the first two `-` fields count).
fn parse_port_range(s: &str) -> Result<(u16, u16), ()> {
    if s.is_empty() {
        return Err(());
    }
    let mut parts = s.split('-');
    let start: u16 = parts.next().unwrap_or("").parse().map_err(drop)?;
    let end: u16 = match parts.next() {
        None => start,
        Some(e) => e.parse().map_err(drop)?,
    };
    if end < start {
        return Err(());
    }
    Ok((start, end))
}

/// `ip`, `hostPort` and `containerPort` of a short-syntax spec (`[::1]:8080:80` keeps the
/// brackets here).
fn split_parts(raw: &str) -> (String, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1];
    match n {
        1 => (String::new(), "", container),
        2 => (String::new(), parts[0], container),
        3 => (parts[0].to_string(), parts[1], container),
        _ => (parts[..n - 2].join(":"), parts[n - 2], container),
    }
}

/// The long syntax `published=8080,target=80[,protocol=udp][,mode=host]` as a short spec.
fn long_to_short(raw: &str) -> Result<String, String> {
    let (mut published, mut target, mut proto) = (String::new(), String::new(), "tcp".to_string());
    for field in raw.split(',') {
        let (k, v) = field
            .split_once('=')
            .ok_or_else(|| format!("invalid field '{field}' must be a key=value pair"))?;
        match k.to_ascii_lowercase().as_str() {
            "published" => published = v.to_string(),
            "target" => target = v.to_string(),
            "protocol" => proto = v.to_string(),
            "mode" => {}
            _ => return Err(format!("invalid field key {k}")),
        }
    }
    if target.is_empty() {
        return Err("missing mandatory field 'target'".into());
    }
    Ok(if published.is_empty() {
        format!("{target}/{proto}")
    } else {
        format!("{published}:{target}/{proto}")
    })
}

/// One `-p` spec as `(port key, binding)` pairs, in docker's order.
pub fn parse_port_spec(raw: &str) -> Result<Vec<(String, PortBinding)>, String> {
    let (mut ip, host, container) = split_parts(raw);
    let (proto, container) = split_proto_port(container);
    if ip.starts_with('[') {
        ip = match ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            Some(inner) => inner.to_string(),
            None => {
                return Err(format!(
                    "invalid IP address {ip}: address {ip}:: missing ']' in address"
                ))
            }
        };
    }
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        parse_port_range(container).map_err(|()| format!("invalid containerPort: {container}"))?;
    let (host_start, host_end) = if host.is_empty() {
        (0, 0)
    } else {
        parse_port_range(host).map_err(|()| format!("invalid hostPort: {host}"))?
    };
    if !host.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        ));
    }
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let host_port = if host.is_empty() {
            String::new()
        } else if start == end && host_start != host_end {
            // One container port, a host range: the daemon picks a free port in it.
            format!("{host_start}-{host_end}")
        } else {
            (host_start + i).to_string()
        };
        out.push((
            format!("{}/{proto}", start + i),
            PortBinding {
                host_ip: ip.clone(),
                host_port,
            },
        ));
    }
    Ok(out)
}

/// Every `-p` spec, then every `--expose` spec, as docker's CLI merges them.
pub fn parse_publish_expose(
    publish: &[String],
    expose: &[String],
) -> Result<(ExposedPorts, PortBindings), String> {
    let mut exposed = ExposedPorts::new();
    let mut bindings = PortBindings::new();
    for raw in publish {
        let spec = if raw.contains('=') {
            long_to_short(raw)?
        } else {
            raw.clone()
        };
        for (port, binding) in parse_port_spec(&spec)? {
            exposed.insert(port.clone(), EmptyObject {});
            bindings.entry(port).or_default().push(binding);
        }
    }
    for e in expose {
        if e.contains(':') {
            return Err(format!("invalid port format for --expose: {e}"));
        }
        let (proto, port) = split_proto_port(e);
        let (start, end) = parse_port_range(port).map_err(|()| {
            format!("invalid range format for --expose: {e}, error: invalid port {port:?}")
        })?;
        for p in start..=end {
            exposed.insert(format!("{p}/{proto}"), EmptyObject {});
        }
    }
    Ok((exposed, bindings))
}

/// Docker's `ps` PORTS cell: ports published on the same number and consecutive ports are
/// grouped (`0.0.0.0:80-81->80-81/tcp`), other mappings listed after the groups.
pub fn display_ports(ports: &[Port]) -> String {
    let mut sorted: Vec<&Port> = ports.iter().collect();
    sorted.sort_by(|a, b| {
        (a.private_port, &a.ip, a.public_port, &a.r#type).cmp(&(
            b.private_port,
            &b.ip,
            b.public_port,
            &b.r#type,
        ))
    });
    let mut groups: BTreeMap<String, (u16, u16)> = BTreeMap::new();
    let mut keys: Vec<String> = Vec::new();
    let mut result = Vec::new();
    let mut mappings = Vec::new();
    for p in sorted {
        let current = p.private_port;
        let key = if p.ip.is_empty() {
            p.r#type.clone()
        } else if p.public_port != current {
            mappings.push(format!(
                "{}->{}/{}",
                join_host_port(&p.ip, &p.public_port.to_string()),
                p.private_port,
                p.r#type
            ));
            continue;
        } else {
            format!("{}/{}", p.ip, p.r#type)
        };
        match groups.get_mut(&key) {
            None => {
                groups.insert(key.clone(), (current, current));
                keys.push(key);
            }
            Some(g) if g.1.checked_add(1) == Some(current) => g.1 = current,
            Some(g) => {
                result.push(form_group(&key, g.0, g.1));
                *g = (current, current);
            }
        }
    }
    for k in &keys {
        if let Some(&(first, last)) = groups.get(k) {
            result.push(form_group(k, first, last));
        }
    }
    result.extend(mappings);
    result.join(", ")
}

/// `80/tcp`, `80-81/tcp` or `ip:80-81->80-81/tcp` for a group key `[ip/]proto`.
fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, proto) = match key.rsplit_once('/') {
        Some((ip, proto)) => (ip, proto),
        None => ("", key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{ip}:{group}->{group}");
    }
    format!("{group}/{proto}")
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Natural order (digit runs compared as numbers), as docker sorts `port`'s lines.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let na = std::str::from_utf8(&a[si..i])
                .unwrap_or("")
                .trim_start_matches('0');
            let nb = std::str::from_utf8(&b[sj..j])
                .unwrap_or("")
                .trim_start_matches('0');
            let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        }
    }

    fn specs(publish: &[&str], expose: &[&str]) -> Result<(ExposedPorts, PortBindings), String> {
        let p: Vec<String> = publish.iter().map(|s| s.to_string()).collect();
        let e: Vec<String> = expose.iter().map(|s| s.to_string()).collect();
        parse_publish_expose(&p, &e)
    }

    #[test]
    fn short_forms_like_docker() {
        // Expected maps captured from docker 28's create body for the same flags.
        let (exposed, bindings) = specs(
            &[
                "80",
                "8080:80",
                "127.0.0.1::81/udp",
                "8080-8081:90-91",
                "[::1]:9000:9000",
                "7000-7002:70",
                "0.0.0.0:5000-5001:5000",
                "::82",
                "53/UDP",
            ],
            &["100-101"],
        )
        .expect("parse");
        let keys: Vec<&str> = exposed.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "100/tcp", "101/tcp", "5000/tcp", "53/udp", "70/tcp", "80/tcp", "81/udp", "82/tcp",
                "90/tcp", "9000/tcp", "91/tcp"
            ]
        );
        assert_eq!(bindings["80/tcp"], [b("", ""), b("", "8080")]);
        assert_eq!(bindings["81/udp"], [b("127.0.0.1", "")]);
        assert_eq!(bindings["90/tcp"], [b("", "8080")]);
        assert_eq!(bindings["91/tcp"], [b("", "8081")]);
        assert_eq!(bindings["9000/tcp"], [b("::1", "9000")]);
        assert_eq!(bindings["70/tcp"], [b("", "7000-7002")]);
        assert_eq!(bindings["5000/tcp"], [b("0.0.0.0", "5000-5001")]);
        assert_eq!(bindings["82/tcp"], [b("", "")]);
        assert!(!bindings.contains_key("100/tcp"));
    }

    #[test]
    fn long_form_and_odd_ranges() {
        let (_, bindings) =
            specs(&["published=8080,target=80,protocol=udp", "1-2-3"], &[]).expect("parse");
        assert_eq!(bindings["80/udp"], [b("", "8080")]);
        assert!(bindings.contains_key("1/tcp") && bindings.contains_key("2/tcp"));
        assert_eq!(
            specs(&["published=8080"], &[]).unwrap_err(),
            "missing mandatory field 'target'"
        );
    }

    #[test]
    fn bad_specs_have_docker_messages() {
        let err = |p: &str| specs(&[p], &[]).unwrap_err();
        assert_eq!(err("x:80"), "invalid hostPort: x");
        assert_eq!(err("80:x"), "invalid containerPort: x");
        assert_eq!(err("8080:70000"), "invalid containerPort: 70000");
        assert_eq!(err("90-80"), "invalid containerPort: 90-80");
        assert_eq!(
            err("8080-8082:80-81"),
            "invalid ranges specified for container and host Ports: 80-81 and 8080-8082"
        );
        assert_eq!(err("1.2.3:80:80"), "invalid IP address: 1.2.3");
        assert_eq!(err("a:b:c:80"), "invalid IP address: a:b");
        assert_eq!(err("80/foo"), "invalid proto: foo");
        assert_eq!(err(""), "no port specified: <empty>");
        assert_eq!(err("8080:"), "no port specified: 8080:<empty>");
        let expose_err = |e: &str| specs(&[], &[e]).unwrap_err();
        assert_eq!(expose_err("1:2"), "invalid port format for --expose: 1:2");
        assert!(expose_err("x").starts_with("invalid range format for --expose: x"));
    }

    fn port(ip: &str, private: u16, public: u16, t: &str) -> Port {
        Port {
            ip: ip.into(),
            private_port: private,
            public_port: public,
            r#type: t.into(),
        }
    }

    #[test]
    fn ps_ports_like_docker() {
        assert_eq!(display_ports(&[]), "");
        assert_eq!(
            display_ports(&[port("0.0.0.0", 80, 8080, "tcp")]),
            "0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            display_ports(&[port("", 80, 0, "tcp"), port("", 443, 0, "tcp")]),
            "80/tcp, 443/tcp"
        );
        assert_eq!(
            display_ports(&[port("", 81, 0, "tcp"), port("", 80, 0, "tcp")]),
            "80-81/tcp"
        );
        assert_eq!(
            display_ports(&[
                port("0.0.0.0", 8081, 8081, "tcp"),
                port("0.0.0.0", 8080, 8080, "tcp")
            ]),
            "0.0.0.0:8080-8081->8080-8081/tcp"
        );
        // Different public and private numbers are listed one by one, after the groups.
        assert_eq!(
            display_ports(&[
                port("0.0.0.0", 81, 8081, "tcp"),
                port("0.0.0.0", 80, 8080, "tcp"),
                port("", 443, 0, "tcp"),
            ]),
            "443/tcp, 0.0.0.0:8080->80/tcp, 0.0.0.0:8081->81/tcp"
        );
        assert_eq!(
            display_ports(&[
                port("0.0.0.0", 80, 8080, "tcp"),
                port("::", 80, 8080, "tcp")
            ]),
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
        assert_eq!(display_ports(&[port("::", 80, 80, "tcp")]), ":::80->80/tcp");
        // A gap starts a new group; the closed group is printed first.
        assert_eq!(
            display_ports(&[
                port("", 80, 0, "tcp"),
                port("", 82, 0, "tcp"),
                port("", 53, 0, "udp")
            ]),
            "80/tcp, 53/udp, 82/tcp"
        );
    }

    #[test]
    fn natural_order() {
        let mut v = vec![
            "9000/tcp -> x",
            "80/tcp -> x",
            "443/tcp -> x",
            "80/tcp -> a",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "80/tcp -> a",
                "80/tcp -> x",
                "443/tcp -> x",
                "9000/tcp -> x"
            ]
        );
    }
}
