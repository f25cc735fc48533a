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
        --with-dockerd) with_dockerd=1; shift ;; # scale section: may start a private dockerd
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
    if rps <= 0:
        print(f"{name:<10}{'no answer':>12}{'-':>13}")
        continue
    ratio = "-" if name == "rocker" or not base else f"{base / rps:.2f}"
    print(f"{name:<10}{rps:>12.0f}{ratio:>13}")
PY
fi

# ==========================================================================================
# --- scale and memory (issue 5): 200 containers, `ps` with 200 listed, daemon/shim memory --
# ==========================================================================================
# For each engine present: start SCALE (BENCH_SCALE, default 200) `sleep 600` containers
# (--network none) one after another through its CLI, time `ps` with them all listed
# (median of 20), read the daemon's and one per-container monitor's memory from
# /proc/<pid>/smaps_rollup (rocker-shim; containerd-shim-runc-v2 for Docker; conmon for
# Podman), remove them, then start SCALE again through parallel API calls (8 at a time,
# create + start) and remove them. Docker takes part if a dockerd answers on its default
# socket, or, with --with-dockerd, through a private dockerd started and stopped here.
# Podman (no daemon, so no API run) takes part if installed.
scale="${BENCH_SCALE:-200}"
scale_results="$tmp/scale-results" # "engine key value" lines
: >"$scale_results"

# mem PID: "rss_kib pss_kib private_dirty_kib" of a process.
mem() {
    awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_Dirty:/ {d = $2} END {print r, p, d}' \
        "/proc/$1/smaps_rollup" 2>/dev/null
}
ms_now() { date +%s%3N; }

# api_many SOCKET start|rm N PREFIX: N creates+starts (or forced removals) of PREFIX-i, 8 in
# flight, over the Engine API; prints the wall time in ms.
api_many() {
    python3 - "$@" <<'PY'
import concurrent.futures, http.client, json, socket, sys, time
sock, mode, n, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock)
def call(method, path, body=None, ok404=False):
    c = Conn("localhost", timeout=120)
    data = json.dumps(body).encode() if body is not None else None
    c.request(method, "/v1.41" + path, body=data, headers={"Content-Type": "application/json"})
    r = c.getresponse(); out = r.read(); c.close()
    if r.status >= 300 and not (ok404 and r.status == 404):
        raise SystemExit(f"{method} {path}: {r.status} {out[:200]!r}")
    return out
def one(i):
    name = f"{prefix}-{i}"
    if mode == "rm":
        call("DELETE", f"/containers/{name}?force=1", ok404=True)
        return
    spec = {"Image": "busybox", "Cmd": ["sleep", "600"], "HostConfig": {"NetworkMode": "none"}}
    cid = json.loads(call("POST", f"/containers/create?name={name}", spec))["Id"]
    call("POST", f"/containers/{cid}/start")
t = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(one, range(1, n + 1)))
print(round((time.perf_counter() - t) * 1000))
PY
}

# scale_engine NAME DAEMON_PID SOCKET CLI...: the measurements above for one engine.
# DAEMON_PID and SOCKET may be empty (podman).
scale_engine() {
    local name="$1" dpid="$2" sock="$3"; shift 3
    local prefix="rbs$$" t0 t1 cpid mpid runs_main="$runs" results_main="$results"
    echo "==> scale: $name"
    [ -n "$dpid" ] && echo "$name daemon_idle $(mem "$dpid")" >>"$scale_results"
    t0="$(ms_now)"
    for i in $(seq 1 "$scale"); do
        "$@" run -d --network none --name "$prefix-$i" busybox sleep 600 >/dev/null || {
            echo "bench: $name run $i failed; scale run skipped" >&2
            "$@" rm -f $("$@" ps -aq --filter "name=$prefix-") >/dev/null 2>&1 || true
            return 0
        }
    done
    t1="$(ms_now)"
    echo "$name start_cli_ms $((t1 - t0))" >>"$scale_results"
    results="$tmp/scale-ps"; : >"$results"; runs=20
    measure ps "$@" ps || true
    runs="$runs_main"; results="$results_main"
    [ -s "$tmp/scale-ps" ] && echo "$name ps_ms $(awk '{print $2}' "$tmp/scale-ps")" >>"$scale_results"
    [ -n "$dpid" ] && echo "$name daemon_loaded $(mem "$dpid")" >>"$scale_results"
    cpid="$("$@" inspect -f '{{.State.Pid}}' "$prefix-1" 2>/dev/null)" || true
    mpid="$(awk '/^PPid:/ {print $2}' "/proc/$cpid/status" 2>/dev/null)" || true
    [ -n "$mpid" ] && echo "$name monitor:$(tr -d '\0' <"/proc/$mpid/comm") $(mem "$mpid")" >>"$scale_results"
    # Removal: parallel API calls where there is an API, else the CLI in one call.
    if [ -n "$sock" ]; then
        api_many "$sock" rm "$scale" "$prefix" >/dev/null || true
        local t
        t="$(api_many "$sock" start "$scale" "$prefix")" \
            && echo "$name start_api_ms $t" >>"$scale_results"
        api_many "$sock" rm "$scale" "$prefix" >/dev/null || true
    else
        "$@" rm -f $("$@" ps -aq --filter "name=$prefix-") >/dev/null 2>&1 || true
    fi
}

