#!/usr/bin/env python3
"""The toolbox's Prometheus metrics, scraped by a real Prometheus (Debian's `prometheus`).

Servers of the default (SQLite airline) toolbox, each on a fresh demo database:
  1. no metrics flag:            GET /metrics is 404; /healthz and /readyz answer 200.
  2. --metrics:                  GET /metrics on the main listener is a Prometheus exposition that
                                 promtool parses; the start-up log names its URL.
  3. --metrics with a 500 ms --default-query-timeout, then on a database that cannot open: the
                                 outcomes timeout, database_error, source_unavailable; --rate-limit 2/m: rate_limited.
  4. --metrics-address H:P:      /metrics is served there and is 404 on the main port. A Prometheus
                                 scrapes it every second while a known set of calls is made (raw
                                 JSON-RPC over HTTP): 7 successful calls (4 search_flights, 3
                                 get_flight, one of them through the `traveller` toolset), 3 with
                                 invalid arguments and 2 of an unknown tool. Prometheus's HTTP API is
                                 then asked for the counters and histograms, which must agree with
                                 the calls made.
Every check prints `ok` or `FAIL`; the last line is `N passed, M failed`; the exit status is 1 on
any failure.

Run it with the peers venv (tests/peers/install.sh) after tests/telemetry/install_prometheus.sh:
  .ci/peers/venv/bin/python tests/telemetry/prometheus_scrape.py
Environment: TOOLBOX_BIN (default: `cargo build` and target/debug/toolbox); CI=true makes a
missing prometheus a failure (locally the scrape part is skipped with the reason);
TELEMETRY_KEEP_TMP=1 keeps the databases, logs and Prometheus data.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from pathlib import Path

from telemetry_harness import (Checks, Mcp, Prometheus, Toolbox, demo_env, free_port, get, in_ci, is_tool_error, parse_exposition, rpc_error_code, run_parts, tool_rows)

checks = Checks()
INVALID_PARAMS = -32602


def start_with_metrics_address(binary: Path, log: Path, env: dict[str, str], extra: list[str]) -> tuple[Toolbox, int]:
    """A toolbox with `--metrics-address 127.0.0.1:P` on a free port P (retried: the port is found
    by binding and closing, so another process may take it in between)."""
    error: Exception | None = None
    for _ in range(3):
        port = free_port()
        try:
            return Toolbox(binary, log, ["--metrics-address", f"127.0.0.1:{port}", *extra], env), port
        except RuntimeError as e:
            error = e
    raise RuntimeError(f"the toolbox did not start with --metrics-address: {error}")


def without_metrics(binary: Path, tmp: Path) -> None:
    server = Toolbox(binary, tmp / "plain.log", ["--rate-limit", "off"], demo_env(tmp / "plain"))
    try:
        r = get(f"{server.base}/metrics")
        checks.equal("no metrics flag: GET /metrics is 404", r.status, 404)
        r = get(f"{server.base}/healthz")
        checks.check("GET /healthz is 200 {\"status\":\"ok\"}", r.status == 200 and r.json() == {"status": "ok"},
                     (r.status, r.text))
        r = get(f"{server.base}/readyz")
        checks.equal("GET /readyz is 200 once started", r.status, 200)
        checks.check("no metrics flag: the start-up log names no metrics URL", "/metrics" not in server.output(),
                     server.output()[-2000:])
    finally:
        server.stop()


def metrics_on_main_listener(binary: Path, tmp: Path) -> None:
    server = Toolbox(binary, tmp / "main-listener.log", ["--metrics", "--rate-limit", "off"], demo_env(tmp / "main"))
    try:
        status, response = Mcp(server.base).call("get_flight", {"flight_number": "UA0008"})
        checks.check("--metrics: a get_flight call succeeds", status == 200 and tool_rows(response), response)
        r = get(f"{server.base}/metrics")
        checks.equal("--metrics: GET /metrics on the main port is 200", r.status, 200)
        content_type = r.headers.get("content-type", "")
        checks.check("--metrics: the exposition is text/plain (Prometheus text format)",
                     content_type.startswith("text/plain") or content_type.startswith("application/openmetrics-text"),
                     content_type)
        series = parse_exposition(r.text)
        calls = [(labels, v) for labels, v in series.get("toolbox_tool_calls_total", [])
                 if labels.get("gen_ai_tool_name") == "get_flight" and labels.get("outcome") == "ok"]
        checks.check("--metrics: toolbox_tool_calls_total counts the get_flight call",
                     sum(v for _, v in calls) == 1, series.get("toolbox_tool_calls_total"))
        checks.check("--metrics: the exposition has # TYPE lines for the histograms",
                     "# TYPE toolbox_tool_execution_duration_seconds histogram" in r.text
                     and "# TYPE mcp_server_operation_duration_seconds histogram" in r.text, r.text[:3000])
        checks.check("--metrics: the start-up log names the metrics URL",
                     f"http://127.0.0.1:{server.port}/metrics" in server.output(), server.output()[-2000:])
        promtool = shutil.which("promtool")
        if promtool:
            lint = subprocess.run([promtool, "check", "metrics"], input=r.body, capture_output=True)
            output = (lint.stdout + lint.stderr).decode(errors="replace").strip()
            # 0: clean; 3: parsed, with lint remarks (printed, not failed); 1: a parse error.
            checks.check("--metrics: promtool parses the exposition", lint.returncode in (0, 3), output)
            if lint.returncode == 3:
                print(f"note: promtool's lint remarks on the exposition:\n{output}")
        r = get(f"{server.base}/healthz")
        checks.equal("--metrics: /healthz still answers 200", r.status, 200)
    finally:
        server.stop()


def outcomes(binary: Path, tmp: Path) -> None:
    """The failing outcomes of toolbox_tool_calls_total, read from the endpoint itself."""
    server = Toolbox(binary, tmp / "outcomes.log", ["--metrics", "--rate-limit", "off", "--default-query-timeout", "500ms"],
                     demo_env(tmp / "outcomes"))
    try:
        mcp = Mcp(server.base)
        endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c"
        status, response = mcp.call("execute_sql", {"sql": endless})
        checks.check("outcomes: a statement past --default-query-timeout is a tool error", is_tool_error(response), response)
        status, response = mcp.call("execute_sql", {"sql": "SELEC nothing"})
        checks.check("outcomes: a syntax error is a tool error", is_tool_error(response), response)
        calls = parse_exposition(get(f"{server.base}/metrics").text).get("toolbox_tool_calls_total", [])
        by_outcome = {labels.get("outcome"): v for labels, v in calls if labels.get("gen_ai_tool_name") == "execute_sql"}
        checks.equal("outcomes: execute_sql counted once as timeout and once as database_error",
                     by_outcome, {"timeout": 1.0, "database_error": 1.0})
    finally:
        server.stop()
    server = Toolbox(binary, tmp / "unavailable.log", ["--metrics", "--rate-limit", "off"],
                     demo_env(tmp / "unavailable", TOOLBOX_DEMO_DB="/proc/no-such-dir/airline.db"))
    try:
        status, response = Mcp(server.base).call("get_flight", {"flight_number": "UA0008"})
        checks.check("outcomes: a call to a source that cannot open is a tool error", is_tool_error(response), response)
        calls = parse_exposition(get(f"{server.base}/metrics").text).get("toolbox_tool_calls_total", [])
        by_outcome = {labels.get("outcome"): v for labels, v in calls if labels.get("gen_ai_tool_name") == "get_flight"}
        checks.equal("outcomes: get_flight counted as source_unavailable", by_outcome, {"source_unavailable": 1.0})
    finally:
        server.stop()
    server = Toolbox(binary, tmp / "rate.log", ["--metrics", "--rate-limit", "2/m"], demo_env(tmp / "rate"))
    try:
        mcp = Mcp(server.base)
        answers = [mcp.call("get_flight", {"flight_number": "UA0008"}) for _ in range(3)]
        checks.check("outcomes: the third call in a minute under --rate-limit 2/m is refused",
                     tool_rows(answers[0][1]) is not None and tool_rows(answers[1][1]) is not None
                     and tool_rows(answers[2][1]) is None, answers[2])
        calls = parse_exposition(get(f"{server.base}/metrics").text).get("toolbox_tool_calls_total", [])
        by_outcome = {labels.get("outcome"): v for labels, v in calls if labels.get("gen_ai_tool_name") == "get_flight"}
        checks.equal("outcomes: get_flight counted twice ok and once rate_limited", by_outcome, {"ok": 2.0, "rate_limited": 1.0})
    finally:
        server.stop()


def scraped_by_prometheus(binary: Path, tmp: Path) -> None:
    server, metrics_port = start_with_metrics_address(binary, tmp / "metrics-address.log", demo_env(tmp / "scrape"),
                                                      ["--rate-limit", "off"])
    prometheus: Prometheus | None = None
    try:
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        checks.equal("--metrics-address: GET /metrics on the main port is 404", get(f"{server.base}/metrics").status, 404)
        checks.equal("--metrics-address: GET /metrics on the metrics port is 200", get(metrics_url).status, 200)
        checks.check("--metrics-address: the start-up log names the metrics URL", metrics_url in server.output(),
                     server.output()[-2000:])
        if shutil.which("prometheus") is None:
            reason = "prometheus is not on PATH (tests/telemetry/install_prometheus.sh installs it)"
            if in_ci():
                checks.check("Prometheus is installed", False, reason)
            else:
                print(f"skipped: the Prometheus scrape checks: {reason}")
            return
        prometheus = Prometheus([f"127.0.0.1:{metrics_port}"], tmp / "prometheus")
        checks.check("Prometheus scrapes the metrics port", prometheus.scrapes_after(time.time(), 1), prometheus.targets())
        checks.equal("Prometheus sees the target up", prometheus.value('up{job="toolbox"}'), 1.0)

        mcp = Mcp(server.base)
        rows = {"search_flights": 0, "get_flight": 0}
        ok_calls = [
            ("search_flights", {"origin": "SFO", "destination": "JFK", "limit": 3}, "/mcp"),
            ("search_flights", {"origin": "SFO", "destination": "JFK", "limit": 5}, "/mcp"),
            ("search_flights", {"origin": "LHR", "destination": "CDG", "limit": 2}, "/mcp"),
            ("search_flights", {"origin": "NRT", "destination": "SYD"}, "/mcp"),
            ("get_flight", {"flight_number": "UA0008"}, "/mcp"),
            ("get_flight", {"flight_number": "ZZ9999"}, "/mcp"),  # no such flight: ok, no rows
            ("get_flight", {"flight_number": "DL0009"}, "/mcp/traveller"),
        ]
        for tool, arguments, path in ok_calls:
            status, response = mcp.call(tool, arguments, path=path)
            got = tool_rows(response)
            if checks.check(f"call {tool} {arguments} on {path} succeeds", status == 200 and got is not None, response):
                rows[tool] += len(got)
        invalid = [
            ("search_flights", {"origin": "SFO"}),                                          # destination missing
            ("search_flights", {"origin": "SFO", "destination": "JFK", "limit": 1000}),     # above maxValue
            ("get_flight", {}),                                                             # flight_number missing
        ]
        for tool, arguments in invalid:
            status, response = mcp.call(tool, arguments)
            checks.check(f"call {tool} {arguments} is a tool error", status == 200 and is_tool_error(response), response)
        for _ in range(2):
            status, response = mcp.call("no_such_tool", {})
            checks.check("call no_such_tool is JSON-RPC -32602", rpc_error_code(response) == INVALID_PARAMS, (status, response))
        checks.check("Prometheus scraped twice after the calls", prometheus.scrapes_after(time.time(), 2), prometheus.targets())

        def value(expr: str) -> float | None:
            try:
                return prometheus.value(expr)
            except Exception as e:  # noqa: BLE001 - a bad query is a failed check, not a crash
                return f"query error: {e}"  # type: ignore[return-value]

        def expect(label: str, expr: str, expected: float) -> None:
            checks.equal(f"{label}  [{expr}]", value(expr), expected)

        expect("4 search_flights calls ok", 'sum(toolbox_tool_calls_total{gen_ai_tool_name="search_flights",outcome="ok"})', 4)
        expect("3 get_flight calls ok", 'sum(toolbox_tool_calls_total{gen_ai_tool_name="get_flight",outcome="ok"})', 3)
        expect("3 calls with invalid arguments", 'sum(toolbox_tool_calls_total{outcome="invalid_arguments"})', 3)
        expect("2 of them search_flights", 'sum(toolbox_tool_calls_total{gen_ai_tool_name="search_flights",outcome="invalid_arguments"})', 2)
        expect("10 tool calls in all (an unknown tool is no tool call)", "sum(toolbox_tool_calls_total)", 10)
        expect("the unknown tool's name is no label value (bounded cardinality)",
               'count(toolbox_tool_calls_total{gen_ai_tool_name="no_such_tool"}) or vector(0)', 0)
        expect("1 call through the traveller toolset", 'sum(toolbox_tool_calls_total{toolset_name="traveller"})', 1)
        expect("7 ok executions timed", 'sum(toolbox_tool_execution_duration_seconds_count{outcome="ok"})', 7)
        total = value("sum(toolbox_tool_execution_duration_seconds_count)")
        checks.check(f"7 to 10 executions timed in all (got {total})", isinstance(total, float) and 7 <= total <= 10, total)
        median = value("histogram_quantile(0.5, sum by (le) (toolbox_tool_execution_duration_seconds_bucket))")
        checks.check("histogram_quantile(0.5) of the execution durations is a number of seconds",
                     isinstance(median, float) and math.isfinite(median) and 0 <= median < 30, median)
        p99 = value('histogram_quantile(0.99, sum by (le) (mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call"}))')
        checks.check("histogram_quantile(0.99) of the tools/call durations is a number of seconds",
                     isinstance(p99, float) and math.isfinite(p99) and 0 <= p99 < 30, p99)
        expect("12 tools/call operations", 'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"})', 12)
        expect("7 of them without error_type", 'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type=""})', 7)
        expect("3 of them error_type=tool_error", 'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="tool_error"})', 3)
        expect("2 of them error_type=-32602", 'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="-32602"})', 2)
        expect("the ok operations carry gen_ai_tool_name",
               'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name=~"search_flights|get_flight",error_type=""})', 7)
        expect("tools/call operations are over tcp, at 2025-11-25",
               'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",'
               'network_transport="tcp",mcp_protocol_version="2025-11-25"})', 12)
        # An unknown tool's name is not a label value, so its operations name no tool and no gen_ai operation.
        expect("the 10 calls of known tools are gen_ai_operation_name=execute_tool",
               'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_operation_name="execute_tool"})', 10)
        expect("the unknown tool's operations carry no gen_ai_tool_name",
               'sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="-32602",gen_ai_tool_name=""})', 2)
        expect(f"toolbox_tool_rows_total of search_flights is the {rows['search_flights']} rows returned",
               'sum(toolbox_tool_rows_total{gen_ai_tool_name="search_flights"})', rows["search_flights"])
        expect(f"toolbox_tool_rows_total of get_flight is the {rows['get_flight']} rows returned",
               'sum(toolbox_tool_rows_total{gen_ai_tool_name="get_flight"})', rows["get_flight"])
        maximum = value('max(db_client_connection_max{db_client_connection_pool_name="airline"})')
        checks.check("db_client_connection_max of the airline pool is above 0", isinstance(maximum, float) and maximum > 0, maximum)
        states = prometheus.query('db_client_connection_count{db_client_connection_pool_name="airline"}')
        checks.check("db_client_connection_count of the airline pool has idle and used series",
                     {s["metric"].get("db_client_connection_state") for s in states} >= {"idle", "used"}, states)
        used = value('sum(db_client_connection_count{db_client_connection_pool_name="airline",db_client_connection_state="used"})')
        checks.equal("no connection in use at rest", used, 0.0)
        pending = value('sum(db_client_connection_pending_requests{db_client_connection_pool_name="airline"})')
        checks.equal("no request waiting for a connection at rest", pending, 0.0)

        # What Prometheus stored is what the endpoint serves.
        direct = parse_exposition(get(metrics_url).text)
        served = sum(v for labels, v in direct.get("toolbox_tool_calls_total", []))
        checks.equal("the endpoint's own toolbox_tool_calls_total sums to 10 too", served, 10.0)
    finally:
        if prometheus is not None:
            prometheus.stop()
        server.stop()
        if checks.failed:
            print(f"--- toolbox log ({server.log}) ---\n{server.output()[-4000:]}")


def main() -> None:
    parts = [without_metrics, metrics_on_main_listener, outcomes, scraped_by_prometheus]
    run_parts(checks, "toolbox-prometheus-", [(part.__name__, part) for part in parts],
              f"; prometheus {shutil.which('prometheus') or 'not installed'}")


if __name__ == "__main__":
    main()
