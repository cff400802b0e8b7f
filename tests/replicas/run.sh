#!/usr/bin/env bash
# Read replicas against a real streaming replica of the local PostgreSQL (replicas.py says what
# is checked). Builds the toolbox-replicas server unless TOOLBOX_REPLICAS_BIN names one, then runs
# the script with the system's python3 (it needs nothing beyond the standard library, psql,
# pg_basebackup and pg_ctl; h2load, when installed, gives the throughput figures).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [[ -z "${TOOLBOX_REPLICAS_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build -p toolbox-replicas)
    TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    export TOOLBOX_REPLICAS_BIN="$TARGET/debug/toolbox-replicas"
fi
exec python3 "$HERE/replicas.py"
