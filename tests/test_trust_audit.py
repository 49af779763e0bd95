"""Issue 29 (2): audit rows are never deduplicated by anything a caller chooses. A request id is only a
correlation id; an upload sent again with the same Idempotency-Key is recorded again."""

from __future__ import annotations

import httpx

from core.settings import Settings
from tests.api_helpers import api, bearer
from tests.test_api_complaints import create
from tests.test_attachments import PHOTO

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]


async def _count(client: httpx.AsyncClient, settings: Settings, reference: str, action: str) -> int:
    rows = await client.get(f"/api/complaints/{reference}/audit", headers=bearer("aude.auditor", settings))
    return sum(1 for row in rows.json() if row["action"] == action)


async def test_every_read_is_recorded_whatever_request_id_the_caller_sends(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    headers = {**bearer("maya.manager", settings), "X-Request-ID": "idem:same-every-time"}
    for _ in range(3):
        assert (await client.get(f"/api/complaints/{reference}", headers=headers)).status_code == 200
    assert await _count(client, settings, reference, "read") == 3


async def test_an_upload_sent_again_with_the_same_key_is_recorded_again(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    headers = {**bearer("olivia.officer", settings), "Idempotency-Key": "upload-once"}
    for _ in range(2):
        uploaded = await client.post(
            f"/api/complaints/{reference}/attachments",
            files={"file": ("photo.png", PHOTO, "image/png")},
            headers=headers,
        )
        assert uploaded.status_code == 201, uploaded.text
    files = await client.get(f"/api/complaints/{reference}/attachments", headers=headers)
    assert await _count(client, settings, reference, "attach") == len(files.json())


async def test_an_action_the_workflow_applied_once_is_recorded_once(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    headers = {**bearer("olivia.officer", settings), "X-Request-ID": "idem:x"}
    first = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=headers)
    assert first.status_code == 200, first.text
    assert await _count(client, settings, reference, "acknowledge") == 1
