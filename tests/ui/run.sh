#!/usr/bin/env bash
# Runs the browser test of the `--ui` page (tests/ui/ui_test.mjs) against the toolbox binary and
# the sdk_peer and auth_server examples (built here unless TOOLBOX_BIN, SDK_PEER_BIN and
# AUTH_SERVER_BIN name them), with Debian's Chromium and the playwright-core that
# tests/ui/install.sh put in .ci/ui/. Without Chromium or playwright-core the test is skipped with
# the reason; under CI=true that is a failure. Exits with the script's status; its last line is
# `N passed, M failed`. UI_SCREENSHOT=docs/ui.png also rewrites the README's screenshot.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

missing() {
    if [[ "${CI:-}" == "true" ]]; then
        echo "tests/ui/run.sh: FAILED: CI=true and $1; run tests/ui/install.sh" >&2
        exit 1
    fi
    echo "tests/ui/run.sh: skipping the browser test: $1 (run tests/ui/install.sh)"
    exit 0
}

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] || missing "there is no Chromium at $CHROMIUM (Debian's chromium package)"
command -v node >/dev/null || missing "node is not on PATH"
[[ -f "${UI_TEST_DIR:-$ROOT/.ci/ui}/node_modules/playwright-core/package.json" ]] \
    || missing "playwright-core is not installed in ${UI_TEST_DIR:-$ROOT/.ci/ui}"
command -v sqlite3 >/dev/null || missing "the sqlite3 command is not on PATH"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if [[ -z "${TOOLBOX_BIN:-}" ]]; then
    cargo build --quiet --bin toolbox
    export TOOLBOX_BIN="$TARGET/debug/toolbox"
fi
if [[ -z "${SDK_PEER_BIN:-}" || -z "${AUTH_SERVER_BIN:-}" ]]; then
    cargo build --quiet -p toolbox-runtime --example sdk_peer --example auth_server
    export SDK_PEER_BIN="${SDK_PEER_BIN:-$TARGET/debug/examples/sdk_peer}"
    export AUTH_SERVER_BIN="${AUTH_SERVER_BIN:-$TARGET/debug/examples/auth_server}"
fi
export CHROMIUM
exec node tests/ui/ui_test.mjs "$@"
