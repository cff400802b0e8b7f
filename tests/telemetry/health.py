#!/usr/bin/env python3
"""Liveness and readiness: /healthz says the process is alive (200 {"status":"ok"}, with no
database detail); /readyz says whether it should get traffic: 503 while a source named by
`--require-source NAME` is unreachable, and during a graceful shutdown (after SIGTERM).

  1. the demo on a database that cannot open, `--require-source airline`: /readyz 503, /healthz 200
  2. the demo on a fresh database, `--require-source airline`: /readyz 200, /healthz 200
  3. the demo on a database that cannot open, without --require-source: /readyz 200
  4. SIGTERM while a slow call runs: /readyz answers 503 (on a kept-alive or a new connection)
     or the connection is refused (the listener closes at once without --drain-delay) while the
     call finishes; the call still gets its answer; the process exits 0
  4b. --drain-delay 2s: after SIGTERM, /readyz 503 and tools still answered for the delay, exit 0
  5. when the PostgreSQL example is built: `--require-source flights-pg` with PostgreSQL on a closed
     port: /readyz 503, /healthz 200

Every check prints `ok` or `FAIL`; the last line is `N passed, M failed`; exit status 1 on failure.
  .ci/peers/venv/bin/python tests/telemetry/health.py
Environment: TOOLBOX_BIN, TOOLBOX_PG_BIN (as otlp_traces.py); TELEMETRY_KEEP_TMP=1 keeps logs.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from typing import Any

from telemetry_harness import (Checks, Mcp, Toolbox, demo_env, free_port, get, in_ci, run_parts, tool_rows, wait_until)
from otlp_traces import postgres_binary

checks = Checks()
UNOPENABLE = "/proc/no-such-dir/airline.db"


def status_of(url: str) -> int | str:
    try:
        return get(url, timeout=5).status
    except OSError as e:
        return f"{type(e).__name__}: {e}"


def check_health(tag: str, server: Toolbox, ready: int) -> None:
    r = get(f"{server.base}/healthz")
    try:
        body = r.json()
    except ValueError:
        body = r.text
    checks.check(f"{tag}: /healthz is 200 {{\"status\":\"ok\"}}", r.status == 200 and body == {"status": "ok"}, (r.status, body))
    # /readyz may need a moment: a source is tried in the background after the start.
    got = wait_until(lambda: status_of(f"{server.base}/readyz") == ready, 10, 0.2)
    checks.check(f"{tag}: /readyz is {ready}", got, status_of(f"{server.base}/readyz"))


def sources_required(binary: Path, tmp: Path) -> None:
    server = Toolbox(binary, tmp / "down.log", ["--require-source", "airline"],
                     demo_env(tmp / "down", TOOLBOX_DEMO_DB=UNOPENABLE))
    try:
        check_health("airline cannot open, --require-source airline", server, 503)
    finally:
        server.stop()
    server = Toolbox(binary, tmp / "up.log", ["--require-source", "airline"], demo_env(tmp / "up"))
    try:
        check_health("airline opens, --require-source airline", server, 200)
    finally:
        server.stop()
    server = Toolbox(binary, tmp / "unrequired.log", [], demo_env(tmp / "unrequired", TOOLBOX_DEMO_DB=UNOPENABLE))
    try:
        check_health("airline cannot open, no --require-source", server, 200)
    finally:
        server.stop()


def slow_sql(mcp: Mcp, seconds: float) -> str:
    """A SELECT that keeps SQLite busy for about `seconds` on this machine (measured, then scaled)."""
    def statement(n: int) -> str:
        return f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT count(*) AS n FROM c"
    mcp.call("execute_sql", {"sql": "SELECT 1 AS one"})  # the first call opens (and here creates) the database
    n = 200_000
    while True:
        started = time.monotonic()
        mcp.call("execute_sql", {"sql": statement(n)})
        took = time.monotonic() - started
        if took > 0.2 or n > 100_000_000:
            return statement(int(n * seconds / max(took, 0.001)))
        n *= 4


def graceful_shutdown(binary: Path, tmp: Path) -> None:
    server = Toolbox(binary, tmp / "shutdown.log", ["--rate-limit", "off", "--shutdown-timeout", "20s"], demo_env(tmp / "shutdown"))
    try:
        mcp = Mcp(server.base)
        sql = slow_sql(mcp, 3.0)
        kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        kept.request("GET", "/readyz")
        first = kept.getresponse()
        first.read()
        checks.equal("shutdown: /readyz is 200 before SIGTERM", first.status, 200)

        answer: dict[str, Any] = {}

        def slow_call() -> None:
            started = time.monotonic()
            answer["status"], answer["response"] = mcp.call("execute_sql", {"sql": sql})
            answer["took"] = time.monotonic() - started

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.5)
        server.terminate()
        # Readiness after SIGTERM: the spec asks for 503 while in-flight calls finish. A server that
        # closes its listener (and its idle kept-alive connections) at once cannot be asked; a
        # refused or closed connection also tells a load balancer "not ready", so it is accepted,
        # and what was seen is printed.
        seen: list[Any] = []

        def not_ready() -> bool:
            nonlocal kept
            for how in ("kept-alive", "new"):
                try:
                    if how == "kept-alive":
                        kept.request("GET", "/readyz")
                        r = kept.getresponse()
                        r.read()
                        status: Any = r.status
                    else:
                        status = get(f"{server.base}/readyz", timeout=2).status
                except (OSError, http.client.HTTPException) as e:
                    status = type(e).__name__
                    if how == "kept-alive":
                        kept.close()
                        kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                seen.append((how, status))
            return all(status != 200 for _, status in seen[-2:])

        wait_until(lambda: not_ready() or not caller.is_alive(), 10, 0.1)
        after = seen[-2:]
        checks.check("shutdown: /readyz no longer says ready after SIGTERM (503, or the connection refused)",
                     bool(after) and all(status != 200 for _, status in after), seen[-6:])
        print(f"note: /readyz after SIGTERM: {sorted(set(map(str, seen)))}"
              + ("" if any(status == 503 for _, status in seen) else " (no 503: the listener is closed at once)"))
        caller.join(30)
        checks.check("shutdown: the call in progress still gets its answer",
                     answer.get("status") == 200 and tool_rows(answer.get("response")) is not None,
                     {k: (json.dumps(v)[:300] if k == "response" else v) for k, v in answer.items()})
        checks.check("shutdown: that call was still running at SIGTERM (it took over a second)",
                     answer.get("took", 0) > 1.0, answer.get("took"))
        exited = wait_until(lambda: not server.running(), 25, 0.1)
        checks.check("shutdown: the process exits 0", exited and server.process.returncode == 0, server.process.returncode)
    finally:
        server.stop()
        if checks.failed:
            print(f"--- toolbox log ({server.log}) ---\n{server.output()[-3000:]}")


def drain_delay(binary: Path, tmp: Path) -> None:
    """--drain-delay: after SIGTERM the server goes on serving for the delay with /readyz at 503
    (what a load balancer polls), then closes its listener and exits 0."""
    server = Toolbox(binary, tmp / "drain.log", ["--rate-limit", "off", "--drain-delay", "2s"], demo_env(tmp / "drain"))
    try:
        mcp = Mcp(server.base)
        checks.equal("drain: /readyz is 200 before SIGTERM", get(f"{server.base}/readyz").status, 200)
        signalled = time.monotonic()
        server.terminate()
        time.sleep(0.3)
        ready = get(f"{server.base}/readyz", timeout=2)
        checks.equal("drain: /readyz answers 503 on a new connection after SIGTERM", ready.status, 503)
        checks.check("drain: it says why", "draining" in ready.text, ready.text)
        status, response = mcp.call("get_flight", {"flight_number": "UA0001"})
        checks.check("drain: a tool call is still answered during the delay",
                     status == 200 and tool_rows(response) is not None, (status, json.dumps(response)[:300]))
        checks.equal("drain: /healthz is still 200 during the delay", get(f"{server.base}/healthz").status, 200)
        exited = wait_until(lambda: not server.running(), 15, 0.05)
        took = time.monotonic() - signalled
        checks.check("drain: the process exits 0 after the delay", exited and server.process.returncode == 0,
                     server.process.returncode)
        checks.check("drain: not before the 2 s delay", took >= 1.9, round(took, 2))
    finally:
        server.stop()
        if checks.failed:
            print(f"--- toolbox log ({server.log}) ---\n{server.output()[-3000:]}")


def postgres_required(tmp: Path) -> None:
    binary = postgres_binary()
    if not binary.is_file():
        reason = f"no PostgreSQL example binary at {binary} (cargo build -p toolbox-example-postgres)"
        if in_ci():
            checks.check("the PostgreSQL part can run", False, reason)
        else:
            print(f"skipped: --require-source flights-pg: {reason}")
        return
    env = demo_env(tmp / "pg", PGHOST="127.0.0.1", PGPORT=str(free_port()))  # nothing listens there
    server = Toolbox(binary, tmp / "pg.log", ["--require-source", "flights-pg"], env)
    try:
        check_health("PostgreSQL unreachable, --require-source flights-pg", server, 503)
        body = get(f"{server.base}/healthz").text
        checks.check("PostgreSQL unreachable: /healthz names no database detail",
                     "flights-pg" not in body and "postgres" not in body.lower(), body)
    finally:
        server.stop()


def main() -> None:
    run_parts(checks, "toolbox-health-", [
        ("--require-source", sources_required),
        ("graceful shutdown", graceful_shutdown),
        ("--drain-delay", drain_delay),
        ("--require-source with PostgreSQL", lambda _binary, tmp: postgres_required(tmp)),
    ])


if __name__ == "__main__":
    main()
