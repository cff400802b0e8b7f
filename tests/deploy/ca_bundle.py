#!/usr/bin/env python3
"""The CA bundle the image ships is the one the toolbox trusts for its identity providers.

The container image (deploy/rootfs.sh) holds no roots but /etc/ssl/certs/ca-certificates.crt;
the authorization client (reqwest with rustls' platform verifier) finds it there by the standard
search. This runs the `sdk_peer` toolbox, whose auth services fetch OpenID discovery and JWKS
from a loopback issuer over HTTPS (a CA made here), in a mount namespace whose /etc/ssl/certs is
a directory holding only that file, as in the image:
  - with the test CA appended to Debian's bundle, a call with a token succeeds;
  - with Debian's bundle alone, the same call is refused (the issuer cannot be trusted: fail
    closed), and the auth fetch failures counter says why.

Usage: tests/deploy/ca_bundle.py SDK_PEER_BINARY. Needs root (mount namespace) and openssl;
skips without them, or fails under CI=true. Prints `N passed, M failed` last.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
from sdk_harness import Checks, Issuer, free_port, in_ci  # noqa: E402

c = Checks()
DEBIAN_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    ca_key, ca, key, csr, cert = (tmp / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
            "-subj", "/CN=toolbox deploy test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext = tmp / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
            "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return ca, cert, key


def call_team_reservations(port: int, token: str) -> tuple[int, object]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "team_reservations", "arguments": {}}}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", json.dumps(body).encode(), {
        "Content-Type": "application/json", "Accept": "application/json", "corp_token": token})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def serve(binary: Path, tmp: Path, certs: Path, issuer: Issuer, name: str) -> tuple[subprocess.Popen, int, int, Path]:
    """sdk_peer with `certs` mounted over /etc/ssl/certs in a mount namespace of its own."""
    port, metrics = free_port(), free_port()
    log = tmp / f"{name}.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SDK_ISSUER": issuer.url, "SDK_PEER_DB": str(tmp / f"{name}.db")}
    script = 'mount --bind "$1" /etc/ssl/certs || exit 111; shift; exec "$@"'
    with open(log, "wb") as out:
        process = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
                                    str(certs), str(binary), "--port", str(port), "--metrics-address", f"127.0.0.1:{metrics}"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return process, port, metrics, log
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(f"sdk_peer did not start: {log.read_text(errors='replace')}")


def failures(metrics: int) -> int:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5).read().decode()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("toolbox_auth_fetch_failures_total"))


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = Path(sys.argv[1]).resolve()
    missing = [what for what, ok in (("root", os.geteuid() == 0), ("openssl", shutil.which("openssl") is not None),
                                     ("unshare", shutil.which("unshare") is not None),
                                     (str(DEBIAN_BUNDLE), DEBIAN_BUNDLE.is_file()), (str(binary), binary.is_file())) if not ok]
    if missing:
        if in_ci():
            c.check(f"what this test needs: {', '.join(missing)}", False)
            return 1
        print(f"SKIP tests/deploy/ca_bundle.py: missing {', '.join(missing)}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="toolbox-ca-"))
    os.chmod(tmp, 0o755)
    ca, cert, key = make_ca(tmp)
    issuer = Issuer(tls=(str(cert), str(key)))
    token = issuer.token("corp-apps", sub="alice", team="sales")
    processes = []
    try:
        for name, trusted in (("with-ca", True), ("debian-only", False)):
            certs = tmp / name / "certs"
            certs.mkdir(parents=True)
            bundle = DEBIAN_BUNDLE.read_text() + (ca.read_text() if trusted else "")
            (certs / "ca-certificates.crt").write_text(bundle)
            process, port, metrics, log = serve(binary, tmp, certs, issuer, name)
            processes.append(process)
            # The keys are fetched in the background after the start: wait for them (trusted), or
            # for the failed fetch to be counted (not trusted).
            deadline = time.monotonic() + 15
            while True:
                status, reply = call_team_reservations(port, token)
                settled = status == 200 if trusted else failures(metrics) > 0
                if settled or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            if trusted:
                rows = None
                try:
                    rows = json.loads(reply["result"]["content"][0]["text"])  # type: ignore[index]
                except (KeyError, TypeError, ValueError, IndexError):
                    pass
                c.check(f"the issuer's CA in /etc/ssl/certs/ca-certificates.crt: a corp token is accepted ({rows})",
                        status == 200 and isinstance(rows, list) and bool(rows), (status, reply, log.read_text()[-2000:]))
            else:
                c.check(f"Debian's bundle alone: the same token is refused (HTTP {status}), never accepted",
                        status != 200 or "rows" not in json.dumps(reply), (status, reply))
                c.check("... and the failed fetch of the issuer's keys is counted", failures(metrics) > 0, log.read_text()[-2000:])
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        issuer.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    code = main()
    print(c.summary())
    sys.exit(code)
