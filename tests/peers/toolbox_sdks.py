#!/usr/bin/env python3
"""The toolbox against the reference's own SDKs, as their users call them.

Server: the `sdk_peer` example of toolbox-runtime (toolbox-runtime/examples/sdk_peer/: rooms and
reservations on SQLite, two toolsets, native auth services `corp` and `partner`), built with
`cargo build -p toolbox-runtime --example sdk_peer` unless SDK_PEER_BIN names it; tokens come from
a loopback issuer made here (sdk_harness.Issuer).

  toolbox-core (Python), at every protocol version it offers (2026-07-28, 2025-11-25, 2025-06-18,
      2025-03-26, 2024-11-05): the default toolset (`/mcp/`), named toolsets, load_tool, results
      compared with the database, bound parameters (values, callables, async callables),
      authenticated parameters and authRequired through `<service>_token` headers, refusals.
  toolbox-langchain: a toolset loaded and one tool invoked.
  @toolbox-sdk/core (JavaScript, with the machine's Node): toolbox_sdk_js.mjs, at every protocol
      version it offers, the same kinds of checks; its results are compared with rows read here.

Needs tests/peers/install_toolbox_sdks.sh (run this with its venv: tests/peers/toolbox_sdks.sh).
Prints `N passed, M failed` last and exits non-zero on any failure. PEERS_KEEP_TMP=1 keeps the
database and the server log. TOOLBOX_BALANCER=haproxy or nginx serves through that balancer in
front of three instances sharing the database and the issuer (tests/deploy/fleet.py).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Any, Awaitable, Callable

from sdk_harness import ROOT, Checks, Issuer, build, serve

from toolbox_core import ToolboxClient
from toolbox_core.protocol import Protocol

VERSIONS = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
PUBLIC = {"find_rooms", "rooms_in_cities", "count_rooms"}
STAFF = {"my_reservations", "team_reservations", "cancel_reservation"}
PEERS = Path(os.environ.get("PEERS_DIR") or ROOT / ".ci" / "peers")

c = Checks()


class Database:
    """The server's SQLite file, read directly: what each tool should answer."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, params: tuple = (), booleans: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        # Read-only: connecting must never create the file the server creates from its seed.
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            db.row_factory = sqlite3.Row
            out = [dict(r) for r in db.execute(sql, params)]
        finally:
            db.close()
        for row in out:
            for name in booleans:
                row[name] = bool(row[name])
        return out

    def find_rooms(self, city: str, max_price: float = 500, min_beds: int = 1, sea_view: bool | None = None) -> list:
        return self.rows("SELECT id, hotel, city, price, beds, sea_view FROM rooms WHERE city = ? AND price <= ? "
                         "AND beds >= ? AND (? IS NULL OR sea_view = ?) ORDER BY price, id",
                         (city, max_price, min_beds, sea_view, sea_view), ("sea_view",))

    def rooms_in_cities(self, cities: list[str]) -> list:
        marks = ",".join("?" * len(cities))
        return self.rows(f"SELECT id, hotel, city FROM rooms WHERE city IN ({marks}) ORDER BY id", tuple(cities))

    def count_rooms(self) -> list:
        return self.rows("SELECT city, COUNT(*) AS rooms FROM rooms GROUP BY city ORDER BY city")

    def my_reservations(self, guest: str, include_cancelled: bool = False) -> list:
        return self.rows("SELECT id, room_id, nights, cancelled FROM reservations WHERE guest = ? "
                         "AND (? OR NOT cancelled) ORDER BY id", (guest, include_cancelled), ("cancelled",))

    def team_reservations(self, team: str) -> list:
        return self.rows("SELECT id, guest, room_id FROM reservations WHERE team = ? ORDER BY id", (team,))

    def reservation(self, id: int) -> list:
        return self.rows("SELECT id, guest, cancelled FROM reservations WHERE id = ?", (id,), ("cancelled",))


def parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return f"<not JSON: {text!r}>"


async def result_of(label: str, call: Callable[[], Awaitable[str]]) -> Any:
    """The parsed result of a tool call, or a failed check naming the exception."""
    try:
        return parsed(await call())
    except Exception as e:  # noqa: BLE001 - reported as the failure
        c.check(f"{label}: the call succeeds", False, f"{type(e).__name__}: {e}")
        return None


async def expect_raise(label: str, call: Callable[[], Awaitable[Any]], kind: type[BaseException], *words: str) -> None:
    try:
        got = await call()
    except kind as e:
        message = str(e)
        c.check(f"{label}: raises {kind.__name__}", True)
        for word in words:
            c.check(f"{label}: the message names `{word}`", word in message, message)
        return
    except Exception as e:  # noqa: BLE001
        c.check(f"{label}: raises {kind.__name__}", False, f"raised {type(e).__name__}: {e}")
        return
    c.check(f"{label}: raises {kind.__name__}", False, f"no error; got {got!r}")


