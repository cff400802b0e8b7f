"""What the tests of the reference's SDKs share (toolbox_sdks.py, hotels.py): counted checks,
a loopback OpenID issuer that signs JWTs, building and starting a toolbox binary.

Standard library only, plus the `openssl` command for RSA keys and RS256 signatures.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class Checks:
    """Counts checks; prints `ok` / `FAIL` lines and, at the end, `N passed, M failed`."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, label: str, condition: bool, detail: Any = "") -> bool:
        if condition:
            self.passed += 1
            print(f"ok   {label}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {label}: {detail}", flush=True)
        return bool(condition)

    def equal(self, label: str, got: Any, expected: Any) -> bool:
        return self.check(label, got == expected, f"got {got!r}, expected {expected!r}")

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """An OpenID issuer on 127.0.0.1: discovery and JWKS over HTTP, RS256 tokens on demand."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        """`tls`: a certificate chain and key (PEM files) to serve HTTPS with instead of HTTP."""
        if shutil.which("openssl") is None:
            raise RuntimeError("the openssl command is needed to make the issuer's RSA key")
        self._dir = tempfile.mkdtemp(prefix="toolbox-issuer-")
        self._key = os.path.join(self._dir, "key.pem")
        subprocess.run(["openssl", "genrsa", "-out", self._key, "2048"], check=True, capture_output=True)
        modulus = subprocess.run(["openssl", "rsa", "-in", self._key, "-noout", "-modulus"],
                                 check=True, capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        self.kid = "sdk-peers"
        jwks = {"keys": [{"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig",
                          "n": b64url(bytes.fromhex(modulus)), "e": "AQAB"}]}
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DocumentHandler)
        scheme = "http"
        if tls:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._server.documents = {  # type: ignore[attr-defined]
            "/.well-known/openid-configuration": {
                "issuer": self.url, "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            },
            "/jwks": jwks,
        }
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def token(self, audience: str, **claims: Any) -> str:
        """A JWT for `audience` from this issuer, valid for an hour, with extra claims."""
        now = int(time.time())
        body = {"iss": self.url, "aud": audience, "iat": now, "nbf": now - 5, "exp": now + 3600, **claims}
        header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = b64url(json.dumps(body).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self._key], input=signing_input,
                                   check=True, capture_output=True).stdout
        return f"{header}.{payload}.{b64url(signature)}"

    def close(self) -> None:
        self._server.shutdown()
        shutil.rmtree(self._dir, ignore_errors=True)


class _DocumentHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        document = self.server.documents.get(self.path)  # type: ignore[attr-defined]
        body = json.dumps(document).encode() if document else b"{}"
        self.send_response(200 if document else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")


def build(env_var: str, cargo_args: list[str], built: str) -> Path:
    """The binary named by `env_var`, else `cargo build <cargo_args>` and `target/debug/<built>`."""
    explicit = os.environ.get(env_var)
    if explicit:
        return Path(explicit).resolve()
    print(f"building: cargo build {' '.join(cargo_args)}", flush=True)
    subprocess.run(["cargo", "build", "--quiet", *cargo_args], cwd=ROOT, check=True)
    return target_dir() / "debug" / built


class Server:
    """A toolbox binary serving HTTP on a free loopback port, its output in a log file."""

    def __init__(self, binary: Path, env: dict[str, str], log: Path, args: list[str] | None = None) -> None:
        self.log = log
        for _ in range(5):
            self.port = free_port()
            with open(log, "ab") as out:
                self.process = subprocess.Popen([str(binary), "--port", str(self.port), *(args or [])], env=env,
                                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    with urllib.request.urlopen(f"{self.base}/healthz", timeout=1):
                        return
                except urllib.error.HTTPError:
                    return  # answering (503: a source is down, which the test will report)
                except OSError:
                    time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"{binary} did not start; see {log}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def serve(binary: Path, env: dict[str, str], log: Path, args: list[str] | None = None) -> Any:
    """A Server, or with TOOLBOX_BALANCER set, several instances behind that balancer
    (tests/deploy/fleet.py's Fleet, which has the same `base`, `running`, `stop` and `tail`)."""
    import sys
    sys.path.insert(0, str(ROOT / "tests" / "deploy"))
    from fleet import from_environment
    return from_environment(binary, env, log, args) or Server(binary, env, log, args)
