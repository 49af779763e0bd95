"""A resident's-side review (issue: independent review): defects a resident, a representative or a hostile
tester would meet on the resident pages, each pinned by the test that found it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import commands as cmd
from tests.factories import INVESTIGATOR, OFFICER
from tests.make_journey import error_summary
from tests.test_resident_journeys import form_key_of
from tests.test_residents import Stack, make, settled, stack
from tests.test_residents_pages import signed_in
from tests.test_trust_uploads import EICAR, clamd

__all__ = ["clamd", "stack"]  # the fixtures, imported so pytest finds them here


async def test_a_date_no_calendar_has_is_a_clear_error_not_a_server_error(stack: Stack) -> None:
    """The extension answer's date boxes: a year of twenty digits, or a superscript digit (which Python
    calls a digit but cannot read as a number), is a date to correct, never a 500."""
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await signed_in(client, reference, token)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        asked_for = (datetime.now(UTC) + timedelta(days=400)).date()
        ask = cmd.AskExtensionAgreement(actor=INVESTIGATOR, up_to=asked_for, reason="The survey is in March.")
        await stack.staff(reference, "ask_extension_agreement", ask)
        key = form_key_of((await client.get(f"/complaint/{reference}")).text)
        for day, month, year, message in (
            ("1", "2", "9" * 20, "The latest date must be a real date"),
            ("1", "2", "99999", "The latest date must be a real date"),
            ("1", "²", "2027", "The latest date must include a day, month and year"),
            ("1", "2", "2150", "The latest date must be Thursday 31 December 2099 or before"),
        ):
            sent = {
                "form_key": key,
                "agreed": "yes",
                "up_to-day": day,
                "up_to-month": month,
                "up_to-year": year,
            }
            response = await client.post(f"/complaint/{reference}/extension", data=sent)
            assert response.status_code == 422, (year, response.status_code)
            assert error_summary(response.text) == {"up_to-day": message}, year


async def test_a_file_the_virus_scanner_refuses_is_not_called_empty(stack: Stack, clamd: str) -> None:
    """The evidence form: the scanner's refusal said "The selected file is empty"."""
    app = stack.app_with(clamd_address=clamd)
    async with stack.client(app=app) as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await signed_in(client, reference, token)
        key = form_key_of((await client.get(f"/complaint/{reference}")).text)
        for content, message in (
            (EICAR, "The selected file contains a virus"),
            (b"", "The selected file is empty"),
        ):
            sent = await client.post(
                f"/complaint/{reference}/evidence",
                data={"form_key": key},
                files={"file": ("photo.txt", content, "text/plain")},
            )
            assert sent.status_code == 422
            assert error_summary(sent.text) == {"file": message}
