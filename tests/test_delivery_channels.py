"""The channels on their own: GOV.UK Notify's answers mapped to retry / give up / uncertain, the channel
settings, and the dev stack's caught-mail pages."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest
import requests
from aiosmtpd.controller import Controller
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from pydantic import ValidationError
from temporalio.client import Client

from api.main import create_app
from core.services import Services
from core.settings import Settings
from devstack.mail import MailCatcher
from devstack.servers import free_port
from domain.policy import Policy
from notifications.channels import (
    DeliveryError,
    DisabledSender,
    NotifySender,
    OutgoingMessage,
    PermanentDeliveryError,
    SmtpSender,
    TransientDeliveryError,
    UncertainDeliveryError,
    sender_from_settings,
)
from notifications.delivery import DeliveryOptions, deliver_one, delivery_problems
from tests.test_delivery import SimulatedCrash, add_notification, db, db_url, new_complaint, row

__all__ = ["db", "db_url"]  # a database of this module's own (fixtures shared with test_delivery)

MESSAGE = OutgoingMessage(
    notification_id="complaint-CMP-1:2:0:acknowledgement",
    to_address="ada@example.org",
    subject="We have received your complaint (CMP-1)",
    text="Hello,\n\nThank you.\n",
    html="<p>Hello,</p>\n",
)
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"


def response(status: int, body: dict[str, Any]) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = json.dumps(body).encode()
    return answer


class FakeNotifyClient:
    """Stands in for `NotificationsAPIClient`: records calls, answers or raises as told."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.lookup_error: BaseException | None = None
        self.calls: list[dict[str, Any]] = []

    def send_email_notification(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return {"id": "740e5834-3a29-46b4-9a6f-16142fde533a", "reference": kwargs["reference"]}

    def get_all_notifications(self, reference: str | None = None, **_: Any) -> dict[str, Any]:
        """Notify's record: every message it accepted, found by our reference."""
        if self.lookup_error is not None:
            raise self.lookup_error
        accepted = (
            [call for call in self.calls if call["reference"] == reference] if self.error is None else []
        )
        return {
            "notifications": [
                {
                    "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
                    "reference": call["reference"],
                    "status": "sending",
                }
                for call in accepted
            ],
            "links": {},
        }


def api_error(status: int) -> HTTPError:
    errors = [{"error": "BadRequestError", "message": "Can't send to this recipient"}]
    return HTTPError(response(status, {"status_code": status, "errors": errors}))


def no_answer(cause: requests.RequestException) -> HTTPError:
    """What the client raises when no HTTP answer came back (it reports a 503)."""
    try:
        raise cause
    except requests.RequestException as exc:
        try:
            raise HTTPError.create(exc) from exc
        except HTTPError as error:
            return error


async def test_notify_sends_the_rendered_subject_and_body_with_the_notification_id_as_reference() -> None:
    client = FakeNotifyClient()
    sender = NotifySender(client=client, template_id=TEMPLATE_ID)

    assert await sender.send(MESSAGE) == "740e5834-3a29-46b4-9a6f-16142fde533a"

    assert client.calls == [
        {
            "email_address": "ada@example.org",
            "template_id": TEMPLATE_ID,
            "personalisation": {"subject": MESSAGE.subject, "body": MESSAGE.text},
            "reference": MESSAGE.notification_id,
        }
    ]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(400), PermanentDeliveryError),
        (api_error(403), PermanentDeliveryError),
        (api_error(429), TransientDeliveryError),
        (api_error(500), TransientDeliveryError),
        (api_error(503), TransientDeliveryError),
        (no_answer(requests.ConnectionError("refused")), TransientDeliveryError),
        (no_answer(requests.ConnectTimeout("connect timeout")), TransientDeliveryError),
        (no_answer(requests.ReadTimeout("no answer")), UncertainDeliveryError),
    ],
    ids=["400", "403", "429", "500", "503", "refused", "connect-timeout", "read-timeout"],
)
async def test_notify_errors_map_to_retry_give_up_or_uncertain(
    error: BaseException, expected: type[DeliveryError]
) -> None:
    sender = NotifySender(client=FakeNotifyClient(error), template_id=TEMPLATE_ID)
    with pytest.raises(expected):
        await sender.send(MESSAGE)


