#!/usr/bin/env bash
# deps.sh: make sure the host has what building, testing, the demo and the benchmark need.
# Idempotent and quiet: checks each Debian package with dpkg first and only runs
# `apt-get update` + `apt-get install` when something is missing. Also checks for cargo.
#
#   busybox-static  the test/demo image is built from /bin/busybox (scripts/mk-busybox-image)
#   runc            the floor in scripts/bench.sh
#   sqlite3         inspecting <data-root>/rocker.db by hand
#   iproute2 procps util-linux   ip, ps/pkill, nsenter/setsid/mount used by scripts and tests
#   python3         mk-busybox-image and bench.sh
#   hyperfine       bench.sh timing (falls back to a python3 loop)
#   nftables        rocker-net applies its NAT/port table with `nft -f -`
#   docker-compose  the Compose e2e test drives rockerd with Compose v1 (Python)
#   libseccomp-dev  the runtime compiles seccomp profiles with libseccomp (links -lseccomp)
#   docker-registry apache2-utils   registry e2e tests (a private registry; htpasswd)
#   gcc libc6-dev   rocker-engine's build.rs compiles the --init binary statically (libc.a)
set -euo pipefail

pkgs=(busybox-static runc sqlite3 iproute2 python3 hyperfine procps util-linux docker-registry apache2-utils libseccomp-dev nftables docker-compose gcc libc6-dev)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${pkgs[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
else
    echo "deps: no dpkg on this host; install these yourself if absent: ${pkgs[*]}" >&2
fi

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "deps: missing packages (${missing[*]}) and not root; run as root" >&2
            exit 1
        fi
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        echo "deps: cargo is in $HOME/.cargo/bin but not on PATH; run: . \"\$HOME/.cargo/env\"" >&2
    else
        echo "deps: cargo not found; install Rust (>= 1.80) with rustup: https://rustup.rs" >&2
    fi
    exit 1
fi

# The Python docker SDK, used by the e2e tests as a real client of rockerd: from PyPI, or
# Debian's python3-docker where this python3 has no pip.
if ! python3 -c 'import docker' >/dev/null 2>&1; then
    echo "deps: installing the Python docker SDK"
    python3 -m pip install --quiet docker >/dev/null 2>&1 \
        || python3 -m pip install --quiet --break-system-packages docker >/dev/null 2>&1 \
        || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq --no-install-recommends python3-docker >/dev/null 2>&1; } \
        || echo "deps: could not install the Python docker SDK; its e2e test will fail under CI" >&2
fi
