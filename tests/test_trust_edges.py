"""Issue 29 (9, 10): uploads have their own body limit (10 MiB), everything else 1 MB; deeply nested JSON, a
NUL in a multipart field and a report for year 9999 are clear 4xx answers, never a 500."""

from __future__ import annotations

import httpx

from core.settings import Settings
from tests.api_helpers import api, assert_problem, bearer
from tests.test_api_complaints import create

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]


async def test_a_phone_photo_of_a_few_megabytes_is_accepted_and_json_stays_limited(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    photo = b"\xff\xd8\xff\xe0" + b"\x00JFIF" + b"p" * (4 * 1024 * 1024)
    sent = await client.post(
        f"/api/complaints/{reference}/attachments",
        files={"file": ("IMG_0001.jpg", photo, "image/jpeg")},
        headers=bearer("olivia.officer", settings),
    )
    assert sent.status_code == 201, sent.text
    too_big = b"\xff\xd8\xff\xe0" + b"p" * (settings.attachment_max_bytes + 1)
    refused = await client.post(
        f"/api/complaints/{reference}/attachments",
        files={"file": ("big.jpg", too_big, "image/jpeg")},
        headers=bearer("olivia.officer", settings),
    )
    assert_problem(refused, 413)
    big_json = await client.post(
        "/api/public/complaints",
        content=b'{"summary": "' + b"x" * 2_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(big_json, 413)


async def test_deep_json_a_nul_in_a_form_and_year_9999_are_4xx(api: Client) -> None:
    client, settings = api
    deep = "[" * 100_000 + "]" * 100_000
    nested = await client.post(
        "/api/public/complaints", content=deep.encode(), headers={"Content-Type": "application/json"}
    )
    assert_problem(nested, 422, "nested")
    nul = await client.post(
        "/complaint/track", files={"reference": (None, "CMP-2026-000001\x00"), "token": (None, "x")}
    )
    # A resident page: the same 422, as a GOV.UK page rather than the API's problem JSON.
    assert nul.status_code == 422 and nul.headers["content-type"].startswith("text/html")
    assert "There is a problem with what you sent" in nul.text
    manager = bearer("maya.manager", settings)
    far = await client.get(
        "/api/reports/performance", params={"from": "9999-01-01", "to": "9999-12-31"}, headers=manager
    )
    assert_problem(far, 422, "2000 to 2100")
    assert_problem(await client.get("/api/reports/annual", params={"year": 9999}, headers=manager), 422)
