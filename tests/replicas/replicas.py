"""Read replicas against a real streaming replica of the local PostgreSQL.

Makes a replica of the cluster on 127.0.0.1:5432 (`pg_basebackup -R` into a temporary directory,
started with `pg_ctl` on a free loopback port as the cluster's owner; the primary's pg_hba.conf
gets a `replication` line for 127.0.0.1, taken out again at the end), serves
tests/replicas/replicas.yaml with it, and checks:

- `list` places each tool: reads on the replicas, writes, locks, volatile calls and client SQL
  without `readOnly` on the primary;
- reads run on the replica and writes on the primary, as each server's `pg_stat_activity` and the
  replica's `pg_stat_user_tables` show;
- a write is visible through a read once the replica has replayed it;
- a replica whose replay is paused is skipped after `maxReplicaLag`, and used again once resumed;
- stopping the replica mid-load moves reads to the primary without a failed call, and a replica
  started again serves reads again;
- read throughput with the replica and without it (figures printed, not asserted).

Needs PostgreSQL on 127.0.0.1:5432 (trust for `postgres`, `wal_level` replica or logical,
`max_wal_senders` > 0), pg_basebackup and pg_ctl, and the `toolbox_replicas` database
(tests/setup-databases.sh). Without them it skips, saying why; under CI=true that is a failure.
Environment: TOOLBOX_REPLICAS_BIN (the server binary; run.sh builds it), REPLICAS_KEEP_TMP,
REPLICAS_LOAD_SECONDS (how long each load runs, 2 by default; longer gives steadier figures).
"""

import glob
import http.client
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

PG = dict(host="127.0.0.1", port=5432, user="postgres", db="toolbox_replicas")
CI = os.environ.get("CI") == "true"
MAX_LAG = 2.0
LOAD_SECONDS = float(os.environ.get("REPLICAS_LOAD_SECONDS", "2"))
results = {"passed": 0, "failed": 0}


def skip(reason):
    if CI:
        print(f"replicas.py: FAILED: {reason} (CI=true)")
        sys.exit(1)
    print(f"replicas.py: skipped: {reason}")
    sys.exit(0)


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def psql(sql, port=PG["port"], db=PG["db"], host="127.0.0.1"):
    out = subprocess.run(
        ["psql", "-h", host, "-p", str(port), "-U", "postgres", "-d", db, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True, timeout=30,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql on port {port}: {out.stderr.strip()}")
    return out.stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replica:
    """A streaming replica of the local cluster, in a temporary directory, run as its owner."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        self.port = free_port()
        self.hba_file = psql("SHOW hba_file", db="postgres")
        self.hba_before = None
        owner_uid = os.stat(psql("SHOW data_directory", db="postgres")).st_uid
        self.owner = pwd.getpwuid(owner_uid).pw_name
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        shutil.chown(tmp, user=self.owner)

    def as_owner(self, argv, **kw):
        if os.geteuid() == 0 and self.owner != "root":
            argv = ["runuser", "-u", self.owner, "--"] + argv
        return subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)

    def allow_replication(self):
        with open(self.hba_file) as f:
            self.hba_before = f.read()
        line = "host replication all 127.0.0.1/32 trust  # tests/replicas, removed at its end\n"
        with open(self.hba_file, "a") as f:
            f.write(line)
        psql("SELECT pg_reload_conf()", db="postgres")
        time.sleep(0.5)

    def restore_hba(self):
        if self.hba_before is not None:
            with open(self.hba_file, "w") as f:
                f.write(self.hba_before)
            psql("SELECT pg_reload_conf()", db="postgres")
            self.hba_before = None

    def create(self):
        out = self.as_owner([f"{self.bin}/pg_basebackup", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
                             "-D", self.data, "-R", "-X", "stream", "-c", "fast"])
        if out.returncode != 0:
            raise RuntimeError(f"pg_basebackup: {out.stderr.strip()}")
        # Debian keeps the configuration outside the data directory: give the copy its own.
        for name, text in [
            ("postgresql.conf", "hot_standby = on\n"),
            ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"),
            ("pg_ident.conf", ""),
        ]:
            path = os.path.join(self.data, name)
            with open(path, "w") as f:
                f.write(text)
            shutil.chown(path, user=self.owner)

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.tmp}"
        out = self.as_owner([f"{self.bin}/pg_ctl", "-D", self.data, "-o", options,
                             "-l", os.path.join(self.tmp, "replica.log"), "-w", "start"])
        if out.returncode != 0:
            with open(os.path.join(self.tmp, "replica.log")) as f:
                log = f.read()[-1500:]
            raise RuntimeError(f"pg_ctl start: {out.stdout.strip()} {out.stderr.strip()}\n{log}")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if psql("SELECT pg_is_in_recovery()", port=self.port) == "t":
                    return
            except RuntimeError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the replica did not start")

    def stop(self, mode="fast"):
        self.as_owner([f"{self.bin}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def sql(self, text):
        return psql(text, port=self.port)


class Server:
    """The toolbox-replicas binary on a free port."""

    def __init__(self, binary, replica_port, tmp):
        self.port = free_port()
        self.log_path = os.path.join(tmp, "toolbox.log")
        env = dict(os.environ, REPLICA_PORT=str(replica_port), REPLICA_MAX_LAG=f"{MAX_LAG}s", NO_COLOR="1")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--log-level", "info", "--rate-limit", "off"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not listen")

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, text, count=1, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.log_text().count(text) >= count:
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Client:
    """One keep-alive HTTP connection making tools/call requests."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, tool, arguments=None):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": tool, "arguments": arguments or {}}})
        self.conn.request("POST", "/mcp", body, {"Content-Type": "application/json",
                                                 "Accept": "application/json, text/event-stream"})
        response = self.conn.getresponse()
        return json.loads(response.read())["result"]


