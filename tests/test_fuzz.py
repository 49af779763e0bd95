"""Schemathesis over the OpenAPI document: no generated request is answered with a 5xx, and every answer
matches the schema (status, content type, body). In-process (the ASGI app), on the real PostgreSQL and
Temporal test server with a worker, as every staff role and without a token (the residents' endpoints).

Schemathesis generates the requests (valid ones from the schema, and invalid ones: wrong types, missing
fields, odd text); this test sends them through the same httpx client as the other API tests and asks
schemathesis to check each answer. A bounded number of examples per operation keeps it to a minute or so.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import httpx
import schemathesis

# Loaded now, at collection, not lazily inside the test: imported hundreds of frames deep in the running
# event loop, pytest's rewriting of schemathesis' modules once failed with CPython 3.11's "AST constructor
# recursion depth mismatch" SystemError (a flaky interpreter bug, not ours).
import schemathesis.specs.openapi.schemas  # noqa: F401
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api.main import create_app
from core.settings import Settings
from tests.api_helpers import STAFF, api, bearer, complaint_body

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]

# Examples per operation and generation mode; every staff role (and no token) takes turns across them.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
ROLES: list[str | None] = [*sorted(STAFF), None]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _cases(operation: Any, mode: GenerationMode, count: int) -> list[Case[Any]]:
    found: list[Case[Any]] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],  # nothing fails inside: no shrinking or explaining to do
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case: Case[Any]) -> None:
        found.append(case)

    try:
        collect()
    except Unsatisfiable:
        pass  # nothing to make invalid (an operation with no parameters): its valid cases suffice
    return found


async def test_no_generated_request_gets_a_server_error_or_an_answer_off_schema(api: Client) -> None:
    client, app_settings = api
    created = await client.post(
        "/api/complaints", json=complaint_body(), headers=bearer("olivia.officer", app_settings)
    )
    assert created.status_code == 201
    reference = created.json()["reference"]
    schema = schemathesis.openapi.from_dict(create_app(app_settings).openapi())
    tokens = {role: bearer(role, app_settings) if role else {} for role in ROLES}

    statuses: Counter[int] = Counter()
    failures: list[str] = []
    sent = 0
    generating = 0.0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here, as it should
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            started = time.monotonic()
            cases = _cases(operation, mode, EXAMPLES)
            generating += time.monotonic() - started
            for case in cases:
                if mode is GenerationMode.POSITIVE and "reference" in case.path_parameters and sent % 2:
                    case.path_parameters["reference"] = reference  # reach past the 404 to the action
                role = ROLES[sent % len(ROLES)]
                sent += 1
                kwargs = case.as_transport_kwargs(base_url="http://test", headers=tokens[role])
                if kwargs.get("files"):
                    # Multipart uploads (evidence) are left to tests/test_attachments.py: the in-process
                    # client cannot re-read a streamed multipart body for the schema check, nor send a drawn
                    # number as a file; a failure there is the test client's, not the API's.
                    continue
                client.cookies = httpx.Cookies(kwargs.get("cookies") or {})
                data = kwargs.get("data")
                response = await client.request(
                    kwargs["method"],
                    kwargs["url"],
                    headers=kwargs.get("headers"),
                    params=kwargs.get("params"),
                    json=kwargs.get("json"),
                    data=data if isinstance(data, dict) else None,
                    content=data if isinstance(data, str | bytes) else kwargs.get("content"),
                    files=kwargs.get("files"),
                )
                statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as error:
                    failures.append(
                        f"{operation.method.upper()} {operation.path} as {role or 'no token'} ({mode.value}):"
                        f" {response.status_code} {str(error)[:400]}"
                    )
    summary = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    print(f"schemathesis: {sent} requests ({summary}); {generating:.0f}s generating")  # noqa: T201
    assert sent > 500
    assert not [status for status in statuses if status >= 500], summary
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])
