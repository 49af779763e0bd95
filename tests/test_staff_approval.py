"""Issue 25 over HTTP, the console and the API together: a letter previewed before it is sent (the same
rendering as the outbox's, the resident's name read now), and a policy's `response_approval`: the
investigator's response waits as a draft that a manager approves (sent then) or returns with a reason; who
may do what."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.actions import ACTIONS
from domain.models import Role
from domain.policy import Policy
from store.staff import DEMO_STAFF
from tests.api_helpers import bearer
from tests.staff_console import buttons, console_app, form_token, open_complaint, refused_by_the_api, sign_in
from tests.staff_console import console as console  # noqa: F401  (the fixture)

Console = tuple[httpx.AsyncClient, Settings]
RESPONSE = {"outcome": "partially_upheld", "findings": "The repair was booked as routine, not urgent."}


@pytest.fixture
async def approving(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Console]:
    """The console over Bexley's file with `response_approval = true`."""
    variant = {**policies, "bexley": policies["bexley"].model_copy(update={"response_approval": True})}
    async with console_app(temporal_env, pool, variant, task_queue) as running:
        yield running


def seq_of(html: str) -> str:
    found = re.search(r'name="seq" value="(\d+)"', html)
    assert found
    return found.group(1)


async def read(client: httpx.AsyncClient, settings: Settings, reference: str) -> dict[str, object]:
    answer = await client.get(f"/api/complaints/{reference}", headers=bearer("maya.manager", settings))
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


async def responded_at(pool: asyncpg.Pool, reference: str) -> datetime | None:
    found: datetime | None = await pool.fetchval(
        "SELECT responded_at FROM complaints WHERE reference = $1", reference
    )
    return found


def templates(complaint: dict[str, object]) -> list[str]:
    letters = complaint["notifications"]
    assert isinstance(letters, list)
    return [letter["template"] for letter in letters if letter["audience"] == "complainant"]


async def assigned(client: httpx.AsyncClient, settings: Settings) -> str:
    reference = await open_complaint(
        client, settings, complainant={"name": "Ada Previewtest", "email": "ada@example.org"}
    )
    for action, body in (("acknowledge", {}), ("assign", {"assignee": "ian.investigator"})):
        answer = await client.post(
            f"/api/complaints/{reference}/{action}", json=body, headers=bearer("olivia.officer", settings)
        )
        assert answer.status_code == 200, answer.text
    return reference


async def test_the_officer_previews_the_letter_then_changes_or_sends(
    approving: Console, pool: asyncpg.Pool
) -> None:
    client, settings = approving
    reference = await assigned(client, settings)
    token = await sign_in(client, "ian.investigator")
    form = await client.get(f"/staff/complaints/{reference}/act/respond")
    assert 'value="preview"' in form.text
    typed = {"csrf_token": token, "seq": seq_of(form.text), **RESPONSE, "remedies-0-kind": "apology"}
    typed["remedies-0-description"] = "We are sorry for the delay."
    preview = await client.post(
        f"/staff/complaints/{reference}/act/respond", data={**typed, "intent": "preview"}
    )
    assert preview.status_code == 200, preview.text
    # The response letter as the outbox renders it: greeting the resident by the name on the case now.
    assert "Dear Ada Previewtest," in preview.text and RESPONSE["findings"] in preview.text
    assert "We are sorry for the delay." in preview.text
    assert 'id="approval-note"' in preview.text
    assert 'value="send"' in preview.text and 'value="change"' in preview.text
    assert form_token(preview.text) == token
    assert "response" not in templates(await read(client, settings, reference))  # nothing was sent

    # "Change": back to the form, as it was typed.
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', preview.text))
    changed = await client.post(
        f"/staff/complaints/{reference}/act/respond", data={**hidden, "intent": "change"}
    )
    assert changed.status_code == 200 and "Preview the letter" in changed.text
    assert "We are sorry for the delay." in changed.text
    # Without the form token the preview page's Send is refused, nothing done.
    forged = {key: value for key, value in hidden.items() if key != "csrf_token"}
    refused = await client.post(
        f"/staff/complaints/{reference}/act/respond", data={**forged, "intent": "send"}
    )
    assert refused.status_code == 403
    # "Send": the response is a draft for a manager; the resident gets nothing yet.
    sent = await client.post(f"/staff/complaints/{reference}/act/respond", data={**hidden, "intent": "send"})
    assert sent.status_code == 303, sent.text
    case = await client.get(sent.headers["location"])
    assert 'id="draft-response"' in case.text and "Response drafted for approval" in case.text
    assert 'data-action="approve_response"' not in case.text and 'data-action="respond"' not in case.text
    complaint = await read(client, settings, reference)
    assert complaint["status"] == "acknowledged" and await responded_at(pool, reference) is None
    assert "response" not in templates(complaint)


