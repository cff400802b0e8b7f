"""What the telemetry tests share (prometheus_scrape.py, otlp_traces.py, health.py): a toolbox
binary on a port the system picks, raw MCP requests over urllib in both protocol generations, a
real Prometheus server scraping it, and an OTLP/HTTP receiver that decodes what the toolbox exports.

Standard library only, except OtlpReceiver, which needs the opentelemetry-proto classes that
tests/peers/install.sh puts in the peers venv (imported when a receiver is made).
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "peers"))
from sdk_harness import Checks, build, free_port, in_ci  # noqa: E402,F401 - re-exported

LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
SERVING = re.compile(r"serving MCP at http://127\.0\.0\.1:(\d+)/mcp")
METRICS_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/metrics")


def toolbox_binary() -> Path:
    """TOOLBOX_BIN, else `cargo build` and target/debug/toolbox (as tests/peers does)."""
    return build("TOOLBOX_BIN", [], "toolbox")


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Calls `predicate` until it returns something truthy (returned) or `timeout` passes (the last
    falsy value is returned)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --- the toolbox process ----------------------------------------------------------------------

class Toolbox:
    """A toolbox binary serving HTTP on `--port 0`; the port is read from its start-up line
    `serving MCP at http://127.0.0.1:PORT/mcp`. Its output goes to a log file."""

    def __init__(self, binary: Path, log: Path, args: list[str] | None = None, env: dict[str, str] | None = None,
                 timeout: float = 30) -> None:
        self.log = log
        self.args = [str(binary), "--port", "0", *(args or [])]
        with open(log, "ab") as out:
            out.write(f"$ {' '.join(self.args)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(self.args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        self._start = log.stat().st_size
        found = wait_until(lambda: self.process.poll() is not None or SERVING.search(self.output()), timeout)
        match = SERVING.search(self.output())
        if not match:
            self.stop()
            raise RuntimeError(f"{binary} did not start (exit {self.process.returncode if found else 'none'}); "
                               f"log:\n{self.output()[-3000:]}")
        self.port = int(match.group(1))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """What this process printed so far (the log may hold earlier runs before it)."""
        with open(self.log, "rb") as f:
            f.seek(self._start)
            return f.read().decode(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def demo_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment for a default (SQLite airline) toolbox on a fresh database in the folder
    `tmp` (made when missing), with no OTEL_* variable but those in `extra`."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TOOLBOX_DEMO_DB=str(tmp / "airline.db"))
    # A stray OTEL_* or telemetry/metrics/rate variable of the caller's shell (the flags read
    # TOOLBOX_METRICS, TOOLBOX_TELEMETRY_OTLP, ...) must not change what a test sees.
    for name in list(env):
        if name.startswith(("OTEL_", "TOOLBOX_METRICS", "TOOLBOX_TELEMETRY", "TOOLBOX_SQL_COMMENTER", "TOOLBOX_RATE_LIMIT")):
            del env[name]
    env.update(extra)
    return env


# --- raw HTTP and MCP ---------------------------------------------------------------------------

class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def request(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> Response:
    """One request; any status is returned, not raised. A refused connection raises OSError."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def get(url: str, timeout: float = 10) -> Response:
    return request("GET", url, timeout=timeout)


