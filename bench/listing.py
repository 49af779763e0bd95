"""The list query: synthetic rows in `complaints`, then `search_complaints` against raw round-trips."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import asyncpg

from bench.measure import percentile, repeat
from store.complaints import ComplaintFilters, Executor, search_complaints

COLUMNS = (
    "reference", "workflow_id", "policy_id", "stage", "status", "channel", "service_area",
    "complainant_name", "complainant", "anonymous", "summary", "desired_outcome", "staff_complained_about",
    "assigned_to", "received_at", "acknowledge_by", "respond_by", "acknowledged_at", "responded_at",
    "closed_at", "outcome", "overdue", "next_deadline", "state", "last_seq", "created_by",
)  # fmt: skip
POLICIES = (
    "bexley",
    "westminster",
    "barking-dagenham",
    "complaint-handling-code",
    "council-003",
    "council-004",
)
POLICY_WEIGHTS = (30, 25, 20, 15, 5, 5)
AREAS = (
    "housing-repairs", "waste", "council-tax", "parking", "planning", "adult-social-care", "highways",
    "children-services", "benefits", "environmental-health", "libraries", "anti-social-behaviour",
)  # fmt: skip
AREA_WEIGHTS = (25, 15, 12, 10, 8, 7, 6, 5, 5, 3, 2, 2)
CHANNELS = ("email", "web", "phone", "letter", "in_person", "social_media")
FIRST = ("Ada", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hamid", "Isla", "Jack", "Kofi", "Lena")
LAST = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Khan", "Okafor", "Nowak", "Ahmed", "Murphy", "Kaur", "Lewis", "Hughes", "Edwards",
)  # fmt: skip
ISSUES = ("Damp and mould", "Missed bin collection", "Wrong council tax bill", "Parking fine", "Noise")
STAFF = tuple(f"investigator-{n:02d}" for n in range(24)) + ("ian.investigator", "ines.investigator")
OPEN = ("received", "acknowledged", "awaiting_information", "escalation_requested")
FINAL = ("closed", "declined", "withdrawn", "escalation_refused")
OUTCOMES = ("upheld", "partially_upheld", "not_upheld")
# Status mix by age: new complaints are open, old ones mostly closed, with a tail of stragglers.
STATUS_BY_AGE: tuple[tuple[int, tuple[str, ...], tuple[int, ...]], ...] = (
    (10, ("received", "acknowledged", "awaiting_information", "withdrawn"), (40, 50, 5, 5)),
    (
        45,
        ("acknowledged", "awaiting_information", "responded", "closed", "escalation_requested", "declined"),
        (35, 8, 35, 12, 5, 5),
    ),
    (
        10_000,
        ("closed", "responded", "escalation_refused", "declined", "withdrawn", "acknowledged"),
        (76, 8, 3, 6, 5, 2),
    ),
)
STAFF_NAMED = "olivia.officer"  # the API hides complaints naming the caller: every query excludes this one


def synthetic_rows(count: int, state: str, seed: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """`count` complaints received over the last three years, in a realistic mix (deterministic)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = now.date()
    complainant = json.dumps({"name": "Synthetic Resident", "email": "resident@example.org"})
    for index in range(count):
        age = rng.triangular(0, 3 * 365, 0)  # more recent complaints than old ones
        received = now - timedelta(days=age, minutes=rng.randrange(24 * 60))
        status = next(
            rng.choices(names, weights)[0] for limit, names, weights in STATUS_BY_AGE if age < limit
        )
        stage = 2 if status == "escalation_refused" or (status != "received" and rng.random() < 0.1) else 1
        acknowledge_by = received.date() + timedelta(days=rng.randint(2, 7))
        respond_by = received.date() + timedelta(days=rng.randint(14, 40))
        is_open = status in OPEN
        overdue = is_open and respond_by < today
        anonymous = rng.random() < 0.02
        name = None if anonymous else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        year = received.year
        reference = f"CMP-{year}-S{index:07d}"
        yield (
            reference,
            f"complaint-{reference}",
            rng.choices(POLICIES, POLICY_WEIGHTS)[0],
            stage,
            status,
            rng.choice(CHANNELS),
            rng.choices(AREAS, AREA_WEIGHTS)[0],
            name,
            complainant,
            anonymous,
            f"{rng.choice(ISSUES)}: reported {rng.randint(1, 6)} times, still not resolved.",
            "Put it right and apologise.",
            [STAFF_NAMED] if rng.random() < 0.005 else [],
            None if status == "received" else rng.choice(STAFF),
            received,
            acknowledge_by,
            respond_by,
            None if status == "received" else received + timedelta(days=rng.randint(1, 5)),
            None if is_open else received + timedelta(days=rng.randint(10, 35)),
            received + timedelta(days=rng.randint(10, 60)) if status in FINAL else None,
            rng.choice(OUTCOMES) if status in ("responded", "closed") else None,
            overdue,
            datetime.combine(respond_by, datetime.max.time(), UTC) if is_open else None,
            state,
            rng.randint(0, 8),
            "olivia.officer",
        )


