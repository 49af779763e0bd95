"""`domain.steps.Effects` with the policy engine called directly, outside a workflow.

The requests are built in activities/deadline_requests.py, shared with the workflow, which runs them as
local activities (workflows/complaint/effects.py); a letter preview (api/letter_preview.py) and the plain unit
tests of the steps (tests/direct_effects.py) run them here, in-process, so the three cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime

from activities.deadline_requests import Computation, DeadlineRequests, Request, Result
from activities.deadlines import DeadlineActivities
from domain.models import Actor, Intake
from domain.policy import Policy


class EngineEffects(DeadlineRequests):
    """The policy engine for one complaint's policy, the clock fixed at `now` (a subclass may move it).

    The engine knows only this policy, so `current_calendar` adopts its own closure days: outside the
    workflow there is no newer copy of the council's file to take them from."""

    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.clock = now
        self.engine = DeadlineActivities({policy.id: policy})

    def now(self) -> datetime:
        return self.clock

    async def _execute(self, computation: Computation[Request, Result], request: Request) -> Result:
        return await computation(self.engine, request)

    async def open_linked(self, intake: Intake, actor: Actor) -> str:
        # Only the workflow opens a complaint; outside it a subclass names the one it would open.
        raise NotImplementedError("a linked complaint is opened by the workflow")
