#!/usr/bin/env python3
"""The toolbox's OpenTelemetry export, received by an OTLP/HTTP receiver of our own that decodes
the protobuf requests with the opentelemetry-proto classes.

1. `--telemetry-otlp http://127.0.0.1:R --telemetry-service-name toolbox-otel-test` on the default
   (SQLite airline) toolbox. Calls, each with its own W3C trace context and a distinctive argument
   value that appears nowhere else:
     A  get_flight, legacy (2025-11-25), `traceparent` HTTP header
     B  get_flight, 2026-07-28, `params._meta.traceparent`
     C  search_flights, legacy, `traceparent` header
     D  get_flight with no arguments (a tool error), `traceparent` header
     E  get_flight, legacy, no trace context (a new root trace)
   Checks: one SERVER span `tools/call <tool>` per call, in the client's trace and parented to the
   client's span, with the MCP attributes; its child INTERNAL `execute_tool <tool>`; under that a
   CLIENT span per statement (`SELECT`, db.system.name=sqlite, db.query.text with `?` placeholders
   and no value); no span outside these five traces; the argument values in no byte received; the
   resource's service.name; OTLP metrics with a `toolbox.tool.execution.duration` histogram point
   for get_flight.
2. OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0: a call with no trace
   context and one whose traceparent is not sampled (flags 00) export nothing; one whose
   traceparent is sampled (01) is exported (parent-based).
3. When the PostgreSQL example (TOOLBOX_PG_BIN, default target/debug/toolbox-example-postgres) is
   built and PostgreSQL answers: its statement span has db.system.name=postgresql and `$1`.

Every check prints `ok` or `FAIL`; the last line is `N passed, M failed`; exit status 1 on failure.
Run it with the peers venv (tests/peers/install.sh installs opentelemetry-proto there):
  .ci/peers/venv/bin/python tests/telemetry/otlp_traces.py
Environment: TOOLBOX_BIN, TOOLBOX_PG_BIN; CI=true makes a missing PostgreSQL example or server a
failure (locally that part is skipped with the reason); TELEMETRY_KEEP_TMP=1 keeps logs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from telemetry_harness import (Checks, LEGACY_VERSION, MODERN_VERSION, Mcp, OtlpReceiver, Span, Toolbox, demo_env, in_ci, is_tool_error, run_parts, tool_rows, wait_until)
from sdk_harness import target_dir

checks = Checks()
SERVICE_NAME = "toolbox-otel-test"
QUICK_EXPORT = {"OTEL_METRIC_EXPORT_INTERVAL": "500", "OTEL_BSP_SCHEDULE_DELAY": "200"}
EXPORT_WAIT = 20  # seconds to wait for spans or metrics to arrive


def sentinel() -> str:
    """A value for a string argument that appears nowhere else: it must never be exported."""
    return "ZQX" + secrets.token_hex(6).upper()


class Context:
    """A client's W3C trace context."""

    def __init__(self, sampled: bool = True) -> None:
        self.trace_id = secrets.token_hex(16)
        self.span_id = secrets.token_hex(8)
        self.flags = "01" if sampled else "00"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def spans_of(receiver: OtlpReceiver, trace_id: str) -> list[Span]:
    return [s for s in receiver.spans() if s.trace_id == trace_id]


def has_kind(receiver: OtlpReceiver, trace_id: str, kind: str) -> bool:
    return any(s.kind == kind for s in spans_of(receiver, trace_id))


