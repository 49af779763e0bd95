"""Console sign-in through OpenID Connect (authorisation code flow with PKCE), against a small identity
provider served on loopback by the test: it checks the PKCE verifier against the challenge it was given,
signs RS256 tokens with its own key and publishes the JWKS. The console accepts the provider's access token
through the API's verifier, so the session has the token's role and staff id."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.settings import REPO_ROOT
from devstack.servers import free_port
from domain.policy import Policy
from tests.api_helpers import complaint_body, settings_for
from tests.factories import running_worker
from tests.live_server import live_server, loopback

CLIENT_ID = "complaints-console"


class Provider:
    """What the identity provider remembers: the challenge and nonce of each code it issued."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, str]] = {}
        self.claims: dict[str, Any] = {"sub": "maya.manager", "role": "manager", "name": "Maya Manager"}
        self.verified: list[str] = []

    def sign(self, claims: dict[str, Any]) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "test-key"})

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                }
            )

        async def jwks(request: Request) -> JSONResponse:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return JSONResponse({"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]})

        async def token(request: Request) -> JSONResponse:
            form = await request.form()
            issued = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if issued is None or challenge != issued["challenge"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            self.verified.append(verifier)
            return JSONResponse(
                {
                    "access_token": self.sign({"aud": "complaints-api", **self.claims}),
                    "id_token": self.sign(
                        {"aud": CLIENT_ID, "sub": self.claims["sub"], "nonce": issued["nonce"]}
                    ),
                    "token_type": "Bearer",
                    "expires_in": 300,
                }
            )

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
                Route("/token", token, methods=["POST"]),
            ]
        )

    def authorize(self, location: str) -> tuple[str, str]:
        """What the provider does when the browser arrives: the user signs in; a code for the callback."""
        query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
        assert query["client_id"] == CLIENT_ID and query["redirect_uri"].endswith("/staff/sign-in/callback")
        code = f"code-{len(self.codes)}-{time.time_ns()}"
        self.codes[code] = {"challenge": query["code_challenge"], "nonce": query["nonce"]}
        return code, query["state"]


@pytest.fixture
async def provider_and_console(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[tuple[Provider, httpx.AsyncClient]]:
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}")
    settings = settings_for(task_queue).model_copy(
        update={
            "cookie_secure": False,
            "oidc_issuer": provider.issuer,
            "oidc_audience": "complaints-api",
            "oidc_jwks_url": f"{provider.issuer}/jwks",
            "oidc_client_id": CLIENT_ID,
        }
    )
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    transport = httpx.ASGITransport(app=create_app(settings, services), raise_app_exceptions=False)
    async with (
        live_server(loopback(provider.app(), port=port)),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield provider, client


async def test_staff_sign_in_through_the_identity_provider_with_pkce(
    provider_and_console: tuple[Provider, httpx.AsyncClient],
) -> None:
    provider, client = provider_and_console
    start = await client.get("/staff/")
    assert "Sign in with your council account" in start.text and 'name="password"' not in start.text
    dev_form = await client.post("/staff/sign-in", data={"username": "maya.manager", "password": "x"})
    assert dev_form.status_code in (404, 405)  # the demo users' form is not there

    begin = await client.get("/staff/sign-in/oidc")
    assert begin.status_code == 303 and begin.headers["location"].startswith(f"{provider.issuer}/authorize?")
    code, state = provider.authorize(begin.headers["location"])
    done = await client.get("/staff/sign-in/callback", params={"code": code, "state": state})
    assert done.status_code == 303, done.text
    assert len(provider.verified) == 1  # the provider checked the PKCE verifier against its challenge
    queue = await client.get(done.headers["location"])
    assert queue.status_code == 200 and "Signed in as Maya Manager (manager)" in queue.text

    # The same state a second time (a replayed callback) signs no one in, even from the browser that began
    # it (its state cookie put back): the state is used once.
    client.cookies.clear()
    client.cookies.set("staff_sign_in_state", state)
    replay = await client.get("/staff/sign-in/callback", params={"code": code, "state": state})
    assert replay.status_code == 400 and "did not complete" in replay.text


async def test_a_token_without_a_known_role_signs_no_one_in(
    provider_and_console: tuple[Provider, httpx.AsyncClient],
) -> None:
    provider, client = provider_and_console
    provider.claims = {"sub": "someone", "role": "visitor"}
    begin = await client.get("/staff/sign-in/oidc")
    code, state = provider.authorize(begin.headers["location"])
    refused = await client.get("/staff/sign-in/callback", params={"code": code, "state": state})
    assert refused.status_code == 403 and "no known staff role" in refused.text
    assert "staff_session" not in refused.headers.get("set-cookie", "")


def test_the_dev_sign_in_form_is_not_imported_with_an_identity_provider() -> None:
    """Development-only code is never imported where it is off (an identity provider configured, as in
    production)."""
    script = (
        "import sys\n"
        "from api.main import create_app\n"
        "from core.settings import Settings\n"
        "create_app(Settings(environment='test', database_url='postgresql://x', temporal_address='x:1',"
        " oidc_issuer='https://idp', oidc_audience='a', oidc_jwks_url='https://idp/jwks'))\n"
        "assert 'web.staff.dev_sign_in' not in sys.modules, 'imported'\n"
        "create_app(Settings(environment='development', database_url='postgresql://x',"
        " temporal_address='x:1'))\n"
        "assert 'web.staff.dev_sign_in' in sys.modules\n"
    )
    subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, check=True, env={"PYTHONPATH": str(REPO_ROOT)}
    )


async def test_someone_who_signs_in_to_the_console_can_be_assigned_complaints(
    provider_and_console: tuple[Provider, httpx.AsyncClient],
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
) -> None:
    """Assignment takes staff from the staff directory: the demo users, and everyone once they have signed
    in through the identity provider. An investigator who only ever used the console (signed in through the
    provider there, never calling the API with a token) was not in it, so no complaint could be assigned to
    them ("is not a known staff member")."""
    provider, client = provider_and_console
    newcomer = f"ivy.{time.time_ns()}"
    provider.claims = {"sub": newcomer, "role": "investigator", "name": "Ivy Investigator"}
    begin = await client.get("/staff/sign-in/oidc")
    code, state = provider.authorize(begin.headers["location"])
    done = await client.get("/staff/sign-in/callback", params={"code": code, "state": state})
    assert done.status_code == 303, done.text

    officer = {
        "Authorization": "Bearer "
        + provider.sign(
            {"aud": "complaints-api", "sub": "olivia.officer", "role": "complaints_officer", "name": "Olivia"}
        )
    }
    async with running_worker(temporal_env, pool, policies, task_queue):
        opened = await client.post("/api/complaints", json=complaint_body(), headers=officer)
        assert opened.status_code == 201, opened.text
        reference = opened.json()["reference"]
        assigned = await client.post(
            f"/api/complaints/{reference}/assign", json={"assignee": newcomer}, headers=officer
        )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assigned_to"] == newcomer


async def test_a_sign_in_finishes_only_in_the_browser_that_began_it(
    provider_and_console: tuple[Provider, httpx.AsyncClient],
) -> None:
    """Login CSRF: the sign-in's state was checked against the database only, so a callback address begun
    and completed by someone else (their own account at the provider) signed whoever opened it into that
    account's console session, where what they then did and read was recorded as that person's. The state
    is now also kept in a cookie of the browser that began the sign-in, and must match it."""
    provider, client = provider_and_console
    provider.claims = {"sub": "mallory.officer", "role": "complaints_officer", "name": "Mallory"}
    begin = await client.get("/staff/sign-in/oidc")
    code, state = provider.authorize(begin.headers["location"])
    # The link reaches another browser (no cookie from the sign-in's start).
    transport = client._transport  # the same app
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as victim:
        refused = await victim.get("/staff/sign-in/callback", params={"code": code, "state": state})
        assert refused.status_code == 400 and "did not complete" in refused.text
        assert "staff_session" not in refused.headers.get("set-cookie", "")
        assert victim.cookies.get("staff_session") is None
    # The browser that began it still finishes (the state was not used up by the refusal).
    done = await client.get("/staff/sign-in/callback", params={"code": code, "state": state})
    assert done.status_code == 303, done.text


async def test_an_identity_provider_that_does_not_answer_is_a_503_with_retry_after(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """An outage is a 503 with Retry-After everywhere: the console's sign-in page said the provider did not
    answer, with a 503 but no Retry-After."""
    issuer = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = settings_for(task_queue).model_copy(
        update={
            "cookie_secure": False,
            "oidc_issuer": issuer,
            "oidc_audience": "complaints-api",
            "oidc_jwks_url": f"{issuer}/jwks",
            "oidc_client_id": CLIENT_ID,
        }
    )
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    transport = httpx.ASGITransport(app=create_app(settings, services), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        begin = await client.get("/staff/sign-in/oidc")
    assert begin.status_code == 503 and "did not answer" in begin.text
    assert int(begin.headers["retry-after"]) > 0
