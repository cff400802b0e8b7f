#!/usr/bin/env bash
# Runs the telemetry tests against real peers, with the venv that tests/peers/install.sh made:
#   prometheus_scrape.py  a real Prometheus scrapes the toolbox's /metrics (Debian's prometheus,
#                         installed by install_prometheus.sh when missing)
#   otlp_traces.py        an OTLP/HTTP receiver decodes the spans and metrics the toolbox exports
#   health.py             /healthz, /readyz with --require-source, /readyz during a graceful shutdown
# With arguments, runs only the scripts named (e.g. `run.sh otlp_traces`). Every script runs even
# when one before it failed; each ends with its `N passed, M failed` line; the exit status is 1
# when any failed. Without prometheus, CI=true fails; locally its scrape checks are skipped, saying so.
# Environment: TOOLBOX_BIN, TOOLBOX_PG_BIN, TELEMETRY_KEEP_TMP (see the scripts).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY="${PEERS_DIR:-$ROOT/.ci/peers}/venv/bin/python"
if [[ ! -x "$PY" ]]; then
    echo "telemetry/run.sh: no venv at $PY; run tests/peers/install.sh first" >&2
    exit 1
fi

scripts=("$@")
[[ ${#scripts[@]} -gt 0 ]] || scripts=(prometheus_scrape otlp_traces health)

for script in "${scripts[@]}"; do
    if [[ $script == prometheus_scrape ]] && ! command -v prometheus >/dev/null; then
        if ! bash "$HERE/install_prometheus.sh"; then
            if [[ "${CI:-}" == "true" ]]; then
                echo "telemetry/run.sh: FAILED: prometheus is missing and could not be installed (CI=true)" >&2
                exit 1
            fi
            echo "telemetry/run.sh: prometheus could not be installed here; prometheus_scrape.py skips its scrape checks"
        fi
    fi
done

status=0
for script in "${scripts[@]}"; do
    echo "== telemetry: $script"
    "$PY" "$HERE/${script%.py}.py" || status=1
done
exit $status
