"""`complaints doctor`: is this configuration ready to run the service? One line per check, with what to fix.

It reads the settings as the API and the worker do (environment, `.env`), then checks each setting production
requires and each server the service needs: PostgreSQL reachable with TLS as configured, Temporal reachable
with its namespace and the service's search attributes, the identity provider's JWKS fetchable, the payload
keys usable, the policy folder valid. Exit 0 when every check passes, 1 otherwise: compose runs it before the
API and the workers start (docker-compose.yml, service `doctor`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from core.settings import Settings, production_problems

# Each server gets this long to answer before its check fails.
TIMEOUT_SECONDS = 10.0
NOT_VERIFYING = {None, "disable", "allow", "prefer"}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"ok    {self.name}: {self.detail}"
        return f"FAIL  {self.name}: {self.detail}. Fix: {self.fix}"


def load_settings() -> tuple[Settings | None, list[Check]]:
    """The settings and one check per setting production refuses; (None, the errors) when they cannot load
    at all (a malformed value)."""
    try:
        settings = Settings()
    except ValidationError as error:
        try:  # only production's own rules refused them? then list each one
            relaxed = Settings(environment="development")
        except ValidationError:
            return None, [_field_error(item) for item in error.errors()]
        settings = relaxed.model_copy(update={"environment": "production"})
    checks = [
        Check(
            "environment",
            True,
            settings.environment
            + ("" if settings.environment == "production" else " (production's own checks are skipped)"),
        )
    ]
    if settings.environment != "production":
        return settings, checks
    problems = production_problems(settings)
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS", "JWT_SECRET", "OIDC_JWKS_URL", "AUDIT_HMAC_KEY"):
        checks.append(Check(f"setting {name}", name not in problems, "set", problems.get(name, "")))
    checks.extend(
        Check(f"setting {name}", False, "not acceptable in production", fix) for name, fix in problems.items()
    )
    return settings, _unique(checks)


def _unique(checks: list[Check]) -> list[Check]:
    """A failing check replaces the passing one of the same name."""
    by_name: dict[str, Check] = {}
    for check in checks:
        if check.name not in by_name or not check.ok:
            by_name[check.name] = check
    return list(by_name.values())


def _field_error(item: object) -> Check:
    details = dict(item) if isinstance(item, dict) else {}
    location = ".".join(str(part) for part in details.get("loc", ())) or "settings"
    message = str(details.get("msg", item)).removeprefix("Value error, ")
    name = location.upper()
    return Check(f"setting {name}", False, message, f"correct {name} in the environment (or .env)")


async def check_postgres(settings: Settings) -> Check:
    import asyncpg

    from store.db import database_ssl

    if not settings.database_url:
        return Check("postgres", False, "DATABASE_URL is not set", "set DATABASE_URL")
    where = urlsplit(settings.database_url)
    socket = parse_qs(where.query).get("host")  # a Unix socket's folder
    target = f"{where.hostname}:{where.port or 5432}" if where.hostname or not socket else socket[0]
    target += where.path
    fix = (
        "check DATABASE_URL (host, port, user, password, database) and that the server accepts this host;"
        " for TLS see DATABASE_SSLMODE and DATABASE_SSL_ROOT_CERT"
    )
    try:
        connection = await asyncpg.connect(
            settings.database_url, ssl=database_ssl(settings), timeout=TIMEOUT_SECONDS
        )
    except Exception as error:  # any refusal is the operator's to fix: say what it was
        return Check("postgres", False, f"cannot connect to {target} ({_said(error)})", fix)
    try:
        row = await connection.fetchrow(
            "SELECT current_setting('server_version') AS version,"
            " coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS tls"
        )
    finally:
        await connection.close()
    assert row is not None
    mode = settings.database_sslmode or _url_sslmode(settings.database_url)
    if settings.database_ssl_root_cert is not None:  # as store/db.py: a CA file means it is checked
        mode = {None: "verify-full", "require": "verify-ca"}.get(mode, mode)
    if mode in NOT_VERIFYING:  # TLS only if the server offered it: say what it reports
        tls = f"TLS {'on' if row['tls'] else 'off'} (sslmode {mode or 'prefer'})"
    else:  # the connection succeeded, so TLS was used and checked as the mode says
        tls = f"TLS on (sslmode {mode})"
    return Check("postgres", True, f"{target}, PostgreSQL {row['version']}, {tls}")


def _url_sslmode(url: str) -> str | None:
    modes = parse_qs(urlsplit(url).query).get("sslmode")
    return modes[0] if modes else None


async def check_temporal(settings: Settings) -> list[Check]:
    """The connection, the namespace and the search attributes (each fails on its own line)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
    from core.temporal import connect

    try:
        client = await asyncio.wait_for(connect(settings=settings), TIMEOUT_SECONDS)
    except Exception as error:
        fix = "check TEMPORAL_ADDRESS (and TEMPORAL_TLS*, TEMPORAL_API_KEY or the profile) and the network"
        return [Check("temporal", False, f"cannot connect ({_said(error)})", fix)]
    namespace = client.namespace
    checks = [Check("temporal", True, f"{client.service_client.config.target_host} answers")]
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace), timeout=_timeout()
        )
    except Exception as error:
        create = f"temporal operator namespace create --namespace {namespace}"
        fix = f"set TEMPORAL_NAMESPACE to the service's namespace, or create it: `{create}`"
        return [*checks, Check("temporal namespace", False, f"{namespace!r}: {_said(error)}", fix)]
    checks.append(Check("temporal namespace", True, f"{namespace!r} exists"))
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace), timeout=_timeout()
        )
    except Exception as error:
        fix = "use a Temporal server with advanced visibility (SQL or Elasticsearch)"
        return [*checks, Check("search attributes", False, f"cannot list them ({_said(error)})", fix)]
    registered = {
        name: IndexedValueType.Name(kind).removeprefix("INDEXED_VALUE_TYPE_").lower()
        for name, kind in listed.custom_attributes.items()
    }
    wrong = {
        name: kind for name, kind in SEARCH_ATTRIBUTE_TYPES.items() if registered.get(name) != kind.lower()
    }
    if wrong:
        commands = "; ".join(
            f"temporal operator search-attribute create --namespace {namespace} --name {name} --type {kind}"
            for name, kind in wrong.items()
        )
        return [
            *checks,
            Check("search attributes", False, f"missing in {namespace!r}: {', '.join(wrong)}", commands),
        ]
    checks.append(Check("search attributes", True, f"all {len(SEARCH_ATTRIBUTE_TYPES)} registered"))
    return checks


