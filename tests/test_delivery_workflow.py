"""End to end: the workflow's letters reach a real SMTP server once, and the case lists what was sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.testing import WorkflowEnvironment

from devstack.mail import MailCatcher, list_messages
from devstack.servers import free_port
from domain import commands as cmd
from domain.policy import Policy
from notifications.channels import SmtpSender
from store.complaints import ComplaintRepository
from tests.factories import OFFICER, act, intake, open_complaint, start_in_quiet_week, state_of
from worker import build_worker


async def _until(condition: Any, what: str) -> None:
    for _ in range(200):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_acknowledging_emails_the_resident_once_and_the_case_lists_it(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    tmp_path: Path,
) -> None:
    env = temporal_env
    catcher = MailCatcher(tmp_path / "mail", "127.0.0.1", free_port()).start()
    sender = SmtpSender(
        host=catcher.host, port=catcher.port, mail_from="complaints@bexley.example", timeout=5
    )
    try:
        async with build_worker(env.client, task_queue, pool, policies, sender):
            received = await start_in_quiet_week(env)
            handle = await open_complaint(env, task_queue, intake("bexley", received))
            reference = (await state_of(handle)).reference
            await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))

            def to_resident() -> list[dict[str, Any]]:
                return [m for m in list_messages(catcher.folder) if "ada@example.org" in str(m.get("to"))]

            async def delivered() -> bool:
                return len(to_resident()) == 1

            await _until(delivered, "the acknowledgement e-mail")
            message = to_resident()[0]
            assert reference in str(message["subject"])
            # The staff notice of the new complaint went to the officer who logged it, at the staff domain.
            assert any("olivia.officer@" in str(m.get("to")) for m in list_messages(catcher.folder))

            async def settled() -> bool:
                letters = await ComplaintRepository(pool).notifications(reference=reference)
                return (
                    next(letter for letter in letters if letter.template == "acknowledgement").status
                    != "sending"
                )

            # The e-mail is in the catcher a moment before the outbox row is settled after it.
            await _until(settled, "the acknowledgement settled in the outbox")
            letters = await ComplaintRepository(pool).notifications(reference=reference)
            acknowledgement = next(letter for letter in letters if letter.template == "acknowledgement")
            assert acknowledgement.status == "sent"
            assert acknowledgement.to_address == "ada@example.org"
            assert acknowledgement.sent_at is not None
            # Nothing goes out twice, whatever else runs afterwards.
            await act(handle, "add_note", cmd.AddNote(actor=OFFICER, text="Called the resident."))
            await asyncio.sleep(0.3)
            assert len(to_resident()) == 1
    finally:
        catcher.stop()
