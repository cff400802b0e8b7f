"""Waits until the toolbox answers a request on PORT.

    wait_ready.py PORT [AUTHORIZATION]                 waits, prints nothing useful
    wait_ready.py PORT [AUTHORIZATION] -- CMD ARGS...  starts CMD, waits, prints "PID MILLISECONDS"
                                                       (spawn to the first answered request) and
                                                       leaves CMD running
    wait_ready.py --spawn-floor                        prints the milliseconds this script takes to
                                                       spawn and reap /bin/true: the part of the
                                                       figure above that is not the server's
"""
import json, socket, subprocess, sys, time

if sys.argv[1] == "--spawn-floor":
    runs = []
    for _ in range(5):
        start = time.perf_counter_ns()
        subprocess.run(["/bin/true"])
        runs.append((time.perf_counter_ns() - start) / 1e6)
    print(round(sorted(runs)[2], 1))
    sys.exit()

split = sys.argv.index("--") if "--" in sys.argv else len(sys.argv)
port = int(sys.argv[1])
authorization = sys.argv[2] if split > 2 else None
command = sys.argv[split + 1 :] or None
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
extra = f"Authorization: {authorization}\r\n" if authorization else ""
request = (
    f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{extra}"
    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
).encode() + body
start = time.perf_counter_ns()
child = subprocess.Popen(command, stdout=subprocess.DEVNULL) if command else None
deadline = time.time() + 30
while True:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(request)
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("the server did not answer within 30 s")
    time.sleep(0.0005)
elapsed_ms = round((time.perf_counter_ns() - start) / 1e6, 1)
if child:
    print(child.pid, elapsed_ms)
