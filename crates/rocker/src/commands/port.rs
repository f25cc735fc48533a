//! `rocker port`: a container's published ports, read from its inspect document.

use std::collections::BTreeMap;

use clap::Args;
use rocker_api::models::PortBinding;
use rocker_api::Client;

use crate::exit::StatusError;
use crate::ports::{join_host_port, natural_cmp};

/// List port mappings or a specific mapping for the container
#[derive(Debug, Args)]
pub struct PortArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

pub async fn run(client: &Client, args: PortArgs) -> anyhow::Result<i32> {
    let c = client.container_inspect(&args.container).await?;
    let ports = c.network_settings.map(|n| n.ports).unwrap_or_default();
    let out = render_port(&ports, &args.container, args.port.as_deref())
        .map_err(|e| StatusError::fail(1, e))?;
    print!("{out}");
    Ok(0)
}

/// The lines docker prints for `ports` (`NetworkSettings.Ports`), naturally sorted.
pub fn render_port(
    ports: &BTreeMap<String, Option<Vec<PortBinding>>>,
    container: &str,
    private: Option<&str>,
) -> Result<String, String> {
    let mut out: Vec<String> = Vec::new();
    match private {
        Some(spec) => {
            let (port, proto) = spec.split_once('/').unwrap_or((spec, ""));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            if let Err(e) = port.parse::<u16>() {
                return Err(format!(
                    "Error: invalid port ({port}): strconv.ParseUint: parsing {port:?}: {}",
                    if e.to_string().contains("large") {
                        "value out of range"
                    } else {
                        "invalid syntax"
                    }
                ));
            }
            let frontends = ports
                .get(&format!("{port}/{proto}"))
                .and_then(Option::as_ref)
                .filter(|f| !f.is_empty())
                .ok_or_else(|| {
                    format!("Error: No public port '{spec}' published for {container}")
                })?;
            out.extend(
                frontends
                    .iter()
                    .map(|f| join_host_port(&f.host_ip, &f.host_port)),
            );
        }
        None => {
            for (from, frontends) in ports {
                for f in frontends.iter().flatten() {
                    out.push(format!(
                        "{from} -> {}",
                        join_host_port(&f.host_ip, &f.host_port)
                    ));
                }
            }
        }
    }
    out.sort_by(|a, b| natural_cmp(a, b));
    Ok(out.iter().map(|l| format!("{l}\n")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports() -> BTreeMap<String, Option<Vec<PortBinding>>> {
        let b = |ip: &str, p: &str| PortBinding {
            host_ip: ip.into(),
            host_port: p.into(),
        };
        BTreeMap::from([
            ("80/tcp".to_string(), Some(vec![b("0.0.0.0", "8080")])),
            ("443/tcp".to_string(), None),
            ("9000/tcp".to_string(), Some(vec![b("0.0.0.0", "9000")])),
            ("53/udp".to_string(), Some(vec![b("127.0.0.1", "5353")])),
        ])
    }

    #[test]
    fn all_mappings_naturally_sorted() {
        assert_eq!(
            render_port(&ports(), "x", None),
            Ok(
                "53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080\n9000/tcp -> 0.0.0.0:9000\n"
                    .into()
            )
        );
        assert_eq!(render_port(&BTreeMap::new(), "x", None), Ok(String::new()));
    }

    #[test]
    fn one_private_port() {
        assert_eq!(
            render_port(&ports(), "x", Some("80")),
            Ok("0.0.0.0:8080\n".into())
        );
        assert_eq!(
            render_port(&ports(), "x", Some("53/udp")),
            Ok("127.0.0.1:5353\n".into())
        );
        assert_eq!(
            render_port(&ports(), "x", Some("81/tcp")),
            Err("Error: No public port '81/tcp' published for x".into())
        );
        assert_eq!(
            render_port(&ports(), "x", Some("443")),
            Err("Error: No public port '443' published for x".into())
        );
        assert_eq!(
            render_port(&ports(), "x", Some("abc")),
            Err(
                "Error: invalid port (abc): strconv.ParseUint: parsing \"abc\": invalid syntax"
                    .into()
            )
        );
    }
}