class Mcp:
    """Raw JSON-RPC over HTTP POST to one toolbox, in either protocol generation."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._id = 0

    def next_id(self) -> int:
        self._id += 1
        return self._id

    def legacy(self, method: str, params: dict[str, Any], headers: dict[str, str] | None = None,
               path: str = "/mcp", request_id: int | None = None) -> tuple[int, Any]:
        """A 2025-11-25 request: the version in the MCP-Protocol-Version header, no `_meta`
        (this server needs no initialize for it). Returns (HTTP status, JSON-RPC response)."""
        rid = self.next_id() if request_id is None else request_id
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode()
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
             "MCP-Protocol-Version": LEGACY_VERSION, **(headers or {})}
        r = request("POST", self.base + path, body, h)
        return r.status, _json_or_text(r)

    def modern(self, method: str, params: dict[str, Any], meta: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None, path: str = "/mcp",
               request_id: int | None = None) -> tuple[int, Any]:
        """A 2026-07-28 request: `params._meta` carries the version and client capabilities (plus
        `meta`, e.g. a traceparent); Mcp-Method and, for tools/call, Mcp-Name headers."""
        rid = self.next_id() if request_id is None else request_id
        full_meta = {"io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                     "io.modelcontextprotocol/clientCapabilities": {}, **(meta or {})}
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                           "params": {**params, "_meta": full_meta}}).encode()
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
             "MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": method}
        if method == "tools/call":
            h["Mcp-Name"] = params["name"]
        h.update(headers or {})
        r = request("POST", self.base + path, body, h)
        return r.status, _json_or_text(r)

    def call(self, tool: str, arguments: dict[str, Any], **kw: Any) -> tuple[int, Any]:
        return self.legacy("tools/call", {"name": tool, "arguments": arguments}, **kw)


def _json_or_text(r: Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return r.text


def tool_rows(response: Any) -> list[dict[str, Any]] | None:
    """The rows of a successful tools/call response, or None when it is not one."""
    result = response.get("result") if isinstance(response, dict) else None
    if not isinstance(result, dict) or result.get("isError"):
        return None
    structured = result.get("structuredContent")
    if isinstance(structured, dict) and isinstance(structured.get("rows"), list):
        return structured["rows"]
    try:
        return json.loads(result["content"][0]["text"])
    except (KeyError, IndexError, ValueError):
        return None


def is_tool_error(response: Any) -> bool:
    return isinstance(response, dict) and isinstance(response.get("result"), dict) and response["result"].get("isError") is True


def rpc_error_code(response: Any) -> int | None:
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        return response["error"].get("code")
    return None


# --- a real Prometheus ----------------------------------------------------------------------------

class Prometheus:
    """Debian's `prometheus` on a free loopback port, scraping `targets` (host:port) every second
    into a temporary storage folder."""

    def __init__(self, targets: list[str], workdir: Path, job: str = "toolbox", metrics_path: str = "/metrics") -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise FileNotFoundError("prometheus")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: {job}\n    metrics_path: {metrics_path}\n"
            f"    static_configs:\n      - targets: {json.dumps(targets)}\n")
        self.log = workdir / "prometheus.log"
        last_error = ""
        for _ in range(3):
            self.port = free_port()
            with open(self.log, "ab") as out:
                self.process = subprocess.Popen(
                    [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{self.port}",
                     f"--storage.tsdb.path={workdir / 'data'}", "--log.level=warn"],
                    stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
            if wait_until(lambda: self.process.poll() is not None or self._ready(), 30):
                if self.process.poll() is None:
                    return
            last_error = self.log.read_text(errors="replace")[-2000:]
            self.stop()
        raise RuntimeError(f"prometheus did not start; log:\n{last_error}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        try:
            return get(f"{self.base}/-/ready", timeout=1).status == 200
        except OSError:
            return False

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar, as one sample) of `expr` now; raises on an API error."""
        r = get(f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        body = r.json()
        if body.get("status") != "success":
            raise RuntimeError(f"query {expr!r}: {body}")
        data = body["data"]
        if data["resultType"] == "vector":
            return data["result"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        raise RuntimeError(f"query {expr!r}: unexpected result type {data['resultType']}")

    def value(self, expr: str) -> float | None:
        """The one value of `expr` (summed over series when several), or None when empty."""
        samples = self.query(expr)
        if not samples:
            return None
        return sum(float(s["value"][1]) for s in samples)

    def targets(self) -> list[dict[str, Any]]:
        return get(f"{self.base}/api/v1/targets").json()["data"]["activeTargets"]

    def scrapes_after(self, moment: float, count: int = 2, timeout: float = 20) -> bool:
        """Waits until every target has been scraped `count` times after `moment` (time.time()),
        judged by lastScrape moving on; True when it happened."""
        seen: dict[str, set[str]] = {}

        def done() -> bool:
            for t in self.targets():
                last = t.get("lastScrape", "")
                if _rfc3339(last) > moment:
                    seen.setdefault(t["scrapeUrl"], set()).add(last)
            return bool(seen) and all(len(v) >= count for v in seen.values())

        return bool(wait_until(done, timeout, 0.2))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _rfc3339(text: str) -> float:
    """Seconds since the epoch of Prometheus's `2024-01-02T03:04:05.123456789Z` (0 when absent)."""
    match = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text or "")
    if not match:
        return 0.0
    import calendar
    y, mo, d, h, mi, s, frac, zone = match.groups()
    seconds = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0)) + float(frac or 0)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


