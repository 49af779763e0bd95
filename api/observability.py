"""The API's middleware for operations: a request id, the log context, metrics and one log line a request.

Pure ASGI (not `BaseHTTPMiddleware`), so the handlers run in the same context as the middleware and the log
context they fill in (the staff member, in api/deps.py) is the one it logs from. The request is named by its
route template (`/api/complaints/{reference}`), never by its path or query string: no token or personal data
reaches a log line or a metric label.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import LogContext, logging_context
from core.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("api.requests")

REQUEST_ID_HEADER = b"x-request-id"
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
# A caller's request id is kept only if it is short and plain: it goes into logs and the audit trail as is.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == REQUEST_ID_HEADER:
            given = bytes(value).decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template, or one label for every path no route serves (no cardinality)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return str(getattr(candidate, "path", "unmatched"))
    return "unmatched"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = LogContext(request_id=request_id_from(scope), scope=scope)
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, (context.request_id or "").encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        with logging_context(context):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                elapsed = time.perf_counter() - started
                route, method = route_template(scope), scope["method"]
                if route != "/metrics":  # Prometheus's own scrapes are not the service's traffic
                    HTTP_REQUESTS.labels(method, route, str(status)).inc()
                    HTTP_LATENCY.labels(method, route, str(status)).observe(elapsed)
                # Probes and scrapes come every few seconds: kept out of the INFO lines.
                log.log(
                    logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
