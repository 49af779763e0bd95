"""A held web submission (contact restriction, issue 29 point 11) withdrawn online by its sender stays
withdrawn, as any complaint withdrawn online does: an officer cannot then open a complaint from its triage
item (the sender would see a withdrawn complaint come back), and dismissing the item leaves the sender's view
as it was (withdrawn), not "declined"."""

from __future__ import annotations

from tests.api_helpers import assert_problem, bearer
from tests.test_contact_restrictions import held_submission
from tests.test_residents import Stack, auth, stack

__all__ = ["stack"]


async def test_a_held_submission_withdrawn_online_stays_withdrawn(stack: Stack) -> None:
    officer = bearer("olivia.officer", stack.settings)
    async with stack.client() as client:
        _, reference, code, item_id = await held_submission(stack, client, "Held gone.")
        url = f"/api/public/complaints/{reference}"
        gone = await client.post(f"{url}/withdraw", json={"reason": "Sorted."}, headers=auth(code))
        assert gone.status_code == 200 and gone.json()["status"] == "withdrawn", gone.text
        seen = (await client.get(url, headers=auth(code))).json()

        opened = await client.post(
            f"/api/triage/{item_id}/open-complaint",
            json={"policy_id": "bexley", "service_area": "housing-repairs"},
            headers=officer,
        )
        assert_problem(opened, 409, "withdrew it online")
        count = "SELECT count(*) FROM complaints WHERE reference = $1"
        assert await stack.pool.fetchval(count, reference) == 0

        dismissed = await client.post(
            f"/api/triage/{item_id}/dismiss", json={"reason": "Withdrawn by the sender."}, headers=officer
        )
        assert dismissed.status_code == 200, dismissed.text
        after = await client.get(url, headers=auth(code))
        assert after.status_code == 200 and after.json() == seen


async def test_a_dismissed_held_submission_gets_a_new_link_as_a_declined_complaint_does(stack: Stack) -> None:
    """Its sender who lost the code can ask for a new link and read what the council did, as the sender of a
    complaint declined can (nothing else would tell that it was held)."""
    officer = bearer("olivia.officer", stack.settings)
    async with stack.client() as client:
        email, reference, _, item_id = await held_submission(stack, client, "Held lost.")
        dismissed = await client.post(
            f"/api/triage/{item_id}/dismiss", json={"reason": "Repeats a complaint."}, headers=officer
        )
        assert dismissed.status_code == 200, dismissed.text
        links = (
            "SELECT count(*) FROM notifications WHERE reference IS NULL AND template = 'access_link'"
            " AND context->>'reference' = $1"
        )
        before = await stack.pool.fetchval(links, reference)
        asked = await client.post(f"/api/public/complaints/{reference}/access-link", json={"email": email})
        assert asked.status_code == 202, asked.text
        assert await stack.pool.fetchval(links, reference) == before + 1
