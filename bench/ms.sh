#!/usr/bin/env bash
# Converts a wrk latency (e.g. 812.00us, 1.23ms, 2.01s) to milliseconds.
python3 - "$1" <<'PY'
import sys
v = sys.argv[1]
for suffix, factor in (("us", 0.001), ("ms", 1), ("s", 1000)):
    if v.endswith(suffix):
        print(round(float(v[: -len(suffix)]) * factor, 3)); break
else:
    print(v)
PY
