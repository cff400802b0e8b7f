#!/usr/bin/env bash
# Installs what tests/deploy/ runs: Debian's haproxy, nginx (nginx-light) and h2load
# (nghttp2-client), when missing and this runs as root; otherwise it says how. Only apt is used.
# The packages' own services are not started (the tests run their own, on loopback ports).
set -euo pipefail
step() { echo "==> tests/deploy/install.sh: $*"; }
missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v h2load >/dev/null || missing+=(nghttp2-client)
if [[ ${#missing[@]} -eq 0 ]]; then
    step "haproxy, nginx and h2load already installed; skipping"
elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    step "apt-get install ${missing[*]}"
    apt-get update -qq
    # policy-rc.d keeps the packages' services from starting where there is no init (containers);
    # where they do start, they are stopped: the tests need none of them.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    for service in haproxy nginx; do
        if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
            systemctl stop "$service" || true
        fi
    done
else
    # Not fatal here: the tests skip without them (and fail under CI=true).
    step "missing: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}"
fi
