"""Which failures the API answers as an outage (503, try again) and which as its own fault."""

from __future__ import annotations

import asyncpg
import jinja2

from api.errors import outage


def test_a_refused_database_connection_is_an_outage() -> None:
    assert outage(ConnectionRefusedError(111, "Connection refused")) == "postgres"
    assert outage(asyncpg.CannotConnectNowError("starting up")) == "postgres"


def test_a_missing_template_is_a_fault_of_the_install_not_a_database_outage() -> None:
    """TemplateNotFound is an OSError: answering it as 'the database is unreachable' hid a packaging fault."""
    missing = jinja2.TemplateNotFound("resident/start.html")
    assert isinstance(missing, OSError)
    assert outage(missing) is None
    wrapped = RuntimeError("page failed")
    wrapped.__cause__ = missing
    assert outage(wrapped) is None
