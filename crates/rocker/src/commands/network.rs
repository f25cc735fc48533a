//! `rocker network create|ls|inspect|rm|prune|connect|disconnect`: docker's network verbs.
//!
//! The CLI only shapes requests (IPAM pools from `--subnet/--gateway/--ip-range`, filters)
//! and formats answers; every decision about addresses and bridges is the daemon's.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::IpAddr;

use clap::{Args, Subcommand};
use rocker_api::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest, NetworkResource,
};
use rocker_api::{Client, ErrorKind};

use crate::commands::inspect::render_template;
use crate::exit::{describe, StatusError};
use crate::ports::natural_cmp;
use crate::table::{render, short_id};

/// Manage networks
#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    pub command: NetworkCommand,
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    Create(CreateArgs),
    #[command(alias = "list")]
    Ls(LsArgs),
    Inspect(InspectArgs),
    #[command(alias = "remove")]
    Rm(RmArgs),
    Prune(PruneArgs),
    Connect(ConnectArgs),
    Disconnect(DisconnectArgs),
}

/// Create a network
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Driver to manage the Network
    #[arg(short = 'd', long, default_value = "bridge")]
    pub driver: String,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// Set metadata on a network
    #[arg(long)]
    pub label: Vec<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Enable manual container attachment
    #[arg(long)]
    pub attachable: bool,
    /// Enable or disable IPv6 networking
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ipv6: Option<bool>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", default_value = "default")]
    pub ipam_driver: String,
    /// Set IPAM driver specific options
    #[arg(long = "ipam-opt")]
    pub ipam_opt: Vec<String>,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long)]
    pub subnet: Vec<String>,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range")]
    pub ip_range: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver
    #[arg(long = "aux-address")]
    pub aux_address: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

/// List networks
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Format output using a Go template subset ("table", "json", {{.Name}}...)
    #[arg(long)]
    pub format: Option<String>,
}

/// Display detailed information on one or more networks
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a Go template subset
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[arg(required = true, value_name = "NETWORK")]
    pub networks: Vec<String>,
}

/// Remove one or more networks
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(required = true, value_name = "NETWORK")]
    pub networks: Vec<String>,
}

/// Remove all unused networks
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long)]
    pub filter: Vec<String>,
}

/// Connect a container to a network
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long)]
    pub alias: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long)]
    pub ip6: Option<String>,
    /// Add link to another container
    #[arg(long)]
    pub link: Vec<String>,
    /// Driver options for the network
    #[arg(long = "driver-opt")]
    pub driver_opt: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Disconnect a container from a network
#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(client: &Client, args: NetworkArgs) -> anyhow::Result<i32> {
    match args.command {
        NetworkCommand::Create(a) => create(client, a).await,
        NetworkCommand::Ls(a) => ls(client, a).await,
        NetworkCommand::Inspect(a) => inspect(client, a).await,
        NetworkCommand::Rm(a) => rm(client, a).await,
        NetworkCommand::Prune(a) => prune(client, a).await,
        NetworkCommand::Connect(a) => connect(client, a).await,
        NetworkCommand::Disconnect(a) => disconnect(client, a).await,
    }
}

/// `k=v` flags as a map (`k` alone maps to an empty value).
fn kv_map(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|i| match i.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (i.clone(), String::new()),
        })
        .collect()
}

/// `filter` flags (`key=value`) grouped by key.
fn filter_map(items: &[String]) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in items {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| format!("bad format of filter (expected name=value): {f}"))?;
        out.entry(k.trim().to_ascii_lowercase())
            .or_default()
            .push(v.trim().to_string());
    }
    Ok(out)
}

