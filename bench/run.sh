#!/usr/bin/env bash
# Benchmark kit: measures release binaries the way users run them and prints one table.
#
#   bash bench/run.sh                      # full run (a few minutes after the build)
#   BENCH_REQUESTS=2000 bash bench/run.sh  # a short smoke pass (CI): checks the kit, not the figures
#   BENCH_BUILD_TIMES=1 bash bench/run.sh  # also clean and one-statement rebuild times (~10 min more)
#
# Workloads (h2load over HTTP/1.1 on loopback, one load thread, a fixed number of requests after a
# warm-up, at 1, 16 and 64 connections): tools/call of an indexed one-row SELECT on SQLite and on PostgreSQL, tools/list,
# and the SQLite call again under MCP authorization (a JWT bearer token and a tool scope). In the
# same run, PostgreSQL alone on the same SELECT (pgbench, 16 clients) for the toolbox/pgbench ratio.
# Load generator, server and database share this machine's cores: compare ratios, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${BENCH_REQUESTS:-60000}
port=${BENCH_PORT:-5099}
issuer_port=$((port - 1))
otlp_port=$((port - 2))
threads=${BENCH_THREADS:-}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres} PGSSLMODE=${PGSSLMODE:-disable}
export BENCH_PGDATABASE=${BENCH_PGDATABASE:-toolbox_bench}

command -v h2load >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null; }
command -v pgbench >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }

# The PostgreSQL side: the example's flights (5,000 rows) in a database of the benchmark's own.
pg=1
if psql -d postgres -qtAc 'SELECT 1' >/dev/null 2>&1; then
  psql -d postgres -q -c "DROP DATABASE IF EXISTS $BENCH_PGDATABASE WITH (FORCE)" -c "CREATE DATABASE $BENCH_PGDATABASE"
  psql -d "$BENCH_PGDATABASE" -q -v ON_ERROR_STOP=1 -f examples/postgres/schema.sql >/dev/null
else
  [ "${CI:-}" = "true" ] && { echo "PostgreSQL is not reachable on $PGHOST:5432" >&2; exit 1; }
  echo "PostgreSQL is not reachable on $PGHOST:5432: its workloads are skipped"
  pg=0
fi

# The profile that ships (`dist`: fat LTO), not the edit-rebuild loop's `release`.
cargo build --profile dist --quiet -p toolbox -p toolbox-bench
work=$(mktemp -d)
server=
issuer=
sink=
cleanup() {
  [ -n "$sink" ] && kill "$sink" 2>/dev/null
  [ -n "$server" ] && kill "$server" 2>/dev/null
  [ -n "$issuer" ] && kill "$issuer" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export BENCH_SQLITE_DB=$work/airline.db BENCH_ISSUER=http://127.0.0.1:$issuer_port BENCH_AUDIENCE=http://127.0.0.1:$port/mcp
# Rate limiting is off in the rows (they send tens of thousands of calls from one client); its cost
# is measured on its own below, with a rate no row reaches.
server_args=(--port "$port" --log-level warn ${threads:+--threads "$threads"})
extra_args=(--rate-limit off)

ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
start_server() { # start_server [AUTHORIZATION]: sets $server and $ready_ms
  read -r server ready_ms < <(python3 bench/wait_ready.py "$port" "$@" -- "$binary" "${server_args[@]}" "${extra_args[@]}")
}
idle_rss_kb() { sleep 0.5; awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
stop_server() {
  kill "$server"
  while [ -e "/proc/$server" ]; do sleep 0.05; done
  server=
}

call() { printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"flight_number":"%s"}}}' "$1" "$2"; }
body_list='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'

declare -A cpu rps
row() { printf '%-36s %5s %9s %8s %8s %11s\n' "$@"; }
# load NAME CONNS BODY [HEADER...]: a warm-up, then $requests requests; prints one row.
load() {
  local name=$1 conns=$2 body=$3
  shift 3
  local headers=(-H "Content-Type: application/json" -H "MCP-Protocol-Version: 2025-11-25")
  for h in "$@"; do headers+=(-H "$h"); done
  # One answer is read first: a workload of error answers would measure nothing.
  local answer
  answer=$(curl -s "${headers[@]}" -d "$body" "http://127.0.0.1:$port/mcp")
  if [[ $answer != *'"result"'* || $answer == *'"isError":true'* ]]; then
    echo "$name: the server answered $answer" >&2
    exit 1
  fi
  printf '%s' "$body" >"$work/body.json"
  local h2load=(h2load --h1 -t 1 -c "$conns" -d "$work/body.json" "${headers[@]}")
  "${h2load[@]}" -n $((requests / 10 + conns)) "http://127.0.0.1:$port/mcp" >/dev/null
  local before after
  rm -f "$work/h2load.log"
  before=$(ticks)
  "${h2load[@]}" -n "$requests" --log-file="$work/h2load.log" "http://127.0.0.1:$port/mcp" >"$work/h2load.out"
  after=$(ticks)
  local figures
  if ! figures=$(python3 bench/h2load_summary.py "$work/h2load.out" "$work/h2load.log" "$requests" \
    "$((after - before))" "$hz" 2>&1); then
    echo "$name, $conns connections: $figures" >&2
    exit 1
  fi
  read -r r p50 p99 us <<<"$figures"
  cpu["$name/$conns"]=$us
  rps["$name/$conns"]=$r
  [ -n "${quiet:-}" ] || row "$name" "$conns" "$r" "$p50" "$p99" "$us"
}