def rows(result):
    if result.get("isError"):
        raise AssertionError(result["content"][0]["text"])
    return json.loads(result["content"][0]["text"])


def last_queries(port):
    """The last statement of each toolbox backend on a server (pg_stat_activity)."""
    text = psql("SELECT query FROM pg_stat_activity WHERE application_name = 'toolbox' AND datname = 'toolbox_replicas'",
                port=port)
    return text.splitlines()


def ran_on(fragment, replica_port):
    on_primary = any(fragment in q for q in last_queries(PG["port"]))
    on_replica = any(fragment in q for q in last_queries(replica_port))
    return on_primary, on_replica


def load(port, seconds, threads, during=None):
    """Calls get_note from `threads` clients for `seconds`; runs `during` halfway. Returns
    (calls, failures, first failure texts)."""
    stop = time.time() + seconds
    counts = [[0, 0, []] for _ in range(threads)]

    def worker(slot):
        client = Client(port)
        i = 0
        while time.time() < stop:
            i += 1
            try:
                result = client.call("get_note", {"id": 1 + (i * 7 + slot) % 1000})
                failed = bool(result.get("isError"))
                text = result["content"][0]["text"] if failed else ""
            except Exception as e:  # noqa: BLE001 - a failed call of any kind is counted
                failed, text = True, repr(e)
                client = Client(port)
            slot_counts = counts[slot]
            slot_counts[0] += 1
            if failed:
                slot_counts[1] += 1
                if len(slot_counts[2]) < 3:
                    slot_counts[2].append(text)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    if during:
        time.sleep(seconds / 2)
        during()
    for t in pool:
        t.join()
    calls = sum(c[0] for c in counts)
    failures = sum(c[1] for c in counts)
    texts = [t for c in counts for t in c[2]][:3]
    return calls, failures, texts


def h2load_rate(port, seconds=LOAD_SECONDS, clients=8):
    """Calls per second of get_note with h2load (HTTP/1.1, 8 connections), or None without it."""
    if not shutil.which("h2load"):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                            "params": {"name": "get_note", "arguments": {"id": 42}}}))
        body = f.name
    try:
        out = subprocess.run(["h2load", "--h1", "-D", str(max(1, round(seconds))), "-c", str(clients), "-t", "1", "-d", body,
                              "-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream",
                              f"http://127.0.0.1:{port}/mcp"], capture_output=True, text=True, timeout=seconds + 30)
    finally:
        os.unlink(body)
    for line in out.stdout.splitlines():
        if line.startswith("finished in"):
            return float(line.split(",")[1].split()[0])
    return None


