#!/usr/bin/env python3
"""The reference's hotels quickstart (examples/hotels) served to its own SDK, toolbox-core, and
every answer compared with what psql answers for the same statement on the same database.

The test makes a database of its own from examples/hotels/schema.sql (dropped at the end), starts
the example's binary on it (built with `cargo build -p toolbox-example-hotels` unless HOTELS_BIN
names it) and, at protocol versions 2026-07-28 and 2025-11-25, loads the default toolset and
`my-toolset` and calls every tool: searches (rows compared with psql's `json_agg` of the same
SELECT), bookings, date changes and cancellations (the affected count compared with psql's command
tag for the same UPDATE, the row read back with psql), and bad IDs and dates (the same PostgreSQL
error as psql). Without PostgreSQL on 127.0.0.1:5432 it skips, except under CI=true, where it fails.

Needs tests/peers/install_toolbox_sdks.sh (run it with its venv: tests/peers/hotels.sh). Prints
`N passed, M failed` last and exits non-zero on any failure.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Any

from sdk_harness import ROOT, Checks, Server, build, in_ci

from toolbox_core import ToolboxClient
from toolbox_core.protocol import Protocol

VERSIONS = ["2026-07-28", "2025-11-25"]
TOOLS = {"search-hotels-by-name", "search-hotels-by-location", "book-hotel", "update-hotel", "cancel-hotel"}
PSQL = ["psql", "-X", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1"]

# The statements of examples/hotels/tools.yaml, with psql variables where the tools have `$n`.
SEARCH_BY_NAME = "SELECT * FROM hotels WHERE name ILIKE '%' || :'name' || '%'"
SEARCH_BY_LOCATION = "SELECT * FROM hotels WHERE location ILIKE '%' || :'location' || '%'"
BOOK = "UPDATE hotels SET booked = B'1' WHERE id = CAST(:'hotel_id' AS integer)"
UPDATE = ("UPDATE hotels SET checkin_date = CAST(:'checkin_date' AS date), "
          "checkout_date = CAST(:'checkout_date' AS date) WHERE id = CAST(:'hotel_id' AS integer)")
CANCEL = "UPDATE hotels SET booked = B'0' WHERE id = CAST(:'hotel_id' AS integer)"

c = Checks()


class Psql:
    """psql on the test's database; statements come on stdin so that `:'var'` is interpolated."""

    def __init__(self, database: str) -> None:
        self.database = database

    def run(self, sql: str, **variables: str) -> subprocess.CompletedProcess[str]:
        args = [*PSQL, "-d", self.database, "-A", "-t"]
        for name, value in variables.items():
            args += ["-v", f"{name}={value}"]
        return subprocess.run(args, input=sql + ";\n", capture_output=True, text=True, timeout=60)

    def rows(self, select: str, **variables: str) -> Any:
        """The rows of a SELECT as PostgreSQL renders them in JSON, ordered by id."""
        done = self.run(f"SELECT COALESCE(json_agg(t ORDER BY t.id), '[]') FROM ({select}) t", **variables)
        if done.returncode != 0:
            return f"<psql failed: {done.stderr.strip()}>"
        return json.loads(done.stdout)

    def affected(self, update: str, **variables: str) -> Any:
        """The count of an UPDATE's command tag (`UPDATE n`), or psql's error."""
        done = self.run(update, **variables)
        if done.returncode != 0:
            return {"error": done.stderr.strip()}
        tag = done.stdout.strip().split()
        return int(tag[-1]) if len(tag) == 2 and tag[0] == "UPDATE" else f"<unexpected psql output {done.stdout!r}>"

    def hotel(self, id: int) -> Any:
        return self.rows("SELECT * FROM hotels WHERE id = :'id'", id=str(id))


def by_id(rows: Any) -> Any:
    return sorted(rows, key=lambda r: r["id"]) if isinstance(rows, list) else rows


