"""Production sign-in: the OpenID Connect authorisation code flow with PKCE against the council's identity
provider (Authlib's client). The provider's access token is then checked by the API's own verifier
(api.auth.verify: its JWKS, issuer, audience, `role`/`roles`, STAFF_ID_CLAIM, `service_areas`), so a console
session carries exactly the claims and role an API call with that token would. The state, the PKCE verifier
and the nonce wait in `staff_sign_ins` (the state only as a hash) for ten minutes, and are used once, by
the browser that began the sign-in (the state is in its cookie too: login CSRF)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import InvalidToken, verify
from api.errors import RETRY_AFTER_SECONDS
from core.settings import Settings
from web.layout import page
from web.staff.common import services_of
from web.staff.session import open_session
from web.staff.sign_in import HOME

router = APIRouter(prefix="/staff", include_in_schema=False)
CALLBACK = "/staff/sign-in/callback"
# The sign-in's state, also kept by the browser that began it (login CSRF: a callback address begun and
# completed by someone else, with their own account, must not sign whoever opens it into that account).
STATE_COOKIE = "staff_sign_in_state"
STATE_COOKIE_PATH = "/staff/sign-in"
_metadata_cache: dict[str, dict[str, Any]] = {}


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_client_id and settings.oidc_issuer and settings.oidc_jwks_url)


async def provider_metadata(settings: Settings) -> dict[str, Any]:
    """The provider's discovery document (its endpoints), read once per issuer."""
    issuer = str(settings.oidc_issuer).rstrip("/")
    if issuer not in _metadata_cache:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{issuer}/.well-known/openid-configuration")
            answer.raise_for_status()
            _metadata_cache[issuer] = answer.json()
    return _metadata_cache[issuer]


def _client(settings: Settings, request: Request) -> AsyncOAuth2Client:
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        token_endpoint_auth_method="client_secret_basic" if settings.oidc_client_secret else "none",
        scope=settings.oidc_scopes,
        redirect_uri=base + CALLBACK,
        code_challenge_method="S256",
        timeout=10,
    )


def _identity_claims(id_token: str, settings: Settings) -> dict[str, Any]:
    """The ID token's claims, verified: the provider's key, this client as audience, the issuer."""
    key = jwt.PyJWKClient(str(settings.oidc_jwks_url)).get_signing_key_from_jwt(id_token).key
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key,
        algorithms=["RS256", "ES256"],
        audience=settings.oidc_client_id,
        issuer=settings.oidc_issuer,
    )
    return claims


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _failed(message: str, status_code: int = 400) -> Response:
    response = page("staff/refused.html", status_code, heading="You could not be signed in", message=message)
    if status_code == 503:  # the provider did not answer: an outage says when to try again
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@router.get("/sign-in/oidc")
async def begin(request: Request) -> Response:
    services = services_of(request)
    settings = services.settings
    if not configured(settings):
        return _failed("Sign-in with the council's identity provider is not configured.", 404)
    try:
        metadata = await provider_metadata(settings)
    except (httpx.HTTPError, ValueError):
        return _failed("The council's identity provider did not answer. Try again in a few minutes.", 503)
    state, verifier, nonce = generate_token(32), generate_token(48), generate_token(32)
    await services.pool.execute("DELETE FROM staff_sign_ins WHERE created_at < now() - interval '10 minutes'")
    await services.pool.execute(
        "INSERT INTO staff_sign_ins (state_hash, code_verifier, nonce) VALUES ($1, $2, $3)",
        _hash(state),
        verifier,
        nonce,
    )
    async with _client(settings, request) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
    response = RedirectResponse(url, status_code=303)
    # SameSite=Lax: the provider's redirect back is a top-level navigation, which carries it.
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=600,
        path=STATE_COOKIE_PATH,
        httponly=True,
        secure=settings.staff_cookie_secure,
        samesite="lax",
    )
    return response


def _began_here(request: Request, state: str) -> bool:
    """Did this browser begin the sign-in this state names?"""
    kept = request.cookies.get(STATE_COOKIE)
    return bool(kept and state and hmac.compare_digest(kept.encode(), state.encode()))


@router.get("/sign-in/callback")
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    services = services_of(request)
    settings = services.settings
    if not configured(settings):
        return _failed("Sign-in with the council's identity provider is not configured.", 404)
    if not _began_here(request, state):
        return _failed("The sign-in did not complete, or took too long. Start again from the sign-in page.")
    pending = await services.pool.fetchrow(
        "DELETE FROM staff_sign_ins WHERE state_hash = $1 AND created_at > now() - interval '10 minutes'"
        " RETURNING code_verifier, nonce",
        _hash(state[:200]),
    )
    if error or pending is None or not code:
        return _failed("The sign-in did not complete, or took too long. Start again from the sign-in page.")
    try:
        metadata = await provider_metadata(settings)
        async with _client(settings, request) as client:
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code[:2000], code_verifier=pending["code_verifier"]
            )
        # The JWKS is fetched without async: off the event loop.
        staff = await asyncio.to_thread(verify, str(token.get("access_token", "")), settings)
        id_token = token.get("id_token")
        if id_token:
            claims = await asyncio.to_thread(_identity_claims, str(id_token), settings)
            if claims.get("nonce") != pending["nonce"]:
                raise InvalidToken("the identity token's nonce is not this sign-in's")
    except (InvalidToken, jwt.PyJWTError) as refused:
        return _failed(f"The identity provider's answer was not accepted: {refused}", 403)
    except (httpx.HTTPError, ValueError, KeyError) as failed:
        return _failed(f"The identity provider did not complete the sign-in ({type(failed).__name__}).", 503)
    response = RedirectResponse(HOME, status_code=303)
    await open_session(services.pool, staff, settings, response)
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
    return response
