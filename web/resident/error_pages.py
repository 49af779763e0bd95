"""The resident pages' answer to an error no page handled itself: an outage (503), an address that is no page
(404, 405), an address or form the edge guard or the request checks refused (413, 422), a bug (500). The API
answers these in problem+json, which a browser shows as code; on a resident page (`/`, `/complaint...`,
`/accessibility`, `/privacy`) the same status and headers (Retry-After) come with a GOV.UK page in plain
words instead. `/api` is untouched.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.resident.pages import render

PROBLEM_JSON = b"application/problem+json"


def is_resident_page(path: str) -> bool:
    return path in ("/", "/complaint", "/accessibility", "/privacy") or path.startswith("/complaint/")


def _wording(status: int, detail: str) -> tuple[str, list[str]]:
    """The page's heading and paragraphs for a problem's status (GOV.UK's error page patterns)."""
    if status in (404, 405):
        return "Page not found", [
            "If you typed the web address, check it is correct.",
            "If you pasted the web address, check you copied the entire address.",
        ]
    if status == 503:
        return "Sorry, there is a problem with the service", [
            "We could not finish what you asked just now, so nothing was changed.",
            "Try again in a few minutes: go back and send it again. Your answers have not been lost.",
        ]
    if status >= 500:
        return "Sorry, there is a problem with the service", ["Try again later."]
    if status == 413:
        return "What you sent is too large", [
            "Go back and send a smaller file, or a shorter answer.",
        ]
    if status == 429:
        return "Too many attempts", [detail[:1].upper() + detail[1:] + "." if detail else "Try again later."]
    return "There is a problem with what you sent", [
        "Something in the web address or the form could not be read: it may hold characters we cannot"
        " store, or be too long.",
        "Go back, check what you entered and try again.",
    ]


class ResidentErrorPages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_resident_page(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = b""

        async def as_page(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                content_type = next(
                    (v for n, v in message.get("headers", []) if n.lower() == b"content-type"), b""
                )
                if content_type.startswith(PROBLEM_JSON):
                    start = message  # held until its body is read, then answered as a page
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body += message.get("body", b"")
                if message.get("more_body", False):
                    return
                await _send_page(send, start, body)
                return
            await send(message)

        await self.app(scope, receive, as_page)


async def _send_page(send: Send, start: Message, body: bytes) -> None:
    status = int(start["status"])
    try:
        detail = str(json.loads(body).get("detail") or "")
    except (ValueError, AttributeError):
        detail = ""
    heading, paragraphs = _wording(status, detail)
    page = render("problem.html", status, heading=heading, paragraphs=paragraphs)
    kept = [
        (name, value)
        for name, value in start.get("headers", [])
        if name.lower() not in (b"content-type", b"content-length")
    ]
    headers = kept + [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in page.headers.items()
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": page.body})
