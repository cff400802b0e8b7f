#!/usr/bin/env python3
"""The official MCP Python SDK (mcp 2.x) against the toolbox over HTTPS, through a certificate reload.

A CA made here (with `cryptography`, which the SDK already depends on) issues a certificate for
localhost and 127.0.0.1; the toolbox serves it with --tls-cert/--tls-key. The SDK connects to
https://localhost:PORT/mcp trusting only that CA: once with an explicit httpx client (legacy
initialize), once as mcp.Client(url) with SSL_CERT_FILE (server/discover). Then the files are
replaced by a second certificate and the server gets SIGHUP: a new session works and a new
connection is given the second certificate, while the session opened before goes on. A client
that trusts another CA is refused, and a plain http:// request is answered 400.

Run it with the venv from tests/peers/install.sh:
  .ci/peers/venv/bin/python tests/peers/python_sdk_tls.py
Environment: TOOLBOX_BIN (default target/debug/toolbox, built with `cargo build` when unset),
PEERS_KEEP_TMP=1 keeps the temporary files. Prints `N passed, M failed` last.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import anyio
import httpx2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_TOOLS = {"search_flights", "get_flight", "list_bookings", "book_seat", "update_flight_status", "flight_stats", "execute_sql"}

passed = 0
failed = 0


def check(label: str, condition: bool, detail: Any = "") -> bool:
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {label}")
    else:
        failed += 1
        print(f"FAIL {label}: {detail}")
    return condition


# --- certificates ----------------------------------------------------------------------------

def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, traditional_key: bool) -> tuple[bytes, bytes, bytes]:
    """A certificate for localhost and 127.0.0.1: (chain PEM, key PEM, leaf DER). The key is PKCS#8,
    or SEC1 (`EC PRIVATE KEY`) when `traditional_key`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_format = serialization.PrivateFormat.TraditionalOpenSSL if traditional_key else serialization.PrivateFormat.PKCS8
    key_pem = key.private_bytes(serialization.Encoding.PEM, key_format, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem, cert.public_bytes(serialization.Encoding.DER)


def served_certificate(port: int, context: ssl.SSLContext) -> bytes:
    """The leaf certificate a new connection is given (DER)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True)


# --- the server ------------------------------------------------------------------------------

def toolbox_binary() -> Path:
    explicit = os.environ.get("TOOLBOX_BIN")
    if explicit:
        return Path(explicit).resolve()
    print("building the toolbox (cargo build)", flush=True)
    subprocess.run(["cargo", "build", "--quiet"], cwd=ROOT, check=True)
    return ROOT / "target" / "debug" / "toolbox"


class Server:
    """The toolbox on a port the system picks, read from its `https://` start-up line; its log
    is kept (JSON lines) for the checks."""

    def __init__(self, binary: Path, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen([str(binary), "--port", "0", "--logging-format", "json", *args],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.port: int | None = None
        ready = threading.Event()

        def drain() -> None:
            assert self.process.stderr is not None
            for raw in self.process.stderr:
                line = raw.decode(errors="replace")
                with self.lock:
                    self.lines.append(line)
                if self.port is None and "https://127.0.0.1:" in line:
                    self.port = int(line.split("https://127.0.0.1:")[1].split("/")[0])
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(60) or self.port is None:
            self.stop()
            raise RuntimeError("the toolbox did not start over https:\n" + self.log())

    def log(self) -> str:
        with self.lock:
            return "".join(self.lines)

    def wait_for_log(self, text: str, count: int = 1, seconds: float = 10) -> str | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                found = [line for line in self.lines if text in line]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the checks ------------------------------------------------------------------------------

def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def use_session(tag: str, api: Any) -> None:
    listing = await api.list_tools()
    names = {t.name for t in listing.tools}
    check(f"{tag}: tools/list has the tools of tools.yaml", EXPECTED_TOOLS <= names, sorted(names))
    result = await api.call_tool("get_flight", {"flight_number": "UA0008"})
    rows = json.loads(text_of(result)) if result.is_error is not True else []
    check(f"{tag}: get_flight UA0008 answers its row",
          len(rows) == 1 and rows[0]["flight_number"] == "UA0008" and rows[0]["origin"] == "SFO", text_of(result))


def http_client(context: ssl.SSLContext) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(verify=context, timeout=httpx2.Timeout(30, read=300))


async def run(server: Server, files: dict[str, Path], ca: tuple[Any, x509.Certificate], first_leaf: bytes) -> None:
    port = server.port
    url = f"https://localhost:{port}/mcp"
    trusting = ssl.create_default_context(cafile=str(files["ca"]))
    check("the start-up line says https://", server.wait_for_log("serving MCP at https://") is not None, server.log()[-2000:])
    check("a new connection is given the first certificate", served_certificate(port, trusting) == first_leaf)

    async with http_client(trusting) as client, streamable_http_client(url, http_client=client) as (read, write):
        async with ClientSession(read, write) as before:
            init = await before.initialize()
            check("https/legacy: initialize answers", init.protocol_version == "2025-11-25", init.protocol_version)
            await use_session("https/legacy", before)

            # mcp.Client(url) builds its own httpx client, which trusts SSL_CERT_FILE.
            os.environ["SSL_CERT_FILE"] = str(files["ca"])
            async with Client(url) as auto:
                check("https/auto: the client chose the stateless era via server/discover",
                      auto.session.discover_result is not None, auto.session.discover_result)
                await use_session("https/auto", auto)

            # The second certificate (SEC1 key, no intermediate), then SIGHUP.
            second_chain, second_key, second_leaf = make_server_cert(ca[0], ca[1], traditional_key=True)
            files["cert"].write_bytes(second_chain)
            files["key"].write_bytes(second_key)
            os.kill(server.process.pid, signal.SIGHUP)
            reloaded = server.wait_for_log("reloaded the TLS certificate from")
            check("SIGHUP reloads the certificate (logged with its expiry)",
                  reloaded is not None and "valid until" in reloaded, server.log()[-2000:])
            check("the server is still running after SIGHUP", server.process.poll() is None, server.process.returncode)
            check("a new connection is given the second certificate", served_certificate(port, trusting) == second_leaf)

            async with http_client(trusting) as client2, streamable_http_client(url, http_client=client2) as (read2, write2):
                async with ClientSession(read2, write2) as after:
                    await after.initialize()
                    await use_session("https/after the reload", after)
            # The session opened before the reload goes on.
            await use_session("https/legacy, opened before the reload", before)

    # A broken key: the reload fails, and the second certificate stays.
    files["key"].write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    os.kill(server.process.pid, signal.SIGHUP)
    error = server.wait_for_log("cannot reload the TLS certificate")
    check("a broken key is refused, naming the file", error is not None and str(files["key"]) in error and '"ERROR"' in error, error)
    check("after a failed reload the second certificate is still served", served_certificate(port, trusting) == second_leaf)

    # A client trusting another CA is refused.
    other_ca_path = files["ca"].with_name("other-ca.pem")
    other_ca_path.write_bytes(make_ca("another test CA")[1].public_bytes(serialization.Encoding.PEM))
    distrusting = ssl.create_default_context(cafile=str(other_ca_path))
    try:
        async with http_client(distrusting) as client, streamable_http_client(url, http_client=client) as (read, write):
            async with ClientSession(read, write) as session:
                with anyio.fail_after(15):
                    await session.initialize()
        check("a client trusting another CA is refused", False, "it connected")
    except BaseException as e:  # noqa: BLE001 - the SDK wraps the transport's error in a group
        text = "".join(traceback.format_exception(e))
        check("a client trusting another CA is refused", "CERTIFICATE_VERIFY_FAILED" in text, text[-1500:])

    # Plain HTTP to the HTTPS port: 400, naming https.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
        check("plain http:// is answered 400", False, "answered 200")
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        check("plain http:// is answered 400", e.code == 400 and "https://" in body, f"{e.code} {body}")
    check("the server is still running at the end", server.process.poll() is None, server.process.returncode)


async def main() -> int:
    binary = toolbox_binary()
    if not binary.is_file():
        print(f"no toolbox binary at {binary}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="toolbox-peers-tls-"))
    files = {"ca": tmp / "ca.pem", "cert": tmp / "cert.pem", "key": tmp / "key.pem"}
    ca_key, ca_cert = make_ca("toolbox peer test CA")
    files["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain, key, leaf = make_server_cert(ca_key, ca_cert, traditional_key=False)
    files["cert"].write_bytes(chain)
    files["key"].write_bytes(key)
    env = dict(os.environ, TOOLBOX_DEMO_DB=str(tmp / "airline.db"))
    env.pop("SSL_CERT_FILE", None)
    server = Server(binary, ["--tls-cert", str(files["cert"]), "--tls-key", str(files["key"])], env)
    try:
        with anyio.fail_after(120):
            await run(server, files, (ca_key, ca_cert), leaf)
    except BaseException as e:  # noqa: BLE001 - report it as a failed check
        if isinstance(e, KeyboardInterrupt):
            raise
        check("the checks ran to the end", False, "".join(traceback.format_exception(e)).strip())
    finally:
        server.stop()
        if failed:
            print(f"--- server log ---\n{server.log()[-4000:]}")
        if os.environ.get("PEERS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    code = anyio.run(main)
    print(f"{passed} passed, {failed} failed")
    sys.exit(code)
