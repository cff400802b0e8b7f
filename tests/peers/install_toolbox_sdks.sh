#!/usr/bin/env bash
# Installs the reference's own client SDKs into .ci/peers/ (git-ignored), for
# tests/peers/toolbox_sdks.sh and tests/peers/hotels.sh:
#   .ci/peers/venv-toolbox/     Python venv with toolbox-core==$TOOLBOX_CORE_VERSION and
#                               toolbox-langchain==$TOOLBOX_LANGCHAIN_VERSION (from PyPI)
#   .ci/peers/toolbox-sdk-js/   npm @toolbox-sdk/core@$TOOLBOX_SDK_JS_VERSION, run with the machine's Node (20+)
# A venv of their own: toolbox-langchain brings LangChain, which the MCP SDK's venv does not need.
# Idempotent: a step whose pinned versions are already installed is skipped. Any failure stops
# the script with a message naming the step. Only the PyPI and npm registries are used.
set -euo pipefail

TOOLBOX_CORE_VERSION=1.4.0
TOOLBOX_LANGCHAIN_VERSION=1.4.0
TOOLBOX_SDK_JS_VERSION=1.2.0

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS="${PEERS_DIR:-$ROOT/.ci/peers}"

step() { echo "==> install_toolbox_sdks.sh: $*"; }
die() { echo "install_toolbox_sdks.sh: FAILED: $*" >&2; exit 1; }
trap 'echo "install_toolbox_sdks.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

mkdir -p "$PEERS" || die "cannot create $PEERS"

# 1. The Python SDKs.
PY="$PEERS/venv-toolbox/bin/python"
versions() {
    "$PY" -c 'import importlib.metadata as m; print(m.version("toolbox-core"), m.version("toolbox-langchain"))' 2>/dev/null || true
}
wanted="$TOOLBOX_CORE_VERSION $TOOLBOX_LANGCHAIN_VERSION"
if [[ -x "$PY" ]] && [[ "$(versions)" == "$wanted" ]]; then
    step "toolbox-core==$TOOLBOX_CORE_VERSION and toolbox-langchain==$TOOLBOX_LANGCHAIN_VERSION already in $PEERS/venv-toolbox; skipping"
else
    command -v python3 >/dev/null || die "python3 is not on PATH"
    step "creating the venv $PEERS/venv-toolbox with $(python3 --version 2>&1)"
    python3 -m venv --clear "$PEERS/venv-toolbox" || die "python3 -m venv $PEERS/venv-toolbox"
    step "pip install toolbox-core==$TOOLBOX_CORE_VERSION toolbox-langchain==$TOOLBOX_LANGCHAIN_VERSION"
    "$PY" -m pip install --quiet --disable-pip-version-check \
        "toolbox-core==$TOOLBOX_CORE_VERSION" "toolbox-langchain==$TOOLBOX_LANGCHAIN_VERSION" \
        || die "pip install toolbox-core==$TOOLBOX_CORE_VERSION toolbox-langchain==$TOOLBOX_LANGCHAIN_VERSION"
    got=$(versions)
    [[ "$got" == "$wanted" ]] || die "expected toolbox-core and toolbox-langchain $wanted, got '$got'"
    step "toolbox-core and toolbox-langchain $got installed"
fi

# 2. The JavaScript SDK.
command -v node >/dev/null || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH"
major=$(node -p 'process.versions.node.split(".")[0]')
[[ "$major" -ge 20 ]] || die "@toolbox-sdk/core needs Node 20 or later, found $(node --version)"
DIR="$PEERS/toolbox-sdk-js"
MANIFEST="$DIR/node_modules/@toolbox-sdk/core/package.json"
if [[ -f "$MANIFEST" ]] && [[ "$(node -p "require('$MANIFEST').version" 2>/dev/null || true)" == "$TOOLBOX_SDK_JS_VERSION" ]]; then
    step "@toolbox-sdk/core@$TOOLBOX_SDK_JS_VERSION already in $DIR; skipping"
else
    step "npm install @toolbox-sdk/core@$TOOLBOX_SDK_JS_VERSION into $DIR"
    mkdir -p "$DIR"
    [[ -f "$DIR/package.json" ]] || echo '{"name":"toolbox-peer-sdk-js","private":true}' >"$DIR/package.json"
    npm install --prefix "$DIR" --no-audit --no-fund --save-exact --loglevel=error "@toolbox-sdk/core@$TOOLBOX_SDK_JS_VERSION" \
        || die "npm install @toolbox-sdk/core@$TOOLBOX_SDK_JS_VERSION"
    got=$(node -p "require('$MANIFEST').version") || die "@toolbox-sdk/core was not installed into $DIR"
    [[ "$got" == "$TOOLBOX_SDK_JS_VERSION" ]] || die "expected @toolbox-sdk/core $TOOLBOX_SDK_JS_VERSION, got $got"
    step "@toolbox-sdk/core $got ready with Node $(node --version)"
fi

step "the reference's SDKs are installed in $PEERS"
