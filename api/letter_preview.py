"""A letter as an action will send it, before the action is taken (issue 25: "before an action that sends the
resident a letter, the officer sees the letter as it will go").

The workflow's own event sequence (domain.lifecycle.take_action: the rule, the step) runs on a copy of the
complaint's state as the workflow holds it now (its `state` and `policy` queries), with the same policy engine
the workflow's local activities call; nothing is recorded and the workflow is not changed. Each letter to the
complainant is then rendered by the outbox's own code (notifications.render, the case record's name and
support read now, as at delivery). The dates are those of this moment: an action taken later may move them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client

from activities.engine_effects import EngineEffects
from core.temporal import workflow_id
from domain import commands as cmd
from domain import lifecycle
from domain.actions import Action
from domain.letters import complainant_recipient, from_case_record
from domain.models import Actor, ComplaintState, Intake
from domain.policy import Policy
from notifications.render import RenderError, render
from store.complaints import ComplaintRecord, complainant_story

# Shown where the letter will carry the resident's own sign-in link (drawn only when it is sent).
LINK_PLACEHOLDER = "(the resident's access link)"


@dataclass(frozen=True)
class PreviewLetter:
    template: str
    subject: str
    text: str


class PreviewEffects(EngineEffects):
    """`domain.steps.Effects` for a preview: the policy engine called directly (the workflow calls the same
    functions as local activities), the clock read once; a linked complaint is named, not opened."""

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy, datetime.now(UTC))

    async def open_linked(self, intake: Intake, actor: Actor) -> str:
        return "(the new complaint's reference)"


async def preview_letters(
    *,
    temporal: Client,
    record: ComplaintRecord,
    action: Action,
    command: cmd.Command,
    templates_dir: Path | None,
    resident_pages: str,
) -> list[PreviewLetter]:
    """The letters to the complainant this action would send now, rendered as the outbox renders them;
    `lifecycle.Refused` if its rule refuses it, RenderError if a template cannot be rendered."""
    handle = temporal.get_workflow_handle(workflow_id(record.reference))
    state = await handle.query("state", result_type=ComplaintState)
    policy = await handle.query("policy", result_type=Policy)
    if action.name == "respond":
        # Where a manager approves responses, the officer previews the letter the approval will send.
        policy = policy.model_copy(update={"response_approval": False})
    change = await lifecycle.take_action(state, policy, PreviewEffects(policy), action, command)
    anonymous, complainant, representative = record.anonymous, record.complainant, record.representative
    who = complainant_recipient(anonymous=anonymous, complainant=complainant, representative=representative)
    if who is None:
        return []  # nothing addressed to nobody is queued (an anonymous complaint)
    # As the record activity queues it (the case row's story), then as delivery renders it.
    story = complainant_story(record.model_dump())
    letters = []
    for letter in change.letters:
        if letter.audience != "complainant":
            continue
        stored = json.loads(json.dumps(story | letter.context, default=str))  # the outbox keeps JSON
        letters.append(
            render_as_delivered(letter.template, stored, record, policy, templates_dir, resident_pages)
        )
    return letters


def render_as_delivered(
    template: str,
    stored: dict[str, Any],
    record: ComplaintRecord,
    policy: Policy,
    templates_dir: Path | None,
    resident_pages: str,
) -> PreviewLetter:
    """A letter to the complainant as delivery renders its outbox row (notifications.delivery): the stored
    context with the name it greets and the support asked for read from the case record now; an access link
    shown as a placeholder (its code is drawn only when it is sent). RenderError if it cannot be."""
    personal = from_case_record(
        anonymous=record.anonymous, complainant=record.complainant, representative=record.representative
    )
    context = {**stored, **personal, "resident_pages": resident_pages}
    if template == "access_link" or "link" in stored:
        context["link"] = LINK_PLACEHOLDER
    rendered = render(template, context, policy, templates_dir)
    return PreviewLetter(template, rendered.subject, rendered.text)


__all__ = ["LINK_PLACEHOLDER", "PreviewEffects", "PreviewLetter", "RenderError", "preview_letters"]