def replica_scans(replica):
    return int(replica.sql("SELECT coalesce(sum(idx_scan), 0) + coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables WHERE relname = 'notes'"))


def main():
    binary = os.environ.get("TOOLBOX_REPLICAS_BIN")
    if not binary or not os.path.exists(binary):
        skip("TOOLBOX_REPLICAS_BIN does not name the toolbox-replicas binary (tests/replicas/run.sh builds it)")
    try:
        psql("SELECT 1")
    except (RuntimeError, FileNotFoundError) as e:
        skip(f"PostgreSQL with the toolbox_replicas database is not reachable on 127.0.0.1:5432 ({e}); run tests/setup-databases.sh")
    if psql("SHOW wal_level", db="postgres") == "minimal" or int(psql("SHOW max_wal_senders", db="postgres")) < 2:
        skip("the primary has wal_level = minimal or max_wal_senders < 2, which only a restart changes")
    if not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") or not shutil.which("pg_basebackup"):
        skip("pg_ctl or pg_basebackup is missing")

    tmp = tempfile.mkdtemp(prefix="toolbox-replicas-")
    replica = Replica(tmp)
    server = None
    try:
        replica.allow_replication()
        replica.create()
        replica.start()
        print(f"replica of the local cluster on 127.0.0.1:{replica.port}, as {replica.owner}", flush=True)

        listed = subprocess.run([binary, "list"], capture_output=True, text=True, timeout=30).stdout
        placement = {}
        for line in listed.split("Placement on source `pg`", 1)[-1].splitlines()[1:]:
            name, _, route = line.strip().partition(" ")
            placement[name] = route.strip()
        expected = {
            "get_note": "replicas", "random_note": "replicas", "read_sql": "replicas",
            "set_note": "primary: writes (`UPDATE`)", "lock_note": "primary: locks rows",
            "next_note_id": "primary: calls `nextval()`", "touch_note": "primary: calls `public.touch_note()`",
            "renamed_note": "primary: writes (`UPDATE`)", "any_sql": "primary: runs client SQL without `readOnly`",
            "note_from": "replicas or primary, by template values",
        }
        for tool, prefix in expected.items():
            check(f"list places {tool} on {prefix}", placement.get(tool, "").startswith(prefix), placement.get(tool, "missing"))

        server = Server(binary, replica.port, tmp)
        check("the replica is found caught up and serves reads", server.wait_log("serves reads"), server.log_text()[-500:])
        client = Client(server.port)

        # Where each tool ran, by the last statement of each server's toolbox backends.
        for tool, args, fragment, where in [
            ("get_note", {"id": 3}, "FROM notes WHERE id = $1", "replica"),
            ("random_note", {}, "ORDER BY random()", "replica"),
            ("read_sql", {"sql": "SELECT pg_is_in_recovery() AS standby"}, None, "replica"),
            ("set_note", {"id": 5, "body": "five"}, "UPDATE notes SET body = $2", "primary"),
            ("lock_note", {"id": 5}, "FOR UPDATE", "primary"),
            ("next_note_id", {}, "nextval(", "primary"),
            ("touch_note", {"id": 5}, "touch_note($1)", "primary"),
            ("renamed_note", {"id": 5}, "WITH changed AS", "primary"),
            ("any_sql", {"sql": "SELECT pg_is_in_recovery() AS standby"}, None, "primary"),
            ("note_from", {"id": 6, "relation": "notes"}, 'FROM "notes" WHERE', "replica"),
            ("note_from", {"id": 6, "relation": "ticketed_notes"}, 'FROM "ticketed_notes" WHERE', "primary"),
        ]:
            result = client.call(tool, args)
            if fragment:
                on_primary, on_replica = ran_on(fragment, replica.port)
            else:
                # Client SQL's connection is closed after the call: it says where it ran itself.
                on_replica = not result.get("isError") and rows(result)[0]["standby"] is True
                on_primary = not result.get("isError") and not on_replica
            ok = not result.get("isError") and (on_replica and not on_primary if where == "replica" else on_primary and not on_replica)
            check(f"{tool} {args} runs on the {where}", ok, f"isError={result.get('isError')}, primary={on_primary}, replica={on_replica}")

        # The replica's own counters count the reads (its statistics are flushed within ~10 s).
        before = replica_scans(replica)
        for i in range(200):
            rows(client.call("get_note", {"id": 1 + i}))
        deadline, after = time.time() + 20, before
        while time.time() < deadline and after - before < 200:
            time.sleep(0.5)
            after = replica_scans(replica)
        check("200 reads are counted in the replica's pg_stat_user_tables", after - before >= 200, f"{after - before} scans")

        # A write, then the read that sees it once the replica has replayed it.
        stamp = f"written at {time.time()}"
        started = time.time()
        check("set_note writes on the primary", not client.call("set_note", {"id": 7, "body": stamp}).get("isError"))
        check("the primary has the write", psql("SELECT body FROM notes WHERE id = 7") == stamp)
        seen = None
        while time.time() - started < MAX_LAG + 5:
            if rows(client.call("get_note", {"id": 7}))[0]["body"] == stamp:
                seen = time.time() - started
                break
            time.sleep(0.01)
        check("a read through the replica sees the write", seen is not None, f"after {seen * 1000:.0f} ms" if seen else "never")

        # Replay paused: the replica falls behind and is skipped after maxReplicaLag.
        replica.sql("SELECT pg_wal_replay_pause()")
        stamp = f"while paused {time.time()}"
        rows_before = client.call("set_note", {"id": 8, "body": stamp})
        check("a write while the replica's replay is paused", not rows_before.get("isError"))
        started, seen = time.time(), None
        while time.time() - started < MAX_LAG + 5:
            if rows(client.call("get_note", {"id": 8}))[0]["body"] == stamp:
                seen = time.time() - started
                break
            time.sleep(0.05)
        check("a replica behind by more than maxReplicaLag is skipped (reads see the write from the primary)",
              seen is not None and ("lags" in server.log_text() or "has not replayed" in server.log_text()),
              f"after {seen:.1f} s" if seen else "never")
        replica.sql("SELECT pg_wal_replay_resume()")
        check("resumed, the replica serves reads again", server.wait_log("serves reads", count=2))

        # Throughput with the replica serving reads.
        with_replica = h2load_rate(server.port)
        calls, failures, texts = load(server.port, LOAD_SECONDS, 4)
        print(f"figures: reads through the replica: h2load {with_replica} calls/s; python client {calls / 6:.0f} calls/s, {failures} failed", flush=True)
        check("no read fails while the replica serves", failures == 0, "; ".join(texts))

        # The replica stops mid-load: reads move to the primary.
        calls, failures, texts = load(server.port, max(4.0, LOAD_SECONDS + 2), 4, during=lambda: replica.stop("fast"))
        print(f"figures: replica stopped mid-load: {calls} calls, {failures} failed", flush=True)
        check("stopping the replica mid-load fails no call", failures == 0, "; ".join(texts))
        check("the stopped replica is skipped", "skipped" in server.log_text())
        result = client.call("get_note", {"id": 3})
        on_primary = any("FROM notes WHERE id = $1" in q for q in last_queries(PG["port"]))
        check("reads run on the primary without a replica", not result.get("isError") and on_primary)

        without_replica = h2load_rate(server.port)
        calls, failures, texts = load(server.port, LOAD_SECONDS, 4)
        print(f"figures: reads on the primary (no replica): h2load {without_replica} calls/s; python client {calls / 6:.0f} calls/s, {failures} failed", flush=True)

        # Started again, the replica is found and used again.
        replica.start()
        check("a replica started again serves reads again", server.wait_log("serves reads", count=3, timeout=20))
        client = Client(server.port)
        again = False
        for _ in range(20):
            rows(client.call("get_note", {"id": 4}))
            if ran_on("FROM notes WHERE id = $1", replica.port)[1]:
                again = True
                break
            time.sleep(0.1)
        check("reads run on the replica again", again)
    except Exception as e:  # noqa: BLE001 - reported as a failure, then cleaned up
        check("the test ran to its end", False, repr(e))
    finally:
        if server:
            server.stop()
        replica.stop("immediate")
        replica.restore_hba()
        if os.environ.get("REPLICAS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
