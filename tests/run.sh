#!/usr/bin/env bash
# The whole test suite: what README.md tells a newcomer to run, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== example databases"
bash tests/setup-databases.sh

echo "== oidc-provider for the authorization tests (toolbox-runtime/tests/auth)"
bash tests/peers/install_oidc_provider.sh

echo "== cargo test --workspace"
cargo test --workspace

echo "== real MCP peers"
bash tests/peers/install.sh
bash tests/peers/python_sdk.sh
bash tests/peers/python_sdk_auth.sh
bash tests/peers/python_sdk_tls.sh
bash tests/peers/conformance.sh

echo "== the --ui page in a real browser (Debian's Chromium, driven by playwright-core)"
bash tests/ui/install.sh
bash tests/ui/run.sh

echo "== telemetry against real peers (Prometheus, an OTLP receiver)"
bash tests/telemetry/run.sh

echo "== read replicas against a real streaming replica of the local PostgreSQL"
bash tests/replicas/run.sh

echo "== the reference's own SDKs (toolbox-core, toolbox-langchain, @toolbox-sdk/core)"
bash tests/peers/install_toolbox_sdks.sh
bash tests/peers/toolbox_sdks.sh
bash tests/peers/hotels.sh
