"""Reasonable adjustments: the complainant's needs (kinds, free text, language, letter format) are taken by
the staff API, the public API and the complaint form, shown on the case, put in every staff notice, and
letters honour the format (large print)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from core.settings import Settings
from domain import commands as cmd
from domain.models import Adjustments, Complainant
from notifications.render import render
from tests.api_helpers import bearer, complaint_body
from tests.factories import INVESTIGATOR, OFFICER
from tests.make_journey import answers, begin, make_on_pages
from tests.test_notifications import POLICIES, contexts
from tests.test_residents import Stack, make, new_email, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here

NEEDS = {
    "kinds": ["large_print", "advocate"],
    "details": "My daughter helps me read letters.",
    "preferred_language": "Polish",
    "preferred_format": "large_print",
}


async def notices(pool: asyncpg.Pool, reference: str, count: int = 2) -> list[dict[str, Any]]:
    """The outbox rows of the complaint once the workflow's first event has queued them."""
    for _ in range(250):
        rows = await pool.fetch(
            "SELECT template, audience, context FROM notifications WHERE reference = $1 ORDER BY id",
            reference,
        )
        if len(rows) >= count:
            return [dict(row) for row in rows]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no notices queued for {reference}")


def test_a_complainant_without_adjustments_still_reads_as_before() -> None:
    old = Complainant.model_validate(
        {"name": "Ada", "email": "ada@example.org", "preferred_contact": "email"}
    )
    assert old.adjustments is None
    needs = Adjustments.model_validate(NEEDS)
    assert needs.large_print
    assert needs.summary() == (
        "large print; advocate; language: Polish; format: large print; My daughter helps me read letters."
    )


def test_letters_honour_large_print_and_staff_notices_list_the_needs() -> None:
    policy = POLICIES["bexley"]
    context = contexts(policy)["acknowledgement"]
    standard = render("acknowledgement", context, policy).html
    large = render("acknowledgement", context | {"large_print": True}, policy).html
    assert "font-size: 19px" in standard and 'data-format="large-print"' not in standard
    assert "font-size: 24px" in large and 'data-format="large-print"' in large
    notice = render(
        "new_complaint", contexts(policy)["new_complaint"] | {"adjustments": "large print"}, policy
    )
    assert "Reasonable adjustments the complainant asked for: large print" in notice.text
    assert (
        "Reasonable adjustments"
        not in render("new_complaint", contexts(policy)["new_complaint"], policy).text
    )


async def test_staff_and_residents_give_adjustments_and_staff_see_them(stack: Stack) -> None:
    app = stack.app_with()
    settings: Settings = app.state.services.settings
    async with stack.client(app=app) as client:
        body = complaint_body(
            complainant={"name": "Ada Resident", "email": "ada@example.org", "adjustments": NEEDS}
        )
        created = await client.post("/api/complaints", json=body, headers=bearer("olivia.officer", settings))
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        case = await client.get(f"/api/complaints/{reference}", headers=bearer("ian.investigator", settings))
        assert case.json()["complainant"]["adjustments"] == NEEDS

        # The acknowledgement (a letter) and the assignment (a staff notice) queue one of each.
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await stack.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        queued = await notices(stack.pool, reference)
        staff = [row for row in queued if row["audience"] != "complainant"]
        letters = [row for row in queued if row["audience"] == "complainant"]
        assert staff and all("Polish" in row["context"]["adjustments"] for row in staff)
        assert letters and all(row["context"]["large_print"] is True for row in letters)

        bad = complaint_body(
            complainant={"name": "Ada", "email": "ada@example.org", "adjustments": {"kinds": ["x"]}}
        )
        refused = await client.post("/api/complaints", json=bad, headers=bearer("olivia.officer", settings))
        assert refused.status_code == 422

        # The public API and the complaint form.
        reference, _ = await make(client, adjustments={"kinds": ["bsl"]})
        row = await stack.pool.fetchval("SELECT complainant FROM complaints WHERE reference = $1", reference)
        assert row["adjustments"]["kinds"] == ["bsl"]

        email = new_email()
        # The question pages: the support asked for on one, the letters' format on the next.
        await begin(client, "bexley")
        support_page = await client.get("/complaint/make/support")
        assert 'name="adjustment_kinds"' in support_page.text
        assert 'for="preferred_language"' in support_page.text
        letters_page = await client.get("/complaint/make/letters")
        assert 'name="preferred_format"' in letters_page.text
        sent = await make_on_pages(
            client,
            answers(
                email=email,
                summary="Damp again.",
                adjustment_kinds=["other_language"],  # easy read is a format, asked on the letters page
                preferred_language="Urdu",
                preferred_format="easy_read",
            ),
        )
        assert sent.status_code == 200 and "Complaint received" in sent.text
        row = await stack.pool.fetchval(
            "SELECT complainant FROM complaints WHERE complainant ->> 'email' = $1", email
        )
        assert row["adjustments"] == {
            "kinds": ["other_language"],
            "details": "",
            "preferred_language": "Urdu",
            "preferred_format": "easy_read",
        }
