"""Limits where people write (issue 23): a flood of long messages and notes leaves a complaint workable, a
resident's messages and files are limited per complaint per day, and the event trail is read a page at a
time."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import httpx

from api.resident.tokens import form_key
from core.temporal import workflow_id
from tests.api_helpers import assert_problem, bearer
from tests.factories import state_of
from tests.test_residents import Stack, auth, make, settled, stack  # noqa: F401 (the fixture)
from tests.test_residents_pages import signed_in

LONGEST = 10_000
FLOOD = 400
BATCH = 20
STATE_LIMIT = 64 * 1024


async def _all_ok(requests: list[Coroutine[Any, Any, httpx.Response]]) -> None:
    answers = await asyncio.gather(*requests)
    assert all(answer.status_code == 200 for answer in answers), [
        a.text for a in answers if a.status_code != 200
    ]


async def test_a_flood_of_long_messages_and_notes_leaves_the_complaint_workable(stack: Stack) -> None:  # noqa: F811
    app = stack.app_with(resident_messages_per_day=FLOOD * 2)  # the flood is not refused: it must be borne
    officer = bearer("olivia.officer", stack.settings)
    async with stack.client(app=app) as client:
        reference, token = await make(client)
        await settled(stack, reference)
        assert (
            await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=officer)
        ).is_success
        for start in range(0, FLOOD, BATCH):
            requests = []
            for number in range(start, start + BATCH):
                text = f"{number} " + "x" * LONGEST
                requests.append(
                    client.post(
                        f"/api/public/complaints/{reference}/information",
                        json={"summary": text[:LONGEST]},
                        headers=auth(token),
                    )
                )
                requests.append(
                    client.post(
                        f"/api/complaints/{reference}/add-note",
                        json={"text": text[:LONGEST]},
                        headers=officer,
                    )
                )
            await _all_ok(requests)

        # Staff still act on it, and the workflow runs.
        assigned = await client.post(
            f"/api/complaints/{reference}/assign", json={"assignee": "ian.investigator"}, headers=officer
        )
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["assigned_to"] == "ian.investigator"
        state = await state_of(stack.env.client.get_workflow_handle(workflow_id(reference)))
        assert (state.notes_added, state.information_received) == (FLOOD, FLOOD)
        assert len(state.model_dump_json()) < STATE_LIMIT

        # Reads are small: the case shows the latest events; the trail is read a page at a time.
        read = await client.get(f"/api/complaints/{reference}", headers=officer)
        assert read.status_code == 200 and len(read.content) < 150_000
        assert read.json()["events_total"] == 2 * FLOOD + 3  # received, acknowledged, assigned
        assert read.json()["history"][-1]["action"] == "assign"
        notes: list[str] = []
        cursor: str | None = None
        while True:
            params = {"action": "add_note", "limit": "100"} | ({"cursor": cursor} if cursor else {})
            page = await client.get(f"/api/complaints/{reference}/events", params=params, headers=officer)
            assert page.status_code == 200 and len(page.content) < 1_100_000
            notes += [item["detail"]["text"] for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert len(notes) == FLOOD and all(len(note) == LONGEST for note in notes)
        assert_problem(
            await client.get(f"/api/complaints/{reference}/events?cursor=nonsense", headers=officer), 422
        )

    # The officer was told of the resident's messages once that day, not 400 times.
    told = await stack.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE reference = $1 AND template = 'new_information'", reference
    )
    assert told == 1


async def test_messages_past_the_days_limit_are_refused_kindly_and_the_officer_told_once(
    stack: Stack,  # noqa: F811
) -> None:
    app = stack.app_with(resident_messages_per_day=3)
    async with stack.client(app=app) as client:
        reference, token = await make(client)
        await settled(stack, reference)
        information = f"/api/public/complaints/{reference}/information"
        for number in range(3):
            sent = await client.post(information, json={"summary": f"Photo {number}"}, headers=auth(token))
            assert sent.status_code == 200, sent.text
        for _ in range(2):
            refused = await client.post(information, json={"summary": "One more"}, headers=auth(token))
            problem = assert_problem(refused, 429, "as many as we can take online in one day")
            assert "Everything you have sent has reached us" in problem["detail"]
            assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
        # Evidence counts against the same allowance.
        upload = await client.post(
            f"/api/public/complaints/{reference}/attachments",
            files={"file": ("damp.jpg", b"photo", "image/jpeg")},
            headers=auth(token),
        )
        assert_problem(upload, 429)
    limited = await stack.pool.fetch(
        "SELECT recipient, context FROM notifications WHERE reference = $1 AND template = 'messages_limited'",
        reference,
    )
    assert len(limited) == 1 and limited[0]["context"]["allowed"] == 3
    events = await stack.pool.fetchval(
        "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'add_information'", reference
    )
    assert events == 3


async def test_the_pages_past_the_days_limit_say_when_to_come_back(stack: Stack) -> None:  # noqa: F811
    """The resident's page refusing a message or a file past the day's limit carries the API's Retry-After."""
    app = stack.app_with(resident_messages_per_day=1)
    async with stack.client(app=app) as client:
        reference, token = await make(client)
        await settled(stack, reference)
        session = await signed_in(client, reference, token)
        sent = await client.post(
            f"/complaint/{reference}/information", data={"summary": "Photo", "form_key": form_key(session)}
        )
        assert sent.status_code == 303, sent.text
        refused = await client.post(
            f"/complaint/{reference}/information", data={"summary": "More", "form_key": form_key(session)}
        )
        assert refused.status_code == 429 and "as many as we can take online in one day" in refused.text
        assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
        upload = await client.post(
            f"/complaint/{reference}/evidence",
            data={"form_key": form_key(session)},
            files={"file": ("damp.jpg", b"photo", "image/jpeg")},
        )
        assert upload.status_code == 429 and 0 < int(upload.headers["Retry-After"]) <= 24 * 3600
