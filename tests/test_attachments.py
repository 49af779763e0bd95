"""Evidence on a complaint: staff and residents attach files (limits by size and type), staff list and
download them, every upload and download is in the audit log without the file's content or name, and the
retention purge can destroy them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from api.resident.tokens import form_key
from core.settings import Settings
from store.attachments import delete_attachments
from tests.api_helpers import api, assert_problem, bearer
from tests.test_api_complaints import create
from tests.test_residents import Stack, auth, make, stack
from tests.test_residents_pages import signed_in

__all__ = ["api", "stack"]  # the fixtures, imported so pytest finds them here

Client = tuple[httpx.AsyncClient, Settings]
PHOTO = b"\x89PNG\r\n\x1a\n" + b"damp patch" * 100
# A Windows program (its real header), whatever type the client claims for it.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200


async def audit_rows(client: httpx.AsyncClient, settings: Settings, reference: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/complaints/{reference}/audit", headers=bearer("aude.auditor", settings)
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_staff_attach_list_and_download_evidence_and_each_is_audited(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    uploaded = await client.post(
        f"/api/complaints/{reference}/attachments",
        files={"file": ("Ada Resident bedroom.png", PHOTO, "image/png")},
        headers=bearer("olivia.officer", settings),
    )
    assert uploaded.status_code == 201, uploaded.text
    info = uploaded.json()
    assert info["filename"] == "Ada Resident bedroom.png"
    assert info["size"] == len(PHOTO) and info["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert info["uploaded_by"] == "olivia.officer"

    listed = await client.get(
        f"/api/complaints/{reference}/attachments", headers=bearer("ian.investigator", settings)
    )
    assert [item["id"] for item in listed.json()] == [info["id"]]
    assert "content" not in listed.json()[0]
    case = await client.get(f"/api/complaints/{reference}", headers=bearer("ian.investigator", settings))
    assert [item["filename"] for item in case.json()["attachments"]] == ["Ada Resident bedroom.png"]

    download = await client.get(
        f"/api/complaints/{reference}/attachments/{info['id']}", headers=bearer("ian.investigator", settings)
    )
    assert download.status_code == 200
    assert download.content == PHOTO
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "Ada%20Resident%20bedroom.png" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"

    rows = await audit_rows(client, settings, reference)
    kept = [row for row in rows if row["action"] in ("attach", "download_attachment")]
    assert [(row["action"], row["actor_id"]) for row in kept] == [
        ("attach", "olivia.officer"),
        ("download_attachment", "ian.investigator"),
    ]
    for row in kept:
        assert row["after"]["sha256"] == info["sha256"] and row["after"]["size"] == len(PHOTO)
        written = json.dumps(row)
        assert "Ada" not in written and "bedroom" not in written and "damp patch" not in written
    # Listing the files is a read of the names the resident gave them: recorded, without the names.
    [listing] = [row for row in rows if row["action"] == "attachments_list"]
    assert listing["actor_id"] == "ian.investigator" and listing["after"] == {"count": 1}


async def test_limits_and_permissions(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    url = f"/api/complaints/{reference}/attachments"
    officer = bearer("olivia.officer", settings)
    too_big = b"x" * (settings.attachment_max_bytes + 1)
    assert_problem(
        await client.post(url, files={"file": ("big.pdf", too_big, "application/pdf")}, headers=officer), 413
    )
    assert_problem(
        await client.post(url, files={"file": ("run.exe", EXE, "application/x-msdownload")}, headers=officer),
        415,
        "send one of",
    )
    assert_problem(
        await client.post(url, files={"file": ("empty.txt", b"", "text/plain")}, headers=officer), 422
    )
    assert_problem(
        await client.post(
            url, files={"file": ("a.txt", b"hello", "text/plain")}, headers=bearer("aude.auditor", settings)
        ),
        403,
    )
    stored = await client.post(
        url, files={"file": ("../../etc/a.txt", b"hello", "text/plain")}, headers=officer
    )
    assert stored.json()["filename"] == "a.txt"
    download = f"{url}/{stored.json()['id']}"
    assert_problem(await client.get(download, headers=bearer("adam.admin", settings)), 403)
    assert_problem(await client.get(f"{url}/00000000-0000-0000-0000-000000000000", headers=officer), 404)
    assert_problem(await client.get("/api/complaints/CMP-1999-000000/attachments", headers=officer), 404)


async def test_residents_send_evidence_by_api_and_page_and_the_purge_destroys_it(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        sent = await client.post(
            f"/api/public/complaints/{reference}/attachments",
            files={"file": ("letter.pdf", b"%PDF-1.4 the letter", "application/pdf")},
            headers=auth(token),
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["filename"] == "letter.pdf" and sent.json()["size"] == 19
        refused = await client.post(
            f"/api/public/complaints/{reference}/attachments",
            files={"file": ("x.pdf", b"%PDF", "application/pdf")},
            headers=auth("wrong-token-" + "x" * 40),
        )
        assert refused.status_code in (401, 404)

        session = await signed_in(client, reference, token)
        page = await client.get(f"/complaint/{reference}")
        assert 'enctype="multipart/form-data"' in page.text and "letter.pdf" in page.text
        forged = await client.post(
            f"/complaint/{reference}/evidence", files={"file": ("p.png", PHOTO, "image/png")}
        )
        assert forged.status_code == 303 and forged.headers["location"] == f"/complaint/{reference}"
        posted = await client.post(
            f"/complaint/{reference}/evidence",
            data={"form_key": form_key(session)},
            files={"file": ("p.png", PHOTO, "image/png")},
        )
        assert posted.status_code == 303, posted.text
        shown = await client.get(posted.headers["location"])
        assert "We have added your file" in shown.text and "p.png" in shown.text
        wrong_type = await client.post(
            f"/complaint/{reference}/evidence",
            data={"form_key": form_key(session)},
            files={"file": ("run.exe", EXE, "application/x-msdownload")},
        )
        assert wrong_type.status_code == 415
        assert "The selected file must be a PDF" in wrong_type.text and 'href="#file"' in wrong_type.text

    rows = await stack.pool.fetch(
        "SELECT actor_id, after FROM audit_log WHERE reference = $1 AND action = 'attach' ORDER BY id",
        reference,
    )
    assert [row["actor_id"] for row in rows] == ["resident", "resident"]
    assert all("letter" not in json.dumps(row["after"]) for row in rows)
    assert await delete_attachments(stack.pool, reference) == 2
    assert await stack.pool.fetchval("SELECT count(*) FROM attachments WHERE reference = $1", reference) == 0