async def test_only_another_manager_approves_and_the_response_is_dated_the_approval(
    approving: Console, pool: asyncpg.Pool
) -> None:
    client, settings = approving
    reference = await assigned(client, settings)
    drafted = await client.post(
        f"/api/complaints/{reference}/respond", json=RESPONSE, headers=bearer("ian.investigator", settings)
    )
    assert drafted.status_code == 200 and drafted.json()["status"] == "acknowledged"
    # Nobody but a manager may approve or return it; a second response waits for the first.
    for user in ("ian.investigator", "olivia.officer", "rita.reviewer", "aude.auditor"):
        for action in ("approve-response", "return-response"):
            answer = await client.post(
                f"/api/complaints/{reference}/{action}", json={"reason": "x"}, headers=bearer(user, settings)
            )
            assert answer.status_code == 403, (user, action, answer.text)
    again = await client.post(
        f"/api/complaints/{reference}/respond", json=RESPONSE, headers=bearer("ian.investigator", settings)
    )
    assert again.status_code == 409 and "waiting for a manager's approval" in again.json()["detail"]

    # The manager returns it with a reason, in the console: on the timeline, nothing sent.
    token = await sign_in(client, "maya.manager")
    case = await client.get(f"/staff/complaints/{reference}")
    assert 'data-action="approve_response"' in case.text and 'data-action="return_response"' in case.text
    form = await client.get(f"/staff/complaints/{reference}/act/return-response")
    assert RESPONSE["findings"] in form.text  # the manager sees the draft they decide on
    returned = await client.post(
        f"/staff/complaints/{reference}/act/return-response",
        data={"csrf_token": token, "seq": seq_of(form.text), "reason": "Offer the redress the policy sets."},
    )
    assert returned.status_code == 303, returned.text
    case = await client.get(f"/staff/complaints/{reference}")
    assert (
        "Returned: Offer the redress the policy sets." in case.text and 'id="draft-response"' not in case.text
    )
    assert "response" not in templates(await read(client, settings, reference))

    # Drafted again; the manager previews the letter the approval sends, then sends it.
    redrafted = {**RESPONSE, "findings": "Booked as routine; we now book damp as urgent."}
    answer = await client.post(
        f"/api/complaints/{reference}/respond", json=redrafted, headers=bearer("ian.investigator", settings)
    )
    assert answer.status_code == 200
    drafted_at = datetime.fromisoformat(answer.json()["history"][-1]["at"])
    form = await client.get(f"/staff/complaints/{reference}/act/approve-response")
    typed = {"csrf_token": token, "seq": seq_of(form.text), "note": "Checked."}
    preview = await client.post(
        f"/staff/complaints/{reference}/act/approve-response", data={**typed, "intent": "preview"}
    )
    assert preview.status_code == 200 and redrafted["findings"] in preview.text
    assert "Dear Ada Previewtest," in preview.text
    approved = await client.post(
        f"/staff/complaints/{reference}/act/approve-response", data={**typed, "intent": "send"}
    )
    assert approved.status_code == 303, approved.text
    complaint = await read(client, settings, reference)
    assert complaint["status"] == "responded" and templates(complaint).count("response") == 1
    # The stage is answered when the resident is sent the response: on approval, not when it was drafted.
    answered = await responded_at(pool, reference)
    assert answered is not None and answered > drafted_at
    case = await client.get(f"/staff/complaints/{reference}")
    assert "Drafted by ian.investigator, approved and sent." in case.text
    # The letter on the case reads as the preview did (the same rendering, the name read now).
    links = re.findall(rf'href="(/staff/complaints/{reference}/letters/[^"]+)">Response<', case.text)
    assert len(links) == 1
    letter = await client.get(links[0])
    assert "Dear Ada Previewtest," in letter.text and redrafted["findings"] in letter.text


