"""A local OpenID Connect issuer for tests of the production paths: its JWKS served on loopback, and RS256
tokens with `exp`, `iat` and `sub` (what api/auth.py requires), signed by its key."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://login.council.example/"
AUDIENCE = "complaints-api"
JWKS_PATH = "/.well-known/jwks.json"


class LocalIssuer:
    """Serves its JWKS at `jwks_url` (anything else is 404) until `stop()`."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**public, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = self.path == JWKS_PATH
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body if found else b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.jwks_url = self.base_url + JWKS_PATH

    def token(self, sub: str, role: str, name: str = "", lifetime: timedelta = timedelta(minutes=10)) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "name": name or sub,
            "roles": [role],
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "key-1"})

    def settings_environment(self) -> dict[str, str]:
        """The OIDC_* variables that point the service at this issuer."""
        return {"OIDC_ISSUER": ISSUER, "OIDC_AUDIENCE": AUDIENCE, "OIDC_JWKS_URL": self.jwks_url}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
