#!/usr/bin/env python3
"""Judges one run of the MCP conformance suite from its `-o` results folder and a baseline.

usage: conformance_check.py RESULTS_DIR BASELINE_YML LABEL

Every scenario the suite ran left `server-<scenario>-<timestamp>/checks.json`. A check fails when
its status is FAILURE or WARNING (the suite's own baseline logic counts warnings as failures too,
so a warning must be baselined like a failure). The baseline (the suite's `--expected-failures` format) names
whole scenarios (`- scenario`) or single checks (`- scenario:check-id`) that are expected to
fail. This script fails the run on:
  - a failing check that the baseline does not name (a regression),
  - a baseline entry whose scenario or check ran and passed (a stale entry: remove it),
  - a baseline scenario that did not run at all (the suite changed: review the baseline).
It does not rely on the suite's exit code alone because `--requirements` runs never fail on
scenarios the revision does not score (extensions, pending), and we want those judged too.
Prints one line per scenario and `LABEL: N passed, M failed, K skipped` (skipped = baselined).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

BAD = ("FAILURE", "WARNING")
TIMESTAMP = re.compile(r"-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$")


def read_baseline(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    scenarios: set[str] = set()
    checks: set[tuple[str, str]] = set()
    section = None
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith((" ", "-")):
            section = line.rstrip(":").strip()
            continue
        entry = line.strip()
        if section != "server" or not entry.startswith("- "):
            continue
        entry = entry[2:].strip()
        if ":" in entry:
            scenario, check = entry.split(":", 1)
            checks.add((scenario.strip(), check.strip()))
        else:
            scenarios.add(entry)
    return scenarios, checks


def main() -> int:
    results, baseline_path, label = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    expected_scenarios, expected_checks = read_baseline(baseline_path)
    runs: dict[str, list[dict]] = {}
    for folder in sorted(results.iterdir()):
        if not folder.is_dir() or not folder.name.startswith("server-"):
            continue
        scenario = TIMESTAMP.sub("", folder.name[len("server-"):])
        checks_file = folder / "checks.json"
        try:
            runs[scenario] = json.loads(checks_file.read_text())
        except (OSError, ValueError) as e:
            runs[scenario] = [{"id": "checks-json", "status": "FAILURE", "errorMessage": f"no readable checks.json: {e}"}]

    passed = failed = skipped = 0
    problems: list[str] = []
    for scenario, checks in sorted(runs.items()):
        failures = [c for c in checks if c.get("status") in BAD]
        if scenario in expected_scenarios:
            if failures:
                skipped += 1
                print(f"  expected failure  {scenario} [baseline]")
            else:
                failed += 1
                problems.append(f"{scenario}: passes but the baseline expects it to fail; remove it from {baseline_path.name}")
                print(f"  STALE BASELINE    {scenario}")
            continue
        excused = [c for c in failures if (scenario, c.get("id")) in expected_checks]
        unexpected = [c for c in failures if (scenario, c.get("id")) not in expected_checks]
        for check_id in sorted({c for (s, c) in expected_checks if s == scenario}):
            ran = [c for c in checks if c.get("id") == check_id and c.get("status") not in ("SKIPPED",)]
            if ran and not any(c.get("status") in BAD for c in ran):
                unexpected.append({"id": check_id, "errorMessage": f"passes but {baseline_path.name} expects it to fail; remove the entry"})
        if unexpected:
            failed += 1
            for c in unexpected:
                detail = c.get("errorMessage") or json.dumps(c.get("details"))[:300]
                problems.append(f"{scenario}:{c.get('id')}: {c.get('status', '')} {detail}")
            print(f"  FAIL              {scenario}: {', '.join(sorted({c.get('id', '?') for c in unexpected}))}")
        else:
            passed += 1
            extra = f" (baselined checks: {', '.join(sorted({c['id'] for c in excused}))})" if excused else ""
            print(f"  pass              {scenario}{extra}")
    for scenario in sorted(expected_scenarios - set(runs)):
        failed += 1
        problems.append(f"{scenario}: in {baseline_path.name} but the suite did not run it; review the baseline")
    for scenario, check_id in sorted(expected_checks):
        if scenario not in runs:
            failed += 1
            problems.append(f"{scenario}:{check_id}: in {baseline_path.name} but the suite did not run the scenario")
    if not runs:
        failed += 1
        problems.append(f"no results in {results}")
    for problem in problems:
        print(f"  !! {problem}")
    print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
