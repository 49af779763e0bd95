"""Delivering the outbox: exactly once through a real SMTP catcher, on a real PostgreSQL.

The tests use a database of their own (same server): the dispatcher sends every due row in its database,
and the workflow tests' rows must not end up in these tests' mailbox (nor be sent by them).
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import hashlib
import re
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.testing import ActivityEnvironment

from activities.notify import DeliverEvent, NotifyActivities
from core.settings import REPO_ROOT
from devstack.mail import MailCatcher, list_messages, read_message
from devstack.servers import free_port
from domain.policy import Policy
from notifications.channels import (
    OutgoingMessage,
    Sender,
    SmtpSender,
    message_id,
)
from notifications.delivery import DeliveryOptions, _loggable, deliver_one, delivery_problems
from notifications.dispatcher import OutboxDispatcher
from store.db import create_pool, migrate
from tests.api_helpers import CapturingSender
from tests.conftest import new_database

MAIL_FROM = "complaints@bexley.example"
ADA = {"name": "Ada Resident", "email": "ada@example.org", "preferred_contact": "email"}
STALE = DeliveryOptions(claim_timeout=timedelta(0))  # every claim counts as left behind


@pytest.fixture(scope="module")
async def db_url(postgres_server_url: str) -> str:
    """A database of this module's own, on the tests' server."""
    return await new_database(postgres_server_url, "complaints_delivery")


@pytest.fixture(scope="module")
async def db(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_url, max_size=8)
    await migrate(pool)
    yield pool
    await pool.close()


@pytest.fixture
def smtp(catcher: MailCatcher) -> SmtpSender:
    return SmtpSender(host=catcher.host, port=catcher.port, mail_from=MAIL_FROM, timeout=5)


def caught(catcher: MailCatcher) -> list[dict[str, Any]]:
    return list_messages(catcher.folder)


async def new_complaint(
    db: asyncpg.Pool,
    *,
    complainant: dict[str, Any] | None = None,
    representative: dict[str, Any] | None = None,
    anonymous: bool = False,
    policy_id: str = "bexley",
) -> tuple[str, str]:
    reference = f"D-{uuid.uuid4().hex[:10].upper()}"
    workflow_id = f"complaint-{reference}"
    await db.execute(
        "INSERT INTO complaints (reference, workflow_id, policy_id, status, channel, service_area,"
        " complainant, representative, anonymous, summary, received_at, created_by)"
        " VALUES ($1, $2, $3, 'acknowledged', 'email', 'housing-repairs', $4, $5, $6,"
        " 'Damp in the bedroom.', now(), 'olivia.officer')",
        reference,
        workflow_id,
        policy_id,
        complainant if complainant is not None else ADA,
        representative,
        anonymous,
    )
    return reference, workflow_id


def ack_context(reference: str) -> dict[str, Any]:
    return {
        "reference": reference,
        "stage": 1,
        "summary": "Damp in the bedroom reported three times and not fixed.",
        "desired_outcome": "Fix the damp.",
        "policy": "London Borough of Bexley",
        "respond_by": "2026-12-11",
    }


async def add_notification(
    db: asyncpg.Pool,
    reference: str,
    workflow_id: str,
    *,
    seq: int = 1,
    index: int = 0,
    template: str = "acknowledgement",
    audience: str = "complainant",
    recipient: str | None = "ada@example.org",
    context: dict[str, Any] | None = None,
) -> str:
    """A row as `ComplaintRepository.apply_event` (or the API) writes it."""
    notification_id = f"{workflow_id}:{seq}:{index}:{template}"
    await db.execute(
        "INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        notification_id,
        reference,
        workflow_id,
        seq,
        template,
        audience,
        recipient,
        context if context is not None else ack_context(reference),
    )
    return notification_id


async def row(db: asyncpg.Pool, notification_id: str) -> asyncpg.Record:
    record = await db.fetchrow("SELECT * FROM notifications WHERE id = $1", notification_id)
    assert record is not None
    return record


async def flagged(db: asyncpg.Pool, reference: str) -> tuple[bool, list[str]]:
    problem = await db.fetchval("SELECT delivery_problem FROM complaints WHERE reference = $1", reference)
    actions = await db.fetch(
        "SELECT action, after FROM audit_log WHERE reference = $1 ORDER BY id", reference
    )
    return bool(problem), [f"{a['action']}:{a['after']['notification_id']}" for a in actions]


class SimulatedCrash(BaseException):
    """The process dies: like a kill, nothing after this point runs (not even `except Exception`)."""


class CrashAfterSend:
    """Fault injection: the message really goes out, then the sender dies before the row is marked sent."""

    channel = "smtp"

    def __init__(self, inner: Sender, error: BaseException | None = None) -> None:
        self.inner = inner
        self.error = error or SimulatedCrash()

    async def send(self, message: OutgoingMessage) -> str:
        await self.inner.send(message)
        raise self.error


class Slow:
    """A sender that takes its time, so concurrent callers really overlap."""

    channel = "smtp"

    def __init__(self, inner: Sender) -> None:
        self.inner = inner
        self.calls = 0

    async def send(self, message: OutgoingMessage) -> str:
        self.calls += 1
        await asyncio.sleep(0.05)
        return await self.inner.send(message)


# ------------------------------------------------------------------------------------------- sending


async def test_sent_once_through_smtp_with_the_rendered_subject_and_body(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)

    assert await deliver_one(db, smtp, policies, notification_id, max_attempts=3) == "sent"

    [message] = caught(catcher)
    assert message["to"] == "ada@example.org"
    assert message["from"] == MAIL_FROM
    assert message["subject"] == f"We have received your complaint ({reference})"
    assert message["message_id"] == message_id(notification_id, MAIL_FROM)
    assert message["notification_id"] == notification_id
    assert f"Complaint reference: {reference}" in message["preview"]
    record = await row(db, notification_id)
    assert record["status"] == "sent"
    assert record["attempts"] == 1
    assert record["sent_at"] is not None
    assert record["channel"] == "smtp"
    assert record["subject"] == message["subject"]
    assert record["to_address"] == "ada@example.org"
    assert record["provider_id"] == message["message_id"]

    # Delivering the same id again (an activity retry, the dispatcher, a second worker) sends nothing.
    assert await deliver_one(db, smtp, policies, notification_id, max_attempts=3) == "sent"
    assert await OutboxDispatcher(db, smtp, policies).run_once() == 0
    assert len(caught(catcher)) == 1
    assert (await row(db, notification_id))["attempts"] == 1


async def test_the_same_message_delivered_concurrently_goes_out_once(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)
    slow = Slow(smtp)

    statuses = await asyncio.gather(*(deliver_one(db, slow, policies, notification_id) for _ in range(5)))

    assert slow.calls == 1
    assert len(caught(catcher)) == 1
    assert "sent" in statuses
    # The others saw it claimed (in hand) or already sent; none declared it uncertain.
    assert set(statuses) <= {"sent", "sending"}
    assert (await row(db, notification_id))["status"] == "sent"


async def test_a_consenting_representative_receives_it_instead_of_the_complainant(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    representative = {"name": "Rob Advocate", "email": "rob@advocacy.example", "consent_recorded": True}
    reference, workflow_id = await new_complaint(db, representative=representative)
    # The workflow names the representative; a row without a usable recipient is resolved from the case.
    named = await add_notification(db, reference, workflow_id, recipient="rob@advocacy.example")
    unnamed = await add_notification(db, reference, workflow_id, index=1, recipient="Rob Advocate")

    assert await deliver_one(db, smtp, policies, named) == "sent"
    assert await deliver_one(db, smtp, policies, unnamed) == "sent"

    assert [message["to"] for message in caught(catcher)] == ["rob@advocacy.example"] * 2


async def test_a_letter_greets_its_reader_by_the_name_on_the_case_record_at_delivery(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)
    representative = {"name": "Rob Advocate", "email": "rob@advocacy.example", "consent_recorded": True}
    rep_reference, rep_workflow = await new_complaint(db, representative=representative)
    rep_notification = await add_notification(
        db, rep_reference, rep_workflow, recipient="rob@advocacy.example"
    )

    assert await deliver_one(db, smtp, policies, notification_id) == "sent"
    assert await deliver_one(db, smtp, policies, rep_notification) == "sent"

    by_id = {item["notification_id"]: item["name"] for item in caught(catcher)}
    ada = read_message(catcher.folder, by_id[notification_id])
    rob = read_message(catcher.folder, by_id[rep_notification])
    assert ada is not None and rob is not None
    assert "Dear Ada Resident," in ada["text"] and "Hello," not in ada["text"]
    assert "Dear Rob Advocate," in rob["text"]
    # The name is read from the case, not kept in the outbox row (the purge clears the case alone).
    assert "Ada Resident" not in str((await row(db, notification_id))["context"])


async def test_a_representative_without_consent_is_not_written_to(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    representative = {"name": "Rob Advocate", "email": "rob@advocacy.example", "consent_recorded": False}
    reference, workflow_id = await new_complaint(db, representative=representative)
    notification_id = await add_notification(db, reference, workflow_id, recipient=None)

    assert await deliver_one(db, smtp, policies, notification_id) == "sent"
    assert [message["to"] for message in caught(catcher)] == ["ada@example.org"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ({"anonymous": True, "complainant": {"preferred_contact": "email"}}, "anonymous complaint"),
        (
            {"complainant": {"name": "Bo", "address": "1 High Street", "preferred_contact": "letter"}},
            "prefers contact by letter: send by post",
        ),
        (
            {"complainant": {**ADA, "preferred_contact": "letter"}},
            "prefers contact by letter: send by post",
        ),
        ({"complainant": {"name": "Bo", "phone": "01234 567890"}}, "no e-mail address: send by post"),
        (
            {"representative": {"name": "Rob", "consent_recorded": True}},
            "representative has no e-mail address: send by post",
        ),
    ],
    ids=["anonymous", "letter-only", "prefers-letter", "no-email", "representative-no-email"],
)
async def test_nothing_is_emailed_without_an_address_or_against_the_preference(
    db: asyncpg.Pool,
    policies: dict[str, Policy],
    catcher: MailCatcher,
    smtp: SmtpSender,
    case: dict[str, Any],
    reason: str,
) -> None:
    reference, workflow_id = await new_complaint(db, **case)
    notification_id = await add_notification(db, reference, workflow_id, recipient=None)

    assert await deliver_one(db, smtp, policies, notification_id) == "skipped"

    assert caught(catcher) == []
    record = await row(db, notification_id)
    assert record["status"] == "skipped"
    assert reason in record["last_error"]
    assert await flagged(db, reference) == (False, [])


async def test_staff_messages_go_to_the_staff_domain(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(
        db,
        reference,
        workflow_id,
        template="assigned",
        audience="staff",
        recipient="ian.investigator",
        context={"reference": reference, "stage": 1},
    )
    options = DeliveryOptions(staff_email_domain="bexley.example")

    assert await deliver_one(db, smtp, policies, notification_id, options=options) == "sent"

    [message] = caught(catcher)
    assert message["to"] == "ian.investigator@bexley.example"
    assert message["subject"] == f"Complaint {reference} has been assigned to you"


async def test_a_message_that_cannot_be_rendered_fails_and_is_flagged(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id, context={"reference": reference})

    assert await deliver_one(db, smtp, policies, notification_id) == "failed"

    assert caught(catcher) == []
    assert "cannot render" in (await row(db, notification_id))["last_error"]
    assert await flagged(db, reference) == (True, [f"delivery_failed:{notification_id}"])


# ------------------------------------------------------------------------------------------- faults


async def test_a_crash_between_send_and_record_is_sent_again_with_the_same_message_id_and_flagged(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)

    # The message goes out, then the worker dies before it records that: the row stays claimed.
    with pytest.raises(SimulatedCrash):
        await deliver_one(db, CrashAfterSend(smtp), policies, notification_id)
    assert len(caught(catcher)) == 1
    assert (await row(db, notification_id))["status"] == "sending"

    # The activity is retried at once (its claim is fresh: someone may still be sending it): nothing sent.
    assert await deliver_one(db, smtp, policies, notification_id) == "sending"
    assert len(caught(catcher)) == 1

    # Once the claim is stale the dispatcher resolves it: SMTP keeps no record to ask, so the message is
    # sent again with the same Message-ID (a copy, never a letter lost), and staff are told.
    assert await OutboxDispatcher(db, smtp, policies, options=STALE).run_once() >= 1
    assert await OutboxDispatcher(db, smtp, policies, options=STALE).run_once() == 0
    messages = caught(catcher)
    assert len(messages) == 2
    assert messages[0]["message_id"] == messages[1]["message_id"] == message_id(notification_id, MAIL_FROM)
    record = await row(db, notification_id)
    assert (record["status"], record["recovered"], record["attempts"]) == ("sent", "sent again", 2)
    assert record["sent_at"] is not None
    assert await flagged(db, reference) == (True, [f"delivery_recovered:{notification_id}"])
    [problem] = await delivery_problems(db, reference)
    assert problem["id"] == notification_id
    assert problem["recovered"] == "sent again"
    assert problem["to_address"] == "ada@example.org"


async def test_an_unexpected_error_after_sending_is_uncertain_at_once_and_never_resent(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)

    crashing = CrashAfterSend(smtp, RuntimeError("connection reset after DATA"))
    assert await deliver_one(db, crashing, policies, notification_id) == "uncertain"
    assert await deliver_one(db, smtp, policies, notification_id) == "uncertain"

    assert len(caught(catcher)) == 1
    assert await flagged(db, reference) == (True, [f"delivery_uncertain:{notification_id}"])


async def test_transient_failures_retry_with_backoff_then_fail_and_flag_staff(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)
    down = SmtpSender(host="127.0.0.1", port=free_port(), mail_from=MAIL_FROM, timeout=5)  # nobody listens

    waits = []
    for attempt in (1, 2):
        before = datetime.now(UTC)
        assert await deliver_one(db, down, policies, notification_id, max_attempts=3) == "pending"
        record = await row(db, notification_id)
        assert record["attempts"] == attempt
        assert "SMTP server unavailable" in record["last_error"]
        waits.append(record["next_attempt_at"] - before)
        # Not due yet: the dispatcher leaves it alone until its backoff has passed.
        assert await OutboxDispatcher(db, down, policies, max_attempts=3).run_once() == 0
    assert timedelta(seconds=50) < waits[0] <= timedelta(minutes=1, seconds=10)
    assert timedelta(minutes=1, seconds=50) < waits[1] <= timedelta(minutes=2, seconds=10)
    assert await flagged(db, reference) == (False, [])

    assert await deliver_one(db, down, policies, notification_id, max_attempts=3) == "failed"
    record = await row(db, notification_id)
    assert record["attempts"] == 3
    assert "gave up after 3 tries" in record["last_error"]
    assert await flagged(db, reference) == (True, [f"delivery_failed:{notification_id}"])
    assert caught(catcher) == []


async def test_a_message_waiting_for_a_retry_is_sent_by_the_dispatcher_when_due(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)
    down = SmtpSender(host="127.0.0.1", port=free_port(), mail_from=MAIL_FROM, timeout=5)
    assert await deliver_one(db, down, policies, notification_id) == "pending"

    # The server is back and the backoff has passed.
    await db.execute("UPDATE notifications SET next_attempt_at = now() WHERE id = $1", notification_id)
    assert await OutboxDispatcher(db, smtp, policies).run_once() == 1

    record = await row(db, notification_id)
    assert (record["status"], record["attempts"], record["last_error"]) == ("sent", 2, None)
    assert len(caught(catcher)) == 1


async def test_the_dispatcher_sends_rows_no_activity_delivered(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    # Written by the API side (say, a resident's new information): no workflow activity will deliver it.
    notification_id = await add_notification(db, reference, workflow_id, seq=7)

    dispatcher = OutboxDispatcher(db, smtp, policies, poll_interval=0.05)
    running = asyncio.create_task(dispatcher.run())
    try:
        for _ in range(100):
            if (await row(db, notification_id))["status"] == "sent":
                break
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    assert (await row(db, notification_id))["status"] == "sent"
    assert [message["notification_id"] for message in caught(catcher)] == [notification_id]


async def test_two_dispatchers_at_once_send_each_message_once(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    ids = []
    for _ in range(4):
        reference, workflow_id = await new_complaint(db)
        for index in range(3):
            ids.append(await add_notification(db, reference, workflow_id, index=index))
    first, second = Slow(smtp), Slow(smtp)

    await asyncio.gather(
        OutboxDispatcher(db, first, policies, batch_size=5).run_once(),
        OutboxDispatcher(db, second, policies, batch_size=5).run_once(),
    )

    sent = sorted(message["notification_id"] for message in caught(catcher))
    assert sent == sorted(ids)
    assert first.calls + second.calls == len(ids)
    statuses = await db.fetch("SELECT DISTINCT status FROM notifications WHERE id = ANY($1)", ids)
    assert [record["status"] for record in statuses] == ["sent"]


# ------------------------------------------------------------------------------------------- activity


async def test_deliver_event_sends_every_message_of_the_event_and_never_fails_on_a_mail_outage(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    to_complainant = await add_notification(db, reference, workflow_id, seq=3)
    to_staff = await add_notification(
        db,
        reference,
        workflow_id,
        seq=3,
        index=1,
        template="assigned",
        audience="staff",
        recipient="ian.investigator",
        context={"reference": reference, "stage": 1},
    )
    other_event = await add_notification(db, reference, workflow_id, seq=4)
    env = ActivityEnvironment()

    # The mail server is down: the activity still succeeds, the messages wait for the dispatcher.
    down = SmtpSender(host="127.0.0.1", port=free_port(), mail_from=MAIL_FROM, timeout=5)
    outage = NotifyActivities(db, down, policies, max_attempts=5)
    assert await env.run(outage.deliver_event, DeliverEvent(workflow_id=workflow_id, seq=3)) == [
        "pending",
        "pending",
    ]
    await db.execute(
        "UPDATE notifications SET next_attempt_at = now() WHERE seq = 3 AND reference = $1", reference
    )

    activities = NotifyActivities(db, smtp, policies, max_attempts=5)
    request = DeliverEvent(workflow_id=workflow_id, seq=3)
    assert await env.run(activities.deliver_event, request) == ["sent", "sent"]
    # A retried activity changes nothing.
    assert await env.run(activities.deliver_event, request) == ["sent", "sent"]

    assert sorted(message["notification_id"] for message in caught(catcher)) == sorted(
        [to_complainant, to_staff]
    )
    assert (await row(db, other_event))["status"] == "pending"
    await deliver_one(db, smtp, policies, other_event)  # leave nothing due for the other tests


_KILLED_WORKER = """
import asyncio, os, sys
from core.settings import REPO_ROOT
from domain.policy_files import load_policies
from notifications.channels import SmtpSender
from notifications.delivery import deliver_one
from store.db import create_pool

