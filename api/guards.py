"""The edge guard: one check of every request before any route sees it.

- A body larger than MAX_BODY_BYTES is refused with 413 (a complaint with its story is a few kilobytes),
  except on the upload routes (`UPLOAD_PATH`), whose limit is the attachment limit plus the multipart framing.
- JSON nested deeper than MAX_JSON_DEPTH is refused with 422 (no request of ours nests more than a few levels;
  a deeper one would only exhaust the parser's recursion).
- Text that PostgreSQL cannot store (NUL and other control characters, lone surrogates; tab and newlines are
  fine) is refused with 422 wherever it comes: the path, the query string, a header, a form field or a JSON
  string. Nothing is stripped: a person who typed it is told, rather than have their words changed.

Done here rather than per field so that no new parameter can forget it. Dates and list sizes are checked by
the request models (domain/inputs.py), which know what each field means.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON
from domain.inputs import unstorable

MAX_BODY_BYTES = 1_000_000
MAX_JSON_DEPTH = 32
# Room for the multipart framing (boundaries, part headers, a form key) around an attachment.
MULTIPART_ALLOWANCE = 64 * 1024
# The routes that take a file: staff and residents' attachments, the resident page's evidence form.
UPLOAD_PATH = re.compile(r"^/(api/complaints|api/public/complaints|complaint)/[^/]+/(attachments|evidence)$")


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


def _first_problem(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        problem = unstorable(value)
        return f"{where}: {problem}" if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_problem(key, where) or _first_problem(item, f"{where}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_problem(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _url_problem(scope: Scope) -> str | None:
    path = unquote(scope.get("raw_path", b"").decode("latin-1") or scope["path"], errors="surrogateescape")
    problem = _first_problem(path, "path")
    if problem:
        return problem
    query = scope.get("query_string", b"").decode("latin-1")
    pairs = parse_qsl(query, keep_blank_values=True, errors="surrogateescape")
    for name, value in pairs:
        found = _first_problem(name, "query") or _first_problem(value, f"query.{name}")
        if found:
            return found
    for name, raw in scope.get("headers", []):
        found = _first_problem(raw.decode("latin-1"), f"header.{name.decode('latin-1')}")
        if found:
            return found
    return None


def _depth(value: Any) -> int:
    """How deeply a parsed JSON value nests (iteratively: a deep value must not exhaust the stack here)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _multipart_problem(content_type: str, body: bytes) -> str | None:
    """Text in a multipart form's fields (never its files) that PostgreSQL cannot store."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not found:
        return None
    for part in body.split(b"--" + found.group(1).encode("latin-1")):
        head, separator, value = part.partition(b"\r\n\r\n")
        if not separator or b"filename=" in head.lower():
            continue
        name = re.search(rb'name="([^"]*)"', head)
        text = value.removesuffix(b"\r\n").decode("utf-8", "surrogateescape")
        problem = _first_problem(text, f"body.{name.group(1).decode('latin-1') if name else 'field'}")
        if problem:
            return problem
    return None


def _body_problem(content_type: str, body: bytes) -> str | None:
    if not body:
        return None
    if "multipart/form-data" in content_type:
        return _multipart_problem(content_type, body)
    if "application/x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="surrogateescape")
        for name, value in pairs:
            found = _first_problem(name, "body") or _first_problem(value, f"body.{name}")
            if found:
                return found
        return None
    if "json" in content_type:
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None  # not JSON: the route's own validation answers 422 with the reason
        except RecursionError:
            return f"body: nested more than {MAX_JSON_DEPTH} levels deep"
        if _depth(parsed) > MAX_JSON_DEPTH:
            return f"body: nested more than {MAX_JSON_DEPTH} levels deep"
        return _first_problem(parsed, "body")
    return None


async def _answer(send: Send, status: int, title: str, detail: str, path: str) -> None:
    payload = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": path},
        ensure_ascii=True,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class EdgeGuard:
    """ASGI middleware: refuse oversized bodies (413) and unstorable text (422) before routing."""

    def __init__(
        self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES, upload_max_bytes: int | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Uploads (10 MiB by default, ATTACHMENT_MAX_BYTES) are limited per route, not by the JSON limit.
        self.upload_max_bytes = max(upload_max_bytes or 0, max_body_bytes) + MULTIPART_ALLOWANCE

    def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST" and UPLOAD_PATH.match(str(scope.get("path", ""))):
            return self.upload_max_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The path is echoed as `instance`; the problem's own text is ASCII-escaped JSON, so that is safe.
        instance = scope.get("path", "")
        problem = _url_problem(scope)
        if problem:
            await _answer(send, 422, "Invalid request", problem, instance)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        limit = self._limit(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, "Request too large", self._too_large(limit), instance)
            return
        try:
            body = await self._read_body(receive, limit)
        except _TooLarge:
            await _answer(send, 413, "Request too large", self._too_large(limit), instance)
            return
        except _Disconnected:
            return  # the client left before sending its body: nobody to answer
        problem = _body_problem(headers.get("content-type", ""), body)
        if problem:
            await _answer(send, 422, "Invalid request", problem, instance)
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self, limit: int) -> str:
        return f"the request body is larger than {limit} bytes"

    async def _read_body(self, receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Disconnected()
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then waits on the real one (disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