def signature(tool: Any) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(tool).parameters)


def negotiated(client: ToolboxClient) -> str:
    """The version the client ended up speaking (a fallback would change it)."""
    transport = getattr(client, "_ToolboxClient__transport", None)
    return str(getattr(transport, "_protocol_version", "?"))


async def core_checks(version: str, base: str, db: Database, tokens: dict[str, str]) -> None:
    tag = f"toolbox-core {version}"
    alice = tokens["alice_corp"]
    carol = tokens["carol_partner"]

    async def alice_async() -> str:
        return alice

    async with ToolboxClient(base, protocol=Protocol(version)) as client:
        # The default toolset, at /mcp/ (the SDK adds the slash).
        tools = await client.load_toolset()
        c.equal(f"{tag}: load_toolset() loads every tool", {t.__name__ for t in tools}, PUBLIC | STAFF)
        c.equal(f"{tag}: the client speaks {version} (no fallback)", negotiated(client), version)
        public = await client.load_toolset("public")
        c.equal(f"{tag}: load_toolset('public') loads its tools", {t.__name__ for t in public}, PUBLIC)
        staff = await client.load_toolset("staff", auth_token_getters={"corp": lambda: alice, "partner": lambda: carol})
        c.equal(f"{tag}: load_toolset('staff') with both services' getters", {t.__name__ for t in staff}, STAFF)

        # Plain parameters, defaults, an optional one, an array.
        find = await client.load_tool("find_rooms")
        params = signature(find)
        c.equal(f"{tag}: find_rooms takes its four parameters", set(params), {"city", "max_price", "min_beds", "sea_view"})
        # Parameters with a default are optional in the schema: the SDK leaves them out of a call
        # when not given (its signature default is None), and the server applies the default.
        c.equal(f"{tag}: only city is required",
                [name for name, p in params.items() if p.default is inspect.Parameter.empty], ["city"])
        c.check(f"{tag}: find_rooms describes its parameters", "The highest nightly price." in (find.__doc__ or ""), find.__doc__)
        got = await result_of(f"{tag}: find_rooms Basel", lambda: find(city="Basel"))
        c.equal(f"{tag}: find_rooms Basel answers what the database holds", got, db.find_rooms("Basel"))
        if isinstance(got, list) and got:
            c.check(f"{tag}: booleans are booleans, prices numbers",
                    all(isinstance(r["sea_view"], bool) and isinstance(r["price"], (int, float)) for r in got), got)
        got = await result_of(f"{tag}: find_rooms Zurich with a view", lambda: find("Zurich", max_price=300, sea_view=True))
        c.equal(f"{tag}: find_rooms Zurich under 300 with a view", got, db.find_rooms("Zurich", 300, 1, True))
        got = await result_of(f"{tag}: find_rooms nowhere", lambda: find(city="Atlantis"))
        c.equal(f"{tag}: find_rooms of an unknown city is an empty list", got, [])
        cities = await client.load_tool("rooms_in_cities")
        got = await result_of(f"{tag}: rooms_in_cities", lambda: cities(cities=["Bern", "Geneva"]))
        c.equal(f"{tag}: rooms_in_cities Bern and Geneva", got, db.rooms_in_cities(["Bern", "Geneva"]))
        count = await client.load_tool("count_rooms")
        got = await result_of(f"{tag}: count_rooms", lambda: count())
        c.equal(f"{tag}: count_rooms per city", got, db.count_rooms())

        # Bound parameters: the SDK fills them in and hides them from the signature.
        zurich = await client.load_tool("find_rooms", bound_params={"city": "Zurich"})
        c.check(f"{tag}: a bound parameter leaves the signature", "city" not in signature(zurich), signature(zurich))
        got = await result_of(f"{tag}: find_rooms bound to Zurich", lambda: zurich(max_price=200))
        c.equal(f"{tag}: find_rooms bound to Zurich under 200", got, db.find_rooms("Zurich", 200))
        bern = find.bind_param("city", lambda: "Bern")
        got = await result_of(f"{tag}: find_rooms bound to a callable", lambda: bern())
        c.equal(f"{tag}: find_rooms bound to a callable (Bern)", got, db.find_rooms("Bern"))

        async def basel() -> str:
            return "Basel"

        two_beds = find.bind_params({"city": basel, "min_beds": 2})
        got = await result_of(f"{tag}: find_rooms bound to an async callable", lambda: two_beds())
        c.equal(f"{tag}: find_rooms bound to Basel (async) and 2 beds", got, db.find_rooms("Basel", 500, 2))
        await expect_raise(f"{tag}: a bound parameter passed again", lambda: zurich(city="Basel"), TypeError)

        # An authenticated parameter (no authRequired): `guest` comes from the token, never the caller.
        mine = await client.load_tool("my_reservations")
        c.check(f"{tag}: my_reservations hides its authenticated parameter `guest`",
                set(signature(mine)) == {"include_cancelled"}, signature(mine))
        await expect_raise(f"{tag}: my_reservations without a token getter", lambda: mine(), PermissionError, "corp")
        mine_corp = mine.add_auth_token_getter("corp", lambda: alice)
        got = await result_of(f"{tag}: my_reservations as alice (corp)", lambda: mine_corp())
        c.equal(f"{tag}: my_reservations as alice", got, db.my_reservations("alice"))
        got = await result_of(f"{tag}: my_reservations as alice, cancelled too", lambda: mine_corp(include_cancelled=True))
        c.equal(f"{tag}: my_reservations as alice with include_cancelled", got, db.my_reservations("alice", True))
        mine_async = await client.load_tool("my_reservations", auth_token_getters={"corp": alice_async})
        got = await result_of(f"{tag}: my_reservations with an async getter", lambda: mine_async())
        c.equal(f"{tag}: my_reservations with an async getter", got, db.my_reservations("alice"))
        mine_partner = await client.load_tool("my_reservations", auth_token_getters={"partner": lambda: carol})
        got = await result_of(f"{tag}: my_reservations as carol (partner)", lambda: mine_partner(include_cancelled=True))
        c.equal(f"{tag}: my_reservations as carol, by her email claim", got, db.my_reservations("carol@partner.example", True))
        # A token the server does not verify: no claim, so the tool refuses (a tool error that
        # names the parameter; the SDK hands a tool error's text back as the result).
        wrong = await client.load_tool("my_reservations", auth_token_getters={"corp": lambda: tokens["wrong_audience"]})
        try:
            text = await wrong()
            c.check(f"{tag}: my_reservations with a token for another audience is refused",
                    "guest" in text and "verified token" in text, text)
        except Exception as e:  # noqa: BLE001 - a refusal by exception is a refusal too
            c.check(f"{tag}: my_reservations with a token for another audience is refused", True, e)

        # authRequired plus an authenticated parameter.
        team = await client.load_tool("team_reservations", auth_token_getters={"corp": lambda: alice})
        c.equal(f"{tag}: team_reservations takes no parameter from the caller", set(signature(team)), set())
        got = await result_of(f"{tag}: team_reservations as alice", lambda: team())
        c.equal(f"{tag}: team_reservations of alice's team (sales)", got, db.team_reservations("sales"))
        bare = await client.load_tool("team_reservations")
        await expect_raise(f"{tag}: team_reservations without a token getter", lambda: bare(), PermissionError, "corp")
        await expect_raise(f"{tag}: team_reservations with only a partner getter",
                           lambda: client.load_tool("team_reservations", auth_token_getters={"partner": lambda: carol}),
                           ValueError, "partner")

        # authRequired alone: any one of its services will do.
        cancel = await client.load_tool("cancel_reservation", auth_token_getters={"partner": lambda: carol})
        c.equal(f"{tag}: cancel_reservation takes reservation_id", set(signature(cancel)), {"reservation_id"})
        got = await result_of(f"{tag}: cancel_reservation 6 as carol", lambda: cancel(reservation_id=6))
        c.equal(f"{tag}: cancel_reservation returns the cancelled row", got, db.reservation(6))
        c.equal(f"{tag}: reservation 6 is cancelled in the database", db.reservation(6)[0]["cancelled"], True)
        bare = await client.load_tool("cancel_reservation")
        await expect_raise(f"{tag}: cancel_reservation without a token getter", lambda: bare(reservation_id=6),
                           PermissionError)
        forged = await client.load_tool("cancel_reservation", auth_token_getters={"corp": lambda: tokens["wrong_audience"]})
        await expect_raise(f"{tag}: cancel_reservation with a token the server refuses",
                           lambda: forged(reservation_id=6), Exception)

    # A base URL that already ends in /mcp, and one with a trailing slash.
    for url in (f"{base}/mcp", f"{base}/"):
        async with ToolboxClient(url, protocol=Protocol(version)) as client:
            tools = await client.load_toolset("public")
            c.equal(f"{tag}: load_toolset('public') from base URL {url[len(base):]}", {t.__name__ for t in tools}, PUBLIC)


