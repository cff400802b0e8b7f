#!/usr/bin/env python3
"""Three toolbox instances behind HAProxy and nginx (tests/deploy/fleet.py, with the
configurations of docs/deploy.md): what a deployment relies on.

  handshake  on one kept-alive connection to the balancer, for every protocol version, the
             `initialize` (or 2026-07-28's `server/discover`) and the `tools/call` after it are
             answered by different instances (read from each instance's /metrics), and the call
             returns the flight;
  shutdown   SIGTERM to an instance with a call in flight (its body sent in two halves, the
             second after the listener closed): /readyz turns 503 at once, the instance goes on
             serving during --drain-delay, then refuses connections, the call in flight
             completes, the process exits 0 then; a statement longer than --shutdown-timeout is
             cut at the deadline and the process still exits 0 by then; traffic through HAProxy
             meanwhile sees no failure;
  faults     h2load with 64 connections through each balancer: one instance gets SIGTERM during
             a run, SIGKILL during another; the failed calls of each are reported (SIGTERM
             through HAProxy, and through nginx with the instance taken out of the upstream:
             none allowed; otherwise at most one per connection); and 9 clients running long
             statements through HAProxy when an instance is killed: its calls fail with 502,
             none is run again elsewhere;
  throughput h2load through HAProxy in front of 1, 2 and 3 instances (reported, not asserted).

Usage: tests/deploy/balancer.py TOOLBOX_BINARY [PARTS...]   (parts: handshake shutdown faults
throughput; default all). Prints `N passed, M failed` last and exits non-zero on any failure.
DEPLOY_LOAD_SECONDS sets each h2load run's length (default 4, at least 3).
"""

from __future__ import annotations

import http.client
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import Fleet, Instance, http_status  # noqa: E402

LEGACY = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
MODERN = "2026-07-28"
GET_FLIGHT = {"name": "get_flight", "arguments": {"flight_number": "UA0008"}}
LOAD_SECONDS = max(3, int(os.environ.get("DEPLOY_LOAD_SECONDS", "4")))

passed = failed = 0


def check(label: str, condition: bool, detail: Any = "") -> bool:
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {label}", flush=True)
    else:
        failed += 1
        print(f"FAIL {label}: {detail}", flush=True)
    return bool(condition)


