#!/usr/bin/env bash
# Installs what the browser test of the `--ui` page (tests/ui/ui_test.mjs) needs:
#   Debian's chromium (apt), when it is missing and this runs as root; otherwise it says how;
#   playwright-core@$PLAYWRIGHT_VERSION from npm into .ci/ui/ (git-ignored), which drives that
#   system Chromium (no browser is downloaded by Playwright).
# Idempotent: a step already done is skipped. Only apt and the npm registry are used.
set -euo pipefail

PLAYWRIGHT_VERSION=1.65.2

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR="${UI_TEST_DIR:-$ROOT/.ci/ui}"
MANIFEST="$DIR/node_modules/playwright-core/package.json"

step() { echo "==> tests/ui/install.sh: $*"; }
die() { echo "tests/ui/install.sh: FAILED: $*" >&2; exit 1; }

# 1. Chromium from Debian.
if command -v chromium >/dev/null; then
    step "$(chromium --version 2>/dev/null | head -1) already installed; skipping"
elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    step "apt-get install chromium"
    apt-get update -qq || die "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || die "apt-get install chromium"
    command -v chromium >/dev/null || die "chromium is not on PATH after apt-get install"
else
    # Not fatal here: run.sh skips the test without it (and fails under CI=true).
    step "chromium is missing; install it with: sudo apt-get install chromium"
fi

# 2. playwright-core, pinned.
command -v node >/dev/null || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH"
if [[ -f "$MANIFEST" ]] && [[ "$(node -p "require('$MANIFEST').version" 2>/dev/null || true)" == "$PLAYWRIGHT_VERSION" ]]; then
    step "playwright-core@$PLAYWRIGHT_VERSION already in $DIR; skipping"
    exit 0
fi
step "npm install playwright-core@$PLAYWRIGHT_VERSION into $DIR"
mkdir -p "$DIR"
[[ -f "$DIR/package.json" ]] || echo '{"name":"toolbox-ui-test","private":true}' >"$DIR/package.json"
npm install --prefix "$DIR" --no-audit --no-fund --save-exact --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION" \
    || die "npm install playwright-core@$PLAYWRIGHT_VERSION"
got=$(node -p "require('$MANIFEST').version") || die "playwright-core was not installed into $DIR"
[[ "$got" == "$PLAYWRIGHT_VERSION" ]] || die "expected playwright-core $PLAYWRIGHT_VERSION, got $got"
step "playwright-core $got ready with Node $(node --version)"
