"""Restarts PostgreSQL while the PostgreSQL example serves calls under load, and checks that the
process never fails: every answer during the outage is a well-formed MCP result (an isError
result naming the source while the database is away), and calls succeed again once it is back.

    python3 tests/db_restart.py target/debug/toolbox-example-postgres

It restarts the machine's PostgreSQL cluster, so CI runs it last, on its own."""
import json, os, socket, subprocess, sys, threading, time

binary = sys.argv[1]
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
env = dict(os.environ, PGDATABASE="toolbox_example", PGSSLMODE="disable")
# Rate limiting off: the load below is one caller sending thousands of calls a second.
server = subprocess.Popen([binary, "--port", str(port), "--log-level", "warn", "--rate-limit", "off"], env=env, stdout=subprocess.DEVNULL)

def call():
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "search_flights_by_number", "arguments": {"flight_number": "UA0001"}}}).encode()
    request = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"MCP-Protocol-Version: 2025-11-25\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    result = json.loads(payload)["result"]
    return status, result

deadline = time.time() + 20
while True:
    try:
        call(); break
    except OSError:
        if time.time() > deadline: sys.exit("the server did not start")
        time.sleep(0.05)

stats = {"ok": 0, "error_results": 0, "bad": []}
stop = threading.Event()
def load():
    while not stop.is_set():
        try:
            status, result = call()
            if status != 200:
                stats["bad"].append(f"HTTP {status}")
            elif result.get("isError"):
                stats["error_results"] += 1
                text = result["content"][0]["text"]
                if "database error" not in text and "flights-pg" not in text:
                    stats["bad"].append(text)
            else:
                stats["ok"] += 1
        except Exception as e:  # a dropped connection is a failure of the server
            stats["bad"].append(repr(e))
threads = [threading.Thread(target=load) for _ in range(4)]
for t in threads: t.start()
time.sleep(2)
cluster = os.listdir("/etc/postgresql")[0]
print(f"restarting PostgreSQL {cluster} under load", flush=True)
subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "stop", "-m", "fast"], check=True)
time.sleep(3)
subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "start"], check=True)
time.sleep(4)
before = stats["ok"]
time.sleep(2)
stop.set()
for t in threads: t.join()
recovered = stats["ok"] - before
alive = server.poll() is None
server.terminate(); server.wait(10)
print(f"successful calls: {stats['ok']}, isError results during the outage: {stats['error_results']}, "
      f"successes after recovery: {recovered}, process alive: {alive}, malformed: {len(stats['bad'])}")
failures = []
if not alive: failures.append("the server process died")
if stats["bad"]: failures.append(f"malformed answers: {stats['bad'][:3]}")
if stats["error_results"] == 0: failures.append("no call saw the outage (did the restart happen?)")
if recovered == 0: failures.append("calls did not recover after the database came back")
print(f"{4 - len(failures)} passed, {len(failures)} failed")
for f in failures: print("FAILED:", f)
sys.exit(1 if failures else 0)