async def test_the_real_notify_client_with_no_server_is_a_transient_failure() -> None:
    key = f"test_key-{uuid.uuid4()}-{uuid.uuid4()}"
    client = NotificationsAPIClient(key, base_url=f"http://127.0.0.1:{free_port()}", timeout=5)  # type: ignore[no-untyped-call]
    with pytest.raises(TransientDeliveryError, match="Notify"):
        await NotifySender(client=client, template_id=TEMPLATE_ID).send(MESSAGE)


async def test_notify_through_the_outbox(db: asyncpg.Pool, policies: dict[str, Policy]) -> None:
    reference, workflow_id = await new_complaint(db)
    sent = await add_notification(db, reference, workflow_id)
    refused = await add_notification(db, reference, workflow_id, index=1)
    client = FakeNotifyClient()

    assert (
        await deliver_one(db, NotifySender(client=client, template_id=TEMPLATE_ID), policies, sent) == "sent"
    )
    record = await row(db, sent)
    assert (record["channel"], record["provider_id"]) == ("notify", "740e5834-3a29-46b4-9a6f-16142fde533a")
    assert client.calls[0]["reference"] == sent
    assert client.calls[0]["personalisation"]["subject"] == f"We have received your complaint ({reference})"

    bad = NotifySender(client=FakeNotifyClient(api_error(400)), template_id=TEMPLATE_ID)
    assert await deliver_one(db, bad, policies, refused) == "failed"
    assert "400" in (await row(db, refused))["last_error"]
    assert await db.fetchval("SELECT delivery_problem FROM complaints WHERE reference = $1", reference)


class DieAfterNotifyAccepts(NotifySender):
    """The worker is killed right after Notify accepted the message, before the row is marked sent."""

    async def send(self, message: OutgoingMessage) -> str:
        await super().send(message)
        raise SimulatedCrash()


