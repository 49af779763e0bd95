"""Keep secrets and personal data out of log lines that carry URLs (uvicorn's access log writes every
request's path and query string): the values of sensitive query parameters are replaced.

The resident pages never put an access code in a URL, but the e-mailed link carries a one-time `code`, old
links carried `token`, and a staff search (`q`) may hold a name.
"""

from __future__ import annotations

import logging
import re

SENSITIVE = ("token", "code", "access_token", "q", "email", "session", "state")
_NAMES = "|".join(SENSITIVE)
_PARAMETER = re.compile(rf"([?&](?:{_NAMES})=)[^&#\s\"']*", re.IGNORECASE)
REDACTED = "[redacted]"
# uvicorn's loggers: the access log (path with query string) and the error log.
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn")


def redact(text: str) -> str:
    return _PARAMETER.sub(lambda match: match.group(1) + REDACTED, text)


class RedactQueryStrings(logging.Filter):
    """Rewrites a record's message and string arguments in place (the arguments keep their shape, since
    uvicorn's access formatter unpacks them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def install() -> None:
    """Idempotent: add the filter to uvicorn's loggers (filters survive uvicorn's logging configuration)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactQueryStrings) for existing in logger.filters):
            logger.addFilter(RedactQueryStrings())
