"""What arrives at the door is checked there: text PostgreSQL cannot store, dates no calendar can count,
oversized lists and bodies are refused with a clear 4xx, never a 500 (the 500s the fuzzing of issue 11 found).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from core.settings import Settings
from tests.api_helpers import api, assert_problem, bearer, complaint_body, in_development

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]


async def test_a_nul_in_the_list_filter_is_refused_not_a_server_error(api: Client) -> None:
    client, settings = api
    headers = bearer("maya.manager", settings)
    response = await client.get("/api/complaints", params={"q": "\u0000damp"}, headers=headers)
    assert_problem(response, 422, "query.q: contains a control character")
    # Every other text filter and the path too.
    assert_problem(
        await client.get("/api/complaints", params={"service_area": "a\u0001"}, headers=headers), 422
    )
    assert_problem(await client.get("/api/complaints/CMP-%00", headers=headers), 422, "path")
    # Ordinary text still searches.
    assert (await client.get("/api/complaints", params={"q": "damp"}, headers=headers)).status_code == 200


async def test_a_nul_in_the_login_form_is_refused_not_a_server_error(api: Client) -> None:
    client, _ = api
    with in_development(client):
        response = await client.post(
            "/api/auth/token", data={"username": "olivia.officer\u0000", "password": "demo"}
        )
        assert_problem(response, 422, "body.username: contains a control character")
        wrong = await client.post("/api/auth/token", data={"username": "nobody", "password": "x"})
        assert_problem(wrong, 401)


async def test_the_deadline_planner_refuses_dates_near_the_end_of_the_calendar(api: Client) -> None:
    client, _ = api
    received = await client.get(
        "/api/policies/bexley/deadlines", params={"stage": 1, "received": "9999-12-31"}
    )
    assert_problem(received, 422, "received: must be between 2000-01-01")
    responded = await client.get(
        "/api/policies/bexley/deadlines",
        params={"stage": 2, "received": "2026-11-02", "responded": "9999-12-30"},
    )
    assert_problem(responded, 422, "responded: must be between")
    year_one = await client.get(
        "/api/policies/bexley/deadlines", params={"stage": 1, "received": "0001-01-01"}
    )
    assert_problem(year_one, 422, "received")
    next_year = datetime.now(UTC).year + 1
    far = await client.get(
        "/api/policies/bexley/deadlines", params={"stage": 1, "received": f"{next_year + 1}-01-04"}
    )
    assert_problem(far, 422, f"{next_year}-12-31")
    fine = await client.get(
        "/api/policies/bexley/deadlines", params={"stage": 1, "received": f"{next_year}-06-01"}
    )
    assert fine.status_code == 200, fine.text


async def test_a_receipt_in_year_one_is_refused(api: Client) -> None:
    client, settings = api
    response = await client.post(
        "/api/complaints",
        json=complaint_body(received_at="0001-01-01T00:00:00Z"),
        headers=bearer("olivia.officer", settings),
    )
    assert_problem(response, 422, "must be between 2000-01-01")


async def test_text_no_utf8_column_can_hold_is_refused(api: Client) -> None:
    client, settings = api
    # A lone surrogate is valid JSON ("\ud800") but no UTF-8 text: it must not reach PostgreSQL.
    raw = complaint_body(summary="SURROGATE")
    content = httpx.Request("POST", "/", json=raw).content.replace(b"SURROGATE", b"\\ud800")
    response = await client.post(
        "/api/complaints",
        content=content,
        headers={**bearer("olivia.officer", settings), "Content-Type": "application/json"},
    )
    assert_problem(response, 422, "body.summary")


async def test_oversized_lists_and_bodies_are_refused(api: Client) -> None:
    client, settings = api
    headers = bearer("olivia.officer", settings)
    many = await client.post(
        "/api/complaints",
        json=complaint_body(staff_complained_about=[f"person-{n}" for n in range(150)]),
        headers=headers,
    )
    assert_problem(many, 422)
    huge = await client.post("/api/complaints", json=complaint_body(summary="x" * 2_000_000), headers=headers)
    assert_problem(huge, 413, "larger than")
