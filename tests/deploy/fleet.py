"""Several toolbox instances behind a real load balancer (HAProxy or nginx), for the deployment
tests and for the peer tests when TOOLBOX_BALANCER is set.

The balancer's configuration is the one docs/deploy.md shows (its first ```haproxy or ```nginx
block), with the example servers replaced by the instances and the listen address by a free
loopback port, so the documented configuration is the tested one. Each instance serves
/metrics on a port of its own, read directly (never through the balancer), which tells which
instance served what: `spread()`.

Standard library only: the peer tests import it from their own venvs.

As a command (for tests/peers/conformance.sh):
  python3 tests/deploy/fleet.py BINARY URL_FILE LOG_DIR [-- toolbox args...]
starts the fleet, writes the balancer's /mcp URL to URL_FILE and runs until SIGTERM; it exits 1
as soon as an instance or the balancer dies.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def doc_block(language: str) -> str:
    """The first fenced block of docs/deploy.md in `language`."""
    match = re.search(rf"^```{language}\n(.*?)^```", DOC.read_text(), re.S | re.M)
    if not match:
        raise RuntimeError(f"{DOC} has no ```{language} block")
    return match.group(1)


def balancer_config(kind: str, port: int, backends: list[int], workdir: Path) -> str:
    """docs/deploy.md's block for `kind`, pointed at `backends`, listening on `port`."""
    block = doc_block(kind)
    servers = [line for line in block.splitlines() if re.match(r"\s*server\s.*\b\d+\.\d+\.\d+\.\d+:\d+", line)]
    if not servers:
        raise RuntimeError(f"the ```{kind} block of {DOC} lists no server")
    template, indent = servers[0], re.match(r"\s*", servers[0]).group(0)
    ours = []
    for i, backend in enumerate(backends, 1):
        line = re.sub(r"\b\d+\.\d+\.\d+\.\d+:\d+", f"127.0.0.1:{backend}", template.strip())
        line = re.sub(r"^server t\d+", f"server t{i}", line)
        ours.append(indent + line)
    lines, placed = [], False
    for line in block.splitlines():
        if line in servers:
            if not placed:
                lines.extend(ours)
                placed = True
            continue
        lines.append(line)
    text = "\n".join(lines) + "\n"
    if kind == "haproxy":
        text, n = re.subn(r"bind :80\b", f"bind 127.0.0.1:{port}", text)
        assert n == 1, "the haproxy block binds :80 once"
        # Test-only: no daemon, the stats socket for nothing else.
        return f"global\n    maxconn 4096\n\n{text}"
    text, n = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    assert n == 1, "the nginx block listens on 80 once"
    # Test-only: a private prefix, pid and temporary paths, so no system path is used.
    temp = "\n".join(f"    {name}_temp_path {workdir}/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    indented = "\n".join(f"    {line}" if line else line for line in text.splitlines())
    return (f"worker_processes 1;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log warn;\n"
            f"events {{ worker_connections 4096; }}\nhttp {{\n    access_log off;\n{temp}\n{indented}\n}}\n")


class Instance:
    """One toolbox process on a free port, with /metrics on another."""

    def __init__(self, name: str, binary: Path, env: dict[str, str], log: Path, args: list[str]) -> None:
        self.name, self.log = name, log
        for _ in range(5):
            self.port, self.metrics_port = free_port(), free_port()
            with open(log, "ab") as out:
                self.process = subprocess.Popen(
                    [str(binary), "--port", str(self.port), "--metrics-address", f"127.0.0.1:{self.metrics_port}", *args],
                    env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.process.poll() is None:
                if http_status(f"http://127.0.0.1:{self.port}/healthz") is not None:
                    return
                time.sleep(0.05)
            self.kill()
        raise RuntimeError(f"{binary} did not start; see {log}")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def served(self) -> dict[tuple[str, str], int]:
        """Requests answered, by (method, protocol version), from mcp.server.operation.duration."""
        out: dict[tuple[str, str], int] = {}
        for line in self.metrics().splitlines():
            if line.startswith("mcp_server_operation_duration_seconds_count{"):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
                key = (labels.get("mcp_method_name", "?"), labels.get("mcp_protocol_version", "?"))
                out[key] = out.get(key, 0) + int(float(line.rsplit(" ", 1)[1]))
        return out

    def counter(self, name: str) -> int:
        """The sum of a counter over its labels."""
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return int(total)

    def running(self) -> bool:
        return self.process.poll() is None

    def terminate(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class Fleet:
    """`instances` toolboxes behind `balancer` ("haproxy" or "nginx"); `base` is the balancer."""

    def __init__(self, binary: Path, env: dict[str, str], workdir: Path, args: list[str] | None = None,
                 instances: int = 3, balancer: str = "haproxy", own_database: str | None = None) -> None:
        """`own_database`: a variable naming a SQLite file, given a file of its own per instance
        (`<value>.t1` ...) instead of one file shared by all."""
        if shutil.which(balancer) is None:
            raise RuntimeError(f"{balancer} is not installed (tests/deploy/install.sh installs it)")
        self.kind, self.workdir = balancer, workdir
        self.log = workdir / "fleet.log"
        self.instances: list[Instance] = []
        self.balancer: subprocess.Popen[bytes] | None = None
        try:
            # One after the other: the first creates a SQLite database that the others share.
            for i in range(instances):
                own = {own_database: f"{env[own_database]}.t{i + 1}"} if own_database else {}
                self.instances.append(Instance(f"t{i + 1}", binary, {**env, **own}, workdir / f"t{i + 1}.log", args or []))
            self._start_balancer()
        except BaseException:
            self.stop()
            raise

    def _start_balancer(self) -> None:
        for _ in range(5):
            self.port = free_port()
            config = balancer_config(self.kind, self.port, [i.port for i in self.instances], self.workdir)
            if self.kind == "haproxy":
                path = self.workdir / "haproxy.cfg"
                path.write_text(config)
                command = ["haproxy", "-db", "-f", str(path)]
            else:
                os.chmod(self.workdir, 0o755)  # nginx's workers run as nobody and need the temp paths
                path = self.workdir / "nginx.conf"
                path.write_text(config)
                command = ["nginx", "-p", str(self.workdir), "-c", str(path), "-g", "daemon off;"]
            with open(self.workdir / f"{self.kind}.log", "ab") as out:
                self.balancer = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.balancer.poll() is None:
                if http_status(f"{self.base}/readyz") == 200:
                    return
                time.sleep(0.05)
            self._stop_balancer()
        raise RuntimeError(f"{self.kind} did not start; see {self.workdir}/{self.kind}.log")

    def withdraw(self, instance: Instance) -> None:
        """Takes `instance` out of the balancer's servers and reloads it, as an orchestrator does
        when it stops an instance (nginx's open-source version cannot see /readyz by itself)."""
        backends = [i.port for i in self.instances if i is not instance and i.running()]
        config = balancer_config(self.kind, self.port, backends, self.workdir)
        (self.workdir / f"{'haproxy.cfg' if self.kind == 'haproxy' else 'nginx.conf'}").write_text(config)
        if self.kind == "nginx" and self.balancer is not None:
            self.balancer.send_signal(signal.SIGHUP)  # new workers; the old ones finish their requests
        else:
            raise RuntimeError("withdraw is for nginx; HAProxy's /readyz checks take the instance out")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def running(self) -> bool:
        return all(i.running() for i in self.instances) and self.balancer is not None and self.balancer.poll() is None

    def served(self) -> list[dict[tuple[str, str], int]]:
        return [i.served() for i in self.instances]

    def report(self) -> dict[str, Any]:
        """What each instance served, by method and version, and its auth cache lookups."""
        out: dict[str, Any] = {"balancer": self.kind, "instances": {}}
        for i in self.instances:
            if i.running():
                out["instances"][i.name] = {
                    "served": {f"{m} {v}": n for (m, v), n in sorted(i.served().items())},
                    "auth_lookups": i.counter("toolbox_auth_cache_lookups_total"),
                }
        return out

    def tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {i.name} ---\n{i.log.read_text(errors='replace')[-chars:]}" for i in self.instances)

    def _stop_balancer(self) -> None:
        if self.balancer is not None and self.balancer.poll() is None:
            self.balancer.terminate()
            try:
                self.balancer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.balancer.kill()
                self.balancer.wait()

    def stop(self) -> None:
        """Stops everything; with FLEET_REPORT set, first appends report() to that file (JSON lines)."""
        target = os.environ.get("FLEET_REPORT")
        if target and self.instances and self.balancer is not None:
            try:
                with open(target, "a") as f:
                    f.write(json.dumps(self.report()) + "\n")
            except OSError as e:
                print(f"fleet: cannot write the report to {target}: {e}", file=sys.stderr)
        self._stop_balancer()
        # All signalled first, then waited for: each may spend its --drain-delay before it exits.
        for i in self.instances:
            if i.running():
                i.process.send_signal(signal.SIGTERM)
        for i in self.instances:
            i.terminate()


def from_environment(binary: Path, env: dict[str, str], log: Path, args: list[str] | None = None) -> Fleet | None:
    """A fleet behind $TOOLBOX_BALANCER (haproxy or nginx), or None when it is unset; the peer
    tests start one in place of their single server. Its logs go beside `log`."""
    kind = os.environ.get("TOOLBOX_BALANCER")
    if not kind:
        return None
    workdir = Path(tempfile.mkdtemp(prefix=f"toolbox-fleet-{kind}-", dir=log.parent))
    fleet = Fleet(binary, env, workdir, args, int(os.environ.get("TOOLBOX_INSTANCES", "3")), kind)
    print(f"serving through {kind} at {fleet.base} ({len(fleet.instances)} instances, logs in {workdir})", flush=True)
    return fleet


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, url_file, log_dir = Path(argv[1]), Path(argv[2]), Path(argv[3])
    args = argv[5:] if len(argv) > 4 and argv[4] == "--" else []
    log_dir.mkdir(parents=True, exist_ok=True)
    fleet = from_environment(binary, dict(os.environ), log_dir / "fleet", args)
    if fleet is None:
        print("fleet.py: set TOOLBOX_BALANCER to haproxy or nginx", file=sys.stderr)
        return 2
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    url_file.write_text(fleet.url)
    try:
        while not stopping:
            if not fleet.running():
                print("fleet.py: an instance or the balancer died", file=sys.stderr)
                print(fleet.tail(), file=sys.stderr)
                return 1
            time.sleep(0.2)
    finally:
        fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
