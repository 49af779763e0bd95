"""Production tokens: verified against the identity provider's JWKS (served here on loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth import InvalidToken, verify
from core.settings import Settings
from domain.models import Role

ISSUER = "https://login.council.example/"
AUDIENCE = "complaints-api"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def settings(jwks_url: str) -> Settings:
    return Settings(
        environment="production",
        database_url="postgresql://db/complaints",
        temporal_address="temporal:7233",
        jwt_secret="a-real-secret-for-production-use-only",
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks_url,
    )


def token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = datetime.now(UTC)
    base = {
        "sub": "p.patel",
        "name": "Priya Patel",
        "roles": ["investigator"],
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(
        {**base, "iat": now, "exp": now + timedelta(minutes=5), **claims},
        key,
        algorithm="RS256",
        headers={"kid": "key-1"},
    )


def test_a_token_from_the_identity_provider_names_the_staff_member(
    signing_key: rsa.RSAPrivateKey, jwks_url: str
) -> None:
    staff = verify(token(signing_key), settings(jwks_url))
    assert (staff.id, staff.name, staff.role) == ("p.patel", "Priya Patel", Role.INVESTIGATOR)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-api"}, "(?i)audience"),
        ({"iss": "https://evil.example/"}, "(?i)issuer"),
        ({"exp": datetime.now(UTC) - timedelta(minutes=1)}, "(?i)expired"),
        ({"roles": ["superuser"]}, "role"),
    ],
)
def test_tokens_that_must_be_refused(
    signing_key: rsa.RSAPrivateKey, jwks_url: str, claims: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify(token(signing_key, **claims), settings(jwks_url))


def test_a_token_signed_by_another_key_is_refused(jwks_url: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        verify(token(stranger), settings(jwks_url))


def test_a_dev_token_is_refused_in_production(jwks_url: str) -> None:
    forged = jwt.encode(
        {"sub": "x", "role": "admin", "iss": "complaints-dev"},
        "a-guessed-secret-of-thirty-two-bytes!",
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken):
        verify(forged, settings(jwks_url))
