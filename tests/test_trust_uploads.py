"""Issue 29 (7): uploads are judged by their content, named from the checked type without control or
bidirectional characters, and virus-scanned by clamd when one is configured."""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest

from api.file_types import DOCX, CheckedType, RefusedFile, checked_type, safe_filename
from api.virus_scan import scan
from core.settings import Settings
from tests.api_helpers import api, assert_problem, bearer
from tests.test_api_complaints import create
from tests.test_attachments import PHOTO

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><script>document.location='https://evil.example'</script></html>"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def word_document(*, macros: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        kind = "macroEnabled" if macros else "document"
        archive.writestr("[Content_Types].xml", f"<Types><Override ContentType='{kind}'/></Types>")
        archive.writestr("word/document.xml", "<w:document/>")
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00macro")
    return out.getvalue()


def test_the_content_decides_the_type_not_the_claim() -> None:
    assert checked_type(PHOTO) == CheckedType("image/png", ".png")
    assert checked_type(PDF) == CheckedType("application/pdf", ".pdf")
    assert checked_type(word_document()) == CheckedType(DOCX, ".docx")
    assert checked_type(b"Damp in the hall, 3 times.\n") == CheckedType("text/plain", ".txt")
    for refused in (SVG, HTML, word_document(macros=True), b"\x00\x01binary", b"MZ\x90\x00" + b"\x00" * 60):
        with pytest.raises(RefusedFile):
            checked_type(refused)


def test_the_name_comes_from_the_checked_type_without_hidden_characters() -> None:
    pdf = CheckedType("application/pdf", ".pdf")
    assert safe_filename("invoice\u202efdp.exe", pdf) == "invoicefdp.pdf"
    assert safe_filename("../../photo\x00.html", CheckedType("text/plain", ".txt")) == "photo.txt"
    assert safe_filename("\u200f", pdf) == "attachment.pdf"


async def test_disguised_files_are_refused_and_a_real_one_named_from_its_content(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    url = f"/api/complaints/{reference}/attachments"
    officer = bearer("olivia.officer", settings)
    for name, content, claimed in (
        ("evil.html", HTML, "text/plain"),
        ("cat.png", SVG, "image/png"),
        ("report.docm", word_document(macros=True), DOCX),
    ):
        sent = await client.post(url, files={"file": (name, content, claimed)}, headers=officer)
        assert_problem(sent, 415)
    stored = await client.post(
        url, files={"file": ("invoice\u202efdp.exe", PDF, "application/pdf")}, headers=officer
    )
    assert stored.status_code == 201, stored.text
    assert (stored.json()["filename"], stored.json()["content_type"]) == ("invoicefdp.pdf", "application/pdf")
    listed = await client.get(url, headers=officer)
    assert [item["filename"] for item in listed.json()] == ["invoicefdp.pdf"]


@pytest.fixture
async def clamd() -> AsyncIterator[str]:
    """A stand-in clamd speaking INSTREAM: it finds the EICAR test string."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readexactly(10) == b"zINSTREAM\0"
        content = b""
        while size := struct.unpack("!L", await reader.readexactly(4))[0]:
            content += await reader.readexactly(size)
        writer.write(b"stream: Eicar-Signature FOUND\0" if EICAR in content else b"stream: OK\0")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"127.0.0.1:{port}"


async def test_clamd_refuses_an_infected_file_and_an_unreachable_scanner_is_a_503(
    api: Client, clamd: str
) -> None:
    assert await scan(clamd, PDF) is None
    assert await scan(clamd, EICAR) == "Eicar-Signature"
    client, settings = api
    reference = (await create(client, settings))["reference"]
    app = client._transport.app  # type: ignore[attr-defined]
    services = app.state.services
    url = f"/api/complaints/{reference}/attachments"
    officer = bearer("olivia.officer", settings)
    original = services.settings
    try:
        services.settings = original.model_copy(update={"clamd_address": clamd})
        infected = await client.post(url, files={"file": ("e.txt", EICAR, "text/plain")}, headers=officer)
        assert_problem(infected, 422, "virus scanner")
        clean = await client.post(url, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=officer)
        assert clean.status_code == 201, clean.text
        services.settings = original.model_copy(update={"clamd_address": "127.0.0.1:1"})
        down = await client.post(url, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=officer)
        assert_problem(down, 503)
        assert down.headers["retry-after"]
    finally:
        services.settings = original
