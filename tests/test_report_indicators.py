"""The ombudsmen's indicator sets (GET /api/reports/indicators): the SPSO's for the shipped Scottish model
policy, the PSOW's for the Welsh one, with hand-worked figures over stage rows of a year no other test uses,
each equal to the same figures counted from the stage rows alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from core.settings import Settings
from domain.policy import Policy
from store import report_indicators, reports
from store.report_sources import rows_only
from tests.api_helpers import api, assert_problem, bearer  # noqa: F401 (fixture)

YEAR = (date(2031, 4, 1), date(2032, 3, 31))
PREFIX = "IND-"

# (name, stage, working days to respond or None, outcome, ended, extended, referred)
ROWS = [
    ("S1", 1, 3, "upheld", None, False, False),
    ("S2", 1, 5, "not_upheld", None, False, False),
    ("S3", 1, 22, "partially_upheld", None, True, True),
    ("S4", 1, None, None, "declined", False, False),
    ("S5", 1, None, None, None, False, False),
    ("S3", 2, 15, "not_upheld", "closed", False, True),
]


async def _clear(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "DELETE FROM satisfaction_answers"
        " WHERE policy_id = 'scotland-model' AND answered_on BETWEEN $1 AND $2",
        *YEAR,
    )
    await pool.execute("DELETE FROM complaint_stages WHERE reference LIKE $1", f"{PREFIX}%")
    await pool.execute("DELETE FROM complaints WHERE reference LIKE $1", f"{PREFIX}%")


@pytest.fixture
async def indicator_rows(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The rows above for each model council, received in May 2031 (Stage 2 in June)."""
    await _clear(pool)
    for policy_id in ("scotland-model", "wales-model"):
        references = {name: f"{PREFIX}{policy_id}-{name}" for name, *_ in ROWS}
        await pool.executemany(
            "INSERT INTO complaints (reference, workflow_id, policy_id, status, channel, service_area,"
            " complainant, summary, received_at, created_by)"
            " VALUES ($1, $1, $2, 'received', 'web', 'housing', '{}', '', now(), 'test')",
            [(reference, policy_id) for reference in set(references.values())],
        )
        for name, stage, days, outcome, ended, extended, referred in ROWS:
            received = date(2031, 5, 5) if stage == 1 else date(2031, 6, 2)
            await pool.execute(
                "INSERT INTO complaint_stages (reference, stage, policy_id, service_area, received_on,"
                " day_zero, acknowledge_by, original_respond_by, respond_by, responded_on,"
                " working_days_to_respond, outcome, ended, extensions, ombudsman_referred_on, last_seq)"
                " VALUES ($1, $2, $3, 'housing', $4::date, $4, $4::date + 5, $4::date + 28, $4::date + 28,"
                " $5, $6, $7, $8, $9, $10, 1)",
                references[name],
                stage,
                policy_id,
                received,
                received + timedelta(days=days + days // 5 * 2) if days is not None else None,
                days,
                outcome,
                ended,
                1 if extended else 0,
                received + timedelta(days=60) if referred else None,
            )
    # The survey with the closure letter: three answers in the year (5, 4 and 2 of 5) and one the year after.
    await pool.executemany(
        "INSERT INTO satisfaction_answers (policy_id, answered_on, rating) VALUES ('scotland-model', $1, $2)",
        [(date(2031, 7, 1), 5), (date(2031, 7, 2), 4), (date(2031, 8, 3), 2), (date(2032, 4, 1), 1)],
    )
    yield
    await _clear(pool)
    await pool.execute("DELETE FROM satisfaction_answers WHERE answered_on = '2032-04-01'")


def _stage(**figures: Any) -> dict[str, Any]:
    return figures


async def test_the_spso_and_psow_sets_with_hand_worked_figures(
    api: tuple[httpx.AsyncClient, Settings],  # noqa: F811
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    indicator_rows: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, settings = api
    headers = bearer("maya.manager", settings)
    period = {"from": YEAR[0].isoformat(), "to": YEAR[1].isoformat()}

    scottish = await client.get(
        "/api/reports/indicators",
        params={**period, "policy_id": "scotland-model", "population": "50000"},
        headers=headers,
    )
    assert scottish.status_code == 200, scottish.text
    # Stage 1: five received (0.1 per 1,000 of 50,000), three closed in 3, 5 and 22 working days (average
    # 10.0; two within 5), one extended; Stage 2: S3 in 15 working days (within 20). One of three escalated.
    assert scottish.json() == {
        "set": "spso",
        "policy_id": "scotland-model",
        "from": "2031-04-01",
        "to": "2032-03-31",
        "population": 50000,
        "closed_to_reader_left_out": False,  # issue 29: the reader declared no conflict of interest
        "indicators": {
            "stage1": _stage(
                received=5,
                per_1000_population=0.1,
                closed=3,
                outcomes={"upheld": 1, "not_upheld": 1, "partially_upheld": 1},
                average_working_days=10.0,
                within_working_days=5,
                closed_within=2,
                closed_within_percent=66.7,
                extended=1,
            ),
            "stage2": _stage(
                received=1,
                per_1000_population=0.02,
                closed=1,
                outcomes={"not_upheld": 1},
                average_working_days=15.0,
                within_working_days=20,
                closed_within=1,
                closed_within_percent=100.0,
                extended=0,
            ),
            "escalated_to_stage2_percent": 33.3,
            "satisfaction": {
                "answers": 3,
                "by_rating": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
                "satisfied": 2,
                "satisfied_percent": 66.7,
            },
            # No learning nor training recorded for these rows (tests/test_report_learning.py counts some).
            "learning": {
                "responses_with_learning": 0,
                "root_causes": {},
                "improvements_promised": 0,
                "improvements_made": 0,
                "ombudsman_orders_done": 0,
                "improvements": [],
            },
            "staff_awareness_and_training": {
                "sessions": 0,
                "by_kind": {"training": 0, "awareness": 0},
                "staff_reached": 0,
                "entries": [],
            },
        },
    }

    welsh = await client.get(
        "/api/reports/indicators",
        params={**period, "policy_id": "wales-model", "population": "20000"},
        headers=headers,
    )
    assert welsh.status_code == 200, welsh.text
    figures = welsh.json()
    assert (figures["set"], figures["population"]) == ("psow", 20000)
    # Five received (0.25 per 1,000 of 20,000); four answers, three within 20 working days (S3's first took
    # 22); of four decided, two upheld in whole or part; S3 referred to the Ombudsman.
    assert {key: value for key, value in figures["indicators"].items() if not key.startswith("stage")} == {
        "received": 5,
        "per_1000_residents": 0.25,
        "closed": 4,
        "closed_within_20_working_days": 3,
        "closed_within_20_working_days_percent": 75.0,
        "decided": 4,
        "upheld_in_whole_or_part": 2,
        "upheld_percent": 50.0,
        "referred_to_ombudsman": 1,
    }

    # Every figure as the stage rows alone give it (no month read from the summaries).
    for policy_id, population in (("scotland-model", 50000), ("wales-model", 20000)):
        policy = policies[policy_id]

        async def figures_of(policy: Policy = policy, population: int = population) -> dict[str, Any]:
            return await report_indicators.indicators(
                pool, policy=policy, start=YEAR[0], end=YEAR[1], population=population
            )

        from_summaries = await figures_of()
        with monkeypatch.context() as patch:
            patch.setattr(reports, "period_parts", rows_only)
            assert await figures_of() == from_summaries

    # Without a population: the rates are null. A council under another ombudsman has no set here.
    untold = await client.get(
        "/api/reports/indicators", params={**period, "policy_id": "wales-model"}, headers=headers
    )
    assert untold.json()["indicators"]["per_1000_residents"] is None
    english = await client.get(
        "/api/reports/indicators", params={**period, "policy_id": "bexley"}, headers=headers
    )
    assert_problem(english, 422)
    assert "reports to the lgsco" in english.json()["detail"]
    officer = await client.get(
        "/api/reports/indicators",
        params={**period, "policy_id": "wales-model"},
        headers=bearer("olivia.officer", settings),
    )
    assert officer.status_code == 403
