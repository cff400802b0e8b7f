#!/usr/bin/env bash
# Installs panva's oidc-provider from npm into .ci/peers/oidc-provider/ (git-ignored), for the
# end-to-end authorization tests (toolbox-runtime/tests/auth/oidc_provider.rs), which run it with
# the machine's Node (20 or later) through tests/peers/oidc_provider.mjs.
# Idempotent: skipped when the pinned version is already there. Only the npm registry is used.
set -euo pipefail

OIDC_PROVIDER_VERSION=9.13.3

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR="${PEERS_DIR:-$ROOT/.ci/peers}/oidc-provider"
MANIFEST="$DIR/node_modules/oidc-provider/package.json"

step() { echo "==> install_oidc_provider.sh: $*"; }
die() { echo "install_oidc_provider.sh: FAILED: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH"
major=$(node -p 'process.versions.node.split(".")[0]')
[[ "$major" -ge 20 ]] || die "oidc-provider $OIDC_PROVIDER_VERSION needs Node 20 or later, found $(node --version)"

if [[ -f "$MANIFEST" ]] && [[ "$(node -p "require('$MANIFEST').version" 2>/dev/null || true)" == "$OIDC_PROVIDER_VERSION" ]]; then
    step "oidc-provider@$OIDC_PROVIDER_VERSION already in $DIR; skipping"
    exit 0
fi
step "npm install oidc-provider@$OIDC_PROVIDER_VERSION into $DIR"
mkdir -p "$DIR"
[[ -f "$DIR/package.json" ]] || echo '{"name":"toolbox-peer-oidc-provider","private":true}' >"$DIR/package.json"
npm install --prefix "$DIR" --no-audit --no-fund --save-exact --loglevel=error "oidc-provider@$OIDC_PROVIDER_VERSION" \
    || die "npm install oidc-provider@$OIDC_PROVIDER_VERSION"
got=$(node -p "require('$MANIFEST').version") || die "oidc-provider was not installed into $DIR"
[[ "$got" == "$OIDC_PROVIDER_VERSION" ]] || die "expected oidc-provider $OIDC_PROVIDER_VERSION, got $got"
step "oidc-provider $got ready with Node $(node --version)"
