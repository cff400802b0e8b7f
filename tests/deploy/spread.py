#!/usr/bin/env python3
"""Reads the reports tests/deploy/fleet.py wrote (FLEET_REPORT, JSON lines: per instance, the
requests it answered by method and protocol version, and its auth cache lookups) after the peer
tests ran through a balancer, and checks that the requests spread: every instance answered
tools/call, and every protocol version the peers sent more than one request in was answered by
more than one instance (an initialize counts under the version it was routed by).
With --auth, every instance also verified tokens itself (its own JWKS cache: lookups > 0).

Usage: tests/deploy/spread.py [--auth] REPORT... ; prints `N passed, M failed` last.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

passed = failed = 0


def check(label: str, condition: bool, detail: object = "") -> None:
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {label}")
    else:
        failed += 1
        print(f"FAIL {label}: {detail}")


def main(argv: list[str]) -> int:
    auth = "--auth" in argv
    paths = [a for a in argv[1:] if a != "--auth"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for path in paths:
        try:
            with open(path) as f:
                reports = [json.loads(line) for line in f if line.strip()]
        except OSError as e:
            check(f"{path} can be read", False, e)
            continue
        check(f"{path}: fleets reported", bool(reports), "no report: did the peers run through a balancer?")
        for n, report in enumerate(reports, 1):
            tag = f"{path.rsplit('/', 1)[-1]} #{n} ({report['balancer']})"
            instances = report["instances"]
            check(f"{tag}: all 3 instances reported", len(instances) == 3, sorted(instances))
            by_version: dict[str, set[str]] = defaultdict(set)
            requests: dict[str, int] = defaultdict(int)
            for name, seen in instances.items():
                calls = sum(count for key, count in seen["served"].items() if key.startswith("tools/call "))
                check(f"{tag}: {name} answered tools/call ({calls})", calls > 0, seen["served"])
                for key, count in seen["served"].items():
                    by_version[key.split(" ", 1)[1]].add(name)
                    requests[key.split(" ", 1)[1]] += count
                if auth:
                    check(f"{tag}: {name} verified tokens with its own key cache ({seen['auth_lookups']} lookups)",
                          seen["auth_lookups"] > 0, seen)
            for version, names in sorted(by_version.items()):
                if requests[version] > 1:
                    check(f"{tag}: the {requests[version]} requests at {version} were answered by {len(names)} instances",
                          len(names) >= 2, sorted(names))
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