def parse_exposition(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format → {series name: [(labels, value)]}; enough for checking a scrape."""
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = line_re.match(line)
        if not match:
            continue
        labels = {k: bytes(v, "utf-8").decode("unicode_escape") for k, v in label_re.findall(match.group(3) or "")}
        try:
            value = float(match.group(4))
        except ValueError:
            continue
        series.setdefault(match.group(1), []).append((labels, value))
    return series


# --- an OTLP/HTTP receiver ------------------------------------------------------------------------

class OtlpReceiver:
    """Accepts OTLP/HTTP protobuf exports at /v1/traces and /v1/metrics on a free loopback port,
    keeping each request's raw (decompressed) bytes and its decoded message."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest, ExportMetricsServiceResponse)
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest, ExportTraceServiceResponse)
        self._kinds = {
            "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
            "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
        }
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []  # {path, content_type, encoding, raw, message, error}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver._receive(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _receive(self, handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path.split("?")[0]
        content_type = handler.headers.get("Content-Type", "")
        encoding = (handler.headers.get("Content-Encoding") or "").lower()
        entry: dict[str, Any] = {"path": path, "content_type": content_type, "encoding": encoding,
                                 "raw": body, "message": None, "error": None}
        status, reply = 200, b""
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding not in ("", "identity"):
                raise ValueError(f"unsupported Content-Encoding {encoding}")
            entry["raw"] = body
            if path not in self._kinds:
                status, entry["error"] = 404, f"unknown path {path}"
            elif not content_type.startswith("application/x-protobuf"):
                status, entry["error"] = 415, f"Content-Type {content_type!r}, not application/x-protobuf"
            else:
                request_class, response_class = self._kinds[path]
                message = request_class()
                message.ParseFromString(body)
                entry["message"] = message
                reply = response_class().SerializeToString()
        except Exception as e:  # noqa: BLE001 - recorded and answered 400
            status, entry["error"] = 400, f"{type(e).__name__}: {e}"
        with self.lock:
            self.requests.append(entry)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/x-protobuf")
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def raw_bytes(self) -> bytes:
        return b"".join(e["raw"] for e in self.snapshot())

    def errors(self) -> list[str]:
        return [f"{e['path']}: {e['error']}" for e in self.snapshot() if e["error"]]

    def spans(self) -> list[Span]:
        out: list[Span] = []
        for e in self.snapshot():
            if e["path"] != "/v1/traces" or e["message"] is None:
                continue
            for rs in e["message"].resource_spans:
                resource = attributes(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        out.append(Span(span, resource, ss.scope.name))
        return out

    def metrics(self) -> list[tuple[dict[str, Any], str, Any]]:
        """(resource attributes, scope name, Metric) of every metric received, in order."""
        out = []
        for e in self.snapshot():
            if e["path"] != "/v1/metrics" or e["message"] is None:
                continue
            for rm in e["message"].resource_metrics:
                resource = attributes(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        out.append((resource, sm.scope.name, metric))
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(key_values: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in key_values}


class Span:
    """A received span with its ids in hex and its attributes as a dict."""

    KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}

    def __init__(self, span: Any, resource: dict[str, Any], scope: str) -> None:
        self.proto = span
        self.resource = resource
        self.scope = scope
        self.name = span.name
        self.trace_id = span.trace_id.hex()
        self.span_id = span.span_id.hex()
        self.parent_span_id = span.parent_span_id.hex()
        self.kind = self.KINDS.get(span.kind, str(span.kind))
        self.attributes = attributes(span.attributes)
        self.status_code = span.status.code  # 0 unset, 1 ok, 2 error

    def __repr__(self) -> str:
        return (f"<{self.kind} {self.name!r} trace={self.trace_id} span={self.span_id} "
                f"parent={self.parent_span_id or '-'} {self.attributes}>")


def new_tmp(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def keep_or_remove(tmp: Path) -> None:
    if os.environ.get("TELEMETRY_KEEP_TMP"):
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def port_is_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def run_parts(checks: "Checks", tmp_prefix: str, parts: list[tuple[str, Callable[[Path, Path], None]]],
              banner: str = "") -> None:
    """A script's whole run: each part with the toolbox binary and a temporary directory, every
    part run even when one before it raised (reported as a failed check); then the summary line
    and the exit status (1 on any failure, 2 without a binary)."""
    import traceback
    binary = toolbox_binary()
    if not binary.is_file():
        print(f"no toolbox binary at {binary}", file=sys.stderr)
        sys.exit(2)
    print(f"toolbox {binary}{banner}", flush=True)
    tmp = new_tmp(tmp_prefix)
    try:
        for name, part in parts:
            try:
                part(binary, tmp)
            except Exception:  # noqa: BLE001 - report and go on to the next part
                checks.check(f"{name}: ran to the end", False, traceback.format_exc())
    finally:
        keep_or_remove(tmp)
    print(checks.summary())
    sys.exit(0 if checks.failed == 0 else 1)