async def call(tool: Any, **arguments: str) -> Any:
    text = await tool(**arguments)
    try:
        return json.loads(text)
    except ValueError:
        return text


async def version_checks(version: str, base: str, db: Psql) -> None:
    tag = f"hotels {version}"
    async with ToolboxClient(base, protocol=Protocol(version)) as client:
        everything = await client.load_toolset()
        c.equal(f"{tag}: load_toolset() (at /mcp/) has the five tools", {t.__name__ for t in everything}, TOOLS)
        tools = {t.__name__: t for t in await client.load_toolset("my-toolset")}
        c.equal(f"{tag}: load_toolset('my-toolset') has the five tools", set(tools), TOOLS)
        if set(tools) != TOOLS:
            return
        update = await client.load_tool("update-hotel")
        c.equal(f"{tag}: update-hotel takes the quickstart's three strings",
                {n: p.annotation for n, p in inspect.signature(update).parameters.items()},
                {"hotel_id": str, "checkin_date": str, "checkout_date": str})

        # Searches: the rows PostgreSQL has (the statements have no ORDER BY: compared by id).
        for name in ["Basel", "hilton", "ZURICH", "Inn", "", "no such hotel", "%", "O'Brien"]:
            got = await call(tools["search-hotels-by-name"], name=name)
            c.equal(f"{tag}: search-hotels-by-name {name!r} answers what psql answers",
                    by_id(got), db.rows(SEARCH_BY_NAME, name=name))
        for location in ["Basel", "bern", "Zur", "Lucerne", "Atlantis"]:
            got = await call(tools["search-hotels-by-location"], location=location)
            c.equal(f"{tag}: search-hotels-by-location {location!r} answers what psql answers",
                    by_id(got), db.rows(SEARCH_BY_LOCATION, location=location))

        # Writes: the tool first, then the row as psql reads it, then psql's count for the same
        # (idempotent) UPDATE, which must be the tool's.
        got = await call(tools["book-hotel"], hotel_id="3")
        after = db.hotel(3)
        c.check(f"{tag}: book-hotel 3 sets booked to 1", isinstance(after, list) and after[0]["booked"] == "1", after)
        c.equal(f"{tag}: book-hotel 3 counts what psql counts", got, {"rowsAffected": db.affected(BOOK, hotel_id="3")})
        got = await call(tools["search-hotels-by-location"], location="Basel")
        c.equal(f"{tag}: the booking shows in a search as psql shows it",
                by_id(got), db.rows(SEARCH_BY_LOCATION, location="Basel"))

        dates = {"checkin_date": "2024-05-01", "checkout_date": "2024-05-04"}
        got = await call(tools["update-hotel"], hotel_id="3", **dates)
        after = db.hotel(3)
        c.check(f"{tag}: update-hotel 3 sets the new dates",
                isinstance(after, list) and (after[0]["checkin_date"], after[0]["checkout_date"]) == tuple(dates.values()),
                after)
        c.equal(f"{tag}: update-hotel 3 counts what psql counts", got,
                {"rowsAffected": db.affected(UPDATE, hotel_id="3", **dates)})
        got = await call(tools["update-hotel"], hotel_id="3", checkin_date="2024-4-2", checkout_date="20240420")
        after = db.hotel(3)
        c.check(f"{tag}: update-hotel takes any date text PostgreSQL reads",
                got == {"rowsAffected": 1} and isinstance(after, list)
                and (after[0]["checkin_date"], after[0]["checkout_date"]) == ("2024-04-02", "2024-04-20"), (got, after))

        got = await call(tools["cancel-hotel"], hotel_id="3")
        after = db.hotel(3)
        c.check(f"{tag}: cancel-hotel 3 sets booked to 0", isinstance(after, list) and after[0]["booked"] == "0", after)
        c.equal(f"{tag}: cancel-hotel 3 counts what psql counts", got, {"rowsAffected": db.affected(CANCEL, hotel_id="3")})

        got = await call(tools["book-hotel"], hotel_id="999")
        c.equal(f"{tag}: book-hotel of an unknown ID counts what psql counts (0)", got,
                {"rowsAffected": db.affected(BOOK, hotel_id="999")})
        got = await call(tools["book-hotel"], hotel_id=" 7 ")
        c.equal(f"{tag}: book-hotel ' 7 ' (PostgreSQL trims it) counts what psql counts", got,
                {"rowsAffected": db.affected(BOOK, hotel_id=" 7 ")})

        # Values PostgreSQL refuses: the same error as psql's.
        for label, tool, arguments, statement in [
            ("book-hotel 'abc'", "book-hotel", {"hotel_id": "abc"}, BOOK),
            ("book-hotel '3.5'", "book-hotel", {"hotel_id": "3.5"}, BOOK),
            ("update-hotel with a date that is not one", "update-hotel",
             {"hotel_id": "3", "checkin_date": "2024-02-30", "checkout_date": "2024-03-01"}, UPDATE),
        ]:
            got = await call(tools[tool], **arguments)
            expected = db.affected(statement, **arguments)
            message = expected["error"].split("ERROR:", 1)[-1].strip().splitlines()[0] if isinstance(expected, dict) else expected
            c.check(f"{tag}: {label} is refused with psql's error", isinstance(got, str) and message in got,
                    f"tool: {got!r}; psql: {message!r}")
        c.equal(f"{tag}: the refused calls changed nothing", db.hotel(3)[0]["checkin_date"], "2024-04-02")