def langchain_checks(base: str, db: Database) -> None:
    from toolbox_langchain import ToolboxClient as LangChainClient

    with LangChainClient(base) as client:
        tools = client.load_toolset("public")
        c.equal("toolbox-langchain: load_toolset('public')", {t.name for t in tools}, PUBLIC)
        find = next((t for t in tools if t.name == "find_rooms"), None)
        if c.check("toolbox-langchain: find_rooms is a LangChain tool", find is not None and hasattr(find, "invoke"), tools):
            got = parsed(find.invoke({"city": "Basel", "max_price": 150}))
            c.equal("toolbox-langchain: find_rooms.invoke answers what the database holds", got, db.find_rooms("Basel", 150))
            c.check("toolbox-langchain: the tool's args come from the schema", "city" in (find.args or {}), find.args)


def js_checks(base: str, db: Database, tokens: dict[str, str], log: Path) -> None:
    sdk_dir = PEERS / "toolbox-sdk-js"
    node = shutil.which("node")
    if not c.check("@toolbox-sdk/core is installed", (sdk_dir / "node_modules" / "@toolbox-sdk" / "core").is_dir() and node,
                   f"no {sdk_dir} or no node; run tests/peers/install_toolbox_sdks.sh"):
        return
    config = {
        "base": base,
        "sdkDir": str(sdk_dir),
        "versions": VERSIONS,
        "tokens": tokens,
        "expected": {
            "findBasel": db.find_rooms("Basel"),
            "findZurichView": db.find_rooms("Zurich", 300, 1, True),
            "findBernBound": db.find_rooms("Bern", 120),
            "roomsInCities": db.rooms_in_cities(["Basel", "Geneva"]),
            "countRooms": db.count_rooms(),
            "aliceReservations": db.my_reservations("alice"),
            "carolAll": db.my_reservations("carol@partner.example", True),
            "salesTeam": db.team_reservations("sales"),
            "cancelled6": db.reservation(6),
        },
    }
    env = dict(os.environ, TOOLBOX_SDK_JS_CONFIG=json.dumps(config))
    with open(log, "w") as err:
        run = subprocess.run([str(node), str(ROOT / "tests" / "peers" / "toolbox_sdk_js.mjs")], env=env,
                             stdout=subprocess.PIPE, stderr=err, text=True, timeout=300)
    summary = None
    for line in run.stdout.splitlines():
        print(f"  js | {line}", flush=True)
        if line.startswith("js: ") and " passed, " in line:
            summary = line
    if summary is None:
        c.check("@toolbox-sdk/core: the script ran to its summary", False,
                f"exit {run.returncode}; stderr: {log.read_text(errors='replace')[-2000:]}")
        return
    counts = summary[len("js: "):].split(", ")
    passed, failed = int(counts[0].split()[0]), int(counts[1].split()[0])
    c.passed += passed
    c.failed += failed
    c.check("@toolbox-sdk/core: the script exited 0 exactly when nothing failed", (run.returncode == 0) == (failed == 0),
            f"exit {run.returncode} with {failed} failed")


