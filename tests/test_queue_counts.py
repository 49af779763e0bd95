"""The console's kept queue counters (migration 421, store/queue_counts.py) give, for every staff member,
what counting each queue's own filters over the complaints gives with the API's visibility rules (their
service areas, less declared conflicts and complaints naming them), through inserts, updates and deletes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg

from api.casework import count_queues_visible, visible_filters
from domain.models import Role
from store.complaints import count_complaints
from store.queue_counts import COUNTED_QUEUES, rebuild_queue_counts
from store.staff import StaffUser
from web.layout import LONDON
from web.staff.queues import BY_SLUG

# (status, stage, assigned_to, overdue, area): hand-checkable; "ann" and "bob" are officers.
ROWS = [
    ("received", 1, None, False, "a"),
    ("received", 1, None, True, "a"),
    ("acknowledged", 1, "ann", False, "a"),
    ("acknowledged", 1, "ann", True, "b"),
    ("acknowledged", 2, "bob", False, "b"),
    ("awaiting_information", 1, None, False, "a"),
    ("awaiting_information", 2, "ann", True, "b"),
    ("closed", 1, "ann", False, "a"),
    ("closed", 2, None, True, "b"),
    ("declined", 1, None, False, "a"),
    ("responded", 2, None, False, "c"),
]


async def _from_rows(pool: asyncpg.Pool, staff: StaffUser) -> dict[str, int]:
    today = datetime.now(LONDON).date()
    return {
        queue: await count_complaints(
            pool, filters=visible_filters(BY_SLUG[queue].filters(staff, today), staff), cap=100_000
        )
        for queue in (*COUNTED_QUEUES, "due-soon")
    }


async def _kept(pool: asyncpg.Pool, staff: StaffUser) -> dict[str, int]:
    due = BY_SLUG["due-soon"].filters(staff, datetime.now(LONDON).date())
    return await count_queues_visible(pool, staff, due, cap=100_000)


async def test_kept_counts_equal_the_queues_own_counts_for_every_reader(pool: asyncpg.Pool) -> None:
    tag = uuid.uuid4().hex[:8]
    area = {name: f"{name}-{tag}" for name in "abc"}
    staff = {name: f"{name}.{tag}" for name in ("ann", "bob")}
    references = [f"QC-{tag}-{n:02d}" for n in range(len(ROWS))]
    await pool.executemany(
        "INSERT INTO complaints (reference, workflow_id, policy_id, status, stage, assigned_to, overdue,"
        " channel, service_area, complainant, summary, received_at, created_by, next_deadline)"
        " VALUES ($1, $1, 'bexley', $2, $3, $4, $5, 'web', $6, '{}', '', now(), 'test', now())",
        [
            (reference, status, stage, staff.get(assignee or "", None), overdue, area[letter])
            for reference, (status, stage, assignee, overdue, letter) in zip(references, ROWS, strict=True)
        ],
    )
    ann_all = StaffUser(id=staff["ann"], name="Ann", role=Role.INVESTIGATOR)
    ann_a = StaffUser(id=staff["ann"], name="Ann", role=Role.INVESTIGATOR, service_areas=[area["a"]])
    bob_ab = StaffUser(
        id=staff["bob"], name="Bob", role=Role.COMPLAINTS_OFFICER, service_areas=[area["a"], area["b"]]
    )
    readers = (ann_a, bob_ab)

    # By hand, before anything changes: Bob (areas a and b) sees 3 unassigned open (rows 0, 1, 5), 3 overdue
    # open (1, 3, 6), 2 open at Stage 2 (4, 6), 2 waiting (5, 6), and his own 1 (row 4); Ann in area a only
    # has row 2 as hers (row 7 is closed), rows 0, 1 and 5 unassigned, 1 overdue (1) and 1 waiting (5).
    assert await _kept(pool, bob_ab) == {
        "mine": 1, "unassigned": 3, "overdue": 3, "stage-2": 2, "waiting": 2, "due-soon": 0
    }  # fmt: skip
    assert await _kept(pool, ann_a) == {
        "mine": 1, "unassigned": 3, "overdue": 1, "stage-2": 0, "waiting": 1, "due-soon": 0
    }  # fmt: skip
    for reader in readers:
        assert await _kept(pool, reader) == await _from_rows(pool, reader)

    # Writes: assign, close, flip overdue, escalate, move area, one statement over several rows, a delete.
    await pool.execute(
        "UPDATE complaints SET assigned_to = $2 WHERE reference = $1", references[0], staff["bob"]
    )
    await pool.execute("UPDATE complaints SET status = 'closed' WHERE reference = $1", references[3])
    await pool.execute(
        "UPDATE complaints SET overdue = NOT overdue WHERE reference = ANY($1::text[])", references[:3]
    )
    await pool.execute(
        "UPDATE complaints SET stage = 2, status = 'acknowledged' WHERE reference = $1", references[10]
    )
    await pool.execute(
        "UPDATE complaints SET service_area = $2 WHERE reference = $1", references[5], area["b"]
    )
    await pool.execute(
        "UPDATE complaints SET summary = 'no queue changes' WHERE reference = $1", references[2]
    )
    await pool.execute("DELETE FROM complaints WHERE reference = $1", references[9])
    for reader in readers:
        assert await _kept(pool, reader) == await _from_rows(pool, reader)

    # Closed to the reader: Bob declares a conflict on row 4 (his own, Stage 2) and row 1 names him; Ann is
    # named in row 6. Each loses exactly those complaints from every queue they were in.
    before = await _kept(pool, bob_ab)
    await pool.execute(
        "INSERT INTO staff_conflicts (reference, staff_id) VALUES ($1, $2)", references[4], staff["bob"]
    )
    await pool.execute(
        "UPDATE complaints SET staff_complained_about = ARRAY[$2] WHERE reference = $1",
        references[1],
        staff["bob"],
    )
    await pool.execute(
        "UPDATE complaints SET staff_complained_about = ARRAY[$2] WHERE reference = $1",
        references[6],
        staff["ann"],
    )
    after = await _kept(pool, bob_ab)
    assert after == await _from_rows(pool, bob_ab)
    assert after["mine"] == before["mine"] - 1 and after["stage-2"] == before["stage-2"] - 1
    assert after["unassigned"] == before["unassigned"] - 1  # row 1, unassigned and open
    for reader in (ann_a, ann_all):
        assert await _kept(pool, reader) == await _from_rows(pool, reader)


async def test_due_soon_counts_whole_hours_from_the_counters_and_the_rest_from_the_rows(
    pool: asyncpg.Pool,
) -> None:
    """Deadlines later this hour, in whole hours ahead, at the queue's end, past it, already passed, and on
    closed complaints: the counted queue equals its own filters' count, before and after writes."""
    tag = uuid.uuid4().hex[:8]
    area = f"due-{tag}"
    reader = StaffUser(id=f"reader.{tag}", name="Reader", role=Role.INVESTIGATOR, service_areas=[area])
    due = BY_SLUG["due-soon"].filters(reader, datetime.now(LONDON).date())
    assert due.deadline_from is not None and due.deadline_before is not None
    now, end = due.deadline_from, due.deadline_before
    deadlines = [
        (now + timedelta(minutes=1), "received"),  # later this hour (or the next): due
        (now + timedelta(hours=2), "acknowledged"),  # due
        (now + timedelta(hours=5), "awaiting_information"),  # due
        (end - timedelta(minutes=1), "acknowledged"),  # due, in the last hour
        (end, "acknowledged"),  # at the end: not due
        (end + timedelta(days=2), "acknowledged"),  # not due
        (now - timedelta(hours=1), "acknowledged"),  # passed: overdue, not due soon
        (now + timedelta(hours=3), "closed"),  # closed: in no queue
        (None, "received"),  # no deadline
    ]
    references = [f"DUE-{tag}-{n:02d}" for n in range(len(deadlines))]
    await pool.executemany(
        "INSERT INTO complaints (reference, workflow_id, policy_id, status, channel, service_area,"
        " complainant, summary, received_at, created_by, next_deadline)"
        " VALUES ($1, $1, 'bexley', $2, 'web', $3, '{}', '', now(), 'test', $4)",
        [
            (reference, status, area, deadline)
            for reference, (deadline, status) in zip(references, deadlines, strict=True)
        ],
    )
    kept = await _kept(pool, reader)
    assert kept["due-soon"] == 4  # by hand: the first four
    assert kept == await _from_rows(pool, reader)

    # A deadline moves past the end, a complaint closes, another's deadline comes into range, and the reader
    # declares a conflict on one due complaint.
    await pool.execute("UPDATE complaints SET next_deadline = $2 WHERE reference = $1", references[1], end)
    await pool.execute("UPDATE complaints SET status = 'closed' WHERE reference = $1", references[2])
    await pool.execute(
        "UPDATE complaints SET next_deadline = $2 WHERE reference = $1",
        references[8],
        now + timedelta(hours=4),
    )
    await pool.execute(
        "INSERT INTO staff_conflicts (reference, staff_id) VALUES ($1, $2)", references[3], reader.id
    )
    kept = await _kept(pool, reader)
    assert kept["due-soon"] == 2  # rows 0 and 8
    assert kept == await _from_rows(pool, reader)


