#!/usr/bin/env python3
"""The official MCP Python SDK as an OAuth client of a toolbox under MCP authorization.

The client knows only the specification and its client credentials. It gets a 401, follows
`resource_metadata` to the toolbox's protected resource metadata, reaches the authorization
server named there (panva's oidc-provider, tests/peers/oidc_provider.mjs), obtains a token by the
client-credentials grant for the toolbox's resource, and calls tools. When a tool needs more
scopes, the 403 challenge names them; the SDK steps up and the call succeeds.

Server: the `auth_server` example of toolbox-runtime (built with `cargo build -p toolbox-runtime
--example auth_server` when AUTH_SERVER_BIN is unset). Needs tests/peers/install.sh (the venv)
and tests/peers/install_oidc_provider.sh. Prints `N passed, M failed` last.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession
from mcp.client.auth import TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

ROOT = Path(__file__).resolve().parents[2]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.token_requests = 0

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.token_requests += 1
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def rows(result: Any) -> Any:
    return json.loads(result.content[0].text)


async def run(url: str, issuer: str) -> None:
    storage = MemoryStorage()
    auth = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=storage,
        client_id="agent-jwt",
        client_secret="agent-jwt-secret",
        scope="mcp:access",
        issuer=issuer,
    )
    async with create_mcp_http_client(auth=auth) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                check("401 -> metadata -> authorization server -> token -> initialize", storage.tokens is not None)
                check("the first token has the challenge's scope", storage.tokens and storage.tokens.scope == "mcp:access", storage.tokens)
                tools = await session.list_tools()
                names = sorted(t.name for t in tools.tools)
                check("tools/list with the token", names == ["cancel_booking", "get_booking", "list_flights"], names)
                result = await session.call_tool("list_flights", {})
                check("a tool that needs no more scopes", not result.is_error and len(rows(result)) == 4, result)
                before = storage.token_requests
                result = await session.call_tool("cancel_booking", {"id": 5})
                check("403 insufficient_scope -> step-up -> the call succeeds", not result.is_error and rows(result) == {"rowsAffected": 1}, result)
                scopes = set((storage.tokens.scope or "").split()) if storage.tokens else set()
                check(
                    "the stepped-up token has the scopes the challenge named",
                    {"mcp:access", "bookings:read", "bookings:write"} <= scopes,
                    storage.tokens,
                )
                check("one more token request for the step-up", storage.token_requests == before + 1, storage.token_requests)
                result = await session.call_tool("get_booking", {"id": 1})
                check("the stepped-up token serves other tools", not result.is_error and rows(result)[0]["passenger"] == "alice", result)


def main() -> int:
    node_dir = ROOT / ".ci" / "peers" / "oidc-provider"
    if not (node_dir / "node_modules" / "oidc-provider").exists():
        print(f"FAIL oidc-provider is not installed in {node_dir}: run tests/peers/install_oidc_provider.sh")
        print("0 passed, 1 failed")
        return 1
    binary = os.environ.get("AUTH_SERVER_BIN")
    if not binary:
        subprocess.run(["cargo", "build", "-q", "-p", "toolbox-runtime", "--example", "auth_server"], cwd=ROOT, check=True)
        binary = str(ROOT / "target" / "debug" / "examples" / "auth_server")
    tmp = tempfile.mkdtemp(prefix="toolbox-auth-")
    provider_port, port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    url = f"http://127.0.0.1:{port}/mcp"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            subprocess.Popen(
                ["node", str(ROOT / "tests" / "peers" / "oidc_provider.mjs"), "--port", str(provider_port), "--keys", f"{tmp}/keys.json"],
                stdout=subprocess.DEVNULL,
                stderr=open(f"{tmp}/provider.log", "wb"),
            )
        )
        wait_http(f"{issuer}/.well-known/openid-configuration")
        env = dict(
            os.environ,
            ISSUER_URL=issuer,
            TOOLBOX_AUDIENCE=url,
            AUTH_EXAMPLE_DB=f"{tmp}/bookings.db",
            INTROSPECTION_CLIENT_ID="toolbox-rs",
            INTROSPECTION_CLIENT_SECRET="toolbox-rs-secret",
        )
        env.pop("TOOLBOX_URL", None)
        processes.append(
            subprocess.Popen(
                [binary, "--port", str(port), "--toolbox-url", f"http://127.0.0.1:{port}", "--log-level", "warn"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(f"{tmp}/server.log", "wb"),
            )
        )
        wait_http(f"http://127.0.0.1:{port}/healthz")
        anyio.run(run, url, issuer)
        log = Path(f"{tmp}/server.log").read_text()
        check("no token in the server's log", "eyJ" not in log, log[-500:])
    except Exception:
        traceback.print_exc()
        check("the run completed", False)
    finally:
        for p in processes:
            p.terminate()
            p.wait(timeout=10)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
