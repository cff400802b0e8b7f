#!/usr/bin/env bash
# The systemd unit of docs/deploy.md: `systemd-analyze verify` must accept it without a word (an
# unknown key or a bad value is only a warning there, so any output fails), and the binary must
# serve as the unit leaves it, as far as that is done without systemd: an unprivileged UID and
# GID (DynamicUser) with no capabilities and no_new_privs (NoNewPrivileges, CapabilityBoundingSet=),
# in a mount namespace where / is read-only but for its state directory (ProtectSystem=strict,
# StateDirectory) and /tmp is a private tmpfs (PrivateTmp). The seccomp filter and
# MemoryDenyWriteExecute are not applied here.
#
#   tests/deploy/systemd.sh [BINARY]   (default target/debug/toolbox)
# Needs root and systemd-analyze; without them it skips, or fails under CI=true.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/toolbox}")

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() {
    if [[ "${CI:-}" == true ]]; then echo "FAIL tests/deploy/systemd.sh: $*"; exit 1; fi
    echo "SKIP tests/deploy/systemd.sh: $*"; exit 0
}
[[ -x "$BIN" ]] || skip "no binary at $BIN"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is missing (apt-get install systemd)"
[[ $(id -u) -eq 0 ]] || skip "the mount namespace needs root"

TMP=$(mktemp -d -t toolbox-systemd-XXXXXX)
chmod 0755 "$TMP"
PID=""
cleanup() {
    [[ -z "$PID" ]] || { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    rm -rf "$TMP"
}
trap cleanup EXIT

# The unit, as documented, with the binary under test in ExecStart.
python3 - "$ROOT/docs/deploy.md" "$BIN" "$TMP/toolbox.service" <<'PY'
import re, sys
doc, binary, out = sys.argv[1:]
unit = re.search(r"^```ini\n(.*?)^```", open(doc).read(), re.S | re.M).group(1)
assert "ExecStart=/usr/local/bin/toolbox " in unit, "the unit starts /usr/local/bin/toolbox"
open(out, "w").write(unit.replace("/usr/local/bin/toolbox", binary))
PY
said=$(systemd-analyze verify "$TMP/toolbox.service" 2>&1) && rc=0 || rc=$?
if [[ $rc == 0 && -z "$said" ]]; then ok "systemd-analyze verify accepts the unit"; else fail "systemd-analyze verify (exit $rc): $said"; fi

# Its command line, from the unit.
args=$(sed -n 's|^ExecStart=[^ ]* ||p' "$TMP/toolbox.service")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
args=${args/--port 5000/--port $PORT}
mkdir -p "$TMP/state"
chown 61234:61234 "$TMP/state"
# shellcheck disable=SC2086 # the unit's arguments, split as systemd splits them
unshare --mount --propagation private -- sh -c '
    mount --bind "$1" "$1" && mount -t tmpfs tmpfs /tmp && mount -o remount,bind,ro / || exit 111
    # The sandbox is real: even root cannot write beside the state directory now.
    if touch "$1.probe" 2>/dev/null; then exit 112; fi
    shift; exec "$@"' sh "$TMP/state" \
    env -i TOOLBOX_DEMO_DB="$TMP/state/airline.db" \
    setpriv --reuid 61234 --regid 61234 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
    "$BIN" $args >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_flight","arguments":{"flight_number":"UA0008"}}}'
reply=$(curl -s "http://127.0.0.1:$PORT/mcp" -H 'Content-Type: application/json' -d "$call" || true)
if grep -q '\\"flight_number\\":\\"UA0008\\"' <<<"$reply"; then
    ok "it serves as UID 61234, without capabilities, on a read-only / (the database made in its state directory)"
else
    fail "tools/call: $reply; log: $(cat "$TMP/server.log")"
fi
server=$(pgrep -P "$PID" -f "$BIN" || pgrep -f "^$BIN .*--port $PORT" || true)
server=${server%%$'\n'*}
if [[ -n "$server" ]] && grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$server/status" \
    && grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$server/status"; then
    ok "no effective capabilities, no_new_privs set"
else
    fail "capabilities of '$server': $(grep -E '^(Uid|CapEff|NoNewPrivs)' "/proc/$server/status" 2>/dev/null)"
fi
kill -TERM "$PID"
code=0
wait "$PID" || code=$?
PID=""
if [[ $code == 0 ]]; then ok "SIGTERM (the unit's KillSignal): exit 0"; else fail "SIGTERM: exit $code; $(tail -5 "$TMP/server.log")"; fi
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