/// An address or CIDR as (address, prefix length) with `/32` or `/128` when absent.
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, l.parse::<u8>().ok()?),
        None => {
            let a = s.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// Docker's `subnetMatches`: whether `data` (an address or CIDR) lies in `subnet`.
fn subnet_matches(subnet: &str, data: &str) -> Result<bool, String> {
    let (net, len) = parse_cidr(subnet)
        .filter(|_| subnet.contains('/'))
        .ok_or_else(|| format!("invalid subnet {subnet}"))?;
    let (ip, _) = parse_cidr(data).ok_or_else(|| format!("invalid address {data}"))?;
    let bits = |a: IpAddr| -> (u128, u32) {
        match a {
            IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
            IpAddr::V6(v) => (u128::from(v), 128),
        }
    };
    let ((n, nw), (i, iw)) = (bits(net), bits(ip));
    if nw != iw {
        return Ok(false);
    }
    let shift = nw - u32::from(len);
    Ok(n.checked_shr(shift).unwrap_or(0) == i.checked_shr(shift).unwrap_or(0))
}

/// IPAM pools from `--subnet`, `--ip-range`, `--gateway`, `--aux-address`, checked as docker.
pub fn ipam_config(a: &CreateArgs) -> Result<Ipam, String> {
    if a.subnet.len() < a.ip_range.len() || a.subnet.len() < a.gateway.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".into());
    }
    let mut pools: Vec<IpamConfig> = Vec::new();
    for s in &a.subnet {
        for p in &pools {
            if subnet_matches(s, &p.subnet)? || subnet_matches(&p.subnet, s)? {
                return Err("multiple overlapping subnet configuration is not supported".into());
            }
        }
        pools.push(IpamConfig {
            subnet: s.clone(),
            ..Default::default()
        });
    }
    for r in &a.ip_range {
        let mut matched = false;
        for p in pools.iter_mut() {
            if !subnet_matches(&p.subnet, r)? {
                continue;
            }
            if !p.ip_range.is_empty() {
                return Err(format!(
                    "cannot configure multiple ranges ({r}, {}) on the same subnet ({})",
                    p.ip_range, p.subnet
                ));
            }
            p.ip_range = r.clone();
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for range {r}"));
        }
    }
    for g in &a.gateway {
        let mut matched = false;
        for p in pools.iter_mut() {
            if !subnet_matches(&p.subnet, g)? {
                continue;
            }
            if !p.gateway.is_empty() {
                return Err(format!(
                    "cannot configure multiple gateways ({g}, {}) for the same subnet ({})",
                    p.gateway, p.subnet
                ));
            }
            p.gateway = g.clone();
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for gateway {g}"));
        }
    }
    for (key, addr) in kv_map(&a.aux_address) {
        let mut matched = false;
        for p in pools.iter_mut() {
            if !subnet_matches(&p.subnet, &addr)? {
                continue;
            }
            p.auxiliary_addresses
                .get_or_insert_with(BTreeMap::new)
                .insert(key.clone(), addr.clone());
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for aux-address {addr}"));
        }
    }
    Ok(Ipam {
        driver: a.ipam_driver.clone(),
        options: Some(kv_map(&a.ipam_opt)),
        config: Some(pools),
    })
}

async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<i32> {
    let ipam = ipam_config(&a).map_err(|e| StatusError::fail(1, e))?;
    let req = NetworkCreateRequest {
        name: a.name.clone(),
        check_duplicate: true,
        driver: a.driver.clone(),
        internal: a.internal,
        attachable: a.attachable,
        ipam: Some(ipam),
        enable_ipv6: a.ipv6,
        options: Some(kv_map(&a.opt)),
        labels: Some(kv_map(&a.label)),
        ..Default::default()
    };
    let resp = client.network_create(&req).await?;
    if !resp.warning.is_empty() {
        eprintln!("{}", resp.warning);
    }
    println!("{}", resp.id);
    Ok(0)
}