async def test_the_rebuild_recomputes_lost_counters(pool: asyncpg.Pool) -> None:
    """Counters lost or drifted (a restore, rows written with the triggers off) come back from the rows."""
    tag = uuid.uuid4().hex[:8]
    area = f"rebuilt-{tag}"
    reader = StaffUser(id=f"reader.{tag}", name="Reader", role=Role.MANAGER, service_areas=[area])
    await pool.executemany(
        "INSERT INTO complaints (reference, workflow_id, policy_id, status, stage, channel, service_area,"
        " complainant, summary, received_at, created_by, next_deadline)"
        " VALUES ($1, $1, 'bexley', 'acknowledged', $2, 'web', $3, '{}', '', now(), 'test',"
        " now() + interval '1 day')",
        [(f"RB-{tag}-{n}", 1 + n % 2, area) for n in range(5)],
    )
    expected = await _kept(pool, reader)
    assert expected["unassigned"] == 5 and expected["stage-2"] == 2
    await pool.execute("UPDATE queue_counts SET complaints = complaints + 7 WHERE service_area = $1", area)
    await pool.execute("DELETE FROM deadline_counts WHERE service_area = $1", area)
    assert await _kept(pool, reader) != expected
    await rebuild_queue_counts(pool)
    assert await _kept(pool, reader) == expected == await _from_rows(pool, reader)