# Start-up and idle memory of the default toolbox (embedded SQLite), on a demo database made by a
# first start; then of the benchmark's toolbox, which also connects to PostgreSQL and compares
# its statements with the live schema before it listens.
binary=target/dist/toolbox
export TOOLBOX_DEMO_DB=$work/demo.db
start_server
stop_server
start_server
default_spawn_ms=$ready_ms
default_rss_kb=$(idle_rss_kb)
stop_server
binary=target/dist/toolbox-bench
start_server
stop_server
start_server
spawn_ms=$ready_ms
rss_idle_kb=$(idle_rss_kb)

echo "toolbox: $requests requests per row after a warm-up; server CPU is utime+stime per request"
row workload conns req/s p50_ms p99_ms cpu_us/call
for conns in 1 16 64; do load "tools/call SQLite" $conns "$(call flight_sqlite UA0008)"; done
if [ $pg = 1 ]; then
  for conns in 1 16 64; do load "tools/call PostgreSQL" $conns "$(call flight_pg UA0001)"; done
fi
for conns in 1 16 64; do load "tools/list" $conns "$body_list"; done
rss_peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
stop_server

# The same SQLite call under MCP authorization: a JWT from a local issuer, verified against its
# JWKS, with the server scope mcp:access and the tool scope flights:read.
python3 bench/issuer.py "$issuer_port" "$BENCH_AUDIENCE" mcp:access flights:read >"$work/token" &
issuer=$!
for _ in $(seq 100); do [ -s "$work/token" ] && break; sleep 0.1; done
token=$(head -1 "$work/token")
BENCH_AUTH=1 start_server "Bearer $token"
for conns in 1 16 64; do load "tools/call SQLite + JWT" $conns "$(call flight_sqlite UA0008)" "Authorization: Bearer $token"; done
stop_server

# The JWT's own cost is small next to the noise between two runs, so it is taken as the median
# of three differences, each between a plain and an authorized run made back to back.
jwt_extra=()
quiet=1
for _ in 1 2 3; do
  start_server
  load plain 16 "$(call flight_sqlite UA0008)"
  stop_server
  BENCH_AUTH=1 start_server "Bearer $token"
  load jwt 16 "$(call flight_sqlite UA0008)" "Authorization: Bearer $token"
  stop_server
  jwt_extra+=("$(python3 -c "print(round(${cpu[jwt/16]} - ${cpu[plain/16]}, 1))")")
done
# The same for rate limiting: every call counted against a rate it never reaches.
rate_extra=()
for _ in 1 2 3; do
  start_server
  load plain 16 "$(call flight_sqlite UA0008)"
  stop_server
  extra_args=(--rate-limit 1000000000/s)
  start_server
  load limited 16 "$(call flight_sqlite UA0008)"
  stop_server
  extra_args=(--rate-limit off)
  rate_extra+=("$(python3 -c "print(round(${cpu[limited/16]} - ${cpu[plain/16]}, 1))")")
