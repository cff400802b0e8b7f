#!/usr/bin/env bash
# Benchmark kit: measures the release binary the way a user runs it and prints one table.
#
#   bash bench/run.sh            # full run (about 2 minutes after the build)
#   BENCH_SECONDS=2 bash bench/run.sh   # a short smoke pass (CI)
#
# Figures: requests/s and p50/p99 latency from wrk (loopback, duration-based, after a warm-up) at
# 1, 16 and 64 connections; server CPU per call from /proc/PID/stat (utime+stime) over the run;
# RSS idle and peak (VmHWM); time from spawn to the first answered request; binary size.
# Load generator, server and database share this machine's cores: compare ratios, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-5099}

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet
binary=target/release/toolbox
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

# Create the demo database once, so the timed start-up below opens an existing file.
TOOLBOX_DEMO_DB=$work/airline.db "$binary" --port "$port" --log-level warn & server=$!
python3 bench/wait_ready.py "$port" >/dev/null
kill $server; wait $server 2>/dev/null || true

read -r server ready_ms < <(TOOLBOX_DEMO_DB=$work/airline.db python3 bench/wait_ready.py "$port" -- "$binary" --port "$port" --log-level warn)
sleep 0.5
rss_idle_kb=$(awk '/VmRSS/ {print $2}' /proc/$server/status)

ticks() { awk '{print $14 + $15}' /proc/$server/stat; }
hz=$(getconf CLK_TCK)

body_call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_flight","arguments":{"flight_number":"UA0008"}}}'
body_list='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'

printf '%-34s %6s %10s %9s %9s %12s\n' workload conns req/s p50_ms p99_ms cpu_us/call
run() {
  local name=$1 body=$2 conns=$3
  local script=$work/post.lua
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["MCP-Protocol-Version"] = "2025-11-25"\n' \
    "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$body")" > "$script"
  wrk -t1 -c"$conns" -d1s -s "$script" "http://127.0.0.1:$port/mcp" >/dev/null
  local before; before=$(ticks)
  local out; out=$(wrk -t"$(( conns < 2 ? 1 : 2 ))" -c"$conns" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:$port/mcp")
  local after; after=$(ticks)
  local requests; requests=$(echo "$out" | awk '/requests in/ {print $1}')
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p50; p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  local p99; p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local errors; errors=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  [ -z "$errors" ] || { echo "$name: $errors non-2xx responses" >&2; exit 1; }
  local cpu_us; cpu_us=$(python3 -c "print(round(($after-$before)/$hz*1e6/$requests, 1))")
  printf '%-34s %6s %10s %9s %9s %12s\n' "$name" "$conns" "$rps" "$(bench/ms.sh "$p50")" "$(bench/ms.sh "$p99")" "$cpu_us"
}
for conns in 1 16 64; do run "tools/call get_flight (SQLite)" "$body_call" $conns; done
for conns in 1 16 64; do run "tools/list" "$body_list" $conns; done

rss_peak_kb=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
echo
echo "spawn to first answered request: ${ready_ms} ms"
echo "RSS idle: $((rss_idle_kb / 1024)) MiB ($rss_idle_kb kB); peak: $((rss_peak_kb / 1024)) MiB ($rss_peak_kb kB)"
echo "release binary (glibc, stripped): $(stat -c %s "$binary") bytes"
musl=target/x86_64-unknown-linux-musl/release/toolbox
[ -f "$musl" ] && echo "static musl binary: $(stat -c %s "$musl") bytes"
exit 0
