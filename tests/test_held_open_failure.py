"""A held web submission (contact restriction, issue 29 point 11) whose "open a complaint" decision failed
part-way: the officer's request got no answer (Temporal did not answer in time) although the complaint's
workflow may have started under the held reference and write its case row later. Until that row exists the
item must not be dismissed (the complaint would then be left without its e-mails, evidence and codes): it can
only be opened again, which finishes that same complaint under the reference its sender was given."""

from __future__ import annotations

from typing import Any

import pytest

from api.errors import ProblemError
from inbound import triage
from tests.api_helpers import assert_problem, bearer
from tests.test_contact_restrictions import held_submission
from tests.test_residents import Stack, stack

__all__ = ["stack"]


async def test_a_held_item_whose_open_got_no_answer_can_only_be_opened_again(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = bearer("olivia.officer", stack.settings)
    async with stack.client() as client:
        _, reference, _, item_id = await held_submission(stack, client, "Held open.")

        async def no_answer(*args: Any, **kwargs: Any) -> str:
            # As api/intake.py answers when Temporal does not confirm the open in time: the workflow may
            # have started and may still write the complaint's case row.
            raise ProblemError(503, "Service unavailable", "the workflow engine did not open it in time")

        with monkeypatch.context() as patched:
            patched.setattr(triage, "open_staff_complaint", no_answer)
            failed = await client.post(
                f"/api/triage/{item_id}/open-complaint",
                json={"policy_id": "bexley", "service_area": "housing-repairs"},
                headers=officer,
            )
        assert failed.status_code == 503, failed.text

        refused = await client.post(
            f"/api/triage/{item_id}/dismiss", json={"reason": "Repeats a complaint."}, headers=officer
        )
        assert_problem(refused, 409, f"an earlier decision began opening complaint {reference}")
        opened = await client.post(
            f"/api/triage/{item_id}/open-complaint",
            json={"policy_id": "bexley", "service_area": "housing-repairs"},
            headers=officer,
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["reference"] == reference
