"""Workflow code reads no clock, draws no random number, does no I/O and looks up no calendar: not in the
workflow itself, nor in the project's modules it passes through Temporal's sandbox (worker.py passes our
packages through for speed, so the sandbox no longer sees inside them: this test does).

It runs complaints along every path of the lifecycle (clock stop, Stage 2 on the window's last day, Stage 2
refused, withdrawal, actions tracked after closure, casework with its reminders and restriction reviews,
early resolution, missed Stage 2 acknowledgement) with a profiler on the worker's workflow threads (the
SDK's `temporal_workflow_` pool; activities run on the event loop's thread and may do all of these). Any
call made there from the project's code to the clock, `random`, `uuid`, `os.urandom`, `open`, or any call
into `holidays`, `asyncpg`, `httpx` or `socket` fails the test with where it came from.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.policy import Policy
from tests import test_early_resolution as early
from tests import test_workflow_casework as casework
from tests import test_workflow_edges as edges
from tests import test_workflow_scenarios as scenarios

PROJECT = str(Path(__file__).resolve().parents[1])
LIBRARIES = str(Path(sys.modules["asyncpg"].__file__ or "").resolve().parents[1])  # site-packages
WORKFLOW_THREAD = "temporal_workflow_"
CLOCK = [time.time, time.time_ns, time.monotonic, time.monotonic_ns, time.perf_counter, time.localtime]
FORBIDDEN_BUILTINS = {*CLOCK, os.urandom, open, time.sleep}
FORBIDDEN_METHODS = {
    (dt.datetime, "now"),
    (dt.datetime, "utcnow"),
    (dt.datetime, "today"),
    (dt.date, "today"),
}
FORBIDDEN_PACKAGES = ("holidays", "asyncpg", "httpx", "httpcore", "socket.py", "ssl.py")
# Modules of ours outside workflows/ whose code the workflow runs on its own threads (passed through the
# sandbox): the watch must see each of them run, so none of them is guarded by accident only.
SHARED_WITH_THE_WORKFLOW = ("/activities/deadline_requests.py",)
UNSEEDED = {"uuid1", "uuid4"}  # Python functions of `uuid` that read the clock or the OS's randomness


def _ours(filename: str) -> bool:
    return filename.startswith(PROJECT) and not filename.startswith(LIBRARIES) and "/.venv/" not in filename


def _offence(frame: FrameType, event: str, arg: Any) -> str | None:
    caller = frame.f_code.co_filename
    if event == "c_call":
        if not _ours(caller):
            return None
        owner = getattr(arg, "__self__", None)
        name = getattr(arg, "__name__", "")
        forbidden = (
            any(arg is builtin for builtin in FORBIDDEN_BUILTINS)
            or any(owner is cls and name == method for cls, method in FORBIDDEN_METHODS)
            or owner is getattr(random, "_inst", None)  # the module's unseeded random.random(), choice()...
        )
        return f"{getattr(arg, '__qualname__', arg)} from {caller}:{frame.f_lineno}" if forbidden else None
    if event == "call":
        callee = frame.f_code.co_filename
        back = frame.f_back
        if any(f"/{package}" in callee for package in FORBIDDEN_PACKAGES) and callee.startswith(LIBRARIES):
            origin = f"{back.f_code.co_filename}:{back.f_lineno}" if back else "?"
            return f"{frame.f_code.co_name} in {callee} (called from {origin})"
        if (
            callee.endswith("/uuid.py")
            and frame.f_code.co_name in UNSEEDED
            and back
            and _ours(back.f_code.co_filename)
        ):
            return f"uuid.{frame.f_code.co_name} from {back.f_code.co_filename}:{back.f_lineno}"
    return None


class Watch:
    """What the profiler saw on the workflow threads: the forbidden calls, and how many calls into the
    workflow's own code and into the modules it shares it saw (so the test cannot pass by watching
    nothing)."""

    def __init__(self) -> None:
        self.offences: list[str] = []
        self.workflow_code_calls = 0
        self.shared_code_calls = dict.fromkeys(SHARED_WITH_THE_WORKFLOW, 0)

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if not threading.current_thread().name.startswith(WORKFLOW_THREAD):
            return
        if event == "call" and "/workflows/complaint/" in frame.f_code.co_filename:
            self.workflow_code_calls += 1
        if event == "call":
            for module in SHARED_WITH_THE_WORKFLOW:
                if frame.f_code.co_filename.endswith(module):
                    self.shared_code_calls[module] += 1
        found = _offence(frame, event, arg)
        if found is not None and found not in self.offences:
            self.offences.append(found)


@contextmanager
def watching_workflow_threads() -> Iterator[Watch]:
    """Every forbidden call made on a workflow thread while the block runs (threads started inside it)."""
    watch = Watch()
    threading.setprofile(watch.profile)
    try:
        yield watch
    finally:
        threading.setprofile(None)


@workflow.defn(name="ReadsTheClock", sandboxed=False)
class ReadsTheClock:
    """A workflow as it must never be written: it reads the wall clock (through a helper, as a passed-through
    module would), to prove the watch sees it."""

    @workflow.run
    async def run(self) -> str:
        return _stamp()


def _stamp() -> str:
    return dt.datetime.now().isoformat()


async def test_the_watch_catches_a_workflow_reading_the_clock(
    temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    with watching_workflow_threads() as watch:
        async with Worker(temporal_env.client, task_queue=task_queue, workflows=[ReadsTheClock]):
            await temporal_env.client.execute_workflow(
                ReadsTheClock.run, id=task_queue, task_queue=task_queue
            )
    assert any("now" in offence and __file__ in offence for offence in watch.offences), watch.offences


async def test_no_path_of_the_lifecycle_reads_the_clock_random_io_or_calendar(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    with watching_workflow_threads() as watch:
        await scenarios.test_clock_stop_while_waiting_for_information(
            env, pool, policies, task_queue, "bexley", True
        )
        await scenarios.test_escalation_on_the_last_day_of_the_window(
            env, pool, policies, task_queue, "bexley"
        )
        await scenarios.test_window_closes_then_a_late_request_needs_an_officer(
            env, pool, policies, task_queue, "barking-dagenham"
        )
        await scenarios.test_stage_2_refused_signposts_the_ombudsman(env, pool, policies, task_queue)
        await scenarios.test_withdrawal_ends_the_timers(env, pool, policies, task_queue, 2)
        await scenarios.test_actions_are_tracked_after_closure(env, pool, policies, task_queue)
        await casework.test_council_003_keeps_the_resident_informed_and_records_what_it_learned(
            env, pool, policies, task_queue
        )
        await casework.test_a_restriction_is_reviewed_on_its_date_and_only_a_manager_lifts_it(
            env, pool, policies, task_queue
        )
        await edges.test_stage_2_extension_limit_and_late_response(env, pool, policies, task_queue, "bexley")
        await early.test_the_workflow_runs_the_step(env, pool, policies, task_queue)
    assert watch.workflow_code_calls > 1_000  # it watched the complaint workflow run
    assert all(watch.shared_code_calls.values()), watch.shared_code_calls  # and the code it shares
    assert watch.offences == []
