"""Production tokens: verified against the identity provider's JWKS (served here on loopback)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError
from temporalio.client import Client

from api.auth import InvalidToken, verify
from api.main import create_app
from core.services import Services
from core.settings import Settings
from domain.models import Role
from domain.policy import Policy

ISSUER = "https://login.council.example/"
AUDIENCE = "complaints-api"
PAYLOAD_KEYS = "k1:" + base64.b64encode(b"k" * 32).decode()


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
        payload_keys=PAYLOAD_KEYS,
        audit_hmac_key="a-real-audit-key-for-production-use",
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


# --- production fails closed (issue 12) -------------------------------------------------------------


@pytest.mark.parametrize("missing", ["oidc_issuer", "oidc_audience", "oidc_jwks_url"])
def test_production_refuses_to_start_without_the_identity_provider(jwks_url: str, missing: str) -> None:
    given = settings(jwks_url).model_dump() | {missing: None}
    with pytest.raises(ValidationError, match="OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL"):
        Settings(_env_file=None, **given)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
def test_a_token_without_exp_iat_or_sub_is_refused(
    signing_key: rsa.RSAPrivateKey, jwks_url: str, claim: str
) -> None:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": "p.patel", "roles": ["investigator"], "iss": ISSUER, "aud": AUDIENCE}
    claims |= {"iat": now, "exp": now + timedelta(minutes=5)}
    del claims[claim]
    unsigned = jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": "key-1"})
    with pytest.raises(InvalidToken, match=claim):
        verify(unsigned, settings(jwks_url))


def test_a_dev_token_without_an_expiry_is_refused_in_development() -> None:
    dev = Settings(_env_file=None, environment="development")
    forever = jwt.encode(
        {"sub": "adam.admin", "role": "admin", "iss": "complaints-dev", "iat": datetime.now(UTC)},
        dev.jwt_secret,
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken, match="exp"):
        verify(forever, dev)


def test_hs256_signed_with_the_real_secret_is_still_refused_in_production(jwks_url: str) -> None:
    production = settings(jwks_url)
    now = datetime.now(UTC)
    forged = jwt.encode(
        {"sub": "x", "role": "admin", "iss": "complaints-dev", "iat": now, "exp": now + timedelta(minutes=5)},
        production.jwt_secret,
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken):
        verify(forged, production)


def test_production_settings_built_without_oidc_sign_no_one_in() -> None:
    # Settings validation refuses this; a Settings built around validation must still fail closed.
    secret = "s" * 40
    bare = Settings.model_construct(environment="production", jwt_secret=secret, staff_id_claim="sub")
    now = datetime.now(UTC)
    token_ = jwt.encode({"sub": "x", "role": "admin", "iat": now, "exp": now + timedelta(minutes=5)}, secret)
    with pytest.raises(InvalidToken, match="not configured"):
        verify(token_, bare)


def test_the_staff_id_comes_from_the_configured_claim(signing_key: rsa.RSAPrivateKey, jwks_url: str) -> None:
    by_username = settings(jwks_url).model_copy(update={"staff_id_claim": "preferred_username"})
    opaque = token(signing_key, sub="00u1a2b3c4", preferred_username="p.patel")
    assert verify(opaque, by_username).id == "p.patel"
    # Conflict-of-interest checks compare this id: a token without the claim names no one and is refused.
    with pytest.raises(InvalidToken, match="preferred_username"):
        verify(token(signing_key, sub="00u1a2b3c4"), by_username)
    assert verify(opaque, settings(jwks_url)).id == "00u1a2b3c4"


async def test_the_dev_token_endpoint_and_dev_mail_are_off_in_production(
    jwks_url: str, policies: dict[str, Policy]
) -> None:
    production = settings(jwks_url)
    services = Services(
        settings=production, pool=cast(asyncpg.Pool, None), temporal=cast(Client, None), policies=policies
    )
    app = create_app(production, services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        issued = await client.post("/api/auth/token", data={"username": "adam.admin", "password": "demo"})
        mail = await client.get("/dev/mail")
    # Not routes of a production app at all (api/development.py): their modules are not even imported.
    assert issued.status_code == 404
    assert mail.status_code == 404
    assert not {"/api/auth/token", "/dev/mail"} & set(app.openapi()["paths"])