def post(conn: http.client.HTTPConnection, path: str, body: dict, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    conn.request("POST", path, data, {"Content-Type": "application/json",
                                      "Accept": "application/json, text/event-stream", **(headers or {})})
    response = conn.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, raw.decode(errors="replace")


def rows(reply: Any) -> Any:
    try:
        return json.loads(reply["result"]["content"][0]["text"])
    except (KeyError, IndexError, TypeError, ValueError):
        return reply


def who_served(fleet: Fleet, before: list[dict], method: str) -> list[str]:
    """The instances whose count of `method` (any version: an initialize is counted under the
    version it was routed by, not the one it negotiated) grew since `before`, waiting up to 2 s
    for the count, which is recorded as the answer leaves."""
    def count(served: dict) -> int:
        return sum(n for (m, _), n in served.items() if m == method)

    deadline = time.monotonic() + 2
    while True:
        after = fleet.served()
        grew = [i.name for i, b, a in zip(fleet.instances, before, after) if count(a) > count(b)]
        if grew or time.monotonic() > deadline:
            return grew
        time.sleep(0.05)


def start_fleet(binary: Path, tmp: Path, name: str, kind: str, args: list[str], instances: int = 3) -> Fleet:
    workdir = tmp / name
    workdir.mkdir()
    env = dict(os.environ, TOOLBOX_DEMO_DB=str(tmp / f"{name}.db"), RUST_LOG="warn")
    # A database file per instance: these checks only read, and several processes on one SQLite
    # file meet each other's locks (an instance that exits takes one to checkpoint its WAL),
    # which is not what a deployment on a server database sees.
    return Fleet(binary, env, workdir, ["--log-level", "warn", *args], instances, kind, own_database="TOOLBOX_DEMO_DB")


# --- handshake ----------------------------------------------------------------------------------

def handshake(binary: Path, tmp: Path, kind: str) -> None:
    fleet = start_fleet(binary, tmp, f"handshake-{kind}", kind, [])
    try:
        host, port = "127.0.0.1", fleet.port
        conn = http.client.HTTPConnection(host, port, timeout=30)
        for version in LEGACY:
            tag = f"{kind} {version}"
            before = fleet.served()
            status, init = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "deploy-test", "version": "1"}}})
            check(f"{tag}: initialize answers {version}", status == 200 and init["result"]["protocolVersion"] == version,
                  (status, init))
            by_init = who_served(fleet, before, "initialize")
            headers = {"MCP-Protocol-Version": version}
            status, _ = post(conn, "/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
            check(f"{tag}: notifications/initialized accepted", status == 202, status)
            before = fleet.served()
            status, reply = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": GET_FLIGHT}, headers)
            got = rows(reply)
            check(f"{tag}: tools/call answers the flight", status == 200 and isinstance(got, list) and got
                  and got[0].get("flight_number") == "UA0008", (status, reply))
            by_call = who_served(fleet, before, "tools/call")
            check(f"{tag}: initialize and tools/call were answered by different instances ({by_init} then {by_call})",
                  len(by_init) == 1 and len(by_call) == 1 and by_init != by_call, (by_init, by_call))
            status, listed = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, headers)
            check(f"{tag}: tools/list lists get_flight", status == 200 and "get_flight" in json.dumps(listed), (status, listed))
        tag = f"{kind} {MODERN}"
        before = fleet.served()
        meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
        status, found = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 3, "method": "server/discover", "params": {"_meta": meta}},
                             {"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"})
        check(f"{tag}: server/discover lists {MODERN}", status == 200 and MODERN in json.dumps(found), (status, found))
        by_discover = who_served(fleet, before, "server/discover")
        before = fleet.served()
        status, reply = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {**GET_FLIGHT, "_meta": meta}},
                             {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "get_flight"})
        got = rows(reply)
        check(f"{tag}: tools/call answers the flight", status == 200 and isinstance(got, list) and got
              and got[0].get("flight_number") == "UA0008", (status, reply))
        by_call = who_served(fleet, before, "tools/call")
        check(f"{tag}: server/discover and tools/call were answered by different instances ({by_discover} then {by_call})",
              len(by_discover) == 1 and len(by_call) == 1 and by_discover != by_call, (by_discover, by_call))
        conn.close()
        spread = [sum(s.values()) for s in fleet.served()]
        check(f"{kind}: every instance answered requests ({spread})", all(n > 0 for n in spread), spread)
    finally:
        fleet.stop()


# --- graceful shutdown ----------------------------------------------------------------------------

def slow_sql(n: int) -> dict:
    return {"name": "execute_sql", "arguments": {
        "sql": f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT count(*) AS n FROM c"}}


def timed_call(port: int, params: dict, out: dict) -> None:
    """Runs one tools/call on the instance directly; records status, reply, error and duration."""
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out["status"], out["reply"] = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params})
    except (OSError, http.client.HTTPException) as e:
        out["error"] = f"{type(e).__name__}: {e}"
    out["seconds"] = time.monotonic() - start


