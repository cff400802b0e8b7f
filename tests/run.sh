#!/usr/bin/env bash
# The whole test suite: what README.md tells a newcomer to run, and what CI runs.
# The peers' installs (npm, PyPI, Debian packages: network and disk, little CPU) run in the
# background while cargo compiles (CPU), so a first run pays for the slower of the two, not both.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each section's wall time, printed at the end (on failure too) so a slow part shows.
timings=()
section_name=""
section_start=$SECONDS
end_section() {
    if [[ -n "$section_name" ]]; then
        timings+=("$(printf '%5ds  %s' $((SECONDS - section_start)) "$section_name")")
    fi
    section_name=""
}
section() {
    end_section
    section_name=$1
    section_start=$SECONDS
    echo "== $1"
}
replicas=""
report_timings() {
    if [[ -n "$replicas" ]]; then
        echo "== waiting for the background read replica suite to clean up"
        wait "$replicas" || true
    fi
    end_section
    echo "== time per section (total ${SECONDS}s)"
    printf '%s\n' "${timings[@]}"
}
trap report_timings EXIT

section "example databases"
bash tests/setup-databases.sh

mkdir -p .ci
install_log=.ci/install.log
section "installing the peers in the background (log: $install_log)"
(
    set -e
    bash tests/peers/install_oidc_provider.sh
    bash tests/peers/install.sh
    bash tests/peers/install_toolbox_sdks.sh
    bash tests/ui/install.sh
    bash tests/telemetry/install_prometheus.sh || [[ "${CI:-}" != "true" ]]
    bash tests/deploy/install.sh
) >"$install_log" 2>&1 &
installs=$!

# One build for everything that follows: the test binaries, and the servers and examples the
# scripts below run. Built together, the binaries get the features the tests unify
# (dev-dependencies included), so `cargo test` finds everything fresh and no script rebuilds a
# crate with other features. (Not `--all-targets`: it adds a bench build of every library.)
section "cargo build --workspace --bins --tests --examples"
if ! cargo build --workspace --bins --tests --examples; then
    wait "$installs" || true
    exit 1
fi
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug
export TOOLBOX_BIN=$target/toolbox
export TOOLBOX_PG_BIN=$target/toolbox-example-postgres
export HOTELS_BIN=$target/toolbox-example-hotels
export TOOLBOX_REPLICAS_BIN=$target/toolbox-replicas
export SDK_PEER_BIN=$target/examples/sdk_peer
export AUTH_SERVER_BIN=$target/examples/auth_server
for binary in "$TOOLBOX_BIN" "$TOOLBOX_PG_BIN" "$HOTELS_BIN" "$TOOLBOX_REPLICAS_BIN" "$SDK_PEER_BIN" "$AUTH_SERVER_BIN"; do
    [[ -x "$binary" ]] || { echo "tests/run.sh: the build left no $binary" >&2; exit 1; }
done

section "waiting for the peers' installs"
if ! wait "$installs"; then
    cat "$install_log"
    echo "tests/run.sh: installing the peers failed (log above)" >&2
    exit 1
fi
grep '^==> ' "$install_log" || true

# cargo-nextest when it is installed (.config/nextest.toml): the tests of every binary side by
# side, where `cargo test` runs one binary after the other.
if cargo nextest --version >/dev/null 2>&1; then
    section "cargo nextest run --workspace"
    cargo nextest run --workspace
else
    section "cargo test --workspace (cargo-nextest is not installed: one test binary at a time)"
    cargo test --workspace
fi

# The read replica suite mostly waits (a base backup, replay, lag), so it runs in the background
# beside the next four sections, which mostly wait too; its output is printed after them.
section "read replicas against a real streaming replica of the local PostgreSQL (in the background)"
replicas_log=.ci/replicas.log
(
    started=$SECONDS
    status=0
    bash tests/replicas/run.sh || status=$?
    echo "(the read replica suite took $((SECONDS - started)) s)"
    exit $status
) >"$replicas_log" 2>&1 &
replicas=$!

section "real MCP peers"
bash tests/peers/python_sdk.sh
bash tests/peers/python_sdk_auth.sh
bash tests/peers/python_sdk_tls.sh

section "the --ui page in a real browser (Debian's Chromium, driven by playwright-core)"
bash tests/ui/run.sh

section "telemetry against real peers (Prometheus, an OTLP receiver)"
bash tests/telemetry/run.sh

section "the hotels quickstart served to the reference's toolbox-core"
bash tests/peers/hotels.sh

section "read replicas: waiting for the background run, and its output"
replicas_status=0
wait "$replicas" || replicas_status=$?
replicas=""
cat "$replicas_log"
if [[ $replicas_status != 0 ]]; then
    echo "tests/run.sh: the read replica suite failed (output above)" >&2
    exit 1
fi

# The conformance suite and the reference's SDKs (toolbox-core, toolbox-langchain,
# @toolbox-sdk/core) run here, through the balancers, and only here: each request lands on any of
# three instances, which is the stronger test of the two, and the suite stays short.
section "three instances behind HAProxy and nginx: the conformance suite, the reference's SDKs, faults; the systemd unit (docs/deploy.md)"
bash tests/deploy/run.sh
