"""Subject access (issue 29 point 11 review): a submission held in triage for a contact restriction has no
case row, but the person's data it holds (the form's answers, the e-mails waiting in the outbox, the access
codes, the triage item) is found under the reference the person was given, by the roles that answer subject
access requests, as a complaint's is; the request is audited."""

from __future__ import annotations

from tests.api_helpers import bearer
from tests.test_contact_restrictions import held_submission
from tests.test_residents import Stack, stack

__all__ = ["stack"]


async def test_a_held_submission_is_found_by_a_subject_access_request(stack: Stack) -> None:
    async with stack.client() as client:
        email, reference, _, _ = await held_submission(stack, client, "Held data.")
        url = f"/api/complaints/{reference}/personal-data"

        refused = await client.get(url, headers=bearer("olivia.officer", stack.settings))
        assert refused.status_code == 403, refused.text
        found = await client.get(url, headers=bearer("maya.manager", stack.settings))
    assert found.status_code == 200, found.text
    data = found.json()
    assert data["reference"] == reference and data["status"] == "received"
    assert data["summary"] == "Held data." and data["complainant"]["email"] == email
    assert {"access_link", "complaint_copy"} <= {message["template"] for message in data["messages"]}
    assert len(data["resident_access"]) >= 1
    assert [message["sender"] for message in data["inbound_emails"]] == [email.lower()]
    audited = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'subject_access' AND reference = $1", reference
    )
    assert audited == 1


async def test_a_role_without_subject_access_learns_nothing_of_a_reference(stack: Stack) -> None:
    """An investigator asking for the personal data gets the same 403 for a held submission's reference, a
    complaint's and one that does not exist: the answer never tells a held reference apart."""
    async with stack.client() as client:
        _, held, _, _ = await held_submission(stack, client, "Held data.")
        investigator = bearer("ian.investigator", stack.settings)
        answers = [
            (await client.get(f"/api/complaints/{reference}/personal-data", headers=investigator)).status_code
            for reference in (held, "CMP-2026-999999")
        ]
    assert answers == [403, 403]