def check_call_trace(tag: str, spans: list[Span], ctx: Context | None, tool: str, version: str,
                     request_id: int, secret: str | None, engine: str = "sqlite", placeholder: str = "?",
                     statements: bool = True) -> Span | None:
    """The spans of one call: SERVER → INTERNAL execute_tool → CLIENT statement(s)."""
    servers = [s for s in spans if s.kind == "SERVER"]
    if not checks.equal(f"{tag}: one SERVER span in the trace", len(servers), 1):
        print(f"   spans: {spans}")
        return None
    server = servers[0]
    checks.equal(f"{tag}: the server span is named `tools/call {tool}`", server.name, f"tools/call {tool}")
    if ctx is not None:
        checks.equal(f"{tag}: the server span's parent is the client's span", server.parent_span_id, ctx.span_id)
    else:
        checks.equal(f"{tag}: with no client context the server span is a root", server.parent_span_id, "")
    a = server.attributes
    checks.equal(f"{tag}: mcp.method.name", a.get("mcp.method.name"), "tools/call")
    checks.equal(f"{tag}: mcp.protocol.version", a.get("mcp.protocol.version"), version)
    checks.equal(f"{tag}: gen_ai.tool.name", a.get("gen_ai.tool.name"), tool)
    checks.equal(f"{tag}: gen_ai.operation.name", a.get("gen_ai.operation.name"), "execute_tool")
    checks.equal(f"{tag}: network.transport", a.get("network.transport"), "tcp")
    checks.equal(f"{tag}: jsonrpc.request.id", str(a.get("jsonrpc.request.id")), str(request_id))
    checks.equal(f"{tag}: service.name of the resource", server.resource.get("service.name"), SERVICE_NAME)

    tools = [s for s in spans if s.kind == "INTERNAL" and s.name == f"execute_tool {tool}"]
    clients = [s for s in spans if s.kind == "CLIENT"]
    if not statements:
        # A call refused before it runs: no statement; an execute_tool span is allowed, under the server span.
        checks.equal(f"{tag}: no statement span (nothing ran)", clients, [])
        checks.check(f"{tag}: any execute_tool span is the server span's child",
                     len(tools) <= 1 and all(t.parent_span_id == server.span_id for t in tools), tools)
        return server
    if not checks.equal(f"{tag}: one INTERNAL span `execute_tool {tool}`", len(tools), 1):
        print(f"   spans: {spans}")
        return server
    tool_span = tools[0]
    checks.equal(f"{tag}: execute_tool is the server span's child", tool_span.parent_span_id, server.span_id)
    nested(f"{tag}: execute_tool", tool_span, server)

    if not checks.check(f"{tag}: at least one CLIENT statement span", len(clients) >= 1, spans):
        return server
    for i, statement in enumerate(clients):
        label = f"{tag}: statement span {i + 1}"
        checks.equal(f"{label} is execute_tool's child", statement.parent_span_id, tool_span.span_id)
        nested(label, statement, tool_span)
        b = statement.attributes
        checks.equal(f"{label} is named after its operation", statement.name, "SELECT")
        checks.equal(f"{label}: db.system.name", b.get("db.system.name"), engine)
        checks.equal(f"{label}: db.operation.name", b.get("db.operation.name"), "SELECT")
        text = b.get("db.query.text") or ""
        checks.check(f"{label}: db.query.text is the statement with `{placeholder}` placeholders",
                     "SELECT" in text.upper() and placeholder in text and "flights" in text, text)
        if secret is not None:
            checks.check(f"{label}: db.query.text carries no argument value", secret not in text, text)
    return server


def nested(tag: str, child: Span, parent: Span) -> None:
    """A child span runs within its parent (1 ms of slack for clocks rounded differently)."""
    slack = 1_000_000
    c, p = child.proto, parent.proto
    checks.check(f"{tag} runs within its parent span",
                 c.start_time_unix_nano + slack >= p.start_time_unix_nano and c.end_time_unix_nano <= p.end_time_unix_nano + slack
                 and c.end_time_unix_nano >= c.start_time_unix_nano,
                 (c.start_time_unix_nano, c.end_time_unix_nano, p.start_time_unix_nano, p.end_time_unix_nano))


def start(binary: Path, log: Path, receiver: OtlpReceiver, env: dict[str, str], extra: list[str] | None = None) -> Toolbox:
    return Toolbox(binary, log, ["--telemetry-otlp", receiver.url, "--telemetry-service-name", SERVICE_NAME,
                                 "--rate-limit", "off", *(extra or [])], env)