class SlowCall:
    """A get_flight sent straight to an instance in two halves: the request is in flight from
    the first half to the second, for as long as the test chooses."""

    def __init__(self, port: int) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": GET_FLIGHT}).encode()
        head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.rest = body[len(body) // 2:]
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(head + body[:len(body) // 2])
        self.started = time.monotonic()

    def finish(self) -> tuple[int, Any, float]:
        """Sends the second half; the status, the reply and the seconds the call was in flight."""
        self.sock.sendall(self.rest)
        response = http.client.HTTPResponse(self.sock)
        response.begin()
        reply = json.loads(response.read())
        self.sock.close()
        return response.status, reply, time.monotonic() - self.started


class Traffic:
    """get_flight through the balancer from 4 threads, about 400 calls a second, until stopped;
    counts what failed."""

    def __init__(self, port: int) -> None:
        self.port, self.ok, self.failures = port, 0, []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(4)]
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self._stop.is_set():
            try:
                status, reply = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": GET_FLIGHT})
                got = rows(reply)
                if status == 200 and isinstance(got, list) and got and got[0].get("flight_number") == "UA0008":
                    self.ok += 1
                    time.sleep(0.01)
                else:
                    self.failures.append((status, str(reply)[:200]))
            except (OSError, http.client.HTTPException) as e:
                self.failures.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def shutdown(binary: Path, tmp: Path) -> None:
    drain, deadline = 1.0, 2.0
    fleet = start_fleet(binary, tmp, "shutdown", "haproxy",
                        ["--drain-delay", f"{drain}s", "--shutdown-timeout", f"{deadline}s", "--rate-limit", "off"])
    try:
        t1, t2 = fleet.instances[0], fleet.instances[1]
        traffic = Traffic(fleet.port)
        time.sleep(0.3)

        # A call in flight when SIGTERM comes and when the listener closes.
        slow = SlowCall(t1.port)
        time.sleep(0.2)
        sent = time.monotonic()
        t1.process.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        check("SIGTERM: /readyz answers 503 at once", http_status(f"http://127.0.0.1:{t1.port}/readyz") == 503)
        check("SIGTERM: /healthz still answers 200 while draining", http_status(f"http://127.0.0.1:{t1.port}/healthz") == 200)
        conn = http.client.HTTPConnection("127.0.0.1", t1.port, timeout=10)
        conn.request("POST", "/mcp", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": GET_FLIGHT}),
                     {"Content-Type": "application/json", "Accept": "application/json"})
        response = conn.getresponse()
        answer = rows(json.loads(response.read()))
        check("SIGTERM: the instance still serves during --drain-delay",
              response.status == 200 and isinstance(answer, list) and answer[0].get("flight_number") == "UA0008",
              (response.status, answer))
        conn.close()
        time.sleep(max(0.0, drain + 0.4 - (time.monotonic() - sent)))
        refused: dict = {}
        timed_call(t1.port, GET_FLIGHT, refused)
        check("SIGTERM: after --drain-delay the listener refuses connections",
              "ConnectionRefused" in refused.get("error", ""), refused)
        check("SIGTERM: the instance has not exited with a call in flight", t1.running())
        status, reply, seconds = slow.finish()
        got = rows(reply)
        check(f"SIGTERM: the call in flight completed ({seconds:.1f} s in flight, past the drain)",
              status == 200 and isinstance(got, list) and got and got[0].get("flight_number") == "UA0008"
              and seconds > drain, (status, reply, seconds))
        code = t1.process.wait(timeout=drain + deadline + 5)
        took = time.monotonic() - sent
        check(f"SIGTERM: the instance exited 0 once the call finished ({took:.1f} s after the signal, before the "
              f"{drain + deadline:.0f} s deadline)", code == 0 and took < drain + deadline - 0.2, (code, took))

        # A call longer than drain + deadline: cut at the deadline, exit 0 all the same.
        long_call: dict = {}
        # Far more rows than any machine counts in drain + deadline (minutes of work).
        caller = threading.Thread(target=timed_call, args=(t2.port, slow_sql(2_000_000_000), long_call))
        caller.start()
        time.sleep(0.3)
        sent = time.monotonic()
        t2.process.send_signal(signal.SIGTERM)
        code = t2.process.wait(timeout=drain + deadline + 5)
        took = time.monotonic() - sent
        caller.join()
        check(f"--shutdown-timeout: a call past it is cut and the instance exits 0 by the deadline ({took:.1f} s, "
              f"bound {drain + deadline:.0f} s + 1 s of closing)", code == 0 and took < drain + deadline + 1.5, (code, took))
        check("--shutdown-timeout: the cut call got no answer", "status" not in long_call, long_call)

        time.sleep(0.5)
        traffic.stop()
        check(f"HAProxy: no call through the balancer failed while two instances shut down ({traffic.ok} succeeded)",
              not traffic.failures and traffic.ok > 0, traffic.failures[:5])
        log = t1.log.read_text(errors="replace") + t2.log.read_text(errors="replace")
        check("the instances' logs have no panic", "panicked" not in log, log[-2000:])
    finally:
        fleet.stop()


# --- faults under load and throughput -------------------------------------------------------------

def h2load(fleet: Fleet, tmp: Path, seconds: float, during: Any = None) -> dict[str, Any]:
    """h2load over HTTP/1.1 with 64 connections for `seconds` through the balancer; `during` runs
    while it does. Returns the request counts and the rate h2load printed."""
    body = tmp / "get_flight.json"
    body.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": GET_FLIGHT}))
    command = ["h2load", "--h1", "-c", "64", "-t", "1", "-D", f"{int(seconds)}", "--warm-up-time", "500ms",
               "-d", str(body), "-H", "Content-Type: application/json", "-H", "Accept: application/json", fleet.url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if during:
        during()
    out = process.communicate(timeout=seconds + 60)[0]
    requests = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    rate = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    if not (requests and codes and rate):
        raise RuntimeError(f"cannot read h2load's output:\n{out}")
    done, ok = int(requests.group(3)), int(codes.group(1))
    return {"done": done, "ok": ok, "failed": int(requests.group(2)) - ok, "rate": float(rate.group(1)),
            "5xx": int(codes.group(4)), "errored": int(requests.group(6)), "output": out}


def faults(binary: Path, tmp: Path, kind: str) -> None:
    """64 connections through `kind`; one of three instances is stopped a third into the run.
    nginx's open-source version cannot see /readyz: a SIGTERM is measured as is, and with the
    instance taken out of the upstream and nginx reloaded as the signal is sent (what an
    orchestrator does with --drain-delay's time), which must lose nothing."""
    # The drain ends, and the instance exits, well inside the run (checked below).
    args = ["--drain-delay", "1500ms", "--shutdown-timeout", "5s", "--rate-limit", "off"]
    runs = [("SIGTERM", False), ("SIGKILL", False)] if kind == "haproxy" else [("SIGTERM", False), ("SIGTERM", True), ("SIGKILL", False)]
    for fault, withdraw in runs:
        name = f"{fault} + reload" if withdraw else fault
        fleet = start_fleet(binary, tmp, f"faults-{kind}-{fault}-{withdraw}", kind, args)
        try:
            victim = fleet.instances[0]

            exited: list[float] = []

            def hit() -> None:
                time.sleep(LOAD_SECONDS / 3)
                victim.process.send_signal(getattr(signal, fault))
                if withdraw:
                    fleet.withdraw(victim)
                threading.Thread(target=lambda: (victim.process.wait(), exited.append(time.monotonic())), daemon=True).start()

            result = h2load(fleet, tmp, LOAD_SECONDS, hit)
            ended = time.monotonic()
            code = victim.process.wait(timeout=15)
            time.sleep(0.05)
            check(f"{kind}: the instance sent {fault} was gone before the load ended",
                  bool(exited) and exited[0] < ended - 0.3, (exited, ended))
            figure = (f"{kind}, {name} to one of 3 instances under 64 connections: {result['done']} calls, "
                      f"{result['failed']} failed ({result['5xx']} 5xx, {result['errored']} errored)")
            if fault == "SIGKILL" or (kind == "nginx" and not withdraw):
                # Only calls in flight on the instance (or sent to it as its listener closed) may
                # fail: at most one per connection.
                check(f"{figure}: at most the 64 in flight", result["failed"] <= 64 and result["ok"] > 0, result["output"])
            else:
                check(f"{figure}: none may", result["failed"] == 0 and result["ok"] > 0, result["output"])
            if fault == "SIGTERM":
                check(f"{kind}: the instance sent SIGTERM exited 0", code == 0, code)
            others = [i for i in fleet.instances[1:] if not i.running()]
            check(f"{kind}: the other instances are still running", not others, [i.name for i in others])
        finally:
            fleet.stop()


def killed_mid_call(binary: Path, tmp: Path) -> None:
    """Through HAProxy, 9 clients each running long statements; SIGKILL to an instance: the
    calls it was executing fail with 502 (HAProxy retries only what was never sent, so a call
    that may have written is not run twice), the others go on."""
    fleet = start_fleet(binary, tmp, "killed-mid-call", "haproxy", ["--rate-limit", "off"])
    outcomes: list[Any] = []
    stop = threading.Event()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", fleet.port, timeout=120)
        while not stop.is_set():
            try:
                status, reply = post(conn, "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                                    "params": slow_sql(3_000_000)})
                outcomes.append(status if status != 200 or "result" not in reply else "ok")
            except (OSError, http.client.HTTPException) as e:
                outcomes.append(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", fleet.port, timeout=120)

    try:
        threads = [threading.Thread(target=client) for _ in range(9)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        before = len(outcomes)
        fleet.instances[0].kill()
        time.sleep(1.5)
        stop.set()
        for t in threads:
            t.join()
        failed = [o for o in outcomes[before:] if o != "ok"]
        # A client whose connection HAProxy closed with the 502 may see the close instead.
        check(f"SIGKILL mid-call through HAProxy: the calls the instance was running failed with 502 ({len(failed)}), "
              f"the others answered ({outcomes.count('ok')})",
              1 <= len(failed) <= 9 and all(o in (502, "RemoteDisconnected") for o in failed)
              and outcomes.count("ok") > 0, outcomes)
    finally:
        stop.set()
        fleet.stop()


def throughput(binary: Path, tmp: Path) -> None:
    rates = []
    for n in (1, 2, 3):
        fleet = start_fleet(binary, tmp, f"throughput-{n}", "haproxy", ["--rate-limit", "off"], n)
        try:
            result = h2load(fleet, tmp, LOAD_SECONDS)
            rates.append(result["rate"])
            check(f"throughput behind HAProxy, {n} instance(s): {result['rate']:.0f} req/s, "
                  f"{result['failed']} failed of {result['done']}", result["failed"] == 0 and result["ok"] > 0,
                  result["output"])
        finally:
            fleet.stop()
    print(f"     throughput (get_flight, 64 connections through HAProxy, {os.cpu_count()} cores): "
          + ", ".join(f"{n} instance(s) {r:.0f} req/s" for n, r in zip((1, 2, 3), rates)), flush=True)


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = Path(sys.argv[1]).resolve()
    parts = sys.argv[2:] or ["handshake", "shutdown", "faults", "throughput"]
    for tool in ("haproxy", "nginx", "h2load"):
        if shutil.which(tool) is None:
            message = f"{tool} is not installed (tests/deploy/install.sh installs it)"
            if os.environ.get("CI") == "true":
                check(message, False)
                return 1
            print(f"SKIP tests/deploy/balancer.py: {message}")
            return 0
    tmp = Path(tempfile.mkdtemp(prefix="toolbox-deploy-"))
    try:
        for part in parts:
            print(f"== {part}", flush=True)
            if part == "handshake":
                for kind in ("haproxy", "nginx"):
                    handshake(binary, tmp, kind)
            elif part == "shutdown":
                shutdown(binary, tmp)
            elif part == "faults":
                for kind in ("haproxy", "nginx"):
                    faults(binary, tmp, kind)
                killed_mid_call(binary, tmp)
            elif part == "throughput":
                throughput(binary, tmp)
            else:
                check(f"a known part ({part})", False)
    finally:
        if os.environ.get("PEERS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    code = main()
    print(f"{passed} passed, {failed} failed")
    sys.exit(code)
