"""The edge guard: one check of every request before any route sees it.

- A body larger than MAX_BODY_BYTES is refused with 413 (a complaint with its story is a few kilobytes).
- Text that PostgreSQL cannot store (NUL and other control characters, lone surrogates; tab and newlines are
  fine) is refused with 422 wherever it comes: the path, the query string, a header, a form field or a JSON
  string. Nothing is stripped: a person who typed it is told, rather than have their words changed.

Done here rather than per field so that no new parameter can forget it. Dates and list sizes are checked by
the request models (domain/inputs.py), which know what each field means.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON
from domain.inputs import unstorable

MAX_BODY_BYTES = 1_000_000


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


def _body_problem(content_type: str, body: bytes) -> str | None:
    if not body:
        return None
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

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _answer(send, 413, "Request too large", self._too_large(), instance)
            return
        try:
            body = await self._read_body(receive)
        except _TooLarge:
            await _answer(send, 413, "Request too large", self._too_large(), instance)
            return
        except _Disconnected:
            return  # the client left before sending its body: nobody to answer
        problem = _body_problem(headers.get("content-type", ""), body)
        if problem:
            await _answer(send, 422, "Invalid request", problem, instance)
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Disconnected()
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
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
