#!/usr/bin/env bash
# demo.sh (`make demo`): build Rocker in release mode, make sure a daemon answers on the
# socket (starting target/release/rockerd in the background if not), load the busybox image
# built from Debian's busybox-static, and run a container.
#
# Defaults are the production paths. To keep the demo away from them, set any of:
#   ROCKER_HOST=unix:///tmp/x/rocker.sock ROCKER_DATA_ROOT=/tmp/x/data
#   ROCKER_EXEC_ROOT=/tmp/x/run ROCKER_CGROUP_PARENT=rocker-demo ROCKERD_LOG=/tmp/x/rockerd.log
# The daemon the demo starts keeps running afterwards; stop it with
#   kill "$(cat <exec-root>/rockerd.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

scripts/deps.sh

echo "==> cargo build --release -j2"
cargo build --release -j2

target_dir="${CARGO_TARGET_DIR:-$root/target}"
export PATH="$target_dir/release:$PATH"

exec_root="${ROCKER_EXEC_ROOT:-/run/rocker}"
daemon_args=()
[ -n "${ROCKER_HOST:-}" ] && daemon_args+=(-H "$ROCKER_HOST")
[ -n "${ROCKER_DATA_ROOT:-}" ] && daemon_args+=(--data-root "$ROCKER_DATA_ROOT")
[ -n "${ROCKER_EXEC_ROOT:-}" ] && daemon_args+=(--exec-root "$ROCKER_EXEC_ROOT")
[ -n "${ROCKER_CGROUP_PARENT:-}" ] && daemon_args+=(--cgroup-parent "$ROCKER_CGROUP_PARENT")
daemon_args+=(--pidfile "$exec_root/rockerd.pid")

if rocker version >/dev/null 2>&1; then
    echo "==> rockerd already answers on ${ROCKER_HOST:-the default socket}"
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "demo: no daemon answers and starting one needs root: sudo make demo" >&2
        exit 1
    fi
    log="${ROCKERD_LOG:-/var/log/rocker/rockerd.log}"
    if ! mkdir -p "$(dirname "$log")" 2>/dev/null; then
        log="$exec_root/rockerd.log"
        mkdir -p "$exec_root"
    fi
    echo "==> starting rockerd ${daemon_args[*]} (log: $log)"
    # setsid: the daemon outlives this script and make's process group.
    setsid -f "$target_dir/release/rockerd" "${daemon_args[@]}" >>"$log" 2>&1 </dev/null
    for _ in $(seq 1 200); do
        rocker version >/dev/null 2>&1 && break
        sleep 0.05
    done
    if ! rocker version >/dev/null 2>&1; then
        echo "demo: rockerd did not come up within 10s; last log lines:" >&2
        tail -n 30 "$log" >&2 || true
        exit 1
    fi
fi

if [ ! -s build/busybox.tar ] || [ scripts/mk-busybox-image -nt build/busybox.tar ] \
    || [ /bin/busybox -nt build/busybox.tar ]; then
    echo "==> scripts/mk-busybox-image build/busybox.tar"
    mkdir -p build
    scripts/mk-busybox-image build/busybox.tar.tmp
    mv build/busybox.tar.tmp build/busybox.tar
fi

run() {
    echo "+ $*"
    "$@"
}
run rocker load -i build/busybox.tar
run rocker run --rm busybox echo hello from rocker
run rocker ps -a
run rocker images
echo
echo "Try: rocker run -it --rm busybox sh"
echo "     docker -H ${ROCKER_HOST:-unix:///run/rocker/rocker.sock} run --rm busybox uname -a"
