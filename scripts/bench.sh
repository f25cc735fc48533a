#!/usr/bin/env bash
# bench.sh (`make bench`): wall time of `rocker run --rm busybox true`, end to end through
# the CLI and a private daemon, beside the peers installed on this host:
#   docker run --rm busybox true   only if a dockerd already answers (we never start one)
#   podman run --rm busybox true   only if podman exists (our busybox.tar is loaded if needed)
#   runc run <bundle>              the floor: a bare OCI runtime on a prepared bundle
# Prints median and p90 in ms and the ratio rocker/peer. Never fails because a peer is absent.
#
# Usage: scripts/bench.sh [-n RUNS]     (or BENCH_N=RUNS; default 30)
# The private daemon has its own temp data/exec roots, socket and cgroup parent, and is
# stopped and cleaned up at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

runs="${BENCH_N:-30}"
while [ $# -gt 0 ]; do
    case "$1" in
        -n|--runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
warmup=3

if [ "$(id -u)" -ne 0 ]; then
    echo "bench: needs root (it runs a private rockerd)" >&2
    exit 1
fi

echo "==> cargo build --release -j2"
cargo build --release -j2
bin="${CARGO_TARGET_DIR:-$root/target}/release"

tmp="$(mktemp -d /tmp/rbench.XXXXXX)"
parent="rocker-bench-$$"
sock="$tmp/rocker.sock"
host="unix://$sock"
daemon_pid=""
runc_root="$tmp/runc-state"
results="$tmp/results"
: >"$results"

rocker() { "$bin/rocker" -H "$host" "$@"; }

cleanup() {
    set +e
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        ids="$(rocker ps -aq 2>/dev/null)"
        [ -n "$ids" ] && rocker rm -f $ids >/dev/null 2>&1
        kill -TERM "$daemon_pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    # Shims and anything else of ours: their command lines name the temp dir.
    for p in /proc/[0-9]*; do
        pid="${p#/proc/}"
        [ "$pid" = "$$" ] && continue
        if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$tmp"; then
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    for h in /sys/fs/cgroup/*/"$parent" /sys/fs/cgroup/"$parent"; do
        [ -d "$h" ] || continue
        for pid in $(find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
    done
    sleep 0.2
    ip link del "$bench_bridge" 2>/dev/null
    nft delete table ip "$bench_table" 2>/dev/null
    awk -v t="$tmp" '$5 == t || index($5, t "/") == 1 { print $5 }' /proc/self/mountinfo \
        | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    for h in /sys/fs/cgroup/*/"$parent" /sys/fs/cgroup/"$parent"; do
        [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    if awk -v t="$tmp" 'index($5, t) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        echo "bench: mounts left under $tmp; not removing it" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the image --------------------------------------------------------------------------
tar="$root/build/busybox.tar"
if [ ! -s "$tar" ]; then
    tar="$tmp/busybox.tar"
    scripts/mk-busybox-image "$tar" >/dev/null
fi

# --- private rockerd --------------------------------------------------------------------
# A private bridge, subnet and nftables table, so a system rockerd is not disturbed.
bench_bridge="rkbench$$"
bench_table="rocker_bench_$$"
printf '[network]\nbridge = "%s"\nnft_table = "%s"\n' "$bench_bridge" "$bench_table" >"$tmp/config.toml"
"$bin/rockerd" -H "$host" --data-root "$tmp/data" --exec-root "$tmp/run" \
    --config-file "$tmp/config.toml" --pidfile "$tmp/rockerd.pid" \
    --cgroup-parent "$parent" --log-level warn >"$tmp/rockerd.log" 2>&1 </dev/null &
daemon_pid=$!
for _ in $(seq 1 200); do
    rocker version >/dev/null 2>&1 && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.05
done
if ! rocker version >/dev/null 2>&1; then
    echo "bench: private rockerd did not start; log:" >&2
    tail -n 30 "$tmp/rockerd.log" >&2
    exit 1
fi
rocker load -q -i "$tar" >/dev/null

# --- measuring --------------------------------------------------------------------------
# measure NAME CMD...: time RUNS runs (after warmup) and append "NAME median_ms p90_ms".
measure() {
    local name="$1"; shift
    local json="$tmp/$name.json"
    if command -v hyperfine >/dev/null 2>&1; then
        local cmdline
        cmdline="$(printf '%q ' "$@")"
        hyperfine -N --style none --runs "$runs" --warmup "$warmup" \
            --export-json "$json" -- "$cmdline" >/dev/null
    else
        python3 - "$json" "$runs" "$warmup" "$@" <<'PY'
import json, subprocess, sys, time
out, runs, warmup, argv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def once():
    t = time.perf_counter()
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
for _ in range(warmup):
    once()
json.dump({"results": [{"times": [once() for _ in range(runs)]}]}, open(out, "w"))
PY
    fi
    python3 - "$json" "$name" >>"$results" <<'PY'
import json, math, statistics, sys
times = sorted(json.load(open(sys.argv[1]))["results"][0]["times"])
p90 = times[max(0, math.ceil(0.9 * len(times)) - 1)]
print(sys.argv[2], round(statistics.median(times) * 1000, 2), round(p90 * 1000, 2))
PY
}

# peer NAME CMD...: one trial run (must succeed within 60s) then measure; else skip.
peer() {
    local name="$1"; shift
    if timeout 60 "$@" >/dev/null 2>&1; then
        measure "$name" "$@" || echo "bench: $name failed while measuring; skipped" >&2
    else
        echo "bench: $name does not work here; skipped" >&2
    fi
}

echo "==> $runs runs each (+$warmup warmup)"
measure rocker "$bin/rocker" -H "$host" run --rm busybox true
measure rocker-nonet "$bin/rocker" -H "$host" run --rm --network none busybox true

if command -v docker >/dev/null 2>&1 \
    && timeout 5 env -u DOCKER_HOST docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    docker image inspect busybox >/dev/null 2>&1 || docker load -q -i "$tar" >/dev/null 2>&1 || true
    peer docker docker run --rm busybox true
else
    echo "bench: no dockerd answering; docker skipped" >&2
fi

if command -v podman >/dev/null 2>&1; then
    # Podman's default nofile/nproc ulimits are above this host's hard limits (and raising
    # to exactly the hard limit is refused here without CAP_SYS_RESOURCE): give it a private
    # containers.conf with modest limits. They do not affect what is measured.
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' \
        >"$tmp/containers.conf"
    export CONTAINERS_CONF="$tmp/containers.conf"
    podman image exists busybox 2>/dev/null || podman load -q -i "$tar" >/dev/null 2>&1 || true
    peer podman podman run --rm busybox true
else
    echo "bench: podman not installed; skipped" >&2
fi

if command -v runc >/dev/null 2>&1; then
    bundle="$tmp/runc-bundle"
    mkdir -p "$bundle/rootfs" "$runc_root"
    python3 - "$tar" "$bundle/rootfs" <<'PY'
import json, sys, tarfile
src, dest = sys.argv[1], sys.argv[2]
with tarfile.open(src) as outer:
    manifest = json.load(outer.extractfile("manifest.json"))
    for layer in manifest[0]["Layers"]:
        with tarfile.open(fileobj=outer.extractfile(layer)) as t:
            t.extractall(dest, filter="fully_trusted") if hasattr(tarfile, "data_filter") else t.extractall(dest)
PY
    (cd "$bundle" && runc spec)
    python3 - "$bundle/config.json" "$parent" <<'PY'
import json, sys
path, parent = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["args"] = ["true"]
c["process"]["terminal"] = False
c["linux"]["cgroupsPath"] = "/" + parent + "/runc"
json.dump(c, open(path, "w"))
PY
    peer runc runc --root "$runc_root" run --bundle "$bundle" "rbench-$$"
else
    echo "bench: runc not installed; skipped" >&2
fi

# --- the runtimes alone: create + start + delete of a `true` bundle -----------------------
# Same bundle, same shell wrapper for each runtime; delete --force since `true` may still be
# exiting when delete runs.
cycle() {
    local rt="$1" state="$2" id="$3"
    printf '%q --root %q create --bundle %q %q && %q --root %q start %q && %q --root %q delete --force %q' \
        "$rt" "$state" "$bundle" "$id" "$rt" "$state" "$id" "$rt" "$state" "$id"
}
if [ -n "${bundle:-}" ]; then
    rt_results="$tmp/rt-results"
    results_main="$results"
    results="$rt_results"
    : >"$results"
    mkdir -p "$tmp/rt-state"
    peer rocker-runtime sh -c "$(cycle "$bin/rocker-runtime" "$tmp/rt-state" "rtbench-$$")"
    peer runc sh -c "$(cycle "$(command -v runc)" "$runc_root" "rcbench-$$")"
    if command -v crun >/dev/null 2>&1; then
        peer crun sh -c "$(cycle "$(command -v crun)" "$tmp/crun-state" "crbench-$$")"
    fi
    results="$results_main"
fi

# --- HTTP through a published port (busybox httpd, wrk from the host's loopback) ---------
http_results="$tmp/http-results"
: >"$http_results"
command -v wrk >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || true
web='mkdir -p /www && head -c 4096 /dev/zero > /www/index.html && exec httpd -f -p 80 -h /www'
# wrk_peer NAME PORT: 5 s of wrk (2 threads, 32 connections) -> "NAME requests/s".
wrk_peer() {
    local name="$1" port="$2" rps=""
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    rps="$(wrk -t2 -c32 -d5s "http://127.0.0.1:$port/" 2>/dev/null | awk '/Requests\/sec/ {print $2}')"
    [ -n "$rps" ] && echo "$name $rps" >>"$http_results"
}
if command -v wrk >/dev/null 2>&1; then
    rocker run -d --name rbench-web -p 18080:80 busybox sh -c "$web" >/dev/null
    wrk_peer rocker 18080
    rocker rm -f rbench-web >/dev/null
    if command -v docker >/dev/null 2>&1 \
        && timeout 5 env -u DOCKER_HOST docker version >/dev/null 2>&1; then
        docker run -d --name rbench-web -p 18081:80 busybox sh -c "$web" >/dev/null 2>&1 \
            && wrk_peer docker 18081
        docker rm -f rbench-web >/dev/null 2>&1 || true
    fi
else
    echo "bench: wrk not available; HTTP throughput skipped" >&2
fi

# --- report -----------------------------------------------------------------------------
echo
python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
res = {name: (float(med), float(p90)) for name, med, p90 in rows}
base = res.get("rocker")
label = {"runc": "runc (floor)"}
print(f"{'runtime':<14}{'median ms':>11}{'p90 ms':>10}{'rocker/peer':>13}")
for name, (med, p90) in res.items():
    ratio = "-" if name == "rocker" or not base else f"{base[0] / med:.2f}"
    print(f"{label.get(name, name):<14}{med:>11.2f}{p90:>10.2f}{ratio:>13}")
if base and "rocker-nonet" in res:
    print(f"default bridge adds {base[0] - res['rocker-nonet'][0]:.2f} ms to rocker run (vs --network none)")
PY
if [ -s "${rt_results:-/nonexistent}" ]; then
    echo
    echo "OCI runtime alone: create + start + delete of a busybox 'true' bundle"
    python3 - "$rt_results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
res = {name: (float(med), float(p90)) for name, med, p90 in rows}
base = res.get("rocker-runtime")
print(f"{'runtime':<16}{'median ms':>11}{'p90 ms':>10}{'rocker/peer':>13}")
for name, (med, p90) in res.items():
    ratio = "-" if name == "rocker-runtime" or not base else f"{base[0] / med:.2f}"
    print(f"{name:<16}{med:>11.2f}{p90:>10.2f}{ratio:>13}")
PY
fi
if [ -s "$http_results" ]; then
    echo
    echo "HTTP through a published port (busybox httpd, 4 KiB page, wrk -t2 -c32 -d5s)"
    python3 - "$http_results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
res = {name: float(rps) for name, rps in rows}
base = res.get("rocker")
print(f"{'engine':<10}{'requests/s':>12}{'rocker/peer':>13}")
for name, rps in res.items():
    ratio = "-" if name == "rocker" or not base else f"{base / rps:.2f}"
    print(f"{name:<10}{rps:>12.0f}{ratio:>13}")
PY
fi