done
# And for telemetry, against the same plain runs: Prometheus metrics on (the instruments are
# recorded on every call whether or not anything scrapes); tracing alone exported over OTLP/HTTP
# to a local sink, with the SDK's sampler at 0% (the sampler asked, nothing recorded) and at 100%
# (three spans a call, batched and exported).
python3 bench/otlp_sink.py "$otlp_port" &
sink=$!
telemetry_extra() { # telemetry_extra NAME ENV FLAG...: prints three extra-CPU figures
  local name=$1 environment=$2 figures=()
  shift 2
  for _ in 1 2 3; do
    start_server
    load plain 16 "$(call flight_sqlite UA0008)"
    stop_server
    extra_args=(--rate-limit off "$@")
    # shellcheck disable=SC2086
    for kv in $environment; do export "${kv?}"; done
    start_server
    load "$name" 16 "$(call flight_sqlite UA0008)"
    stop_server
    for kv in $environment; do unset "${kv%%=*}"; done
    extra_args=(--rate-limit off)
    figures+=("$(python3 -c "print(round(${cpu[$name/16]} - ${cpu[plain/16]}, 1))")")
  done
  echo "${figures[@]}"
}
read -ra metrics_extra <<<"$(telemetry_extra metrics "" --metrics)"
# Tracing alone: OTLP metrics off (they cost what --metrics does).
bsp="OTEL_BSP_SCHEDULE_DELAY=200 OTEL_BSP_MAX_QUEUE_SIZE=65536 OTEL_METRICS_EXPORTER=none"
read -ra trace0_extra <<<"$(telemetry_extra trace0 "OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0 $bsp" \
  --telemetry-otlp "http://127.0.0.1:$otlp_port")"
read -ra trace100_extra <<<"$(telemetry_extra trace100 "OTEL_TRACES_SAMPLER=always_on $bsp" \
  --telemetry-otlp "http://127.0.0.1:$otlp_port")"
kill "$sink" 2>/dev/null
sink=
quiet=

pgbench_tps=
if [ $pg = 1 ]; then
  echo "SELECT id, flight_number, airline, status, departure, seats, price FROM flights WHERE flight_number = :fn;" >"$work/lookup.sql"
  pgbench -n -M prepared -f "$work/lookup.sql" -D fn=UA0001 -c 16 -j 2 -t $((requests / 16 / 10 + 1)) "$BENCH_PGDATABASE" >/dev/null 2>&1
  pgbench_tps=$(pgbench -n -M prepared -f "$work/lookup.sql" -D fn=UA0001 -c 16 -j 2 -t $((requests / 16)) "$BENCH_PGDATABASE" 2>&1 |
    awk '/^tps/ {printf "%.0f", $3}')
fi

musl=target/x86_64-unknown-linux-musl/dist/toolbox
echo
row_kv() { printf '%-52s %s\n' "$1" "$2"; }
[ -n "$pgbench_tps" ] && {
  row_kv "pgbench alone, same SELECT, 16 clients (tps)" "$pgbench_tps"
  row_kv "toolbox/pgbench at 16 connections" "$(python3 -c "print(f'{${rps["tools/call PostgreSQL/16"]} / $pgbench_tps:.0%}')")"
}
row_kv "extra CPU per call for a JWT, 16 connections (us)" \
  "$(python3 -c "import statistics, sys; print(statistics.median(map(float, sys.argv[1:])), sys.argv[1:])" "${jwt_extra[@]}")"
row_kv "extra CPU per call for rate limiting, 16 connections (us)" \
  "$(python3 -c "import statistics, sys; print(statistics.median(map(float, sys.argv[1:])), sys.argv[1:])" "${rate_extra[@]}")"
row_kv "extra CPU per call for --metrics, 16 connections (us)" \
  "$(python3 -c "import statistics, sys; print(statistics.median(map(float, sys.argv[1:])), sys.argv[1:])" "${metrics_extra[@]}")"
row_kv "extra CPU per call for tracing sampled at 0% (us)" \
  "$(python3 -c "import statistics, sys; print(statistics.median(map(float, sys.argv[1:])), sys.argv[1:])" "${trace0_extra[@]}")"
row_kv "extra CPU per call for tracing sampled at 100% (us)" \
  "$(python3 -c "import statistics, sys; print(statistics.median(map(float, sys.argv[1:])), sys.argv[1:])" "${trace100_extra[@]}")"
mib() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
row_kv "spawning /bin/true the same way (ms)" "$(python3 bench/wait_ready.py --spawn-floor)"
row_kv "default toolbox: spawn to first answer (ms)" "$default_spawn_ms"
row_kv "default toolbox: RSS idle (MiB)" "$(mib "$default_rss_kb")"
row_kv "bench toolbox: spawn to first answer (ms)" "$spawn_ms"
row_kv "bench toolbox: RSS idle / peak after all rows (MiB)" "$(mib "$rss_idle_kb") / $(mib "$rss_peak_kb")"
row_kv "dist binary, glibc, stripped (bytes)" "$(stat -c %s target/dist/toolbox)"
if [ -f "$musl" ]; then row_kv "static musl binary (bytes)" "$(stat -c %s "$musl")"; fi
if [ "${BENCH_BUILD_TIMES:-}" = 1 ]; then bash bench/build_times.sh; fi
exit 0