def traces_and_metrics(binary: Path, tmp: Path) -> None:
    receiver = OtlpReceiver()
    server = start(binary, tmp / "otlp.log", receiver, demo_env(tmp / "otlp", **QUICK_EXPORT))
    try:
        mcp = Mcp(server.base)
        a, b, c, d = Context(), Context(), Context(), Context()
        secrets_used = [sentinel() for _ in range(4)]
        sa, sb, sc, se = secrets_used

        status, ra = mcp.call("get_flight", {"flight_number": sa}, headers={"traceparent": a.traceparent}, request_id=101)
        checks.check("A: get_flight with a traceparent header answers (no rows)", status == 200 and tool_rows(ra) == [], ra)
        status, rb = mcp.modern("tools/call", {"name": "get_flight", "arguments": {"flight_number": sb}},
                                meta={"traceparent": b.traceparent}, request_id=102)
        checks.check("B: a 2026-07-28 get_flight with _meta.traceparent answers (no rows)", status == 200 and tool_rows(rb) == [], rb)
        status, rc = mcp.call("search_flights", {"origin": sc, "destination": "JFK"}, headers={"traceparent": c.traceparent},
                              request_id=103)
        checks.check("C: search_flights with a traceparent header answers (no rows)", status == 200 and tool_rows(rc) == [], rc)
        status, rd = mcp.call("get_flight", {}, headers={"traceparent": d.traceparent}, request_id=104)
        checks.check("D: get_flight with no arguments is a tool error", status == 200 and is_tool_error(rd), rd)
        status, re_ = mcp.call("get_flight", {"flight_number": se}, request_id=105)
        checks.check("E: get_flight with no trace context answers", status == 200 and tool_rows(re_) == [], re_)

        def arrived() -> bool:
            spans = receiver.spans()
            ours = {a.trace_id, b.trace_id, c.trace_id, d.trace_id}
            root = [s for s in spans if s.trace_id not in ours and s.kind == "CLIENT"]
            return (all(has_kind(receiver, t.trace_id, "CLIENT") for t in (a, b, c))
                    and has_kind(receiver, d.trace_id, "SERVER") and bool(root))

        if not checks.check("the spans of the five calls arrive", wait_until(arrived, EXPORT_WAIT, 0.2),
                            receiver.spans()):
            print(f"   received requests: {[(e['path'], e['content_type'], e['error']) for e in receiver.snapshot()]}")
        time.sleep(1)  # stragglers of the batch: a span exported late would break the checks below

        check_call_trace("A", spans_of(receiver, a.trace_id), a, "get_flight", LEGACY_VERSION, 101, sa)
        check_call_trace("B", spans_of(receiver, b.trace_id), b, "get_flight", MODERN_VERSION, 102, sb)
        check_call_trace("C", spans_of(receiver, c.trace_id), c, "search_flights", LEGACY_VERSION, 103, sc)
        server_d = check_call_trace("D", spans_of(receiver, d.trace_id), d, "get_flight", LEGACY_VERSION, 104, None,
                                    statements=False)
        if server_d is not None:
            checks.equal("D: the server span of a tool error has error.type=tool_error",
                         server_d.attributes.get("error.type"), "tool_error")
        others = {s.trace_id for s in receiver.spans()} - {a.trace_id, b.trace_id, c.trace_id, d.trace_id}
        if checks.equal("exactly one trace besides the four of the client's contexts (E's)", len(others), 1):
            e_id = others.pop()
            check_call_trace("E", spans_of(receiver, e_id), None, "get_flight", LEGACY_VERSION, 105, se)

        checks.equal("every export was protobuf that decoded", receiver.errors(), [])
        raw = receiver.raw_bytes()
        for name, value in zip("ABCE", (sa, sb, sc, se)):
            checks.check(f"{name}'s argument value {value} is in no byte exported", value.encode() not in raw,
                         raw[max(0, raw.find(value.encode()) - 200):raw.find(value.encode()) + 200])
        checks.check("the argument values are in no byte of the server's log either",
                     not any(v in server.output() for v in secrets_used), server.output()[-2000:])

        def execution_points() -> list[Any]:
            """(resource, metric, point) of every get_flight point of the execution histogram."""
            points = []
            for resource, _scope, metric in receiver.metrics():
                if metric.name == "toolbox.tool.execution.duration" and metric.WhichOneof("data") == "histogram":
                    for p in metric.histogram.data_points:
                        attributes = {kv.key: kv.value.string_value for kv in p.attributes}
                        if attributes.get("gen_ai.tool.name") == "get_flight":
                            points.append((resource, metric, p))
            return points

        def executions_counted() -> int:
            """get_flight executions the exports count: cumulative points are totals so far (the
            last export's count), delta points add up."""
            total: dict[tuple[Any, ...], int] = {}
            for _resource, metric, p in execution_points():
                key = tuple(sorted((kv.key, str(kv.value)) for kv in p.attributes))
                if metric.histogram.aggregation_temporality == 1:  # AGGREGATION_TEMPORALITY_DELTA
                    total[key] = total.get(key, 0) + p.count
                else:
                    total[key] = p.count
            return sum(total.values())

        points = wait_until(execution_points, EXPORT_WAIT, 0.2)
        if checks.check("OTLP metrics: a toolbox.tool.execution.duration histogram point for get_flight arrives", points,
                        sorted({m.name for _, _, m in receiver.metrics()})):
            resource, metric, point = points[-1]
            checks.equal("OTLP metrics: the histogram's unit is seconds", metric.unit, "s")
            # A, B and E ran; D (no arguments) may be counted too, with its outcome.
            counted = wait_until(lambda: executions_counted() >= 3 and executions_counted(), EXPORT_WAIT, 0.2)
            checks.check(f"OTLP metrics: the points count get_flight's 3 or 4 executions (got {counted})",
                         counted in (3, 4), execution_points()[-4:])
            checks.equal("OTLP metrics: service.name of the resource", resource.get("service.name"), SERVICE_NAME)
        names = {m.name for _, _, m in receiver.metrics()}
        for name in ("mcp.server.operation.duration", "toolbox.tool.calls"):
            checks.check(f"OTLP metrics: {name} arrives", name in names, sorted(names))
    finally:
        server.stop()
        receiver.close()
        if checks.failed:
            print(f"--- toolbox log ({server.log}) ---\n{server.output()[-4000:]}")


