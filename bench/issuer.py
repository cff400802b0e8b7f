"""A minimal OpenID issuer for the JWT workload of the benchmark.

    issuer.py PORT AUDIENCE SCOPE...

Makes an RSA key with the openssl command, serves the discovery document and the JWKS on
127.0.0.1:PORT, prints one RS256 access token (valid for an hour, for AUDIENCE, with the given
scopes) on its first line of output, and serves until it is killed. Standard library only: the
signature comes from `openssl dgst -sha256 -sign`, which is RSASSA-PKCS1-v1_5, i.e. RS256.
"""
import base64, http.server, json, os, subprocess, sys, tempfile, threading, time

port, audience, scopes = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
issuer = f"http://127.0.0.1:{port}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


keydir = tempfile.mkdtemp(prefix="bench-issuer-")
key = os.path.join(keydir, "key.pem")
subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
modulus_hex = subprocess.run(
    ["openssl", "rsa", "-in", key, "-noout", "-modulus"], check=True, capture_output=True, text=True
).stdout.strip().split("=", 1)[1]
jwks = {"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
                  "n": b64url(bytes.fromhex(modulus_hex)), "e": "AQAB"}]}
discovery = {"issuer": issuer, "jwks_uri": f"{issuer}/jwks", "token_endpoint": f"{issuer}/token",
             "response_types_supported": ["token"], "subject_types_supported": ["public"],
             "id_token_signing_alg_values_supported": ["RS256"]}

now = int(time.time())
header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench"}).encode())
claims = b64url(json.dumps({"iss": issuer, "aud": audience, "sub": "bench-agent", "iat": now,
                            "nbf": now - 5, "exp": now + 3600, "scope": " ".join(scopes)}).encode())
signing_input = f"{header}.{claims}".encode()
signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input,
                           check=True, capture_output=True).stdout
os.remove(key)
os.rmdir(keydir)
print(f"{header}.{claims}.{b64url(signature)}", flush=True)

documents = {"/.well-known/openid-configuration": discovery, "/jwks": jwks}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        document = documents.get(self.path)
        body = json.dumps(document).encode() if document else b"{}"
        self.send_response(200 if document else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
threading.Event().wait()