def _timeout() -> timedelta:
    return timedelta(seconds=TIMEOUT_SECONDS)


def check_jwks(settings: Settings) -> Check:
    import jwt

    url = settings.oidc_jwks_url
    if not url:
        return Check("jwks", False, "OIDC_JWKS_URL is not set", "set OIDC_JWKS_URL")
    try:
        keys = jwt.PyJWKClient(url, timeout=TIMEOUT_SECONDS).get_signing_keys()
    except jwt.PyJWKClientError as error:
        fix = "check OIDC_JWKS_URL (the provider's `jwks_uri`) and that this host can reach it"
        return Check("jwks", False, f"{url}: {_said(error)}", fix)
    return Check("jwks", True, f"{url}: {len(keys)} signing key(s)")


async def check_payload_keys(settings: Settings) -> Check:
    """The configured keys encrypt and decrypt a payload (what the worker and the API do to every one)."""
    from temporalio.api.common.v1 import Payload

    from core.codec import EncryptionCodec, parse_payload_keys

    if settings.environment == "production" and not settings.payload_keys:
        return Check("payload keys", False, "PAYLOAD_KEYS is not set", "set PAYLOAD_KEYS (id:base64key)")
    keys = parse_payload_keys(settings.payload_keys_or_dev)
    codec = EncryptionCodec(keys)
    probe = Payload(metadata={"encoding": b"json/plain"}, data=b'"doctor"')
    [encrypted] = await codec.encode([probe])
    [decrypted] = await codec.decode([encrypted])
    if decrypted != probe:  # pragma: no cover - AES-GCM round trip
        return Check("payload keys", False, "a payload does not decrypt", "check PAYLOAD_KEYS")
    ids = ", ".join(key.id for key in keys)
    source = "PAYLOAD_KEYS" if settings.payload_keys else "the development key"
    return Check("payload keys", True, f"{source}: {keys[0].id} encrypts; {ids} decrypt")


def check_policies(settings: Settings) -> Check:
    from domain.policy_files import PolicyFileError, load_policies

    folder = settings.policies_dir
    fix = f"correct the files named (`complaints policy check {folder}/*.toml`) or POLICIES_DIR"
    try:
        policies = load_policies(folder)
    except PolicyFileError as error:
        return Check("policies", False, "; ".join(str(problem) for problem in error.problems), fix)
    except OSError as error:
        return Check("policies", False, f"{folder}: {_said(error)}", fix)
    if not policies:
        return Check("policies", False, f"no policy files (*.toml) in {folder}", fix)
    return Check("policies", True, f"{len(policies)} in {folder}: {', '.join(sorted(policies))}")


def _said(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


async def run_checks(settings: Settings) -> list[Check]:
    async def safely(name: str, check: Callable[[], Awaitable[list[Check]]]) -> list[Check]:
        try:
            return await check()
        except Exception as error:  # a check that breaks is a failed check, never a traceback
            return [Check(name, False, _said(error), "see the message")]

    async def one(check: Awaitable[Check]) -> list[Check]:
        return [await check]

    async def sync(check: Callable[[Settings], Check]) -> list[Check]:
        return [await asyncio.to_thread(check, settings)]

    results = await asyncio.gather(
        safely("postgres", lambda: one(check_postgres(settings))),
        safely("temporal", lambda: check_temporal(settings)),
        safely("jwks", lambda: sync(check_jwks)),
        safely("payload keys", lambda: one(check_payload_keys(settings))),
        safely("policies", lambda: sync(check_policies)),
    )
    return [check for group in results for check in group]


def doctor() -> int:
    settings, checks = load_settings()
    if settings is not None:
        checks += asyncio.run(run_checks(settings))
    for check in checks:
        print(check.line())
    failed = sum(not check.ok for check in checks)
    print(f"{failed} check(s) failed" if failed else f"all {len(checks)} checks passed")
    return 1 if failed else 0
