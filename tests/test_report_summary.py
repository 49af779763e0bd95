"""The monthly report summaries (migration 200) stay equal to a recomputation from the stage rows through
inserts, updates (a complaint moving between months, service areas, outcomes), deletes and the service's own
upsert, and a report over whole months read from them equals the same report counted row by row."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from domain.models import Outcome, RemedyFact, StageFacts
from domain.tsm import Tenure
from store import report_tsm, reports
from store.complaints import Executor, upsert_stage_facts
from store.report_sources import rows_only
from store.report_summary import SUMMARY_TABLES, rebuild_report_summary

AREAS = ("housing", "parking", "waste")
OUTCOMES = (None, "upheld", "partially_upheld", "not_upheld")
DECISIONS = (
    None,
    "housing-ombudsman:maladministration",
    "housing-ombudsman:service_failure+complaint_handling_failure",
    "lgsco:no_fault",
    "Maladministration found",  # free text recorded before determinations were data: unrecorded
)
START, END = date(2025, 4, 1), date(2025, 9, 30)
# Whole months, one whole month, and periods whose edge days come from the daily summaries (migration 422):
# from the 10th to the 20th, from the first day of British Summer Time 2025 (Sunday 30 March) to its last
# (Sunday 26 October), the day after it starts to the day before it ends, and days inside one month.
PERIODS = [
    (START, END),
    (date(2025, 6, 1), date(2025, 6, 30)),
    (date(2025, 4, 10), date(2025, 8, 20)),
    (date(2025, 3, 30), date(2025, 10, 26)),
    (date(2025, 3, 31), date(2025, 10, 25)),
    (date(2025, 7, 5), date(2025, 7, 27)),
]

_STAGE_COLUMNS = (
    "reference, stage, policy_id, service_area, received_on, day_zero, acknowledge_by, acknowledged_on,"
    " original_respond_by, respond_by, respond_by_when_answered, responded_on, working_days_to_respond,"
    " ended, outcome, exclusion, extensions, extension_working_days, extended_with_agreement, remedies,"
    " remedy_count, compensation_pence, independent_reviewer, actions_promised, actions_done,"
    " actions_overdue, ombudsman_referred_on, ombudsman_decided_on, ombudsman_decision, root_cause, last_seq,"
    " tenure, code_acknowledge_by, code_respond_by, early_resolution"
)
EARLY_RESOLUTIONS = (None, "resolved", "requested", "not_suitable")
TENURES = (None, "low_cost_rental", "low_cost_home_ownership", "leaseholder")


def _stage_row(chance: random.Random, reference: str, policy_id: str, stage: int) -> tuple[Any, ...]:
    received = START + timedelta(days=chance.randrange(0, 180) + (stage - 1) * 20)
    acknowledged = received + timedelta(days=chance.randrange(1, 9)) if chance.random() < 0.9 else None
    respond_by = received + timedelta(days=14)
    extension_days = chance.choice((0, 0, 0, 5, 12, 25))
    answered_by = respond_by + timedelta(days=extension_days)
    # Some answered on the very day a deadline falls (the boundary of "on time").
    any_day = received + timedelta(days=chance.randrange(3, 40))
    responded = chance.choice((respond_by, answered_by, any_day, any_day)) if chance.random() < 0.7 else None
    declined = responded is None and chance.random() < 0.2
    ended = "declined" if declined else ("withdrawn" if responded is None and chance.random() < 0.2 else None)
    outcome = chance.choice(OUTCOMES[1:]) if responded else None
    remedies: list[dict[str, Any]] = (
        [{"kind": "apology"}, {"kind": "financial_redress", "amount_pence": chance.randrange(100, 9000)}]
        if outcome == "upheld"
        else ([{"kind": "apology"}] if outcome == "partially_upheld" else [])
    )
    referred = received + timedelta(days=60) if chance.random() < 0.15 else None
    decision = chance.choice(DECISIONS) if referred else None
    promised = chance.randrange(0, 4)
    done = chance.randrange(0, promised + 1)
    return (
        reference,
        stage,
        policy_id,
        chance.choice(AREAS),
        received,
        received,
        received + timedelta(days=5),
        acknowledged,
        respond_by,
        answered_by,
        answered_by if responded else None,
        responded,
        (responded - received).days * 5 // 7 if responded else None,
        ended,
        outcome,
        chance.choice(("vexatious", "legal-proceedings")) if declined else None,
        1 if extension_days else 0,
        extension_days,
        extension_days > 10 and chance.random() < 0.5,
        remedies,
        len(remedies),
        sum(remedy.get("amount_pence", 0) for remedy in remedies),
        (chance.random() < 0.8) if stage == 2 and responded else None,
        promised,
        done,
        chance.randrange(0, promised - done + 1),
        referred,
        referred + timedelta(days=90) if referred and decision else None,
        decision,
        chance.choice(("repairs-delay", "communication", None)) if responded else None,
        1,
        chance.choice(TENURES),
        received + timedelta(days=7),
        # The Code's date: before, on or after the council's (some answered on the very day).
        respond_by + timedelta(days=chance.choice((-5, 0, 3))),
        chance.choice(EARLY_RESOLUTIONS) if stage == 1 else None,
    )


async def _insert(pool: asyncpg.Pool, rows: list[tuple[Any, ...]]) -> None:
    placeholders = ", ".join(f"${n}" for n in range(1, 36))
    await pool.executemany(
        f"INSERT INTO complaint_stages ({_STAGE_COLUMNS}) VALUES ({placeholders})",
        rows,
    )


async def _summaries(db: Executor, policy_id: str) -> dict[str, list[Any]]:
    return {
        table: sorted(
            (
                tuple(row.values())
                for row in await db.fetch(f"SELECT * FROM {table} WHERE policy_id = $1", policy_id)
            ),
            key=repr,
        )
        for table in SUMMARY_TABLES
    }


async def _assert_summaries_recompute(pool: asyncpg.Pool, policy_id: str) -> None:
    """The summaries as the triggers left them equal those recomputed from scratch (recomputed in a
    transaction that is rolled back, so the triggers' work is what the next step builds on)."""
    kept = await _summaries(pool, policy_id)
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await rebuild_report_summary(connection)
            recomputed = await _summaries(connection, policy_id)
        finally:
            await transaction.rollback()
    assert kept == recomputed
    assert kept["report_stage_months"], "the scenario has figures"


async def _assert_reports_match_rows(
    pool: asyncpg.Pool, policy_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every report figure, its whole months read from the summaries, equals the same figure counted from
    the stage rows alone: over whole months, and over periods that start or end inside a month."""
    periods = PERIODS

    async def figures() -> list[Any]:
        found: list[Any] = []
        for start, end in periods:
            found += [
                await reports.performance(
                    pool,
                    start=start,
                    end=end,
                    policy_id=policy_id,
                    homes=5000,
                    homes_by_tenure={Tenure.LOW_COST_RENTAL: 3000},
                ),
                await reports.performance(
                    pool, start=start, end=end, policy_id=policy_id, service_area="parking"
                ),
                await reports.remedies_and_learning(pool, start=start, end=end, policy_id=policy_id),
                await reports.code_evidence(
                    pool, start=start, end=end, policy_id=policy_id, extension_limits=(10, 20)
                ),
            ]
        return found

    from_summaries = await figures()
    with monkeypatch.context() as patch:
        patch.setattr(reports, "period_parts", rows_only)
        from_rows = await figures()
    assert from_summaries == from_rows
    report = from_summaries[0]
    assert report["stage1"]["received"] > 0 and report["stage2"]["received"] > 0
    assert report["stage1"]["median_working_days_to_respond"] is not None
    assert report["ombudsman"]["referrals"] > 0 and report["remedies"]["compensation_pence"] > 0
    assert report["ombudsman"]["complaint_handling_failures"] > 0
    assert set(report["ombudsman"]["determinations"]) == {"housing-ombudsman", "lgsco", "unrecorded"}
    assert from_summaries[2]["root_causes"], "the scenario has learning themes"
    assert report["early_resolution"]["resolved"] > 0 and report["early_resolution"]["not_suitable"] > 0
    tsm = report["tsm"]
    assert 0 < tsm["ch02"]["stage1_within_code"] < tsm["ch02"]["stage1_responded"]
    assert tsm["ch01"]["by_tenure"]["low_cost_rental"]["stage1_per_1000_homes"] > 0
    await _assert_one_statement_answers_as_several(pool, policy_id)


def _typed(rows: list[dict[str, Any]]) -> list[list[tuple[str, str, Any]]]:
    """Rows as sorted (column, type, value) lists, a numeric fraction as the float JSON gives."""
    normal = [
        sorted((name, type(value).__name__, value) for name, value in row.items())
        for row in ({k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows)
    ]
    return sorted(normal, key=repr)


async def _assert_one_statement_answers_as_several(pool: asyncpg.Pool, policy_id: str) -> None:
    """A period starting and ending inside a month: the one statement that reads the edge days' rows once
    returns, part by part, the rows (values and types) one statement per figure set returns."""
    args = reports.period_args(date(2025, 4, 10), date(2025, 8, 20), policy_id, None)
    assert args[4] <= args[5] and args[6] <= args[7], "edge days on both sides"
    async with reports.reading(pool) as snapshot:
        parts = await snapshot.fetchrow(reports._PERFORMANCE, *args, 5000)
        separately = {
            "stage_rows": await snapshot.fetch(reports._STAGE_FIGURES, *args, 5000),
            "case_rows": await snapshot.fetch(reports._CASE_FIGURES, *args),
            "percentile_rows": await snapshot.fetch(reports._PERCENTILES, *args),
            "code_rows": await snapshot.fetch(report_tsm._CODE_FIGURES, *args),
            "early_rows": await snapshot.fetch(reports._early_resolution(), *args),
        }
    assert parts is not None
    for name, rows in separately.items():
        assert rows, name
        assert _typed(reports._part(parts[name])) == _typed([dict(row) for row in rows]), name


async def test_summaries_follow_every_write_and_answer_as_the_rows_do(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    chance = random.Random(13)
    policy_id = f"summary-{uuid.uuid4().hex[:8]}"
    references = [f"SUM-{policy_id}-{n:03d}" for n in range(80)]
    await pool.executemany(
        "INSERT INTO complaints (reference, workflow_id, policy_id, status, channel, service_area,"
        " complainant, summary, received_at, created_by)"
        " VALUES ($1, $1, $2, 'received', 'web', 'housing', '{}', '', now(), 'test')",
        [(reference, policy_id) for reference in references],
    )
    # One statement for many complaints (as a bulk load), then one row at a time.
    await _insert(pool, [_stage_row(chance, reference, policy_id, 1) for reference in references[:60]])
    for reference in references[60:]:
        await _insert(pool, [_stage_row(chance, reference, policy_id, 1)])
    await _insert(pool, [_stage_row(chance, reference, policy_id, 2) for reference in references[::3]])
    await _assert_summaries_recompute(pool, policy_id)
    await _assert_reports_match_rows(pool, policy_id, monkeypatch)

    # A complaint moves to another month and service area; another's Stage 2 changes its outcome and the
    # ombudsman decides (which moves its complaint-wide figures to another decision); many rows at once.
    await pool.execute(
        "UPDATE complaint_stages SET received_on = received_on + 45, service_area = 'roads',"
        " tenure = 'other', early_resolution = 'not_suitable'"
        " WHERE reference = $1 AND stage = 1",
        references[1],
    )
    await pool.execute(
        "UPDATE complaint_stages SET outcome = 'upheld', ombudsman_referred_on = received_on + 10,"
        " ombudsman_decided_on = received_on + 50, ombudsman_decision = $2"
        " WHERE reference = $1 AND stage = 2",
        references[3],
        "housing-ombudsman:severe_maladministration+complaint_handling_failure",
    )
    await pool.execute(
        "UPDATE complaint_stages SET acknowledged_on = acknowledge_by + 1,"
        " actions_overdue = actions_promised, working_days_to_respond = working_days_to_respond + 1"
        " WHERE policy_id = $1 AND stage = 1 AND service_area = 'waste'",
        policy_id,
    )
    await _assert_summaries_recompute(pool, policy_id)

    # Deletes: a complaint's Stage 2 row (its Stage 1 no longer counts as escalated), and a whole complaint.
    await pool.execute("DELETE FROM complaint_stages WHERE reference = $1 AND stage = 2", references[6])
    await pool.execute("DELETE FROM complaint_stages WHERE reference = $1", references[9])
    await _assert_summaries_recompute(pool, policy_id)

    # The service's own write: a newer event's facts replace the row, an older one's change nothing.
    facts = StageFacts(
        number=2,
        received_on=date(2025, 8, 20),
        day_zero=date(2025, 8, 20),
        acknowledge_by=date(2025, 8, 27),
        acknowledged_on=date(2025, 8, 22),
        original_respond_by=date(2025, 9, 17),
        respond_by=date(2025, 9, 17),
        respond_by_when_answered=date(2025, 9, 17),
        responded_on=date(2025, 9, 10),
        code_acknowledge_by=date(2025, 8, 27),
        code_respond_by=date(2025, 9, 10),
        working_days_to_respond=15,
        outcome=Outcome.UPHELD,
        remedies=[RemedyFact(kind="financial_redress", amount_pence=25000)],
        stage2_by_other_than_stage1=True,
        actions_promised=2,
        actions_done=1,
        actions_overdue=1,
    )
    for seq in (5, 3):
        await upsert_stage_facts(pool, reference=references[12], seq=seq, facts=facts)
    await upsert_stage_facts(pool, reference=references[10], seq=4, facts=facts)  # a new Stage 2 row
    await _assert_summaries_recompute(pool, policy_id)
    await _assert_reports_match_rows(pool, policy_id, monkeypatch)

    # Lost summaries (a restore, rows loaded with the triggers off) come back whole from the rebuild.
    expected = await _summaries(pool, policy_id)
    for table in SUMMARY_TABLES:
        await pool.execute(f"DELETE FROM {table} WHERE policy_id = $1", policy_id)
    await rebuild_report_summary(pool)
    assert await _summaries(pool, policy_id) == expected

    # Every stage row gone: nothing of the council is left in the summaries.
    await pool.execute("DELETE FROM complaint_stages WHERE policy_id = $1", policy_id)
    assert all(rows == [] for rows in (await _summaries(pool, policy_id)).values())


async def test_a_readers_closed_complaints_are_subtracted_from_the_summaries(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 26: for a reader with a declared conflict (or named in a complaint), every report takes the whole
    months from the summaries less the closed complaints' own contributions, and equals the same report
    counted from the stage rows alone with those complaints left out, group by group: a service area whose
    only complaint is closed to the reader is no area of theirs."""
    chance = random.Random(29)
    policy_id = f"reader-{uuid.uuid4().hex[:8]}"
    reader = f"reader.{policy_id}"
    references = [f"RDR-{policy_id}-{n:03d}" for n in range(40)]
    await pool.executemany(
        "INSERT INTO complaints (reference, workflow_id, policy_id, status, channel, service_area,"
        " complainant, summary, received_at, created_by)"
        " VALUES ($1, $1, $2, 'received', 'web', 'housing', '{}', '', now(), 'test')",
        [(reference, policy_id) for reference in references],
    )
    await _insert(pool, [_stage_row(chance, reference, policy_id, 1) for reference in references])
    await _insert(pool, [_stage_row(chance, reference, policy_id, 2) for reference in references[::3]])
    # Closed to the reader: three declared conflicts (one of them the only complaint in 'roads', received in
    # a whole month of the period, with a Stage 2 row) and two complaints naming the reader.
    await pool.execute(
        "UPDATE complaint_stages SET service_area = 'roads', received_on = DATE '2025-06-10'"
        " WHERE reference = $1",
        references[0],
    )
    await pool.executemany(
        "INSERT INTO staff_conflicts (reference, staff_id) VALUES ($1, $2)",
        [(reference, reader) for reference in references[:3]],
    )
    await pool.execute(
        "UPDATE complaints SET staff_complained_about = ARRAY[$1] WHERE reference = ANY($2::text[])",
        reader,
        references[3:5],
    )
    closed = references[:5]
    periods = PERIODS

    async def figures(who: str | None) -> list[Any]:
        found: list[Any] = []
        for start, end in periods:
            found += [
                await reports.performance(
                    pool, start=start, end=end, policy_id=policy_id, homes=5000, reader=who
                ),
                await reports.remedies_and_learning(
                    pool, start=start, end=end, policy_id=policy_id, reader=who
                ),
                await reports.code_evidence(
                    pool, start=start, end=end, policy_id=policy_id, extension_limits=(10, 20), reader=who
                ),
                await reports.declined_by_exclusion(
                    pool, start=start, end=end, policy_id=policy_id, reader=who
                ),
            ]
        return found

    subtracted = await figures(reader)
    everyone = await figures(None)
    with monkeypatch.context() as patch:
        patch.setattr(reports, "period_parts", rows_only)
        from_rows = await figures(reader)
    assert subtracted == from_rows
    whole_year, everyones_year = subtracted[0], everyone[0]
    assert whole_year["closed_to_reader_left_out"] is True
    # By hand: the reader's year has every Stage 1 row of the council but the five closed complaints'.
    closed_in_year = await pool.fetchval(
        "SELECT count(*) FROM complaint_stages WHERE stage = 1 AND reference = ANY($1::text[])"
        " AND received_on BETWEEN $2 AND $3",
        closed,
        START,
        END,
    )
    assert closed_in_year == 5
    assert whole_year["stage1"]["received"] == everyones_year["stage1"]["received"] - 5
    assert "roads" in {area["service_area"] for area in everyones_year["by_service_area"]}
    assert "roads" not in {area["service_area"] for area in whole_year["by_service_area"]}
    # A reader with nothing closed to them reads the summaries as everyone does.
    assert await figures("reader.with-nothing-closed") == everyone
