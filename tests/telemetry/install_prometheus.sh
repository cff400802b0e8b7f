#!/usr/bin/env bash
# Makes sure Debian's `prometheus` binary is on PATH, for tests/telemetry/prometheus_scrape.py.
# Idempotent: nothing is done when `prometheus` is already there.
#
# The package installs a service too. The tests never use it (they start their own Prometheus on a
# free loopback port with its own config and storage), but a service left on :9090 would be
# surprising, so the install runs with a policy-rc.d that refuses to start services (Debian's
# documented switch; on the project's machines one that refuses everything is already in place),
# and a packaged service found running afterwards is stopped through its init script.
# --no-install-recommends: the recommended prometheus-node-exporter would be a second service.
set -euo pipefail

step() { echo "==> install_prometheus.sh: $*"; }
die() { echo "install_prometheus.sh: FAILED: $*" >&2; exit 1; }

if command -v prometheus >/dev/null; then
    step "$(prometheus --version 2>&1 | head -n1) already at $(command -v prometheus); skipping"
    exit 0
fi
command -v apt-get >/dev/null || die "prometheus is not on PATH and there is no apt-get to install it with"
[[ $(id -u) == 0 ]] || die "prometheus is not on PATH; installing it needs root (apt-get install prometheus)"

policy=/usr/sbin/policy-rc.d
made_policy=
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# Written by tests/telemetry/install_prometheus.sh for the length of one apt-get install.\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
fi
cleanup() { if [[ -n $made_policy ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT

step "apt-get install prometheus"
apt-get update -qq || die "apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || die "apt-get install prometheus"
command -v prometheus >/dev/null || die "the prometheus package installed no prometheus command"

# Belt and braces: if the packaged service did start (a machine whose policy allowed it before we
# looked), stop it through its own init script; our tests do not need it.
if [[ -x /etc/init.d/prometheus ]] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    step "stopping the packaged prometheus service"
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
step "$(prometheus --version 2>&1 | head -n1) installed at $(command -v prometheus)"
