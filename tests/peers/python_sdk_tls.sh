#!/usr/bin/env bash
# Runs tests/peers/python_sdk_tls.py (the official MCP Python SDK over HTTPS, with a CA made in the
# test, through a certificate reload on SIGHUP) with the venv that tests/peers/install.sh made.
# Exits with the script's status; its last line is `N passed, M failed`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY="${PEERS_DIR:-$ROOT/.ci/peers}/venv/bin/python"
if [[ ! -x "$PY" ]]; then
    echo "python_sdk_tls.sh: no venv at $PY; run tests/peers/install.sh first" >&2
    exit 1
fi
exec "$PY" "$ROOT/tests/peers/python_sdk_tls.py" "$@"