def guarded(label: str, body: Callable[[], Any]) -> None:
    try:
        result = body()
        if inspect.isawaitable(result):
            asyncio.run(asyncio.wait_for(result, 120))
    except Exception as e:  # noqa: BLE001 - report and go on
        c.check(f"{label}: ran to the end", False, "".join(traceback.format_exception(e)).strip())


def main() -> int:
    warnings.simplefilter("ignore")  # the SDKs warn about tokens over plain http, which loopback is
    binary = build("SDK_PEER_BIN", ["-p", "toolbox-runtime", "--example", "sdk_peer"], "examples/sdk_peer")
    from importlib.metadata import version
    print(f"toolbox-core {version('toolbox-core')}, toolbox-langchain {version('toolbox-langchain')}; server {binary}",
          flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="toolbox-sdks-"))
    issuer = Issuer()
    tokens = {
        "alice_corp": issuer.token("corp-apps", sub="alice", team="sales"),
        "carol_partner": issuer.token("partner-apps", sub="c-123", email="carol@partner.example"),
        "wrong_audience": issuer.token("other-apps", sub="alice", team="sales"),
    }
    db_path = tmp / "sdk-peer.db"
    env = dict(os.environ, SDK_ISSUER=issuer.url, SDK_PEER_DB=str(db_path), RUST_LOG="warn")
    server = serve(binary, env, tmp / "server.log")
    db = Database(db_path)
    try:
        for version in VERSIONS:
            guarded(f"toolbox-core {version}", lambda v=version: core_checks(v, server.base, db, tokens))
        guarded("toolbox-langchain", lambda: langchain_checks(server.base, db))
        guarded("@toolbox-sdk/core", lambda: js_checks(server.base, db, tokens, tmp / "js-stderr.log"))
        c.check("the server is still running at the end", server.running(), server.log)
    finally:
        server.stop()
        issuer.close()
        if c.failed:
            print(f"--- server log ({server.log}) ---\n{server.tail()}")
        if os.environ.get("PEERS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    code = main()
    print(c.summary())
    sys.exit(code)