scale_engine rocker "$daemon_pid" "$sock" "$bin/rocker" -H "$host"

# Docker: the system dockerd if one answers, else a private one with --with-dockerd.
docker_sock="" private_dockerd=""
if command -v docker >/dev/null 2>&1 \
    && timeout 5 env -u DOCKER_HOST docker version >/dev/null 2>&1; then
    docker_sock="/var/run/docker.sock"
elif [ "${with_dockerd:-0}" = 1 ] && command -v dockerd >/dev/null 2>&1; then
    docker_sock="$tmp/docker.sock"
    dockerd -H "unix://$docker_sock" --data-root "$tmp/docker" --exec-root "$tmp/docker-run" \
        --pidfile "$tmp/docker.pid" --bridge none --iptables=false --ip6tables=false \
        --cgroup-parent "/$parent/docker" >"$tmp/dockerd.log" 2>&1 </dev/null &
    private_dockerd=$!
    for _ in $(seq 1 300); do
        docker -H "unix://$docker_sock" version >/dev/null 2>&1 && break
        sleep 0.1
    done
    docker -H "unix://$docker_sock" load -q -i "$tar" >/dev/null 2>&1 || docker_sock=""
fi
if [ -n "$docker_sock" ]; then
    dockerd_pid="$(pgrep -x dockerd | head -n 1)" || true
    [ -n "$private_dockerd" ] && dockerd_pid="$private_dockerd"
    scale_engine docker "$dockerd_pid" "$docker_sock" docker -H "unix://$docker_sock"
else
    echo "bench: no dockerd for the scale run (see --with-dockerd); docker skipped" >&2
fi
if [ -n "$private_dockerd" ]; then
    kill -TERM "$private_dockerd" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$private_dockerd" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$private_dockerd" 2>/dev/null || true
    wait "$private_dockerd" 2>/dev/null || true
fi

if command -v podman >/dev/null 2>&1; then
    scale_engine podman "" "" podman
fi

echo
echo "Scale: $scale 'sleep 600' containers (--network none); memory from smaps_rollup"
python3 - "$scale_results" "$scale" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = sys.argv[2]
eng = {}
for r in rows:
    eng.setdefault(r[0], {})[r[1]] = r[2:]
def one(e, k):
    v = eng[e].get(k)
    return v[0] if v else "-"
print(f"{'engine':<8}{'start CLI s':>12}{'start API s':>12}{'ps ms':>8}")
for e in eng:
    cli, api = one(e, "start_cli_ms"), one(e, "start_api_ms")
    cli = f"{int(cli) / 1000:.1f}" if cli != "-" else "-"
    api = f"{int(api) / 1000:.1f}" if api != "-" else "-"
    print(f"{e:<8}{cli:>12}{api:>12}{one(e, 'ps_ms'):>8}")
print()
print(f"{'process':<36}{'Rss MiB':>9}{'Pss MiB':>9}{'PrivDirty MiB':>15}")
for e in eng:
    for k, v in eng[e].items():
        if len(v) != 3 or not (k.startswith("daemon") or k.startswith("monitor")):
            continue
        label = {"daemon_idle": "daemon, idle",
                 "daemon_loaded": f"daemon, {n} running"}.get(k, k.replace("monitor:", "monitor "))
        r, p, d = (int(x) / 1024 for x in v)
        print(f"{e + ' ' + label:<36}{r:>9.1f}{p:>9.1f}{d:>15.1f}")
PY