async def load_rows(dsn: str, count: int, state: str, batch: int = 20_000) -> float:
    """COPY `count` synthetic rows into complaints and ANALYZE; return the seconds it took."""
    connection = await asyncpg.connect(dsn)  # no custom jsonb codec here: COPY sends jsonb as text
    try:
        started = datetime.now(UTC)
        rows = synthetic_rows(count, state)
        while chunk := [row for _, row in zip(range(batch), rows, strict=False)]:
            await connection.copy_records_to_table("complaints", records=chunk, columns=COLUMNS)
        await connection.execute("ANALYZE complaints")
        return (datetime.now(UTC) - started).total_seconds()
    finally:
        await connection.close()


class SqlCapture:
    """Stands in for the pool to capture the SQL the store builds (a page's, a count's), for EXPLAIN."""

    def __init__(self) -> None:
        self.sql = ""
        self.args: tuple[Any, ...] = ()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sql, self.args = sql, args
        return []

    async def fetchval(self, sql: str, *args: Any) -> int:
        self.sql, self.args = sql, args
        return 0


def plan_line(plan: dict[str, Any]) -> str:
    """One line for a plan tree: node types with their index, depth first, e.g. `Limit > Index Scan (x)`."""
    parts: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        label = node["Node Type"]
        if node.get("Scan Direction") == "Backward":
            label += " Backward"
        if "Index Name" in node:
            label += f" ({node['Index Name']})"
        elif node["Node Type"] == "Seq Scan":
            label = "SEQ SCAN"
        parts.append(label)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return " > ".join(parts)


@dataclass
class Query:
    name: str
    filters: ComplaintFilters
    page: int = 1


def typical_queries(today: date) -> list[Query]:
    def filters(**values: Any) -> ComplaintFilters:
        return ComplaintFilters(exclude_naming=STAFF_NAMED, **values)

    return [
        Query("overdue", filters(overdue=True)),
        Query("status+stage", filters(status="acknowledged", stage=1)),
        Query("area+due_before", filters(service_area="housing-repairs", due_before=today + timedelta(14))),
        Query("policy", filters(policy_id="westminster")),
        Query("q=surname", filters(text="okafor")),
        Query("q=no match", filters(text="no such words")),
        Query("page 2 (cursor)", filters(), page=2),
    ]


def _first(raw: Any) -> dict[str, Any]:
    document: list[dict[str, Any]] = json.loads(raw) if isinstance(raw, str) else raw
    return document[0]


