#!/usr/bin/env python3
"""Checks the telemetry harness itself, with no toolbox: the real Prometheus scrapes a tiny Python
server serving a fixed exposition and answers queries over it; the OTLP receiver decodes a trace
and a metrics export built with the opentelemetry-proto classes (plain and gzip), and refuses a
JSON body. Run it after changing telemetry_harness.py:
  .ci/peers/venv/bin/python tests/telemetry/harness_selftest.py
"""

from __future__ import annotations

import gzip
import http.server as httpserver
import sys
import threading
import time
from typing import Any

from telemetry_harness import Checks, OtlpReceiver, Prometheus, request, new_tmp, keep_or_remove, parse_exposition

checks = Checks()

EXPOSITION = """\
# HELP toolbox_tool_calls_total Tool calls.
# TYPE toolbox_tool_calls_total counter
toolbox_tool_calls_total{gen_ai_tool_name="search_flights",outcome="ok",toolset_name=""} 7
toolbox_tool_calls_total{gen_ai_tool_name="get_flight",outcome="invalid_arguments",toolset_name=""} 3
# TYPE toolbox_tool_execution_duration_seconds histogram
toolbox_tool_execution_duration_seconds_bucket{gen_ai_tool_name="search_flights",le="0.005"} 2
toolbox_tool_execution_duration_seconds_bucket{gen_ai_tool_name="search_flights",le="0.01"} 6
toolbox_tool_execution_duration_seconds_bucket{gen_ai_tool_name="search_flights",le="+Inf"} 7
toolbox_tool_execution_duration_seconds_sum{gen_ai_tool_name="search_flights"} 0.05
toolbox_tool_execution_duration_seconds_count{gen_ai_tool_name="search_flights"} 7
"""


class Fake(httpserver.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = EXPOSITION.encode() if self.path == "/metrics" else b"not found"
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def prometheus_part() -> None:
    parsed = parse_exposition(EXPOSITION)
    checks.equal("parse_exposition reads a labelled counter",
                 parsed["toolbox_tool_calls_total"][0], ({"gen_ai_tool_name": "search_flights", "outcome": "ok", "toolset_name": ""}, 7.0))
    fake = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    tmp = new_tmp("telemetry-selftest-")
    prometheus = Prometheus([f"127.0.0.1:{fake.server_address[1]}"], tmp / "prometheus")
    try:
        checks.check("prometheus scraped the fake twice", prometheus.scrapes_after(time.time(), 2), prometheus.targets())
        checks.equal("the target is up", prometheus.value('up{job="toolbox"}'), 1.0)
        checks.equal("a counter's value", prometheus.value('toolbox_tool_calls_total{gen_ai_tool_name="search_flights",outcome="ok"}'), 7.0)
        checks.equal("an absent series is None", prometheus.value('toolbox_tool_calls_total{outcome="timeout"}'), None)
        q = prometheus.value("histogram_quantile(0.5, sum by (le) (toolbox_tool_execution_duration_seconds_bucket))")
        checks.check("histogram_quantile gives a number", q is not None and 0 < q <= 0.01, q)
    finally:
        prometheus.stop()
        fake.shutdown()
        keep_or_remove(tmp)


def otlp_part() -> None:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    receiver = OtlpReceiver()
    try:
        export = ExportTraceServiceRequest()
        rs = export.resource_spans.add()
        rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="selftest")))
        span = rs.scope_spans.add().spans.add()
        span.trace_id = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
        span.span_id = bytes.fromhex("00f067aa0ba902b7")
        span.parent_span_id = bytes.fromhex("1111111111111111")
        span.name = "tools/call get_flight"
        span.kind = Span.SPAN_KIND_SERVER
        span.attributes.append(KeyValue(key="gen_ai.tool.name", value=AnyValue(string_value="get_flight")))
        span.attributes.append(KeyValue(key="jsonrpc.request.id", value=AnyValue(int_value=7)))
        body = export.SerializeToString()
        r = request("POST", receiver.url + "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
        checks.equal("the receiver answers a trace export 200", r.status, 200)
        r = request("POST", receiver.url + "/v1/traces", gzip.compress(body),
                 {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"})
        checks.equal("the receiver answers a gzip trace export 200", r.status, 200)
        spans = receiver.spans()
        checks.equal("both exports decode to one span each", len(spans), 2)
        s = spans[0]
        checks.equal("span ids in hex", (s.trace_id, s.span_id, s.parent_span_id),
                     ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "1111111111111111"))
        checks.equal("span kind, name and attributes", (s.kind, s.name, s.attributes),
                     ("SERVER", "tools/call get_flight", {"gen_ai.tool.name": "get_flight", "jsonrpc.request.id": 7}))
        checks.equal("resource attributes", s.resource, {"service.name": "selftest"})
        checks.check("raw bytes kept decompressed", receiver.raw_bytes().count(b"get_flight") == 4, receiver.raw_bytes())

        metrics = ExportMetricsServiceRequest()
        metric = metrics.resource_metrics.add().scope_metrics.add().metrics.add()
        metric.name = "toolbox.tool.execution.duration"
        point = metric.histogram.data_points.add()
        point.count = 3
        point.attributes.append(KeyValue(key="gen_ai.tool.name", value=AnyValue(string_value="get_flight")))
        r = request("POST", receiver.url + "/v1/metrics", metrics.SerializeToString(), {"Content-Type": "application/x-protobuf"})
        checks.equal("the receiver answers a metrics export 200", r.status, 200)
        received = receiver.metrics()
        checks.check("the histogram arrives", len(received) == 1 and received[0][2].name == "toolbox.tool.execution.duration"
                     and received[0][2].histogram.data_points[0].count == 3, received)
        r = request("POST", receiver.url + "/v1/traces", b"{}", {"Content-Type": "application/json"})
        checks.equal("a JSON export is refused (415) and recorded as an error", (r.status, len(receiver.errors())), (415, 1))
    finally:
        receiver.close()


if __name__ == "__main__":
    try:
        prometheus_part()
    except FileNotFoundError:
        print("prometheus is not on PATH: run tests/telemetry/install_prometheus.sh; its part is skipped")
    otlp_part()
    print(checks.summary())
    sys.exit(0 if checks.failed == 0 else 1)
