"""Browser-side defences of the server-rendered pages, in one place.

- **Login CSRF.** A form of the resident pages posted from another site is refused (403): the browser's
  `Origin` (or, without one, `Sec-Fetch-Site: cross-site`) must be this service's own origin
  (PUBLIC_BASE_URL's, or the request's). Sign-in, making a complaint and asking for a link carry no session
  yet, so the pages' form key cannot protect them; the forms behind a session have both.
- **Content-Security-Policy.** The resident pages and the staff console load only their own scripts, styles,
  fonts and images and may not be framed by anyone (`frame-ancestors 'none'`); every other HTML answer
  (reports, the API docs) may not be framed either.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
FRAMING_CSP = "frame-ancestors 'none'"
# The staff console too (issue 29): a script injected there would act with a member of staff's session.
PAGE_PREFIXES = ("/complaint", "/resident-static", "/assets", "/staff/", "/staff-static")


def _is_page(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class PageSecurity:
    def __init__(self, app: ASGIApp, public_base_url: str | None = None) -> None:
        self.app = app
        self.public_origin = _origin(public_base_url) if public_base_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        if (
            scope.get("method") == "POST"
            and path.startswith("/complaint")
            and self._cross_site(scope, headers)
        ):
            await _refuse(send, path)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                names = {name.lower() for name, _ in raw}
                content_type = next((v for n, v in raw if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    policy = PAGE_CSP if _is_page(path) else FRAMING_CSP
                    raw.append((b"content-security-policy", policy.encode()))
                    if b"x-frame-options" not in names:
                        raw.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, with_headers)

    def _cross_site(self, scope: Scope, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        site = headers.get("sec-fetch-site")
        if origin is None:
            return site == "cross-site"
        if origin == "null":
            # Chromium sends `Origin: null` for the pages' own forms under their `Referrer-Policy:
            # no-referrer`; Sec-Fetch-Site then tells a same-origin post from any other.
            return site != "same-origin"
        allowed = {f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()}
        if self.public_origin:
            allowed.add(self.public_origin)
        return origin.lower().rstrip("/") not in allowed


async def _refuse(send: Send, path: str) -> None:
    body = json.dumps(
        {
            "type": "cross-site-form",
            "title": "Forbidden",
            "status": 403,
            "detail": "this form was sent from another website: open the council's complaint pages and send"
            " it from there",
            "instance": path,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
