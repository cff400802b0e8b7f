"""Summarises one h2load run and the server's CPU ticks over it.

    h2load_summary.py H2LOAD_OUTPUT H2LOAD_LOG REQUESTS CPU_TICKS TICKS_PER_SECOND

Prints "REQ/S P50_MS P99_MS CPU_US_PER_CALL": the rate h2load reports, latency percentiles from its
per-request log (`--log-file`: start time, status, microseconds to the end of the response), and
the server's utime+stime divided by the requests. Fails, with the reason, unless every request
was answered 200.
"""
import re, sys

output, log, requests, ticks, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
text = open(output).read()
rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
done = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded", text)
if not rate or not done or int(done.group(2)) != requests:
    sys.exit(f"not every request succeeded:\n{text}")
statuses, latencies = {}, []
for line in open(log):
    _, status, micros = line.split("\t")
    statuses[status] = statuses.get(status, 0) + 1
    latencies.append(int(micros))
if statuses != {"200": requests}:
    sys.exit(f"expected {requests} answers of 200, got {statuses}")
latencies.sort()
percentile = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))] / 1000
print(round(float(rate.group(1))), percentile(0.50), percentile(0.99), round(ticks / hz * 1e6 / requests, 1))
