#!/usr/bin/env bash
# Runs tests/peers/hotels.py (the reference's hotels quickstart, examples/hotels, served to
# toolbox-core and compared with psql) with the venv that tests/peers/install_toolbox_sdks.sh made.
# Exits with the script's status; its last line is `N passed, M failed`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY="${PEERS_DIR:-$ROOT/.ci/peers}/venv-toolbox/bin/python"
if [[ ! -x "$PY" ]]; then
    echo "hotels.sh: no venv at $PY; run tests/peers/install_toolbox_sdks.sh first" >&2
    exit 1
fi
exec "$PY" "$ROOT/tests/peers/hotels.py" "$@"