dsn, port, notification_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class DieAfterSend(SmtpSender):
    async def send(self, message):
        provider_id = await super().send(message)
        os._exit(9)  # killed: no except, no finally, no clean disconnect


async def main():
    pool = await create_pool(dsn)
    sender = DieAfterSend(host="127.0.0.1", port=port, mail_from="complaints@bexley.example")
    await deliver_one(pool, sender, load_policies(REPO_ROOT / "policies"), notification_id)


asyncio.run(main())
"""


async def test_a_worker_killed_after_sending_is_resolved_by_the_next_dispatcher_and_flagged(
    db: asyncpg.Pool, db_url: str, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)

    # A real worker process sends the message and is killed before it can record it.
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _KILLED_WORKER, db_url, str(catcher.port), notification_id, cwd=str(REPO_ROOT)
    )
    assert await asyncio.wait_for(child.wait(), timeout=60) == 9
    assert len(caught(catcher)) == 1
    assert (await row(db, notification_id))["status"] == "sending"

    # Before the claim is stale another worker leaves it alone (the first might still be sending).
    assert await OutboxDispatcher(db, smtp, policies).run_once() == 0
    # Once it is stale (NOTIFICATION_CLAIM_TIMEOUT, two minutes by default): sent again, same Message-ID.
    assert DeliveryOptions().claim_timeout <= timedelta(minutes=2)
    assert await OutboxDispatcher(db, smtp, policies, options=STALE).run_once() >= 1
    record = await row(db, notification_id)
    assert (record["status"], record["recovered"]) == ("sent", "sent again")
    assert len({message["message_id"] for message in caught(catcher)}) == 1
    assert len(caught(catcher)) == 2
    assert await flagged(db, reference) == (True, [f"delivery_recovered:{notification_id}"])


async def test_an_access_link_code_is_drawn_when_sent_and_never_stored(
    db: asyncpg.Pool, policies: dict[str, Policy], catcher: MailCatcher, smtp: SmtpSender
) -> None:
    reference, workflow_id = await new_complaint(db)
    token_id = await db.fetchval(
        "INSERT INTO resident_tokens (reference, token_hash, expires_at, kind)"
        " VALUES ($1, $2, now() + interval '7 days', 'link') RETURNING id",
        reference,
        f"sealed-{reference}",
    )
    notification_id = await add_notification(
        db,
        reference,
        workflow_id,
        seq=-1,
        template="access_link",
        context={
            "reference": reference,
            "stage": 1,
            "policy": "London Borough of Bexley",
            "link_base": f"https://complaints.example.org/complaint/track?reference={reference}",
            "token_id": token_id,
            "expires_on": "2027-02-18",
        },
    )
    assert await deliver_one(db, smtp, policies, notification_id, max_attempts=3) == "sent"
    [message] = caught(catcher)
    parsed = email.message_from_string(
        (catcher.folder / message["name"]).read_text(), policy=email.policy.default
    )
    text_part = parsed.get_body(preferencelist=("plain",))
    assert isinstance(text_part, email.message.EmailMessage)
    found = re.search(r"code=([A-Za-z0-9_-]+)", text_part.get_content())
    assert found is not None  # the resident got the link with its code
    code = found.group(1)
    stored_hash = await db.fetchval("SELECT token_hash FROM resident_tokens WHERE id = $1", token_id)
    assert stored_hash == hashlib.sha256(code.encode()).hexdigest()
    record = await row(db, notification_id)
    assert code not in str(dict(record))  # and the outbox never held it


def test_a_logged_delivery_error_never_shows_the_recipients_address() -> None:
    error = "SMTPRecipientsRefused: {'ada@example.org': (550, b'5.1.1 <ada@example.org>: no such user')}"
    logged = _loggable(error)
    assert "ada@example.org" not in logged
    assert logged.startswith("SMTPRecipientsRefused") and "no such user" in logged


async def test_a_web_complaints_new_complaint_notice_reaches_the_complaints_team(
    db: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    """Issue 29 (8): the notice of a complaint opened by the resident actor goes to the team, not to
    resident@<staff domain>; COMPLAINTS_TEAM_EMAIL names the team's own address."""
    reference, workflow_id = await new_complaint(db)
    first = await add_notification(
        db, reference, workflow_id, seq=0, template="new_complaint", audience="staff", recipient="resident"
    )
    sender = CapturingSender()
    assert await deliver_one(db, sender, policies, first) == "sent"
    assert [message.to_address for message in sender.messages] == ["complaints-team@council.example"]
    second = await add_notification(
        db, reference, workflow_id, seq=1, template="new_complaint", audience="staff", recipient="resident"
    )
    options = DeliveryOptions(complaints_team_email="complaints@bexley.example")
    assert await deliver_one(db, sender, policies, second, options=options) == "sent"
    assert sender.messages[-1].to_address == "complaints@bexley.example"
