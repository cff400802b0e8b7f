#!/usr/bin/env bash
# Runs the official MCP conformance suite against the toolbox over Streamable HTTP:
#   1. @modelcontextprotocol/conformance@0.1.16, all active server scenarios (2025-11-25 era)
#   2. @modelcontextprotocol/conformance@0.2.0-alpha.12 --requirements 2025-11-25
#   3. @modelcontextprotocol/conformance@0.2.0-alpha.12 --requirements 2026-07-28 (stateless era)
# each against a fresh toolbox on a free loopback port, with Node 22 from tests/peers/install.sh on
# PATH and the expected-failures baseline tests/peers/conformance-baseline-<run>.yml.
# A scenario (or check) outside its baseline that fails, a baseline entry that passes, or a
# toolbox that dies during a run fails the script. The last line is `conformance: N passed, M failed,
# K skipped` (skipped = baselined expected failures).
# Environment: TOOLBOX_BIN (default target/debug/toolbox, built with `cargo build` when unset),
# PEERS_KEEP_TMP=1 keeps the results and server logs, CONFORMANCE_RUNS to pick runs (e.g. "3"),
# TOOLBOX_BALANCER=haproxy or nginx to run through that balancer in front of three instances.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS="${PEERS_DIR:-$ROOT/.ci/peers}"
HERE="$ROOT/tests/peers"
PY="$PEERS/venv/bin/python"
NODE_BIN="$PEERS/node22/bin"

die() { echo "conformance.sh: FAILED: $*" >&2; exit 1; }
[[ -x "$NODE_BIN/node" && -x "$PY" ]] || die "peers are not installed in $PEERS; run tests/peers/install.sh first"
node_version=$("$NODE_BIN/node" --version)
[[ "$node_version" == v22.* ]] || die "$NODE_BIN/node is $node_version, not Node 22"

if [[ -n "${TOOLBOX_BIN:-}" ]]; then
    BIN=$(realpath "$TOOLBOX_BIN")
else
    echo "== building the toolbox (cargo build)"
    (cd "$ROOT" && cargo build --quiet) || die "cargo build"
    BIN="$ROOT/target/debug/toolbox"
fi
[[ -x "$BIN" ]] || die "no toolbox binary at $BIN"

TMP=$(mktemp -d -t toolbox-conformance-XXXXXX)
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
cleanup() {
    stop_server
    if [[ -n "${PEERS_KEEP_TMP:-}" ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# Starts the toolbox on a free port with its own demo database; sets SERVER_PID and URL. With
# TOOLBOX_BALANCER (haproxy or nginx), three instances sharing that database behind the balancer
# (tests/deploy/fleet.py), SERVER_PID being the fleet, which exits when any part of it dies.
start_server() {
    local name=$1 attempt port
    if [[ -n "${TOOLBOX_BALANCER:-}" ]]; then
        rm -f "$TMP/$name.url"
        TOOLBOX_DEMO_DB="$TMP/$name.db" "$PY" "$HERE/../deploy/fleet.py" "$BIN" "$TMP/$name.url" "$TMP/$name-fleet" \
            >>"$TMP/$name-server.log" 2>&1 &
        SERVER_PID=$!
        for _ in $(seq 600); do
            [[ -s "$TMP/$name.url" ]] && { URL=$(cat "$TMP/$name.url"); return 0; }
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        cat "$TMP/$name-server.log" >&2
        die "the fleet behind $TOOLBOX_BALANCER does not start"
    fi
    for attempt in 1 2 3 4 5; do
        port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        TOOLBOX_DEMO_DB="$TMP/$name.db" "$BIN" --port "$port" >>"$TMP/$name-server.log" 2>&1 &
        SERVER_PID=$!
        if "$PY" - "$port" "$SERVER_PID" <<'EOF'
import os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
        then
            URL="http://127.0.0.1:$port/mcp"
            return 0
        fi
        stop_server
        echo "   (the toolbox did not come up on port $port, attempt $attempt)"
    done
    cat "$TMP/$name-server.log" >&2
    die "the toolbox does not start"
}

TOTAL_PASSED=0 TOTAL_FAILED=0 TOTAL_SKIPPED=0
STATUS=0

# run_suite NAME VERSION BASELINE [conformance args...]
run_suite() {
    local name=$1 version=$2 baseline=$3
    shift 3
    local cli="$PEERS/conformance-$version/node_modules/.bin/conformance"
    [[ -x "$cli" ]] || die "no conformance $version at $cli; run tests/peers/install.sh"
    [[ -f "$baseline" ]] || die "no baseline $baseline"
    echo
    echo "== conformance $version $* (baseline $(basename "$baseline"))"
    start_server "$name"
    local results="$TMP/results-$name" log="$TMP/$name.log" rc=0
    PATH="$NODE_BIN:$PATH" timeout 900 "$cli" server --url "$URL" "$@" \
        --expected-failures "$baseline" -o "$results" >"$log" 2>&1 || rc=$?
    # The suite's own summary, from its last `=== SUMMARY ===` on.
    sed -n '/=== SUMMARY ===/,$p' "$log"
    local alive=1
    kill -0 "$SERVER_PID" 2>/dev/null || alive=0
    stop_server
    local verdict rc_check=0
    verdict=$("$PY" "$HERE/conformance_check.py" "$results" "$baseline" "$name") || rc_check=$?
    echo "-- judged against $(basename "$baseline"):"
    echo "$verdict"
    local counts
    counts=$(tail -n 1 <<<"$verdict")
    if [[ "$counts" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
        TOTAL_PASSED=$((TOTAL_PASSED + BASH_REMATCH[1]))
        TOTAL_FAILED=$((TOTAL_FAILED + BASH_REMATCH[2]))
        TOTAL_SKIPPED=$((TOTAL_SKIPPED + BASH_REMATCH[3]))
    else
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
    fi
    if [[ $alive == 0 ]]; then
        echo "!! the toolbox died during the run; its log:"
        tail -n 50 "$TMP/$name-server.log"
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
        STATUS=1
    fi
    if [[ $rc != 0 ]]; then
        echo "!! conformance $version exited with $rc (full output: ${PEERS_KEEP_TMP:+$log}${PEERS_KEEP_TMP:-set PEERS_KEEP_TMP=1 to keep it})"
        grep -E '^(Unexpected|Stale|.*(unexpected|stale))' "$log" | head -n 40 || true
        STATUS=1
    fi
    [[ $rc_check == 0 ]] || STATUS=1
}

RUNS="${CONFORMANCE_RUNS:-1 2 3}"
for run in $RUNS; do
    case $run in
        1) run_suite 0.1.16-2025-11-25 0.1.16 "$HERE/conformance-baseline-0.1.16.yml" ;;
        2) run_suite 0.2.0-alpha.12-2025-11-25 0.2.0-alpha.12 "$HERE/conformance-baseline-0.2.0-alpha.12-2025-11-25.yml" --requirements 2025-11-25 ;;
        3) run_suite 0.2.0-alpha.12-2026-07-28 0.2.0-alpha.12 "$HERE/conformance-baseline-0.2.0-alpha.12-2026-07-28.yml" --requirements 2026-07-28 ;;
        *) die "unknown run $run (1, 2 or 3)" ;;
    esac
done

echo
echo "conformance: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
exit "$STATUS"
