//! `rocker update [flags] CONTAINER...`: change resources and the restart policy of
//! containers (live for running ones); prints each name, Docker's warnings on stderr.

use clap::Args;
use rocker_api::Client;
use serde_json::{json, Map, Value};

use crate::commands::container_flags::parse_restart;
use crate::exit::{describe, StatusError};
use crate::units::{parse_mem_bytes, parse_mem_swap, parse_nano_cpus};

/// Update configuration of one or more containers
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares")]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long, value_parser = parse_nano_cpus)]
    pub cpus: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long, value_parser = parse_mem_bytes)]
    pub memory: Option<i64>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_parser = parse_mem_bytes)]
    pub memory_reservation: Option<i64>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long = "memory-swap", value_parser = parse_mem_swap, allow_hyphen_values = true)]
    pub memory_swap: Option<i64>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

impl UpdateArgs {
    /// Docker's `UpdateConfig` body with the flags given.
    fn body(&self) -> Result<Value, String> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("BlkioWeight", self.blkio_weight.map(|v| json!(v)));
        put("CpuPeriod", self.cpu_period.map(|v| json!(v)));
        put("CpuQuota", self.cpu_quota.map(|v| json!(v)));
        put("CpuShares", self.cpu_shares.map(|v| json!(v)));
        put("NanoCpus", self.cpus.map(|v| json!(v)));
        put("CpusetCpus", self.cpuset_cpus.as_ref().map(|v| json!(v)));
        put("CpusetMems", self.cpuset_mems.as_ref().map(|v| json!(v)));
        put("Memory", self.memory.map(|v| json!(v)));
        put(
            "MemoryReservation",
            self.memory_reservation.map(|v| json!(v)),
        );
        put("MemorySwap", self.memory_swap.map(|v| json!(v)));
        put("PidsLimit", self.pids_limit.map(|v| json!(v)));
        if let Some(r) = &self.restart {
            let rp = parse_restart(Some(r))?;
            put(
                "RestartPolicy",
                Some(json!({"Name": rp.name, "MaximumRetryCount": rp.maximum_retry_count})),
            );
        }
        if m.is_empty() {
            return Err("you must provide one or more flags when using this command".into());
        }
        Ok(Value::Object(m))
    }
}

pub async fn run(client: &Client, args: UpdateArgs) -> anyhow::Result<i32> {
    let body = args.body().map_err(|e| StatusError::fail(1, e))?;
    let mut errors = Vec::new();
    for c in &args.containers {
        match client.container_update(c, &body).await {
            Ok(resp) => {
                for w in resp.warnings.unwrap_or_default() {
                    eprintln!("{w}");
                }
                println!("{c}");
            }
            Err(e) => errors.push(describe(&e)),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(StatusError::fail(1, errors.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        a: UpdateArgs,
    }

    #[test]
    fn flags_to_body() {
        let cli = Cli::parse_from([
            "update",
            "-m",
            "64m",
            "--pids-limit",
            "-1",
            "--cpus",
            "1.5",
            "c1",
        ]);
        let b = cli.a.body().unwrap();
        assert_eq!(b["Memory"], json!(64 << 20));
        assert_eq!(b["PidsLimit"], json!(-1));
        assert_eq!(b["NanoCpus"], json!(1_500_000_000i64));
        assert!(b.get("CpuShares").is_none());
        let cli = Cli::parse_from(["update", "--restart", "on-failure:3", "c1"]);
        let b = cli.a.body().unwrap();
        assert_eq!(b["RestartPolicy"]["MaximumRetryCount"], json!(3));
        let cli = Cli::parse_from(["update", "c1"]);
        assert!(cli.a.body().is_err());
    }
}