def main() -> int:
    warnings.simplefilter("ignore")
    probe = subprocess.run([*PSQL, "-d", "postgres", "-Atc", "SELECT 1"], capture_output=True, text=True) \
        if shutil.which("psql") else None
    if probe is None or probe.returncode != 0:
        reason = "psql is not installed" if probe is None else f"PostgreSQL is not reachable: {probe.stderr.strip()}"
        if in_ci():
            c.check("PostgreSQL at 127.0.0.1:5432 (required under CI=true)", False, reason)
            return 1
        print(f"skipping: {reason}")
        return 0
    binary = build("HOTELS_BIN", ["-p", "toolbox-example-hotels"], "toolbox-example-hotels")
    from importlib.metadata import version
    print(f"toolbox-core {version('toolbox-core')}; server {binary}", flush=True)
    database = f"toolbox_hotels_peer_{os.getpid()}"
    admin = [*PSQL, "-d", "postgres", "-q"]
    subprocess.run([*admin, "-c", f"DROP DATABASE IF EXISTS {database}"], check=True, capture_output=True)
    subprocess.run([*admin, "-c", f"CREATE DATABASE {database}"], check=True, capture_output=True)
    tmp = Path(tempfile.mkdtemp(prefix="toolbox-hotels-"))
    server = None
    try:
        subprocess.run([*PSQL, "-d", database, "-q", "-f", str(ROOT / "examples" / "hotels" / "schema.sql")],
                       check=True, capture_output=True)
        env = dict(os.environ, PGDATABASE=database, PGSSLMODE="disable", RUST_LOG="warn")
        server = Server(binary, env, tmp / "server.log")
        db = Psql(database)
        for v in VERSIONS:
            try:
                asyncio.run(asyncio.wait_for(version_checks(v, server.base, db), 120))
            except Exception as e:  # noqa: BLE001 - report and go on
                c.check(f"hotels {v}: ran to the end", False, "".join(traceback.format_exception(e)).strip())
        c.check("the server is still running at the end", server.running(), server.log)
    finally:
        if server is not None:
            server.stop()
            if c.failed:
                print(f"--- server log ({server.log}) ---\n{server.tail()}")
        subprocess.run([*admin, "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], capture_output=True)
        if os.environ.get("PEERS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    code = main()
    print(c.summary())
    sys.exit(code)
