#!/usr/bin/env python3
"""The toolbox against the official MCP Python SDK (mcp 2.x), as a real client would use it.

Four connections, each running the same checks:
  http  + legacy  ClientSession over streamable_http_client, explicit initialize()
  http  + auto    mcp.Client(url): probes server/discover at 2026-07-28, stays stateless
  stdio + legacy  ClientSession over stdio_client(toolbox --stdio), explicit initialize()
  stdio + auto    mcp.Client(StdioServerParameters(...)): discover probe over stdio

Checks: tools/list, search_flights and get_flight with their real rows, bad arguments
(isError naming the parameter), an unknown tool (JSON-RPC -32602), prompts/list and
prompts/get of plan_trip, and a few protocol details. Every check is asserted; the script
prints `N passed, M failed` last and exits non-zero on any failure.

Run it with the venv from tests/peers/install.sh:
  .ci/peers/venv/bin/python tests/peers/python_sdk.py
Environment: TOOLBOX_BIN (default target/debug/toolbox, built with `cargo build` when
unset), PEERS_KEEP_TMP=1 keeps the temporary database and server logs, TOOLBOX_BALANCER=haproxy
or nginx runs the HTTP checks through that balancer in front of three instances sharing the
database (tests/deploy/fleet.py; stdio is then left out).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import warnings
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio
import mcp
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

ROOT = Path(__file__).resolve().parents[2]
LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
EXPECTED_TOOLS = {"search_flights", "get_flight", "list_bookings", "book_seat", "update_flight_status", "flight_stats", "execute_sql"}
INVALID_PARAMS = -32602

passed = 0
failed = 0


def check(label: str, condition: bool, detail: Any = "") -> bool:
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {label}")
    else:
        failed += 1
        print(f"FAIL {label}: {detail}")
    return condition


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def rows_of(result: Any) -> list[dict[str, Any]]:
    """The rows of a tool result: structuredContent.rows, which must agree with the text block."""
    from_text = json.loads(text_of(result))
    if result.structured_content is not None:
        assert result.structured_content["rows"] == from_text, "structuredContent.rows differs from the text content"
    return from_text


async def expect_rpc_error(label: str, call: Callable[[], Awaitable[Any]], code: int, *words: str) -> None:
    try:
        result = await call()
    except MCPError as e:
        message = e.error.message
        check(f"{label}: JSON-RPC error {code}", e.error.code == code, f"got code {e.error.code}: {message}")
        for word in words:
            check(f"{label}: the error names `{word}`", word in message, message)
        return
    check(f"{label}: JSON-RPC error {code}", False, f"no error; got {result!r}")


async def expect_tool_error(label: str, call: Callable[[], Awaitable[Any]], *words: str) -> None:
    try:
        result = await call()
    except Exception as e:  # noqa: BLE001 - any exception is the failure being reported
        check(f"{label}: isError result", False, f"raised {type(e).__name__}: {e}")
        return
    message = text_of(result)
    check(f"{label}: isError result", result.is_error is True, f"isError={result.is_error}, text={message!r}")
    for word in words:
        check(f"{label}: the message names `{word}`", word in message, message)


async def run_checks(tag: str, api: Any, expected_version: str) -> None:
    """The shared checks. `api` is a ClientSession (legacy) or an mcp.Client (auto)."""
    version = api.protocol_version
    check(f"{tag}: negotiated protocol version {expected_version}", version == expected_version, version)
    info = api.server_info
    check(f"{tag}: serverInfo names the server", info is not None and bool(info.name) and bool(info.version), info)
    caps = api.server_capabilities
    check(f"{tag}: capabilities declare tools and prompts", caps is not None and caps.tools is not None and caps.prompts is not None, caps)

    # tools/list
    listing = await api.list_tools()
    tools = {t.name: t for t in listing.tools}
    check(f"{tag}: tools/list has the tools of tools.yaml", EXPECTED_TOOLS <= set(tools), sorted(tools))
    check(f"{tag}: every tool has a description and an object inputSchema",
          all(t.description and t.input_schema.get("type") == "object" for t in listing.tools),
          [(t.name, t.description, t.input_schema.get("type")) for t in listing.tools])
    search = tools.get("search_flights")
    if search is not None:
        schema = search.input_schema
        check(f"{tag}: search_flights requires origin and destination",
              set(schema.get("required", [])) == {"origin", "destination"}, schema.get("required"))
        limit = schema.get("properties", {}).get("limit", {})
        check(f"{tag}: search_flights.limit is an integer with default 10",
              limit.get("type") == "integer" and limit.get("default") == 10, limit)
    get_flight = tools.get("get_flight")
    if get_flight is not None:
        check(f"{tag}: get_flight requires flight_number",
              get_flight.input_schema.get("required") == ["flight_number"], get_flight.input_schema)

    # search_flights: real rows, in departure order, at most `limit`.
    result = await api.call_tool("search_flights", {"origin": "SFO", "destination": "JFK", "limit": 3})
    check(f"{tag}: search_flights SFO->JFK is not an error", result.is_error is not True, text_of(result))
    if result.is_error is not True:
        rows = rows_of(result)
        check(f"{tag}: search_flights returns 1..3 rows", 1 <= len(rows) <= 3, rows)
        check(f"{tag}: search_flights rows are SFO->JFK",
              all(r["origin"] == "SFO" and r["destination"] == "JFK" for r in rows), rows)
        departures = [r["departure"] for r in rows]
        check(f"{tag}: search_flights rows are earliest departure first", departures == sorted(departures), departures)
        check(f"{tag}: search_flights rows carry flight_number, price and seats",
              all(isinstance(r["flight_number"], str) and isinstance(r["price"], (int, float)) and isinstance(r["seats"], int) for r in rows), rows)
        check(f"{tag}: structuredContent is present ({version})", result.structured_content is not None, result)
    after = await api.call_tool("search_flights", {"origin": "SFO", "destination": "JFK", "departing_after": "2026-12-24", "limit": 2})
    if check(f"{tag}: search_flights with departing_after is not an error", after.is_error is not True, text_of(after)):
        rows = rows_of(after)
        check(f"{tag}: departing_after filters the rows",
              len(rows) == 2 and all(r["departure"] >= "2026-12-24" for r in rows), rows)

    # get_flight UA0008: the seeded row.
    result = await api.call_tool("get_flight", {"flight_number": "UA0008"})
    if check(f"{tag}: get_flight UA0008 is not an error", result.is_error is not True, text_of(result)):
        rows = rows_of(result)
        check(f"{tag}: get_flight UA0008 returns one row", len(rows) == 1, rows)
        if rows:
            row = rows[0]
            check(f"{tag}: UA0008 flies SFO -> JFK",
                  (row["flight_number"], row["airline"], row["origin"], row["destination"]) == ("UA0008", "UA", "SFO", "JFK"), row)
            check(f"{tag}: UA0008 has its airports' names",
                  row["origin_name"] == "San Francisco International" and row["destination_name"] == "John F. Kennedy International", row)
            check(f"{tag}: UA0008 has its seeded departure and booking count",
                  row["departure"] == "2026-12-01T04:56:00Z" and isinstance(row["booked"], int), row)
    missing = await api.call_tool("get_flight", {"flight_number": "ZZ9999"})
    check(f"{tag}: get_flight of an unknown flight is an empty result, not an error",
          missing.is_error is not True and rows_of(missing) == [], text_of(missing))

    # The other tools, whose results the SDK checks against their outputSchema.
    result = await api.call_tool("list_bookings", {"flight_number": "UA0008"})
    if check(f"{tag}: list_bookings UA0008 is not an error", result.is_error is not True, text_of(result)):
        rows = rows_of(result)
        first = rows[0] if rows else {}
        check(f"{tag}: list_bookings UA0008 starts with the seeded booking 1",
              (first.get("id"), first.get("passenger"), first.get("seat"), first.get("checked_in"), first.get("booked_at"))
              == (1, "Passenger 1", "2B", False, "2026-11-01T01:00:00Z"), rows)
    result = await api.call_tool("flight_stats", {"group_by": "status"})
    if check(f"{tag}: flight_stats by status is not an error", result.is_error is not True, text_of(result)):
        rows = rows_of(result)
        check(f"{tag}: flight_stats counts 5000 flights in 6 statuses",
              len(rows) == 6 and sum(r["flights"] for r in rows) == 5000, rows)
    await expect_tool_error(f"{tag}: flight_stats grouped by a column outside allowedValues",
                            lambda: api.call_tool("flight_stats", {"group_by": "price; DROP TABLE flights"}), "group_by")
    result = await api.call_tool("execute_sql", {"sql": "SELECT COUNT(*) AS n FROM airports"})
    if check(f"{tag}: execute_sql SELECT is not an error", result.is_error is not True, text_of(result)):
        check(f"{tag}: execute_sql counts 8 airports", rows_of(result) == [{"n": 8}], text_of(result))
    await expect_tool_error(f"{tag}: execute_sql with a syntax error",
                            lambda: api.call_tool("execute_sql", {"sql": "SELEC nothing"}), "syntax")
    passenger = f"Peer Test {tag}"
    seat = {"http/legacy": "40A", "http/auto": "40B", "stdio/legacy": "40C", "stdio/auto": "40D"}.get(tag, "40F")
    booked = await api.call_tool("book_seat", {"flight_number": "DL0009", "passenger": passenger, "email": "peer@example.com", "seat": seat})
    if check(f"{tag}: book_seat is not an error", booked.is_error is not True, text_of(booked)):
        rows = rows_of(booked)
        check(f"{tag}: book_seat returns the new booking",
              len(rows) == 1 and rows[0]["passenger"] == passenger and rows[0]["seat"] == seat and isinstance(rows[0]["id"], int), rows)
        listed = rows_of(await api.call_tool("list_bookings", {"flight_number": "DL0009"}))
        check(f"{tag}: list_bookings shows the new booking", any(r["passenger"] == passenger and r["seat"] == seat for r in listed), listed)
    await expect_tool_error(f"{tag}: book_seat of a taken seat",
                            lambda: api.call_tool("book_seat", {"flight_number": "DL0009", "passenger": "Second", "email": "x@example.com", "seat": seat}),
                            "UNIQUE")
    updated = await api.call_tool("update_flight_status", {"flight_number": "AF0011", "status": "delayed"})
    if check(f"{tag}: update_flight_status is not an error", updated.is_error is not True, text_of(updated)):
        check(f"{tag}: update_flight_status returns the updated flight",
              rows_of(updated) == [{"flight_number": "AF0011", "status": "delayed"}], text_of(updated))

    # Bad arguments: a tool execution error that names the parameter.
    await expect_tool_error(f"{tag}: search_flights without destination",
                            lambda: api.call_tool("search_flights", {"origin": "SFO"}), "destination")
    await expect_tool_error(f"{tag}: search_flights with limit \"three\"",
                            lambda: api.call_tool("search_flights", {"origin": "SFO", "destination": "JFK", "limit": "three"}), "limit")
    await expect_tool_error(f"{tag}: search_flights with limit 1000 (maxValue 100)",
                            lambda: api.call_tool("search_flights", {"origin": "SFO", "destination": "JFK", "limit": 1000}), "limit")
    await expect_tool_error(f"{tag}: get_flight with no arguments",
                            lambda: api.call_tool("get_flight", {}), "flight_number")
    await expect_tool_error(f"{tag}: get_flight with an unknown argument",
                            lambda: api.call_tool("get_flight", {"flight_number": "UA0008", "flight_numbr": "x"}), "flight_numbr")
    await expect_tool_error(f"{tag}: update_flight_status with a status outside allowedValues",
                            lambda: api.call_tool("update_flight_status", {"flight_number": "UA0008", "status": "teleported"}), "status")

    # Unknown tool: a protocol error (-32602) that names the tool.
    await expect_rpc_error(f"{tag}: unknown tool", lambda: api.call_tool("no_such_tool", {}), INVALID_PARAMS, "no_such_tool")

    # Prompts.
    prompts = await api.list_prompts()
    by_name = {p.name: p for p in prompts.prompts}
    plan = by_name.get("plan_trip")
    if check(f"{tag}: prompts/list has plan_trip", plan is not None, sorted(by_name)):
        check(f"{tag}: plan_trip has a description", bool(plan.description), plan)
        arguments = {a.name: a.required for a in plan.arguments or []}
        check(f"{tag}: plan_trip takes origin and destination, both required",
              arguments == {"origin": True, "destination": True}, arguments)
    prompt = await api.get_prompt("plan_trip", {"origin": "SFO", "destination": "NRT"})
    check(f"{tag}: plan_trip has one user message", len(prompt.messages) == 1 and prompt.messages[0].role == "user", prompt)
    if prompt.messages:
        content = prompt.messages[0].content
        text = getattr(content, "text", "")
        check(f"{tag}: plan_trip fills in its arguments",
              content.type == "text" and "from SFO to NRT" in text and "search_flights" in text, text)
    await expect_rpc_error(f"{tag}: plan_trip without destination",
                           lambda: api.get_prompt("plan_trip", {"origin": "SFO"}), INVALID_PARAMS, "destination")
    await expect_rpc_error(f"{tag}: unknown prompt", lambda: api.get_prompt("no_such_prompt", {}), INVALID_PARAMS, "no_such_prompt")

    # Resources: none, but the methods answer.
    resources = await api.list_resources()
    check(f"{tag}: resources/list is empty", resources.resources == [], resources)

    # Completion of a prompt argument without allowed values: an empty list.
    ref = mcp.types.PromptReference(type="ref/prompt", name="plan_trip")
    completion = await api.complete(ref, {"name": "origin", "value": "S"})
    check(f"{tag}: completion/complete answers with a list", completion.completion.values == [], completion)

    if version == LEGACY_VERSION and isinstance(api, ClientSession):
        pong = await api.send_ping()
        check(f"{tag}: ping answers", pong is not None, pong)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mcp.MCPDeprecationWarning)  # deprecated in 2026-07-28 only
            await api.set_logging_level("warning")
        check(f"{tag}: logging/setLevel answers", True)


# --- the four connections ---------------------------------------------------------------------

async def legacy_session(tag: str, streams: Any) -> None:
    read, write = streams
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        check(f"{tag}: initialize answers {LEGACY_VERSION}", init.protocol_version == LEGACY_VERSION, init.protocol_version)
        await run_checks(tag, session, LEGACY_VERSION)


async def http_legacy(url: str) -> None:
    async with streamable_http_client(url) as streams:
        await legacy_session("http/legacy", streams)


async def http_auto(url: str) -> None:
    async with Client(url) as client:
        check("http/auto: the client chose the stateless era via server/discover",
              client.session.discover_result is not None, client.session.discover_result)
        discover = client.session.discover_result
        if discover is not None:
            check("http/auto: discover lists 2026-07-28 and 2025-11-25",
                  {MODERN_VERSION, LEGACY_VERSION} <= set(discover.supported_versions), discover.supported_versions)
            check("http/auto: discover carries cache hints", discover.ttl_ms is not None and discover.cache_scope in ("public", "private"), discover)
        await run_checks("http/auto", client, MODERN_VERSION)


async def stdio_legacy(params: StdioServerParameters, errlog: Any) -> None:
    async with stdio_client(params, errlog=errlog) as streams:
        await legacy_session("stdio/legacy", streams)


async def stdio_auto(params: StdioServerParameters) -> None:
    # mcp.Client spawns the server with stdio_client's default errlog (this process's stderr).
    async with Client(params) as client:
        check("stdio/auto: the client chose the stateless era via server/discover",
              client.session.discover_result is not None, client.session.discover_result)
        await run_checks("stdio/auto", client, MODERN_VERSION)


async def guarded(label: str, body: Callable[[], Awaitable[None]]) -> None:
    try:
        with anyio.fail_after(60):
            await body()
    except BaseException as e:  # noqa: BLE001 - report and go on to the next connection
        if isinstance(e, KeyboardInterrupt):
            raise
        detail = "".join(traceback.format_exception(e)).strip()
        check(f"{label}: the connection ran to the end", False, detail)


# --- the server process -----------------------------------------------------------------------

def toolbox_binary() -> Path:
    explicit = os.environ.get("TOOLBOX_BIN")
    if explicit:
        return Path(explicit).resolve()
    print("building the toolbox (cargo build)", flush=True)
    subprocess.run(["cargo", "build", "--quiet"], cwd=ROOT, check=True)
    return ROOT / "target" / "debug" / "toolbox"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_http(binary: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    for _ in range(5):
        port = free_port()
        with open(log, "ab") as out:
            process = subprocess.Popen([str(binary), "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return process, f"http://127.0.0.1:{port}/mcp"
            except OSError:
                time.sleep(0.1)
        process.kill()
        process.wait()
    raise RuntimeError(f"the toolbox did not start; see {log}")


async def main() -> int:
    binary = toolbox_binary()
    if not binary.is_file():
        print(f"no toolbox binary at {binary}", file=sys.stderr)
        return 2
    print(f"mcp SDK {mcp_version()}; toolbox {binary}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="toolbox-peers-"))
    env = dict(os.environ, TOOLBOX_DEMO_DB=str(tmp / "airline.db"), RUST_LOG="warn")
    server_log = tmp / "http-server.log"
    # With TOOLBOX_BALANCER set, the HTTP checks run through a balancer in front of several
    # instances (tests/deploy/fleet.py), and stdio, which no balancer sees, is left out.
    sys.path.insert(0, str(ROOT / "tests" / "deploy"))
    from fleet import from_environment
    fleet = from_environment(binary, env, server_log)
    process, url = (None, fleet.url) if fleet else start_http(binary, env, server_log)
    try:
        await guarded("http/legacy", lambda: http_legacy(url))
        await guarded("http/auto", lambda: http_auto(url))
        if fleet:
            check("every instance and the balancer are still running at the end", fleet.running(), fleet.tail())
        else:
            params = StdioServerParameters(command=str(binary), args=["--stdio", "--log-level", "warn"],
                                           env={"TOOLBOX_DEMO_DB": str(tmp / "airline.db")}, cwd=str(ROOT))
            with open(tmp / "stdio-server.log", "w") as errlog:
                await guarded("stdio/legacy", lambda: stdio_legacy(params, errlog))
            await guarded("stdio/auto", lambda: stdio_auto(params))
            check("the HTTP server is still running at the end", process.poll() is None, process.returncode)
    finally:
        if fleet:
            fleet.stop()
        else:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if failed:
            print(f"--- server log ({server_log}) ---\n{server_log.read_text(errors='replace')[-4000:]}")
        if os.environ.get("PEERS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if failed == 0 else 1


def mcp_version() -> str:
    from importlib.metadata import version
    return version("mcp")


if __name__ == "__main__":
    code = anyio.run(main)
    print(f"{passed} passed, {failed} failed")
    sys.exit(code)
