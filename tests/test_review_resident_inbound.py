"""A resident's-side review of inbound e-mail: a reply whose From the receiving relay found forged (DMARC
failed) never reaches the complaint of the address it claims; it waits in triage, flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.temporal import workflow_id
from inbound.parse import parse
from inbound.receive import receive, sweep
from tests.api_helpers import bearer
from tests.inbound_helpers import Inbound, complaint, inbound, inbound_row, mail
from tests.test_inbound_email import _information_events

__all__ = ["inbound"]  # the fixture, imported so pytest finds it here

FORGED = (
    "mx.council.example; spf=fail smtp.mailfrom=example.org; dkim=none;"
    " dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=example.org"
)


async def test_a_reply_whose_from_failed_dmarc_waits_in_triage(inbound: Inbound) -> None:
    """Anyone can put a complainant's address in From: (references are sequential, so easy to guess); the
    council's relay accepts it when the address's domain asks for nothing (p=none) but says so in
    Authentication-Results. That was ignored: the forged text and files went on the complaint as the
    resident's. A verified reply (a forged "pass" beside the relay's "fail" changes nothing) still does."""
    stack = inbound
    reference, address = await complaint(stack)
    forged = mail(
        sender=f"Ada Resident <{address}>",
        to=f"complaints+{reference}@council.example",
        text="Please withdraw my complaint, it is all sorted.",
        headers={"Authentication-Results": FORGED},
    )
    await stack.send(forged)
    row = await inbound_row(stack.pool, forged)
    assert (row["status"], row["flag"]) == ("triage", "sender_mismatch")
    assert await _information_events(stack, reference) == []

    also_forged = mail(
        sender=f"Ada Resident <{address}>",
        to=f"complaints+{reference}@council.example",
        text="Another forged message.",
    )
    del also_forged["Authentication-Results"]
    also_forged["Authentication-Results"] = "evil.example; dmarc=pass header.from=example.org"
    also_forged["Authentication-Results"] = "mx.council.example; dmarc=fail header.from=example.org"
    await stack.send(also_forged)
    assert (await inbound_row(stack.pool, also_forged))["flag"] == "sender_mismatch"

    verified = mail(
        sender=f"Ada Resident <{address}>",
        to=f"complaints+{reference}@council.example",
        text="The damp has spread.",
        headers={"Authentication-Results": "mx.council.example; spf=pass; dkim=pass; dmarc=pass"},
    )
    await stack.send(verified)
    assert (await inbound_row(stack.pool, verified))["status"] == "routed"


async def test_a_reply_to_a_complaint_whose_workflow_has_ended_reaches_an_officer(inbound: Inbound) -> None:
    """A complaint's workflow ends a year or so after closure (end_of_life). A reply to its letters after that
    was stored and its files kept, but the signal could never be sent: the message stayed `routing` and the
    sweep retried it every two minutes for ever, never putting it before anyone. Past a day it now waits in
    triage, flagged, like a message the sweep could not route."""
    stack = inbound
    reference, address = await complaint(stack)
    await stack.services.temporal.get_workflow_handle(workflow_id(reference)).terminate("ended")
    late = mail(sender=address, to=f"complaints+{reference}@council.example", text="The leak is back.")
    arrived = datetime.now(UTC) - timedelta(days=2)
    await receive(
        stack.services, bytes(late), recipients=[str(late["To"])], source="smtp", arrived_at=arrived
    )
    assert (await inbound_row(stack.pool, late))["status"] == "routing"
    await sweep(stack.services, older_than=timedelta(0))
    row = await inbound_row(stack.pool, late)
    assert (row["status"], row["flag"]) == ("triage", "not_delivered")
    listed = await stack.client.get("/api/triage", headers=bearer("olivia.officer", stack.settings))
    [item] = [item for item in listed.json() if item["id"] == str(row["id"])]
    assert item["flag_text"] == "its complaint has ended, so it could not be added: its files are on it"


def test_a_reference_past_the_millionth_complaint_is_still_read() -> None:
    """References are CMP-<year>-<number:06d> from one sequence that never restarts: past 999,999 complaints
    (the service is measured at 1,000,000) they have seven digits, and a reply naming one was never joined to
    its complaint (the patterns took exactly six)."""
    subject = mail(subject="Re: Your complaint CMP-2031-1000123").as_bytes()
    assert parse(subject).references == ["CMP-2031-1000123"]
    plus = mail(to="complaints+CMP-2031-1000123@council.example").as_bytes()
    assert parse(plus).references == ["CMP-2031-1000123"]
    # A longer number in running text is not cut down to a reference it does not name.
    assert parse(mail(subject="Invoice CMP-2026-0001234x").as_bytes()).references == []
