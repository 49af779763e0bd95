"""Structured logs: JSON lines (or plain text, `LOG_FORMAT=text`) carrying what is known of the moment.

Every line has `time`, `level`, `logger` and `message`, and, where known, `request_id`, `reference` (the
complaint) and `staff_id`. They come from a context set per request by the API's middleware and
dependencies (api/observability.py, api/deps.py) and per activity attempt from its workflow id
(activities/observability.py); a log call's own `extra={"reference": ...}` wins.

What never goes in a log line: personal data (names, contact details, the resident's story, notes), tokens,
and query strings (which may carry a resident's token). Requests are logged by their route template.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

CONTEXT_FIELDS = ("request_id", "reference", "staff_id", "workflow_id")


@dataclass
class LogContext:
    """What is known of the current request or activity. Mutable on purpose: a dependency that learns the
    staff member (in a task or thread of its own) fills in the same object the middleware logs from."""

    request_id: str | None = None
    reference: str | None = None
    staff_id: str | None = None
    workflow_id: str | None = None
    # The ASGI scope: the reference is a path parameter, known once the router has matched the route.
    scope: MutableMapping[str, Any] | None = field(default=None, repr=False)

    def current_reference(self) -> str | None:
        if self.reference is None and self.scope is not None:
            found = (self.scope.get("path_params") or {}).get("reference")
            return str(found) if found else None
        return self.reference


_current: ContextVar[LogContext | None] = ContextVar("log_context", default=None)


def log_context() -> LogContext | None:
    return _current.get()


@contextmanager
def logging_context(context: LogContext) -> Iterator[LogContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


COMPLAINT_WORKFLOW_PREFIX = "complaint-"


def reference_of(workflow_id: str | None) -> str | None:
    """A complaint workflow's id is `complaint-<reference>` (core/temporal.workflow_id); others have none."""
    if workflow_id and workflow_id.startswith(COMPLAINT_WORKFLOW_PREFIX):
        return workflow_id.removeprefix(COMPLAINT_WORKFLOW_PREFIX)
    return None


class ContextFilter(logging.Filter):
    """Adds the context's fields to every record passing a handler (unless the call set them itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        if context is None:
            # A line of Temporal's workflow or activity logger: it puts the workflow's details on the record.
            details = getattr(record, "temporal_workflow", None) or getattr(record, "temporal_activity", None)
            if isinstance(details, dict) and isinstance(details.get("workflow_id"), str):
                context = LogContext(
                    workflow_id=details["workflow_id"], reference=reference_of(details["workflow_id"])
                )
        values = {
            "request_id": context.request_id if context else None,
            "reference": context.current_reference() if context else None,
            "staff_id": context.staff_id if context else None,
            "workflow_id": context.workflow_id if context else None,
        }
        for name, value in values.items():
            # Only what is known: a JSON line has no `"staff_id": null` noise (text lines show "-").
            if value is not None and getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


def json_formatter() -> logging.Formatter:
    # `time` is the record's instant in UTC, ISO 8601 with microseconds.
    # The context's fields (and a call's `extra`) are added to the line as they are set on the record.
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s"
        " [req=%(request_id)s ref=%(reference)s staff=%(staff_id)s] %(message)s",
        defaults=dict.fromkeys(CONTEXT_FIELDS, "-"),
    )


def configure_logging(level: str, log_format: Literal["json", "text"]) -> None:
    """One handler on the root logger, to stderr, in the chosen format; uvicorn's loggers go through it.

    uvicorn's access log prints each path with its query string: its sensitive values are redacted by the
    filter on its logger (api/log_redaction.py); the API's middleware logs each request by route template.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if log_format == "json" else text_formatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # HTTP clients log each URL they call at INFO; a URL may carry a secret.
    logging.getLogger("httpx").setLevel(logging.WARNING)