async def test_without_the_policy_field_a_response_is_sent_at_once(console: Console) -> None:
    client, settings = console
    reference = await assigned(client, settings)
    answer = await client.post(
        f"/api/complaints/{reference}/respond", json=RESPONSE, headers=bearer("ian.investigator", settings)
    )
    assert answer.status_code == 200 and answer.json()["status"] == "responded"
    manager = await client.post(
        f"/api/complaints/{reference}/approve-response", json={}, headers=bearer("maya.manager", settings)
    )
    assert manager.status_code == 409


def pre(html: str, element_id: str) -> str:
    found = re.search(rf'<pre [^>]*id="{element_id}">(.*?)</pre>', html, re.DOTALL)
    assert found, element_id
    return found.group(1)


async def test_the_preview_is_the_letter_the_outbox_then_holds(console: Console) -> None:  # noqa: F811
    client, settings = console
    reference = await open_complaint(
        client,
        settings,
        complainant={
            "name": "Ada Exactly",
            "email": "ada@example.org",
            "adjustments": {"kinds": ["large_print"]},
        },
    )
    token = await sign_in(client, "olivia.officer")
    form = await client.get(f"/staff/complaints/{reference}/act/acknowledge")
    typed = {"csrf_token": token, "seq": seq_of(form.text), "note": ""}
    preview = await client.post(
        f"/staff/complaints/{reference}/act/acknowledge", data={**typed, "intent": "preview"}
    )
    assert preview.status_code == 200, preview.text
    previewed = pre(preview.text, "letter-text-1")
    assert "Dear Ada Exactly," in previewed
    sent = await client.post(
        f"/staff/complaints/{reference}/act/acknowledge", data={**typed, "intent": "send"}
    )
    assert sent.status_code == 303
    case = await client.get(sent.headers["location"])
    (link,) = re.findall(rf'href="(/staff/complaints/{reference}/letters/[^"]+)">Acknowledgement<', case.text)
    letter = await client.get(link)
    assert pre(letter.text, "letter-text") == previewed  # word for word, dates included


async def test_with_a_draft_waiting_each_role_sees_exactly_what_the_api_allows(approving: Console) -> None:
    """For every role and action, on a complaint whose response waits for approval: a button is shown
    exactly when the API does not refuse the action (403 for the role, 409 for the status or the draft)."""
    client, settings = approving
    reference = await assigned(client, settings)
    drafted = await client.post(
        f"/api/complaints/{reference}/respond", json=RESPONSE, headers=bearer("ian.investigator", settings)
    )
    assert drafted.status_code == 200
    for user in DEMO_STAFF:
        client.cookies.clear()
        await sign_in(client, user.id)
        case = await client.get(f"/staff/complaints/{reference}")
        shown = buttons(case.text)
        assert ("approve_response" in shown) == (user.role is Role.MANAGER), user.id
        for name, action in ACTIONS.items():
            if name in shown:
                assert action.allows(user.role, 1), (user.id, name)
                continue
            detail = await refused_by_the_api(client, settings, reference, user.id, name)
            if detail is not None:
                assert "while the complaint is acknowledged" in detail or (
                    name == "respond" and "waiting for a manager's approval" in detail
                ), (user.id, name, detail)
