"""The residents' API (/api/public) on the real stack: real database, Temporal test server, real worker.

Every client gets its own made-up address (and guesses go to made-up references of its own), so the limit
counters of one test never limit another.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.deps import forget_recorded_staff
from api.main import create_app
from core.services import Services
from core.settings import Settings
from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import ComplaintState
from domain.policy import Policy
from store.staff import DEMO_STAFF
from tests.api_helpers import assert_problem, bearer, send_latest_link, settings_for
from tests.factories import INVESTIGATOR, OFFICER, act, running_worker, state_of, trail_of
from tests.make_journey import answers, make_on_pages


@dataclass
class Stack:
    app: FastAPI
    env: WorkflowEnvironment
    pool: asyncpg.Pool

    @property
    def settings(self) -> Settings:
        services: Services = self.app.state.services
        return services.settings

    def client(self, ip: str | None = None, app: FastAPI | None = None) -> httpx.AsyncClient:
        address = ip or new_ip()
        transport = httpx.ASGITransport(
            app=app or self.app, raise_app_exceptions=False, client=(address, 40000)
        )
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    def app_with(self, **settings: Any) -> FastAPI:
        """The same stack with other settings (other limits, a trusted proxy)."""
        services: Services = self.app.state.services
        changed = services.settings.model_copy(update=settings)
        return create_app(changed, Services(changed, services.pool, services.temporal, services.policies))

    async def staff(self, reference: str, update: str, command: cmd.Command) -> ComplaintState:
        handle = self.env.client.get_workflow_handle(workflow_id(reference))
        return await act(handle, update, command)


def new_ip() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def made_up_reference() -> str:
    """A reference no complaint has, new for each call (guesses at it are counted under it)."""
    return f"CMP-1999-{random.randrange(10**6):06d}"


def new_email() -> str:
    return f"resident-{random.randrange(10**9)}@example.org"


async def latest_link(pool: asyncpg.Pool, reference: str) -> dict[str, str]:
    """The query of the last access link queued for the complaint, as the e-mail sent carries it."""
    link = await send_latest_link(pool, reference)
    return {key: values[0] for key, values in parse_qs(urlparse(link).query).items()}


@pytest.fixture
async def stack(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Stack]:
    settings = settings_for(task_queue)
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    async with running_worker(temporal_env, pool, policies, task_queue):
        yield Stack(app=create_app(settings, services), env=temporal_env, pool=pool)
    # A test that signed demo staff in limited to service areas (need-to-know) leaves them as every other
    # test knows them: dealing with every area (the directory's areas decide whom a complaint may go to).
    await pool.execute(
        "UPDATE staff_users SET service_areas = NULL WHERE id = ANY($1::text[])",
        [user.id for user in DEMO_STAFF],
    )
    forget_recorded_staff()


def complaint(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policy_id": "bexley",
        "name": "Ada Resident",
        # A new address each time: complaints per e-mail address are limited, and tests share the database.
        "email": new_email(),
        "service_area": "housing-repairs",
        "summary": "Damp in the bedroom reported three times and not fixed.",
        "desired_outcome": "Fix the damp.",
    }
    return body | overrides


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make(client: httpx.AsyncClient, **overrides: Any) -> tuple[str, str]:
    response = await client.post("/api/public/complaints", json=complaint(**overrides))
    assert response.status_code == 201, response.text
    created = response.json()
    return created["reference"], created["access_token"]


async def settled(stack: Stack, reference: str) -> None:
    """Wait until the workflow has recorded its first event (deadlines planned)."""
    for _ in range(250):
        if await stack.pool.fetchval("SELECT last_seq FROM complaints WHERE reference = $1", reference) >= 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{reference} was never recorded by its workflow")


async def responded(stack: Stack, reference: str) -> ComplaintState:
    await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await stack.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    return await stack.staff(
        reference,
        "respond",
        cmd.Respond(actor=INVESTIGATOR, outcome="not_upheld", findings="The repair was done on time."),
    )


# ----------------------------------------------------------------------------------------- make, read


async def test_make_a_complaint_returns_the_reference_and_a_token_and_queues_the_link(
    stack: Stack,
) -> None:
    async with stack.client() as client:
        email = new_email()
        response = await client.post("/api/public/complaints", json=complaint(email=email))
        assert response.status_code == 201, response.text
        created = response.json()
        reference, token = created["reference"], created["access_token"]
        assert reference.startswith("CMP-")
        # Short enough to read out, with no look-alikes (issue 30): 12 characters in groups of 4.
        assert re.fullmatch(r"[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}", token)
        assert response.headers["location"] == f"/api/public/complaints/{reference}"
        assert response.headers["cache-control"] == "no-store"

        row = await stack.pool.fetchrow(
            "SELECT channel, created_by, complainant FROM complaints WHERE reference = $1", reference
        )
        assert row is not None
        assert (row["channel"], row["created_by"]) == ("web", "resident")
        # Stored hashed only.
        stored = await stack.pool.fetch(
            "SELECT * FROM resident_tokens WHERE reference = $1 ORDER BY id", reference
        )
        # The code shown, the link's one-time code and the access code the e-mail gives (both drawn when it
        # goes out).
        assert [r["kind"] for r in stored] == ["access", "link", "access"]
        assert stored[0]["token_hash"] == hashlib.sha256(token.replace("-", "").encode()).hexdigest()
        assert token not in str([dict(r) for r in stored])
        assert stored[0]["expires_at"] - stored[0]["created_at"] == timedelta(days=90)
        assert stored[1]["expires_at"] - stored[1]["created_at"] == timedelta(days=7)
        # The access link, in the outbox for the dispatcher, without its code: that is drawn when it is sent.
        notice = await stack.pool.fetchrow(
            "SELECT * FROM notifications WHERE reference = $1 AND template = 'access_link'", reference
        )
        assert notice is not None
        assert notice["id"] == f"access:{reference}:{stored[1]['id']}"
        assert (notice["recipient"], notice["audience"], notice["seq"]) == (
            email,
            "complainant",
            -1,
        )
        assert notice["workflow_id"] == workflow_id(reference)
        assert "link" not in notice["context"] and "code" not in str(notice["context"])
        link = urlparse(await send_latest_link(stack.pool, reference))
        assert link.path == "/complaint/track"
        query = parse_qs(link.query)
        assert query["reference"] == [reference] and set(query) == {"reference", "code"}
        code = query["code"][0]
        assert code != token
        stored_link = await stack.pool.fetchval(
            "SELECT token_hash FROM resident_tokens WHERE id = $1", stored[1]["id"]
        )
        assert stored_link == hashlib.sha256(code.encode()).hexdigest()
        sent = await stack.pool.fetchval("SELECT context FROM notifications WHERE id = $1", notice["id"])
        assert code not in str(sent)
        # The code is not an access token: an API client exchanges it (once) for one.
        assert_problem(await client.get(f"/api/public/complaints/{reference}", headers=auth(code)), 404)

        await settled(stack, reference)
        read = await client.get(f"/api/public/complaints/{reference}", headers=auth(token))
        assert read.status_code == 200, read.text
        view = read.json()
        assert view["reference"] == reference
        assert view["status"] == "received"
        assert view["stage"] == 1
        assert view["council"] == "London Borough of Bexley"
        assert "We have received your complaint" in view["status_text"]
        assert view["dates"]["acknowledge_by"] and view["dates"]["respond_by"]
        # The link, and the copy of the complaint to whoever made it (issue 30).
        assert sorted(letter["template"] for letter in view["letters"]) == ["access_link", "complaint_copy"]
        assert view["possible"] == {
            "send_information": True,
            "answer_extension": False,
            "ask_for_review": False,
            "withdraw": True,
        }


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"summary": ""}, "summary"),
        ({"policy_id": "atlantis"}, "unknown council"),
    ],
)
async def test_bad_complaint_is_a_422_problem(stack: Stack, overrides: dict[str, Any], detail: str) -> None:
    async with stack.client() as client:
        body = complaint(**overrides)
        response = await client.post("/api/public/complaints", json=body)
        assert_problem(response, 422, detail)
    missing_email = {key: value for key, value in complaint().items() if key != "email"}
    async with stack.client() as client:
        assert_problem(await client.post("/api/public/complaints", json=missing_email), 422, "email")


async def test_a_token_opens_its_own_complaint_only(stack: Stack) -> None:
    async with stack.client() as client:
        first, first_token = await make(client)
        second, second_token = await make(client, name="Bob Stranger", email="bob@example.org")

        assert (await client.get(f"/api/public/complaints/{first}", headers=auth(first_token))).is_success
        stranger = await client.get(f"/api/public/complaints/{first}", headers=auth(second_token))
        problem = assert_problem(stranger, 404)
        # The same answer as for a reference that does not exist at all.
        nowhere = await client.get("/api/public/complaints/CMP-1999-999999", headers=auth(second_token))
        assert assert_problem(nowhere, 404)["detail"] == problem["detail"]
        assert first not in problem["detail"]
        # Nor can it act on it.
        info = await client.post(
            f"/api/public/complaints/{first}/information", json={"summary": "x"}, headers=auth(second_token)
        )
        assert_problem(info, 404)

        no_token = await client.get(f"/api/public/complaints/{first}")
        assert_problem(no_token, 401, "access token is required")
        assert no_token.headers["www-authenticate"] == "Bearer"
        assert_problem(await client.get(f"/api/public/complaints/{first}", headers=auth("guess")), 404)
        # A staff token is not a resident token either.
        assert_problem(
            await client.get(f"/api/public/complaints/{second}", headers=auth("a.b.c")),
            404,
        )


async def test_expired_and_revoked_tokens_are_refused(stack: Stack) -> None:
    async with stack.client() as client:
        email = new_email()
        reference, token = await make(client, email=email)
        other = await client.post(f"/api/public/complaints/{reference}/access-link", json={"email": email})
        assert other.status_code == 202
        code = (await latest_link(stack.pool, reference))["code"]
        exchange = f"/api/public/complaints/{reference}/access-token"
        exchanged = await client.post(exchange, json={"code": code})
        assert exchanged.status_code == 201, exchanged.text
        assert exchanged.headers["cache-control"] == "no-store"
        second = exchanged.json()["access_token"]
        assert second not in (token, code)
        assert (await client.get(f"/api/public/complaints/{reference}", headers=auth(second))).is_success
        # The link's code works once.
        assert_problem(await client.post(exchange, json={"code": code}), 401, "used already")

        await stack.pool.execute(
            "UPDATE resident_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
            hashlib.sha256(token.replace("-", "").encode()).hexdigest(),  # stored as typed: no dashes
        )
        expired = await client.get(f"/api/public/complaints/{reference}", headers=auth(token))
        assert_problem(expired, 401, "expired or was withdrawn")

        # Revoke the second token: it stops working at once.
        revoked = await client.delete(
            f"/api/public/complaints/{reference}/access-token", headers=auth(second)
        )
        assert revoked.status_code == 204
        assert_problem(await client.get(f"/api/public/complaints/{reference}", headers=auth(second)), 401)


async def test_revoking_every_token_of_a_complaint(stack: Stack) -> None:
    async with stack.client() as client:
        email = new_email()
        reference, token = await make(client, email=email)
        await client.post(f"/api/public/complaints/{reference}/access-link", json={"email": email})
        revoked = await client.delete(
            f"/api/public/complaints/{reference}/access-token?all=true", headers=auth(token)
        )
        assert revoked.status_code == 204
        live = await stack.pool.fetchval(
            "SELECT count(*) FROM resident_tokens WHERE reference = $1 AND revoked_at IS NULL", reference
        )
        assert live == 0


# ----------------------------------------------------------------------------------------- rate limit


async def test_the_right_code_works_after_eleven_wrong_ones_from_the_same_address(stack: Stack) -> None:
    ip = new_ip()
    per_reference = stack.settings.resident_wrong_codes_per_reference
    assert per_reference < 11
    async with stack.client(ip) as client:
        reference, token = await make(client)
        path = f"/api/public/complaints/{reference}"
        for _ in range(per_reference):
            assert_problem(await client.get(path, headers=auth("x" * 43)), 404)
        # The eleventh wrong code is refused as such, saying when to try again...
        limited = await client.get(path, headers=auth("x" * 43))
        problem = assert_problem(limited, 429, "too many wrong access codes")
        assert problem["type"] == "too-many-attempts"
        assert "a right code works at any time" in problem["detail"]
        assert 0 < int(limited.headers["retry-after"]) <= 15 * 60 + 1
        # ...and the right one, from the same address at once after, opens the complaint.
        assert (await client.get(path, headers=auth(token))).is_success


async def test_wrong_codes_from_an_address_never_refuse_a_right_code_from_it(stack: Stack) -> None:
    ip = new_ip()
    async with stack.client(ip) as client:
        reference, token = await make(client)
        # Someone behind the same address guesses at many complaints (each a new one, so only the
        # address links them) until the address's allowance is used up.
        for _ in range(stack.settings.resident_wrong_codes_per_address):
            guess = await client.get(f"/api/public/complaints/{made_up_reference()}", headers=auth("x" * 43))
            assert_problem(guess, 404)
        limited = await client.get(f"/api/public/complaints/{made_up_reference()}", headers=auth("x" * 43))
        assert_problem(limited, 429, "from your network")
        assert (await client.get(f"/api/public/complaints/{reference}", headers=auth(token))).is_success
        # Nor through the pages: the right code signs in.
        signed = await client.post("/complaint/track", data={"reference": reference, "token": token})
        assert signed.status_code == 303 and signed.headers["location"] == f"/complaint/{reference}"


async def test_wrong_codes_for_one_reference_do_not_affect_another(stack: Stack) -> None:
    async with stack.client() as client:
        first, first_token = await make(client)
        second, second_token = await make(client, name="Bob Neighbour", email="bob@example.org")
    for _ in range(stack.settings.resident_wrong_codes_per_reference):
        async with stack.client() as guesser:  # a new address for every guess
            assert_problem(await guesser.get(f"/api/public/complaints/{first}", headers=auth("y" * 43)), 404)
    async with stack.client() as guesser:
        # The first complaint refuses further wrong codes, from anywhere...
        assert_problem(await guesser.get(f"/api/public/complaints/{first}", headers=auth("y" * 43)), 429)
        # ...the second is untouched: a wrong code there is a plain 404, the right one opens it.
        assert_problem(await guesser.get(f"/api/public/complaints/{second}", headers=auth("y" * 43)), 404)
        assert (await guesser.get(f"/api/public/complaints/{second}", headers=auth(second_token))).is_success
        # And the first complaint's own resident is not held up either.
        assert (await guesser.get(f"/api/public/complaints/{first}", headers=auth(first_token))).is_success


async def test_behind_a_trusted_proxy_each_client_is_counted_under_its_forwarded_address(
    stack: Stack,
) -> None:
    proxy = new_ip()
    limit = {"resident_wrong_codes_per_address": 2, "resident_wrong_codes_per_reference": 1000}
    trusted = stack.app_with(forwarded_allow_ips=proxy, **limit)
    untrusted = stack.app_with(forwarded_allow_ips="", **limit)

    async def guesses(app: FastAPI, forwarded_for: str, socket: str = proxy) -> list[int]:
        async with stack.client(socket, app=app) as client:
            headers = auth("z" * 43) | {"X-Forwarded-For": forwarded_for}
            return [
                (
                    await client.get(f"/api/public/complaints/{made_up_reference()}", headers=headers)
                ).status_code
                for _ in range(3)
            ]

    # Through the trusted proxy: two residents behind it are two addresses, each with its own allowance.
    assert await guesses(trusted, "203.0.113.10") == [404, 404, 429]
    assert await guesses(trusted, "203.0.113.11") == [404, 404, 429]
    # A client cannot pick its address by prepending one: the proxy's own hop (the right-most) counts.
    assert await guesses(trusted, "198.51.100.1, 203.0.113.10") == [429, 429, 429]
    # A client that is not the proxy is counted under its own address, whatever it forwards.
    assert await guesses(trusted, "203.0.113.12", socket=new_ip()) == [404, 404, 429]
    # Through a proxy that is not trusted, the header is ignored: everyone is the proxy's address.
    other_proxy = new_ip()
    assert await guesses(untrusted, "203.0.113.20", socket=other_proxy) == [404, 404, 429]
    assert await guesses(untrusted, "203.0.113.21", socket=other_proxy) == [429, 429, 429]


async def test_making_complaints_is_limited_per_address_and_per_email(stack: Stack) -> None:
    app = stack.app_with(resident_complaints_per_address=2, resident_complaints_per_email=2)
    ip = new_ip()
    async with stack.client(ip, app=app) as client:
        for _ in range(2):
            await make(client, email=new_email())
        refused = await client.post("/api/public/complaints", json=complaint(email=new_email()))
        problem = assert_problem(refused, 429, "too many complaints were made from your network")
        assert problem["type"] == "too-many-attempts"
        assert 0 < int(refused.headers["retry-after"]) <= 60 * 60 + 1
        # On the question pages too, with the message shown on the check-answers page (the answers kept).
        page = await make_on_pages(client, answers())
        assert page.status_code == 429 and "Too many complaints were made from your network" in page.text
        assert "Check your answers" in page.text and page.headers["retry-after"]
    email = new_email()
    for expected in (201, 201, 429):  # one e-mail address from different addresses
        async with stack.client(app=app) as elsewhere:
            made = await elsewhere.post("/api/public/complaints", json=complaint(email=email))
            assert made.status_code == expected, made.text
    async with stack.client(app=app) as elsewhere:  # someone else is not held up
        await make(elsewhere, email=new_email())


async def test_public_creation_takes_an_idempotency_key(stack: Stack) -> None:
    body = complaint(email=new_email(), summary=f"Fly-tipping behind block {random.randrange(10**9)}.")
    key = {"Idempotency-Key": f"key-{random.randrange(10**9)}"}
    async with stack.client() as client:
        first = await client.post("/api/public/complaints", json=body, headers=key)
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
    async with stack.client() as retry:  # the retry may come from another address (a phone that moved)
        again = await retry.post("/api/public/complaints", json=body, headers=key)
        assert again.status_code == 201, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["location"] == first.headers["location"]
        reference = first.json()["reference"]
        assert again.json()["reference"] == reference
        # The first code was never stored in clear: the retry gets a new one, and both work.
        tokens = [first.json()["access_token"], again.json()["access_token"]]
        assert tokens[0] != tokens[1]
        for token in tokens:
            assert (await retry.get(f"/api/public/complaints/{reference}", headers=auth(token))).is_success
        made = await stack.pool.fetchval(
            "SELECT count(*) FROM complaints WHERE summary = $1", body["summary"]
        )
        assert made == 1
        stored = await stack.pool.fetchval(
            "SELECT response::text FROM idempotency_keys WHERE key = $1", key["Idempotency-Key"]
        )
        assert tokens[0] not in stored
        different = await retry.post("/api/public/complaints", json=body | {"summary": "Other."}, headers=key)
        assert_problem(different, 422, "already used for a different request")


# -------------------------------------------------------------------------------------------- actions


async def test_information_reaches_the_workflow(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        sent = await client.post(
            f"/api/public/complaints/{reference}/information",
            json={"summary": "The mould has spread to the hallway."},
            headers=auth(token),
        )
        assert sent.status_code == 200, sent.text
    state = await state_of(stack.env.client.get_workflow_handle(workflow_id(reference)))
    # The workflow counts the message; its text is on the event trail in PostgreSQL.
    assert state.information_received == 1
    trail = await trail_of(stack.pool, reference)
    assert trail[-1].action == "add_information" and trail[-1].actor_role == "resident"
    assert trail[-1].detail["summary"] == "The mould has spread to the hallway."
    audit = await stack.pool.fetch(
        "SELECT actor_id, actor_role, action FROM audit_log WHERE reference = $1 ORDER BY id", reference
    )
    assert [tuple(row) for row in audit] == [
        ("resident", "resident", "create"),
        ("resident", "resident", "add_information"),
    ]


async def test_extension_answer(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        path = f"/api/public/complaints/{reference}/extension-answer"
        early = await client.post(path, json={"agreed": False}, headers=auth(token))
        assert_problem(early, 409, "cannot record extension agreement")
        await settled(stack, reference)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        # Nobody asked yet: there is nothing to answer (issue 30).
        unasked = await client.post(path, json={"agreed": True, "up_to": "2099-01-29"}, headers=auth(token))
        assert_problem(unasked, 409, "we have not asked you to agree to a later response")
        ask = cmd.AskExtensionAgreement(actor=INVESTIGATOR, up_to=date(2099, 1, 29), reason="A survey.")
        await stack.staff(reference, "ask_extension_agreement", ask)
        view = (await client.get(f"/api/public/complaints/{reference}", headers=auth(token))).json()
        assert view["possible"]["answer_extension"] is True
        assert view["extension_question"]["up_to"] == "2099-01-29"
        assert_problem(await client.post(path, json={"agreed": True}, headers=auth(token)), 422, "up_to")
        agreed = await client.post(path, json={"agreed": True, "up_to": "2099-01-29"}, headers=auth(token))
        assert agreed.status_code == 200, agreed.text
        assert agreed.json()["dates"]["agreed_up_to"] == "2099-01-29"
        assert agreed.json()["possible"]["answer_extension"] is False  # answered: the question goes
        await stack.staff(reference, "ask_extension_agreement", ask)
        refused = await client.post(path, json={"agreed": False}, headers=auth(token))
        assert refused.status_code == 200
        assert refused.json()["dates"]["agreed_up_to"] is None


async def test_escalation_is_accepted_inside_the_window(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        review = f"/api/public/complaints/{reference}/escalation"
        body = {"reasons": "The damp came back.", "outcome_wanted": "A full survey."}
        too_early = await client.post(review, json=body, headers=auth(token))
        assert_problem(too_early, 409, "cannot request escalation")

        await settled(stack, reference)
        await responded(stack, reference)
        view = (await client.get(f"/api/public/complaints/{reference}", headers=auth(token))).json()
        assert view["status"] == "responded"
        assert view["possible"]["ask_for_review"] is True
        assert view["dates"]["escalation_request_by"]
        assert "ask us to take your complaint to Review until" in view["status_text"]
        assert "response" in [letter["template"] for letter in view["letters"]]

        accepted = await client.post(review, json=body, headers=auth(token))
        assert accepted.status_code == 200, accepted.text
        result = accepted.json()
        assert result["accepted"] is True
        # Received, not accepted, in the words shown to the resident: the council has not decided yet.
        assert result["message"] == "We have received your request to take your complaint to Review."
        assert result["stage"] == 2
        assert result["status"] == "escalation_requested"
        assert result["complaint"]["stage"] == 2
        assert result["complaint"]["dates"]["escalation_request_by"] is None
    # What was asked is on the request's event in the case record (the workflow keeps none of it).
    asked = await stack.pool.fetchrow(
        "SELECT detail FROM complaint_events WHERE reference = $1 AND action = 'request_escalation'",
        reference,
    )
    assert asked is not None
    assert (asked["detail"]["reasons"], asked["detail"]["outcome_wanted"]) == (
        "The damp came back.",
        "A full survey.",
    )


async def test_escalation_after_the_window_is_refused_with_its_date(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        state = await responded(stack, reference)
        window = state.current.escalation_request_by
        assert window is not None
        await stack.env.sleep(window.at - await stack.env.get_current_time() + timedelta(days=1))
        refused = await client.post(
            f"/api/public/complaints/{reference}/escalation",
            json={"reasons": "Too late?"},
            headers=auth(token),
        )
        assert_problem(refused, 409, f"the window to ask for Stage 2 closed on {window.on.isoformat()}")
        view = (await client.get(f"/api/public/complaints/{reference}", headers=auth(token))).json()
        assert view["status"] == "closed"
        assert view["possible"]["ask_for_review"] is False


async def test_withdraw(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        gone = await client.post(
            f"/api/public/complaints/{reference}/withdraw", json={"reason": "Fixed."}, headers=auth(token)
        )
        assert gone.status_code == 200, gone.text
        assert gone.json()["status"] == "withdrawn"
        assert gone.json()["status_text"] == "You withdrew your complaint."
        again = await client.post(
            f"/api/public/complaints/{reference}/information", json={"summary": "More"}, headers=auth(token)
        )
        assert_problem(again, 409, "cannot add information")


# ---------------------------------------------------------------------------------------- access link


async def test_access_link_request_answers_the_same_and_queues_only_for_the_right_address(
    stack: Stack,
) -> None:
    async with stack.client() as client:
        email = new_email()
        reference, _ = await make(client, email=email)

        async def links() -> int:
            count: int = await stack.pool.fetchval(
                "SELECT count(*) FROM notifications WHERE reference = $1 AND template = 'access_link'",
                reference,
            )
            return count

        before = await links()
        path = f"/api/public/complaints/{reference}/access-link"
        wrong = await client.post(path, json={"email": "mallory@example.org"})
        unknown = await client.post(
            "/api/public/complaints/CMP-1999-000001/access-link", json={"email": "ada@example.org"}
        )
        right = await client.post(path, json={"email": email.upper()})
        assert wrong.status_code == unknown.status_code == right.status_code == 202
        assert wrong.json() == unknown.json() == right.json()
        assert await links() == before + 1
        recipient = await stack.pool.fetchval(
            "SELECT recipient FROM notifications WHERE reference = $1 AND template = 'access_link'"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            reference,
        )
        assert recipient == email
        # A few more are fine; then the complaint's allowance for the window is used up, silently.
        for _ in range(3):
            assert (await client.post(path, json={"email": email})).status_code == 202
        assert await links() == before + stack.settings.resident_link_requests_per_complaint


async def test_access_link_requests_are_limited_per_address_and_per_email(stack: Stack) -> None:
    app = stack.app_with(resident_link_requests_per_address=3, resident_link_requests_per_email=2)
    email = new_email()
    async with stack.client() as client:
        reference, _ = await make(client, email=email)
    path = f"/api/public/complaints/{reference}/access-link"
    async with stack.client(app=app) as client:
        for _ in range(3):
            assert (await client.post(path, json={"email": new_email()})).status_code == 202
        refused = await client.post(path, json={"email": new_email()})
        problem = assert_problem(refused, 429, "too many new links were asked for from your network")
        assert int(refused.headers["retry-after"]) > 0
        page = await client.post("/complaint/new-link", data={"reference": reference, "email": new_email()})
        assert page.status_code == 429 and "too many new links" in page.text
        assert problem["type"] == "too-many-attempts"
    # One e-mail address from several addresses: the same answer whether or not it is the complainant's;
    # only the requests that matched count against the address's allowance (2), and past it, silently.
    queued = "SELECT count(*) FROM notifications WHERE reference = $1 AND template = 'access_link'"
    before = await stack.pool.fetchval(queued, reference)
    for asked_for in (email, new_email()):
        statuses = []
        for _ in range(3):
            async with stack.client(app=app) as elsewhere:
                statuses.append((await elsewhere.post(path, json={"email": asked_for})).status_code)
        assert statuses == [202, 202, 202]
    assert await stack.pool.fetchval(queued, reference) == before + 2


# ------------------------------------------------------------------------------------ what is not shown


async def test_the_resident_view_never_shows_internal_notes_or_staff(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await stack.staff(reference, "add_note", cmd.AddNote(actor=OFFICER, text="SECRET internal remark"))
        await responded(stack, reference)
        response = await client.get(f"/api/public/complaints/{reference}", headers=auth(token))
        assert response.status_code == 200
        text = response.text
        for hidden in ("SECRET", "olivia", "ian.investigator", "Investigator", "Officer", "history", "audit"):
            assert hidden not in text, hidden
        # Nor the access link (it holds a token) that the outbox keeps for the dispatcher.
        assert "/complaint/track" not in text and token not in text


async def test_staff_can_revoke_a_residents_access(stack: Stack) -> None:
    settings = settings_for("unused")
    async with stack.client() as client:
        reference, token = await make(client)
        assert (
            await client.get(f"/api/public/complaints/{reference}", headers=auth(token))
        ).status_code == 200
        refused = await client.post(
            f"/api/complaints/{reference}/revoke-resident-access",
            headers=bearer("ian.investigator", settings),
        )
        assert_problem(refused, 403)
        revoked = await client.post(
            f"/api/complaints/{reference}/revoke-resident-access", headers=bearer("olivia.officer", settings)
        )
        # The access code, the e-mailed link's unused code and the e-mail's access code.
        assert revoked.status_code == 200 and revoked.json() == {"revoked": 3}
        assert_problem(await client.get(f"/api/public/complaints/{reference}", headers=auth(token)), 401)
        audit = await stack.pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE reference = $1 AND action = 'revoke_resident_access'",
            reference,
        )
        assert audit == 1