/// Docker's `network ls` table (or ids, or a template per network).
pub fn render_ls(list: &[NetworkResource], a: &LsArgs) -> Result<String, String> {
    let mut list: Vec<&NetworkResource> = list.iter().collect();
    list.sort_by(|x, y| natural_cmp(&x.name, &y.name));
    let id = |n: &NetworkResource| {
        if a.no_trunc {
            n.id.clone()
        } else {
            short_id(&n.id)
        }
    };
    if a.quiet {
        return Ok(list.iter().map(|n| format!("{}\n", id(n))).collect());
    }
    let format = a.format.as_deref().unwrap_or("table");
    let fields = |n: &NetworkResource| {
        let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        serde_json::json!({
            "ID": id(n), "Name": n.name, "Driver": n.driver, "Scope": n.scope,
            "IPv6": n.enable_ipv6.to_string(), "Internal": n.internal.to_string(),
            "Labels": labels.join(","), "CreatedAt": n.created,
        })
    };
    if format == "json" {
        return Ok(list.iter().map(|n| format!("{}\n", fields(n))).collect());
    }
    if format == "table" {
        let mut rows = vec![["NETWORK ID", "NAME", "DRIVER", "SCOPE"]
            .map(String::from)
            .to_vec()];
        rows.extend(
            list.iter()
                .map(|n| vec![id(n), n.name.clone(), n.driver.clone(), n.scope.clone()]),
        );
        return Ok(render(&rows));
    }
    if let Some(t) = format.strip_prefix("table ") {
        let header = serde_json::json!({
            "ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
            "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT",
        });
        let mut rows = Vec::new();
        for v in std::iter::once(header).chain(list.iter().map(|n| fields(n))) {
            let line = render_template(&t.replace("\\t", "\t"), &v)?;
            rows.push(line.split('\t').map(String::from).collect());
        }
        return Ok(render(&rows));
    }
    let mut out = String::new();
    for n in list {
        out.push_str(&render_template(format, &fields(n))?);
        out.push('\n');
    }
    Ok(out)
}

async fn ls(client: &Client, a: LsArgs) -> anyhow::Result<i32> {
    let filters = filter_map(&a.filter).map_err(|e| StatusError::fail(1, e))?;
    let list = client.network_list(&filters).await?;
    print!(
        "{}",
        render_ls(&list, &a).map_err(|e| StatusError::fail(1, e))?
    );
    Ok(0)
}

async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<i32> {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for name in &a.networks {
        match client.network_inspect_raw(name).await {
            Ok(b) => docs.push(String::from_utf8_lossy(&b).into_owned()),
            Err(e) => errors.push(describe(&e)),
        }
    }
    super::inspect::print_inspected(&docs, a.format.as_deref(), &errors)
}

async fn rm(client: &Client, a: RmArgs) -> anyhow::Result<i32> {
    let mut failed = false;
    for n in &a.networks {
        match client.network_remove(n).await {
            Ok(()) => println!("{n}"),
            Err(e) if a.force && e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                failed = true;
                eprintln!("{}", describe(&e));
            }
        }
    }
    if failed {
        Err(StatusError::fail(1, ""))
    } else {
        Ok(0)
    }
}