async def explain_analyze(pool: asyncpg.Pool, sql: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The plan PostgreSQL picks for these values (a custom plan), with its execution time."""
    return _first(await pool.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args))


def _literal(value: Any) -> str:
    if isinstance(value, bool | int):
        return str(value).lower()
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain_generic(pool: asyncpg.Pool, sql: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The generic plan a cached prepared statement may switch to after five runs (asyncpg caches them).

    EXPLAIN with bound values always plans for those values, so this goes through PREPARE / EXECUTE (which
    takes no bound values: they are written as literals; they are the bench's own, not user input).
    """
    async with pool.acquire() as connection:
        types = ", ".join(f"{t.schema}.{t.name}" for t in (await connection.prepare(sql)).get_parameters())
        await connection.execute(f"PREPARE bench_generic ({types}) AS {sql}")
        try:
            await connection.execute("SET plan_cache_mode = force_generic_plan")
            values = ", ".join(_literal(value) for value in args)
            explain = f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE bench_generic ({values})"
            return _first(await connection.fetchval(explain))
        finally:
            await connection.execute("RESET plan_cache_mode; DEALLOCATE bench_generic")


async def _plans_used(connection: Any, sql: str) -> dict[str, int]:
    """How often this connection's cached statement ran a custom vs. a generic plan (PostgreSQL 14+)."""
    row = await connection.fetchrow(
        "SELECT custom_plans, generic_plans FROM pg_prepared_statements WHERE statement = $1", sql
    )
    return {"custom": row["custom_plans"], "generic": row["generic_plans"]} if row else {}


async def measure_list(pool: asyncpg.Pool, repeats: int, limit: int = 50) -> dict[str, Any]:
    """p50/p95 of each typical list query (as the API runs it: limit + 1, newest first), its plans, ratios.

    Timed on one connection, like a request's: asyncpg caches the prepared statement there, and after five
    runs PostgreSQL may switch it to a generic plan; `plans_used` says which plan the timed runs got.
    """
    sort = "-received_at"
    async with pool.acquire() as connection:
        ping = await repeat(repeats, lambda: connection.fetchval("SELECT 1"))
        bare_sql = f"SELECT * FROM complaints ORDER BY received_at DESC LIMIT {limit}"
        bare = await repeat(repeats, lambda: connection.fetch(bare_sql))
        baselines = {
            "select_1": {"p50_ms": percentile(ping, 0.5), "p95_ms": percentile(ping, 0.95)},
            "bare_page": {"p50_ms": percentile(bare, 0.5), "p95_ms": percentile(bare, 0.95)},
        }
        results: list[dict[str, Any]] = []
        for query in typical_queries(datetime.now(UTC).date()):
            after = None
            if query.page == 2:
                first = await search_complaints(
                    connection, filters=query.filters, sort=sort, after=None, limit=limit
                )
                after = (first[-1].received_at, first[-1].reference)

            async def run(query: Query = query, after: tuple[Any, str] | None = after) -> int:
                page = await search_complaints(
                    connection, filters=query.filters, sort=sort, after=after, limit=limit + 1
                )
                return len(page)

            rows = await run()
            for _ in range(5):  # warm up, and past PostgreSQL's choice between custom and generic plans
                await run()
            latencies = await repeat(repeats, run)
            capture = SqlCapture()
            await search_complaints(
                cast(Executor, capture), filters=query.filters, sort=sort, after=after, limit=limit + 1
            )
            used = await _plans_used(connection, capture.sql)
            # The same SQL without turning rows into ComplaintRecord models: what the Python side costs.
            sql, args = capture.sql, capture.args
            fetch = await repeat(repeats, lambda: connection.fetch(sql, *args))  # noqa: B023 (awaited here)
            custom = await explain_analyze(pool, capture.sql, capture.args)
            generic = await explain_generic(pool, capture.sql, capture.args)
            p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
            results.append(
                {
                    "name": query.name,
                    "rows": rows,
                    "p50_ms": round(p50, 3),
                    "p95_ms": round(p95, 3),
                    "ratio_p50_vs_select_1": round(p50 / baselines["select_1"]["p50_ms"], 1),
                    "ratio_p50_vs_bare_page": round(p50 / baselines["bare_page"]["p50_ms"], 2),
                    "same_sql_fetch_p50_ms": round(percentile(fetch, 0.5), 3),
                    "plan": plan_line(custom["Plan"]),
                    "server_ms": round(custom["Execution Time"], 3),
                    "generic_plan": plan_line(generic["Plan"]),
                    "generic_server_ms": round(generic["Execution Time"], 3),
                    "plans_used": used,
                    "seq_scan": "SEQ SCAN" in plan_line(custom["Plan"]) + plan_line(generic["Plan"]),
                }
            )
    rounded = {name: {k: round(v, 3) for k, v in value.items()} for name, value in baselines.items()}
    return {"baselines": rounded, "queries": results}
