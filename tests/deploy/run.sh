#!/usr/bin/env bash
# Three toolbox instances behind a real load balancer (HAProxy with active /readyz checks, and
# nginx), as docs/deploy.md configures them:
#   1. the real peers through the balancer: the official MCP Python SDK (nginx), the
#      conformance suite (HAProxy) and the reference's SDKs with authorization on (HAProxy);
#      then tests/deploy/spread.py checks from each instance's /metrics that the requests spread;
#   2. tests/deploy/balancer.py: initialize and tools/call on different instances in every
#      protocol version, graceful shutdown, SIGTERM and SIGKILL under 64 connections (throughput
#      is left to `tests/deploy/balancer.py BINARY throughput`, which asserts nothing);
#   3. tests/deploy/ca_bundle.py: the image's CA bundle path is what the authorization client trusts;
#      tests/deploy/systemd.sh: docs/deploy.md's unit verified, and the binary under its hardening;
#   4. tests/deploy/image.sh when a static binary is there (.ci/run builds it before calling it).
# Needs tests/deploy/install.sh, tests/peers/install.sh and tests/peers/install_toolbox_sdks.sh.
# Environment: TOOLBOX_BIN and SDK_PEER_BIN (default: built with cargo build), DEPLOY_LOAD_SECONDS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

for tool in haproxy nginx h2load; do
    if ! command -v "$tool" >/dev/null; then
        if [[ "${CI:-}" == true ]]; then echo "tests/deploy/run.sh: FAILED: $tool is missing (tests/deploy/install.sh)" >&2; exit 1; fi
        echo "SKIP tests/deploy/run.sh: $tool is missing (tests/deploy/install.sh installs it)"
        exit 0
    fi
done
if [[ -z "${TOOLBOX_BIN:-}" || -z "${SDK_PEER_BIN:-}" ]]; then
    cargo build --quiet -p toolbox --bin toolbox && cargo build --quiet -p toolbox-runtime --example sdk_peer
fi
export TOOLBOX_BIN=${TOOLBOX_BIN:-$TARGET/debug/toolbox}
export SDK_PEER_BIN=${SDK_PEER_BIN:-$TARGET/debug/examples/sdk_peer}
REPORTS=$(mktemp -d -t toolbox-deploy-reports-XXXXXX)
trap 'rm -rf "$REPORTS"' EXIT
STATUS=0
# Runs a test, printing its output but the `ok` lines; a failure is remembered in STATUS and the
# next test runs.
# With KEEP set, only the lines matching it are printed.
brief() {
    local rc=0
    "$@" >"$REPORTS/output" 2>&1 || rc=$?
    if [[ -n "${KEEP:-}" ]]; then
        grep -E "$KEEP" "$REPORTS/output" || true
    else
        grep -Ev '^ *(js \| )?(ok |pass |expected failure )' "$REPORTS/output" || true
    fi
    if [[ $rc != 0 ]]; then echo "!! $* exited with $rc"; STATUS=1; fi
}

# tests/run.sh runs the Python SDK against one instance too; the other peers run only here.
echo "== the MCP Python SDK through nginx"
brief env FLEET_REPORT="$REPORTS/peers.jsonl" TOOLBOX_BALANCER=nginx bash tests/peers/python_sdk.sh
echo "== the conformance suite through HAProxy"
KEEP='^(conformance|[0-9a-z.-]+: [0-9]+ passed|!!|.*(Unexpected|Stale|FAILED))' \
    brief env FLEET_REPORT="$REPORTS/peers.jsonl" TOOLBOX_BALANCER=haproxy bash tests/peers/conformance.sh
echo "== the reference's SDKs, authorization on, through HAProxy"
brief env FLEET_REPORT="$REPORTS/auth.jsonl" TOOLBOX_BALANCER=haproxy bash tests/peers/toolbox_sdks.sh
echo "== the requests spread over the instances"
brief python3 tests/deploy/spread.py "$REPORTS/peers.jsonl"
brief python3 tests/deploy/spread.py --auth "$REPORTS/auth.jsonl"
echo "== handshakes, graceful shutdown, faults under load"
# Throughput is measured apart (balancer.py BINARY throughput): it asserts nothing.
DEPLOY_LOAD_SECONDS=${DEPLOY_LOAD_SECONDS:-3} brief python3 tests/deploy/balancer.py "$TOOLBOX_BIN" handshake shutdown faults
echo "== the CA bundle of the image is what the authorization client trusts"
brief python3 tests/deploy/ca_bundle.py "$SDK_PEER_BIN"
echo "== the systemd unit"
brief bash tests/deploy/systemd.sh "$TOOLBOX_BIN"
STATIC=$TARGET/x86_64-unknown-linux-musl/dist/toolbox
if [[ -x "$STATIC" ]]; then
    echo "== the container image's layout"
    brief bash tests/deploy/image.sh "$STATIC"
else
    echo "== the container image's layout: no static binary yet (.ci/run runs tests/deploy/image.sh after building it)"
fi
exit "$STATUS"
