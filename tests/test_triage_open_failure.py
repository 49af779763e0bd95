"""An "open a complaint" decision that fails part-way never leaves a complaint without its e-mail. The request
fails (and releases its claim, so the item waits in the queue again) after the complaint was opened, or after
its reference was taken but before its workflow started. From then on the item can only be finished as that
complaint's: a retried open finds the same complaint instead of opening a second one, and a dismissal, a
service request or a link is refused with a 409 that says so, the message joined to the complaint when it
exists. The failures are simulated between the real steps against PostgreSQL and the Temporal test server."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

import api.intake
from inbound import triage
from tests.api_helpers import assert_problem, bearer
from tests.inbound_helpers import Inbound, complaint, console, inbound, inbound_row, mail
from tests.staff_console import form_token, sign_in

__all__ = ["console", "inbound"]

JPEG = b"\xff\xd8\xff" + b"broken gate" * 10
OPEN = {"policy_id": "bexley", "service_area": "waste"}


class Failure(Exception):
    """The request fails here (an outage): the claim is released and the officer sees an error."""


async def _post(stack: Inbound, path: str, body: dict[str, Any], user: str = "olivia.officer") -> Any:
    return await stack.client.post(path, json=body, headers=bearer(user, stack.settings))


async def _complaints_of(stack: Inbound, address: str) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT reference FROM complaints WHERE complainant ->> 'email' = $1 ORDER BY reference", address
    )
    return [str(row["reference"]) for row in rows]


async def _opened_then_failed(
    stack: Inbound, monkeypatch: pytest.MonkeyPatch, address: str
) -> tuple[Any, str]:
    """A message from `address`, opened as a complaint by a request that fails once the complaint is open
    (before its files and the item are kept): the item is back in the queue. Its row, and the complaint."""
    message = mail(
        sender=f"Gus Tenant <{address}>",
        subject="Broken gate",
        text="The gate by the bins has been broken for a month.",
        files=[("gate.jpg", "image/jpeg", JPEG)],
    )
    await stack.send(message)
    item_id = str((await inbound_row(stack.pool, message))["id"])

    async def fail(*args: Any, **kwargs: Any) -> None:
        raise Failure()

    with monkeypatch.context() as patched:
        patched.setattr(triage, "finish_opened", fail)
        failed = await _post(stack, f"/api/triage/{item_id}/open-complaint", OPEN)
    assert failed.status_code == 500
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["reference"]) == ("triage", None)
    [reference] = await _complaints_of(stack, address)  # the complaint is open, without its e-mail yet
    return row, reference


async def _stored(stack: Inbound, inbound_id: Any) -> Any:
    row = await stack.pool.fetchrow("SELECT * FROM inbound_messages WHERE id = $1", inbound_id)
    assert row is not None
    return row


async def _case(stack: Inbound, reference: str) -> Any:
    answer = await stack.client.get(
        f"/api/complaints/{reference}", headers=bearer("olivia.officer", stack.settings)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_dismissal_after_a_failed_open_joins_the_message_to_its_complaint(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = inbound
    address = "gus-dismiss@example.net"
    row, reference = await _opened_then_failed(stack, monkeypatch, address)
    item_id = str(row["id"])

    refused = await _post(stack, f"/api/triage/{item_id}/dismiss", {"reason": "Duplicate"}, "maya.manager")
    assert_problem(refused, 409, f"this message opened complaint {reference}")
    assert "was not dismissed" in refused.json()["detail"]
    row = await _stored(stack, row["id"])
    assert (row["status"], row["reference"], row["decision_reason"]) == ("opened", reference, None)
    assert [item["filename"] for item in (await _case(stack, reference))["attachments"]] == ["gate.jpg"]
    audited = await stack.pool.fetch(
        "SELECT action, actor_id, after FROM audit_log WHERE after ->> 'inbound_id' = $1"
        " AND action IN ('triage_dismiss', 'triage_open_complaint')",
        item_id,
    )
    assert [(entry["action"], entry["actor_id"]) for entry in audited] == [
        ("triage_open_complaint", "maya.manager")
    ]
    after = audited[0]["after"]
    assert (json.loads(after) if isinstance(after, str) else after)["finished_instead_of"] == "dismissed"
    # Finished: nothing else is decided on it, and still one complaint.
    again = await _post(stack, f"/api/triage/{item_id}/open-complaint", OPEN)
    assert_problem(again, 409, "already dealt with")
    assert await _complaints_of(stack, address) == [reference]


async def test_a_retried_open_finishes_the_same_complaint(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = inbound
    address = "gus-retry@example.net"
    row, reference = await _opened_then_failed(stack, monkeypatch, address)

    # The officer tries again (another service area chosen this time): the same complaint, finished.
    retried = await _post(
        stack,
        f"/api/triage/{row['id']}/open-complaint",
        {"policy_id": "bexley", "service_area": "housing-repairs"},
    )
    assert retried.status_code == 201, retried.text
    assert retried.json() == {"id": str(row["id"]), "status": "opened", "reference": reference}
    assert await _complaints_of(stack, address) == [reference]
    assert [item["filename"] for item in (await _case(stack, reference))["attachments"]] == ["gate.jpg"]


async def test_a_link_or_service_request_after_a_failed_open_is_refused(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = inbound
    other, _ = await complaint(stack)
    address = "gus-link@example.net"
    row, reference = await _opened_then_failed(stack, monkeypatch, address)

    linked = await _post(stack, f"/api/triage/{row['id']}/link", {"reference": other})
    assert_problem(linked, 409, f"this message opened complaint {reference}")
    found = await _stored(stack, row["id"])
    assert (found["status"], found["reference"]) == ("opened", reference)
    information = await stack.pool.fetchval(
        "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'add_information'", other
    )
    assert information == 0
    service = await _post(
        stack, f"/api/triage/{row['id']}/service-request", {"policy_id": "bexley", "service_area": "waste"}
    )
    assert_problem(service, 409, "already dealt with")


async def test_an_open_that_failed_before_the_workflow_started_can_only_be_opened_again(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = inbound
    address = "hal-reserved@example.net"
    message = mail(sender=f"Hal Tenant <{address}>", subject="Fly-tipping", text="Rubbish dumped again.")
    await stack.send(message)
    item_id = str((await inbound_row(stack.pool, message))["id"])
    real_reference_for = api.intake.reference_for
    taken: list[str] = []

    async def reserve_then_fail(*args: Any, **kwargs: Any) -> str:
        taken.append(await real_reference_for(*args, **kwargs))
        raise Failure()  # the reference is kept with the intake key; the workflow never starts

    with monkeypatch.context() as patched:
        patched.setattr(api.intake, "reference_for", reserve_then_fail)
        failed = await _post(stack, f"/api/triage/{item_id}/open-complaint", OPEN)
    assert failed.status_code == 500 and len(taken) == 1
    assert await _complaints_of(stack, address) == []

    refused = await _post(stack, f"/api/triage/{item_id}/dismiss", {"reason": "Spam"})
    assert_problem(refused, 409, f"an earlier decision began opening complaint {taken[0]}")
    assert (await inbound_row(stack.pool, message))["status"] == "triage"

    opened = await _post(stack, f"/api/triage/{item_id}/open-complaint", OPEN)
    assert opened.status_code == 201, opened.text
    assert opened.json()["reference"] == taken[0]
    assert await _complaints_of(stack, address) == taken


async def test_the_console_says_the_message_had_opened_a_complaint(
    inbound: Inbound, console: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, client = inbound, console
    address = "gus-console@example.net"
    row, reference = await _opened_then_failed(stack, monkeypatch, address)
    await sign_in(client, "olivia.officer")
    item = await client.get(f"/staff/triage/{row['id']}")
    assert item.status_code == 200, item.text
    assert f"An earlier decision opened complaint {reference} from this message" in item.text

    dismissed = await client.post(
        f"/staff/triage/{row['id']}/dismiss",
        data={"csrf_token": form_token(item.text), "dismiss_reason": "Duplicate"},
    )
    assert dismissed.status_code == 409
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dismissed.text))
    assert "This message had opened a complaint" in words
    assert "it is now joined to that complaint, and was not dismissed" in words and reference in words
    assert (await stack.pool.fetchval("SELECT status FROM inbound_messages WHERE id = $1", row["id"])) == (
        "opened"
    )
