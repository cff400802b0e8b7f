#!/usr/bin/env bash
# The container image's layout, tested without a Docker engine: deploy/rootfs.sh (what the
# Dockerfile's `FROM scratch` stage copies) into a temporary directory, then the binary it holds
# run in a chroot of that directory as the image's user (UID 65532), with an empty environment
# but the image's: it must serve on 0.0.0.0 (health, readiness, a tool answered from the SQLite
# database it creates in /data), write nothing outside /data and /tmp, stop with 0 on SIGTERM,
# and refuse a relative database path, which the layout cannot resolve, with a clear message.
#
#   tests/deploy/image.sh [STATIC_BINARY]   (default: the dist musl build of .ci/run)
#
# Needs root (chroot). Without the binary or root it skips, or fails under CI=true.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${1:-$TARGET/x86_64-unknown-linux-musl/dist/toolbox}

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() {
    if [[ "${CI:-}" == true ]]; then echo "FAIL tests/deploy/image.sh: $*"; exit 1; fi
    echo "SKIP tests/deploy/image.sh: $*"; exit 0
}
[[ -x "$BIN" ]] || skip "no static binary at $BIN (cargo build --profile dist --target x86_64-unknown-linux-musl)"
[[ $(id -u) -eq 0 ]] || skip "chroot needs root"

TMP=$(mktemp -d -t toolbox-image-XXXXXX)
PID=""
cleanup() {
    [[ -z "$PID" ]] || { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    rm -rf "$TMP"
}
trap cleanup EXIT
DIR="$TMP/rootfs"
bash "$ROOT/deploy/rootfs.sh" "$BIN" "$DIR"
# The Dockerfile's second COPY: /data belongs to the user.
chown 65532:65532 "$DIR/data"
touch "$TMP/started"
sleep 1

# `env -i` empties PATH too, so chroot is named by its path.
CHROOT=$(command -v chroot) || skip "no chroot command"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The image's ENTRYPOINT and CMD, its USER and ENV, and nothing from this environment.
env -i TOOLBOX_DEMO_DB=/data/airline.db "$CHROOT" --userspec=65532:65532 "$DIR" \
    /toolbox --address 0.0.0.0 --port "$PORT" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done

if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" == 200 ]]; then ok "/healthz answers 200"; else fail "/healthz: $(cat "$TMP/server.log")"; fi
if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" == 200 ]]; then ok "/readyz answers 200"; else fail "/readyz"; fi
uid=$(awk '/^Uid:/ {print $2}' "/proc/$PID/status" 2>/dev/null || true)
if [[ "$uid" == 65532 ]]; then ok "the server runs as UID 65532"; else fail "the server runs as UID '$uid'"; fi
if ss -ltnH "sport = :$PORT" | grep -q '0.0.0.0:'; then ok "it listens on 0.0.0.0:$PORT"; else fail "not on 0.0.0.0: $(ss -ltnH "sport = :$PORT")"; fi
# Through an address of this machine that is not loopback, with that address as the Host.
ip=$(hostname -I 2>/dev/null | awk '{print $1}')
call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_flight","arguments":{"flight_number":"UA0008"}}}'
if [[ -n "$ip" ]]; then
    reply=$(curl -s "http://$ip:$PORT/mcp" -H 'Content-Type: application/json' -d "$call" || true)
    if grep -q '\\"flight_number\\":\\"UA0008\\"' <<<"$reply"; then ok "a tool answers through $ip (the database was created in /data)"; else fail "tools/call through $ip: $reply"; fi
else
    fail "this machine has no address besides loopback"
fi
if [[ "$(stat -c %u "$DIR/data/airline.db" 2>/dev/null)" == 65532 ]]; then ok "/data/airline.db belongs to 65532"; else fail "/data/airline.db: $(ls -ln "$DIR/data")"; fi
kill -TERM "$PID"
code=0
wait "$PID" || code=$?
PID=""
if [[ $code == 0 ]]; then ok "SIGTERM: exit 0"; else fail "SIGTERM: exit $code"; fi
outside=$(find "$DIR" -newer "$TMP/started" -not -path "$DIR/data*" -not -path "$DIR/tmp*" -not -path "$DIR")
if [[ -z "$outside" ]]; then ok "nothing was written outside /data and /tmp"; else fail "written outside /data and /tmp: $outside"; fi

# Without the variable, the demo's relative path points into the build's checkout, absent here.
code=0
env -i "$CHROOT" --userspec=65532:65532 "$DIR" /toolbox --port "$PORT" >"$TMP/relative.log" 2>&1 || code=$?
if [[ $code != 0 ]] && grep -qi 'absolute' "$TMP/relative.log"; then
    ok "a relative database path is refused, asking for an absolute one (exit $code)"
else
    fail "a relative database path: exit $code, $(cat "$TMP/relative.log")"
fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