def parent_based_sampling(binary: Path, tmp: Path) -> None:
    receiver = OtlpReceiver()
    env = demo_env(tmp / "sampler", OTEL_TRACES_SAMPLER="parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG="0", **QUICK_EXPORT)
    server = start(binary, tmp / "sampler.log", receiver, env)
    try:
        mcp = Mcp(server.base)
        unsampled, sampled = Context(sampled=False), Context()
        status, r = mcp.call("get_flight", {"flight_number": "UA0008"}, request_id=201)
        checks.check("sampler 0: a call with no trace context answers", status == 200 and tool_rows(r), r)
        status, r = mcp.call("get_flight", {"flight_number": "UA0008"}, headers={"traceparent": unsampled.traceparent},
                             request_id=202)
        checks.check("sampler 0: a call with an unsampled traceparent answers", status == 200 and tool_rows(r), r)
        status, r = mcp.call("get_flight", {"flight_number": "UA0008"}, headers={"traceparent": sampled.traceparent},
                             request_id=203)
        checks.check("sampler 0: a call with a sampled traceparent answers", status == 200 and tool_rows(r), r)
        # The spans are exported in the order they end, so once the third call's have arrived, any
        # of the first two would have too.
        arrived = wait_until(lambda: has_kind(receiver, sampled.trace_id, "CLIENT"), EXPORT_WAIT, 0.2)
        checks.check("sampler 0: the call with a sampled traceparent is exported (parent-based)", arrived, receiver.spans())
        time.sleep(1)
        traces = {s.trace_id for s in receiver.spans()}
        checks.equal("sampler 0: nothing else is exported (no root trace, not the unsampled parent's)",
                     traces, {sampled.trace_id} if arrived else set())
        if arrived:
            check_call_trace("sampler 0, sampled parent", spans_of(receiver, sampled.trace_id), sampled, "get_flight",
                             LEGACY_VERSION, 203, None)
    finally:
        server.stop()
        receiver.close()


def postgres_binary() -> Path:
    explicit = os.environ.get("TOOLBOX_PG_BIN")
    return Path(explicit).resolve() if explicit else target_dir() / "debug" / "toolbox-example-postgres"


def postgres_reachable() -> tuple[bool, str]:
    psql = shutil.which("psql")
    if psql is None:
        return False, "psql is not on PATH"
    env = dict(os.environ)
    env.setdefault("PGPASSWORD", "postgres")
    r = subprocess.run([psql, "-h", os.environ.get("PGHOST", "127.0.0.1"), "-p", os.environ.get("PGPORT", "5432"),
                        "-U", os.environ.get("PGUSER", "postgres"), "-d", os.environ.get("PGDATABASE", "toolbox_example"),
                        "-qtAc", "SELECT count(*) FROM flights"], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return False, f"the toolbox_example database does not answer (tests/setup-databases.sh makes it): {r.stderr.strip()}"
    return True, ""


def postgres_statement_span(tmp: Path) -> None:
    binary = postgres_binary()
    reason = ""
    if not binary.is_file():
        reason = f"no PostgreSQL example binary at {binary} (cargo build -p toolbox-example-postgres)"
    else:
        ok, reason = postgres_reachable()
    if reason:
        if in_ci():
            checks.check("the PostgreSQL part can run", False, reason)
        else:
            print(f"skipped: the PostgreSQL statement span: {reason}")
        return
    receiver = OtlpReceiver()
    env = dict(demo_env(tmp / "pg", **QUICK_EXPORT))
    server = start(binary, tmp / "pg.log", receiver, env)
    try:
        ctx, secret = Context(), sentinel()
        status, r = Mcp(server.base).call("search_flights_by_number", {"flight_number": secret},
                                          headers={"traceparent": ctx.traceparent}, request_id=301)
        checks.check("postgres: search_flights_by_number answers (no rows)", status == 200 and tool_rows(r) == [], r)
        arrived = wait_until(lambda: has_kind(receiver, ctx.trace_id, "CLIENT"), EXPORT_WAIT, 0.2)
        if checks.check("postgres: the call's statement span arrives", arrived, receiver.spans()):
            time.sleep(0.5)
            check_call_trace("postgres", spans_of(receiver, ctx.trace_id), ctx, "search_flights_by_number", LEGACY_VERSION,
                             301, secret, engine="postgresql", placeholder="$1")
        checks.check("postgres: the argument value is in no byte exported", secret.encode() not in receiver.raw_bytes())
    finally:
        server.stop()
        receiver.close()
        if checks.failed:
            print(f"--- toolbox log ({server.log}) ---\n{server.output()[-4000:]}")


def exporters_switched_off(binary: Path, tmp: Path) -> None:
    """OTEL_METRICS_EXPORTER=none exports traces only; OTEL_TRACES_EXPORTER=none metrics only."""
    for off, kept in (("OTEL_METRICS_EXPORTER", "traces"), ("OTEL_TRACES_EXPORTER", "metrics")):
        receiver = OtlpReceiver()
        env = demo_env(tmp / f"off-{kept}", **QUICK_EXPORT, **{off: "none"})
        server = start(binary, tmp / f"off-{kept}.log", receiver, env)
        try:
            status, response = Mcp(server.base).call("get_flight", {"flight_number": "UA0008"})
            checks.check(f"{off}=none: the call answers", status == 200 and tool_rows(response) is not None, response)
            arrived = wait_until(lambda: bool(receiver.spans() if kept == "traces" else receiver.metrics()), EXPORT_WAIT, 0.2)
            checks.check(f"{off}=none: {kept} still arrive", arrived)
            time.sleep(1.5)  # several export intervals of the other signal
            other = receiver.metrics() if kept == "traces" else receiver.spans()
            checks.check(f"{off}=none: nothing of the other signal arrives", not other, other[:3])
        finally:
            server.stop()
            receiver.close()


def main() -> None:
    run_parts(checks, "toolbox-otlp-", [
        ("traces and metrics", traces_and_metrics),
        ("parent-based sampling", parent_based_sampling),
        ("the exporters switched off one by one", exporters_switched_off),
        ("the PostgreSQL statement span", lambda _binary, tmp: postgres_statement_span(tmp)),
    ])


if __name__ == "__main__":
    main()
