"""A held web submission (contact restriction, issue 29 point 11) shows no acknowledgement or assignment until
an officer decides it, although its sender was told an acknowledgement date. Staff cannot miss it: the
triage queue (API and console) shows that date, marked overdue or due within 3 working days as the complaint
queues mark theirs; the managers' overdue digest and the nightly reconciliation count the held items past it;
and once it has passed, the sender's page no longer says "we will acknowledge it by" a day gone (it says what
a complaint's page says then: the same words, whether held or not)."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from temporalio.testing import ActivityEnvironment

from activities.digest import DigestActivities, WriteDigests
from activities.reconcile import ReconcileActivities, ReconcilePage
from api.main import create_app
from core.services import Services
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, bearer
from tests.factories import LONDON
from tests.live_server import live_server, loopback
from tests.staff_console import sign_in
from tests.test_contact_restrictions import Held, _page, held_submission
from tests.test_residents import Stack, auth, make, settled, stack

__all__ = ["stack"]


async def _told(stack: Stack, reference: str, day: date) -> None:
    """Days go by: the acknowledgement date the sender was told is now `day` away (or past)."""
    await stack.pool.execute(
        "UPDATE held_submissions SET acknowledge_by = $2 WHERE reference = $1", reference, day
    )


async def _late_later_and_dismissed(stack: Stack, today: date) -> tuple[Held, Held, Held]:
    """Three held submissions: one past the date its sender was told, one well before it, and one past it
    but dismissed (decided: no longer anyone's to acknowledge)."""
    async with stack.client() as client:
        late = await held_submission(stack, client, "Held past its date.")
        later = await held_submission(stack, client, "Held, time enough.")
        decided = await held_submission(stack, client, "Held, then dismissed.")
    await _told(stack, late.reference, today - timedelta(days=6))
    await _told(stack, later.reference, today + timedelta(days=30))
    await _told(stack, decided.reference, today - timedelta(days=6))
    await stack.pool.execute(
        "UPDATE inbound_messages SET status = 'dismissed' WHERE id = $1::uuid", decided.item_id
    )
    return late, later, decided


async def _console_triage(stack: Stack) -> str:
    """The staff console's triage queue, signed in as an officer (development sign-in, plain HTTP)."""
    services: Services = stack.app.state.services
    for user in DEMO_STAFF:
        await StaffRepository(stack.pool).upsert(user=user, password=PASSWORD)
    settings = services.settings.model_copy(update={"cookie_secure": False, "environment": "development"})
    app = create_app(settings, dataclasses.replace(services, settings=settings))
    async with live_server(loopback(app)) as base, httpx.AsyncClient(base_url=base, timeout=60) as client:
        await sign_in(client, "olivia.officer")
        page = await client.get("/staff/triage")
        assert page.status_code == 200, page.text
        return page.text


def _row(page: str, item_id: str) -> str:
    found = re.search(rf'<tr class="govuk-table__row" data-item="{item_id}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {item_id}"
    return found.group(1)


async def test_staff_see_a_held_items_acknowledgement_date_due_soon_or_overdue(stack: Stack) -> None:
    today = datetime.now(UTC).astimezone(LONDON).date()
    officer = bearer("olivia.officer", stack.settings)
    async with stack.client() as client:
        late = await held_submission(stack, client, "Held and late.")
        soon = await held_submission(stack, client, "Held and due soon.")
        later = await held_submission(stack, client, "Held, time enough.")
        await _told(stack, late.reference, today - timedelta(days=6))
        await _told(stack, soon.reference, today + timedelta(days=1))
        await _told(stack, later.reference, today + timedelta(days=30))

        queue = await client.get("/api/triage?limit=500", headers=officer)
        assert queue.status_code == 200, queue.text
        items = {item["id"]: item for item in queue.json()}
        assert items[late.item_id]["acknowledge_by"] == (today - timedelta(days=6)).isoformat()
        assert items[late.item_id]["due"] == "overdue"
        assert items[soon.item_id]["due"] == "due_soon"
        assert items[later.item_id]["acknowledge_by"] == (today + timedelta(days=30)).isoformat()
        assert items[later.item_id]["due"] is None
        # An e-mail in triage owes no date.
        assert all(item["acknowledge_by"] is None for item in items.values() if item["flag"] is None)

    page = await _console_triage(stack)
    assert "Overdue" in _row(page, late.item_id) and "Acknowledge by" in _row(page, late.item_id)
    assert "Due within 3 working days" in _row(page, soon.item_id)
    assert "Overdue" not in _row(page, later.item_id)
    assert "Due within" not in _row(page, later.item_id)
    assert "Acknowledge by" in _row(page, later.item_id)


async def test_the_overdue_digest_counts_held_items_past_their_date(stack: Stack) -> None:
    today = datetime.now(UTC).astimezone(LONDON).date()
    services: Services = stack.app.state.services
    manager = f"m-{uuid.uuid4().hex[:8]}"
    await stack.pool.execute(
        "INSERT INTO staff_users (id, name, role, password_hash) VALUES ($1, 'Manager', 'manager', 'x')",
        manager,
    )
    late, later, decided = await _late_later_and_dismissed(stack, today)

    digests = DigestActivities(stack.pool, services.policies)
    result = await ActivityEnvironment().run(
        digests.write_overdue_digests, WriteDigests(at=datetime.now(UTC), on=today)
    )
    [digest] = [d for d in result.digests if d.manager == manager and d.policy_id == "bexley"]
    assert late.reference in digest.overdue
    assert later.reference not in digest.overdue + digest.due_soon
    assert decided.reference not in digest.overdue + digest.due_soon
    context = await stack.pool.fetchval(
        "SELECT context FROM notifications WHERE id = $1", digest.notification_id
    )
    [line] = [item for item in context["overdue"] if item["reference"] == late.reference]
    assert line["what"] == "acknowledgement" and line["status"] == "held_in_triage"
    assert line["due"] == (today - timedelta(days=6)).isoformat()


async def test_the_reconciliation_flags_held_items_past_their_date(stack: Stack) -> None:
    today = datetime.now(UTC).astimezone(LONDON).date()
    services: Services = stack.app.state.services
    late, later, decided = await _late_later_and_dismissed(stack, today)

    reconcile = ReconcileActivities(
        stack.pool, stack.env.client, services.settings.task_queue, services.policies
    )
    page = await ActivityEnvironment().run(
        reconcile.reconcile_page, ReconcilePage(after=None, limit=1, stored_before=datetime.now(UTC))
    )
    assert late.reference in page.flagged
    assert later.reference not in page.flagged and decided.reference not in page.flagged
    flagged = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'held_submission_overdue'"
        " AND after->>'answered_with' = $1",
        late.reference,
    )
    assert flagged >= 1


async def test_past_its_date_the_senders_page_says_what_a_late_complaints_page_says(stack: Stack) -> None:
    """No "we will acknowledge it by" a day gone; and a held one reads as a complaint past the same date."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    past = today - timedelta(days=6)
    async with stack.client() as client:
        held = await held_submission(stack, client, "Held one.")
        reference, code = await make(client, summary="Held one.")
        await settled(stack, reference)
        await _told(stack, held.reference, past)
        # The same days gone for a complaint nobody acknowledged (its read model, as the workflow keeps it).
        await stack.pool.execute(
            "UPDATE complaints SET acknowledge_by = $2 WHERE reference = $1", reference, past
        )
        seen = await client.get(f"/api/public/complaints/{held.reference}", headers=auth(held.code))
        fresh = await client.get(f"/api/public/complaints/{reference}", headers=auth(code))
    assert seen.status_code == fresh.status_code == 200, seen.text
    view = seen.json()
    assert "We will acknowledge" not in view["status_text"]
    assert "We said we would acknowledge it by" in view["status_text"]
    assert view["dates"]["acknowledgement_late"] is True
    normal = fresh.json()
    assert view["status_text"] == normal["status_text"]
    assert view["dates"]["acknowledgement_late"] == normal["dates"]["acknowledgement_late"]
    assert view["status"] == normal["status"] == "received"
    assert view["dates"] == normal["dates"]
    # The pages too, alike: what was said, not "we will" by a day gone.
    for answer in (
        {"reference": held.reference, "access_token": held.code},
        {"reference": reference, "access_token": code},
    ):
        page = await _page(stack, answer)
        assert "We said we would acknowledge it by" in page and "We will acknowledge it by" not in page
        assert view["status_text"] in page.replace("&#39;", "'")