/// Docker's confirmation prompt; anything but `y`/`yes` declines.
fn confirm(message: &str) -> bool {
    print!("{message} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// `Deleted Networks:` and one name per line, then docker's blank line; empty if none.
pub fn render_prune(deleted: &[String]) -> String {
    if deleted.is_empty() {
        return String::new();
    }
    let mut out = String::from("Deleted Networks:\n");
    for d in deleted {
        out.push_str(d);
        out.push('\n');
    }
    out.push('\n');
    out
}

async fn prune(client: &Client, a: PruneArgs) -> anyhow::Result<i32> {
    let filters = filter_map(&a.filter).map_err(|e| StatusError::fail(1, e))?;
    if !a.force
        && !confirm(
            "WARNING! This will remove all custom networks not used by at least one container.\n\
             Are you sure you want to continue?",
        )
    {
        return Ok(0);
    }
    let report = client.network_prune(&filters).await?;
    print!(
        "{}",
        render_prune(report.networks_deleted.as_deref().unwrap_or(&[]))
    );
    Ok(0)
}

/// The connect body docker builds from `connect`'s flags.
pub fn connect_request(a: &ConnectArgs) -> NetworkConnectRequest {
    let ipam = (a.ip.is_some() || a.ip6.is_some()).then(|| EndpointIpamConfig {
        ipv4_address: a.ip.clone(),
        ipv6_address: a.ip6.clone(),
        link_local_ips: None,
    });
    NetworkConnectRequest {
        container: a.container.clone(),
        endpoint_config: Some(EndpointSettings {
            ipam_config: ipam,
            links: (!a.link.is_empty()).then(|| a.link.clone()),
            aliases: (!a.alias.is_empty()).then(|| a.alias.clone()),
            driver_opts: Some(kv_map(&a.driver_opt)),
            ..Default::default()
        }),
    }
}

async fn connect(client: &Client, a: ConnectArgs) -> anyhow::Result<i32> {
    client
        .network_connect(&a.network, &connect_request(&a))
        .await?;
    Ok(0)
}

async fn disconnect(client: &Client, a: DisconnectArgs) -> anyhow::Result<i32> {
    let req = NetworkDisconnectRequest {
        container: a.container.clone(),
        force: a.force,
    };
    client.network_disconnect(&a.network, &req).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::commands::Command;
    use crate::Cli;

    fn network(args: &[&str]) -> NetworkCommand {
        let cli = Cli::try_parse_from(["rocker", "network"].iter().chain(args)).expect("parse");
        match cli.command {
            Some(Command::Network(n)) => n.command,
            other => panic!("not network: {other:?}"),
        }
    }

    fn create_args(args: &[&str]) -> CreateArgs {
        match network(&[&["create"], args].concat()) {
            NetworkCommand::Create(c) => c,
            other => panic!("not create: {other:?}"),
        }
    }

    #[test]
    fn create_flags_build_docker_body() {
        let a = create_args(&[
            "--subnet",
            "10.5.0.0/16",
            "--gateway",
            "10.5.0.1",
            "--ip-range",
            "10.5.1.0/24",
            "--label",
            "a=b",
            "-o",
            "x=y",
            "--internal",
            "--attachable",
            "n1",
        ]);
        assert_eq!((a.driver.as_str(), a.name.as_str()), ("bridge", "n1"));
        assert_eq!(a.ipv6, None);
        assert_eq!(create_args(&["--ipv6", "n"]).ipv6, Some(true));
        assert_eq!(create_args(&["--ipv6=false", "n"]).ipv6, Some(false));
        let ipam = ipam_config(&a).expect("ipam");
        let v = serde_json::to_value(&ipam).expect("ser");
        // The docker CLI's create body for the same flags.
        assert_eq!(
            v,
            serde_json::json!({"Driver":"default","Options":{},"Config":[{"Subnet":"10.5.0.0/16",
                "IPRange":"10.5.1.0/24","Gateway":"10.5.0.1"}]})
        );
        let bare = ipam_config(&create_args(&["-d", "bridge", "n2"])).expect("ipam");
        assert_eq!(
            serde_json::to_value(&bare).expect("ser"),
            serde_json::json!({"Driver":"default","Options":{},"Config":[]})
        );
    }

    #[test]
    fn create_ipam_errors_like_docker() {
        let err = |args: &[&str]| ipam_config(&create_args(args)).unwrap_err();
        assert_eq!(
            err(&["--gateway", "10.0.0.1", "n"]),
            "every ip-range or gateway must have a corresponding subnet"
        );
        assert_eq!(
            err(&["--subnet", "10.0.0.0/24", "--gateway", "10.1.0.1", "n"]),
            "no matching subnet for gateway 10.1.0.1"
        );
        assert_eq!(
            err(&["--subnet", "10.0.0.0/8", "--subnet", "10.1.0.0/16", "n"]),
            "multiple overlapping subnet configuration is not supported"
        );
        assert_eq!(
            err(&["--subnet", "10.0.0.0/24", "--ip-range", "10.2.0.0/28", "n"]),
            "no matching subnet for range 10.2.0.0/28"
        );
        assert_eq!(
            err(&["--subnet", "10.0.0.0/24", "--subnet", "bogus", "n"]),
            "invalid subnet bogus"
        );
        let aux = ipam_config(&create_args(&[
            "--subnet",
            "10.0.0.0/24",
            "--aux-address",
            "h=10.0.0.9",
            "n",
        ]))
        .expect("aux");
        let pool = &aux.config.expect("pools")[0];
        assert_eq!(
            pool.auxiliary_addresses.as_ref().map(|a| a["h"].as_str()),
            Some("10.0.0.9")
        );
    }

    #[test]
    fn subnet_matching() {
        assert_eq!(subnet_matches("10.0.0.0/8", "10.200.1.1"), Ok(true));
        assert_eq!(subnet_matches("10.0.0.0/8", "11.0.0.1"), Ok(false));
        assert_eq!(subnet_matches("10.0.0.0/8", "10.1.0.0/16"), Ok(true));
        assert_eq!(subnet_matches("0.0.0.0/0", "1.2.3.4"), Ok(true));
        assert_eq!(subnet_matches("fd00::/64", "fd00::5"), Ok(true));
        assert_eq!(subnet_matches("fd00::/64", "10.0.0.1"), Ok(false));
    }

    fn net(name: &str, id: &str, driver: &str) -> NetworkResource {
        NetworkResource {
            name: name.into(),
            id: id.into(),
            driver: driver.into(),
            scope: "local".into(),
            ..Default::default()
        }
    }

    fn ls_args(args: &[&str]) -> LsArgs {
        match network(&[&["ls"], args].concat()) {
            NetworkCommand::Ls(l) => l,
            other => panic!("not ls: {other:?}"),
        }
    }

    #[test]
    fn ls_table_sorted_by_name() {
        let list = [
            net("none", &"c".repeat(64), "null"),
            net("bridge", &"a".repeat(64), "bridge"),
            net("host", &"b".repeat(64), "host"),
        ];
        let out = render_ls(&list, &ls_args(&[])).expect("render");
        assert_eq!(
            out,
            "NETWORK ID     NAME      DRIVER    SCOPE\n\
             aaaaaaaaaaaa   bridge    bridge    local\n\
             bbbbbbbbbbbb   host      host      local\n\
             cccccccccccc   none      null      local\n"
        );
        let q = render_ls(&list, &ls_args(&["-q", "--no-trunc"])).expect("render");
        assert_eq!(q.lines().next(), Some("a".repeat(64).as_str()));
        let f = render_ls(&list, &ls_args(&["--format", "{{.Name}}:{{.Driver}}"])).expect("f");
        assert_eq!(f, "bridge:bridge\nhost:host\nnone:null\n");
        let t = render_ls(
            &list[..1],
            &ls_args(&["--format", "table {{.Name}}\\t{{.ID}}"]),
        )
        .expect("table");
        assert_eq!(t, "NAME      NETWORK ID\nnone      cccccccccccc\n");
    }

    #[test]
    fn filters_group_by_key() {
        let f =
            filter_map(&["name=a".into(), "name=b".into(), "type=custom".into()]).expect("filters");
        assert_eq!(f["name"], ["a", "b"]);
        assert_eq!(f["type"], ["custom"]);
        assert!(filter_map(&["bogus".into()]).is_err());
    }

    #[test]
    fn prune_output() {
        assert_eq!(render_prune(&[]), "");
        assert_eq!(
            render_prune(&["n1".into(), "n2".into()]),
            "Deleted Networks:\nn1\nn2\n\n"
        );
    }

    #[test]
    fn connect_and_other_verbs_parse() {
        let NetworkCommand::Connect(c) =
            network(&["connect", "--alias", "a", "--ip", "10.5.0.9", "n1", "c1"])
        else {
            panic!("not connect");
        };
        let v = serde_json::to_value(connect_request(&c)).expect("ser");
        assert_eq!(v["Container"], "c1");
        assert_eq!(v["EndpointConfig"]["IPAMConfig"]["IPv4Address"], "10.5.0.9");
        assert_eq!(v["EndpointConfig"]["Aliases"][0], "a");
        assert!(matches!(
            network(&["disconnect", "-f", "n1", "c1"]),
            NetworkCommand::Disconnect(DisconnectArgs { force: true, .. })
        ));
        assert!(matches!(
            network(&["rm", "a", "b"]),
            NetworkCommand::Rm(RmArgs { ref networks, .. }) if networks.len() == 2
        ));
        assert!(matches!(
            network(&["prune", "-f"]),
            NetworkCommand::Prune(PruneArgs { force: true, .. })
        ));
        assert!(matches!(
            network(&["inspect", "-f", "{{.Id}}", "n"]),
            NetworkCommand::Inspect(_)
        ));
    }
}