async def test_a_claim_left_by_a_dead_worker_is_settled_from_notify_records_not_sent_twice(
    db: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    reference, workflow_id = await new_complaint(db)
    accepted = await add_notification(db, reference, workflow_id)
    never_sent = await add_notification(db, reference, workflow_id, index=1)
    client = FakeNotifyClient()
    notify = NotifySender(client=client, template_id=TEMPLATE_ID)
    with pytest.raises(SimulatedCrash):
        await deliver_one(
            db, DieAfterNotifyAccepts(client=client, template_id=TEMPLATE_ID), policies, accepted
        )
    # The other one was claimed, and the worker died before it reached Notify at all.
    await db.execute(
        "UPDATE notifications SET status = 'sending', claimed_at = now(), attempts = 1 WHERE id = $1",
        never_sent,
    )
    stale = DeliveryOptions(claim_timeout=timedelta(0))

    # Notify cannot be asked yet: nothing is sent blind, the rows wait for the next pass.
    client.lookup_error = requests.ConnectionError("refused")
    assert await deliver_one(db, notify, policies, accepted, options=stale) == "sending"
    assert len(client.calls) == 1
    client.lookup_error = None

    # Notify has the first: settled as sent from its record, not sent again.
    assert await deliver_one(db, notify, policies, accepted, options=stale) == "sent"
    assert [call["reference"] for call in client.calls] == [accepted]
    record = await row(db, accepted)
    assert (record["recovered"], record["provider_id"]) == (
        "confirmed by the provider",
        "740e5834-3a29-46b4-9a6f-16142fde533a",
    )
    # Notify has no record of the second: it is sent now, once.
    assert await deliver_one(db, notify, policies, never_sent, options=stale) == "sent"
    assert [call["reference"] for call in client.calls] == [accepted, never_sent]
    assert (await row(db, never_sent))["recovered"] == "sent again"
    # Staff see both cases on the complaint.
    assert [problem["id"] for problem in await delivery_problems(db, reference)] == [accepted, never_sent]
    assert await db.fetchval("SELECT delivery_problem FROM complaints WHERE reference = $1", reference)


async def test_channel_none_skips_every_message_for_the_post_room(
    db: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    reference, workflow_id = await new_complaint(db)
    notification_id = await add_notification(db, reference, workflow_id)

    assert await deliver_one(db, DisabledSender(), policies, notification_id) == "skipped"
    assert "send by post" in (await row(db, notification_id))["last_error"]


async def test_smtp_refusals_are_permanent_or_transient() -> None:
    class Refusing:
        def __init__(self, code: int) -> None:
            self.code = code

        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            return f"{self.code} no such user here"

    for code, expected in ((550, PermanentDeliveryError), (451, TransientDeliveryError)):
        port = free_port()
        server = Controller(Refusing(code), hostname="127.0.0.1", port=port)
        server.start()
        try:
            sender = SmtpSender(host="127.0.0.1", port=port, mail_from="c@council.example", timeout=5)
            with pytest.raises(expected, match=str(code)):
                await sender.send(MESSAGE)
        finally:
            server.stop()


# ------------------------------------------------------------------------------------------- settings


def test_settings_choose_the_channel() -> None:
    assert isinstance(sender_from_settings(Settings(environment="test")), SmtpSender)
    assert isinstance(
        sender_from_settings(Settings(environment="test", notification_channel="none")), DisabledSender
    )
    notify = Settings(
        environment="test",
        notification_channel="notify",
        notify_api_key=f"key-{uuid.uuid4()}-{uuid.uuid4()}",
        notify_email_template_id=TEMPLATE_ID,
    )
    assert isinstance(sender_from_settings(notify), NotifySender)
    with pytest.raises(ValueError, match="NOTIFY_API_KEY"):
        sender_from_settings(Settings(environment="test", notification_channel="notify"))
    options = DeliveryOptions.from_settings(Settings(environment="test", notification_max_attempts=3))
    assert options.max_attempts == 3


PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwt_secret": "a-real-secret-" + "x" * 40,
    "database_url": "postgresql://db/complaints",
    "temporal_address": "temporal:7233",
    "oidc_issuer": "https://login.council.example/",
    "oidc_audience": "complaints-api",
    "oidc_jwks_url": "https://login.council.example/jwks.json",
    "payload_keys": "k1:" + "A" * 43 + "=",
    "audit_hmac_key": "a-real-audit-key-" + "x" * 40,
}


def test_production_refuses_notify_without_a_key() -> None:
    with pytest.raises(ValidationError, match="NOTIFY_API_KEY"):
        Settings(**PRODUCTION, notification_channel="notify")
    Settings(**PRODUCTION, notification_channel="notify", notify_api_key="k", notify_email_template_id="t")


# ------------------------------------------------------------------------------------------- dev mail


async def test_dev_mail_lists_and_shows_caught_messages_in_development_only(
    tmp_path: Path, catcher: MailCatcher, pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    sender = SmtpSender(host="127.0.0.1", port=catcher.port, mail_from="complaints@bexley.example")
    await sender.send(MESSAGE)

    async def get(environment: str, path: str) -> httpx.Response:
        given = PRODUCTION if environment == "production" else {"environment": environment}
        settings = Settings(**given | {"data_dir": tmp_path})
        services = Services(settings=settings, pool=pool, temporal=cast(Client, None), policies=policies)
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    listing = await get("development", "/dev/mail")
    assert listing.status_code == 200, listing.text
    [summary] = listing.json()
    assert summary["to"] == "ada@example.org"
    assert summary["from"] == "complaints@bexley.example"
    assert summary["subject"] == MESSAGE.subject
    assert summary["date"]
    assert summary["preview"].startswith("Hello,")

    shown = await get("development", f"/dev/mail/{summary['name']}")
    assert shown.status_code == 200
    assert shown.json()["text"] == MESSAGE.text
    assert shown.json()["html"] == MESSAGE.html
    assert (await get("development", "/dev/mail/..%2F..%2Fetc%2Fpasswd")).status_code == 404
    assert (await get("development", "/dev/mail/nothing.eml")).status_code == 404

    for environment in ("test", "production"):
        assert (await get(environment, "/dev/mail")).status_code == 404
