"""The staff console over HTTP (no browser): sign-in and its cookie, CSRF, queues, the case page, actions
as forms and the stale view, and who sees which buttons. The browser journeys: tests/test_staff_browser.py."""

from __future__ import annotations

import json
import random
import re

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.actions import ACTIONS
from domain.policy import Policy
from store.staff import DEMO_STAFF
from tests.api_helpers import PASSWORD, bearer, settings_for
from tests.staff_console import (  # noqa: F401
    buttons,
    console,
    console_app,
    form_token,
    open_complaint,
    refused_by_the_api,
    sign_in,
)


async def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_it(
    console: tuple[httpx.AsyncClient, Settings],  # noqa: F811
) -> None:
    client, _ = console
    start = await client.get("/staff/")
    assert 'name="username"' in start.text and 'name="password"' in start.text
    wrong = await client.post(
        "/staff/sign-in",
        data={"username": "olivia.officer", "password": "nope", "csrf_token": form_token(start.text)},
    )
    assert wrong.status_code == 401 and "The username or password is not right" in wrong.text
    token = await sign_in(client, "olivia.officer")
    cookie = next(header for header in client.cookies.jar if header.name == "staff_session")
    assert cookie.path == "/staff"
    # ENVIRONMENT=test: Secure (only development leaves it off), HttpOnly, SameSite=Lax.
    start = await client.get("/staff/queues/mine")
    assert "Signed in as Olivia Officer" in start.text
    out = await client.post("/staff/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    again = await client.get("/staff/queues/mine")
    assert again.status_code == 303 and again.headers["location"] == "/staff/"


def seq_of(html: str) -> str:
    found = re.search(r'name="seq" value="(\d+)"', html)
    assert found
    return found.group(1)


async def test_queue_case_page_and_actions_as_forms(
    console: tuple[httpx.AsyncClient, Settings],  # noqa: F811
    pool: asyncpg.Pool,
) -> None:
    client, settings = console
    name = f"Ada Queuetest{random.randrange(10**6)}"
    reference = await open_complaint(client, settings, complainant={"name": name, "email": "ada@example.org"})
    token = await sign_in(client, "olivia.officer")

    # The shared test database holds every other test's complaints: this one is found by its own name.
    unassigned = await client.get("/staff/queues/unassigned", params={"q": name.split()[1]})
    assert reference in unassigned.text and name in unassigned.text
    assert re.search(r'id="count-unassigned">\d+<', unassigned.text)
    nothing = await client.get("/staff/queues/unassigned", params={"q": "Zzyzxnobody"})
    assert reference not in nothing.text and "No complaints in this queue match" in nothing.text
    exported = await client.get("/staff/export/unassigned.csv", params={"q": reference})
    assert exported.headers["content-type"].startswith("text/csv")
    assert f"{reference},{name},bexley" in exported.text
    # Each view is a list request in the audit trail, as the API's are (a search only as "text_search").
    audited = await pool.fetch(
        "SELECT after FROM audit_log WHERE actor_id = 'olivia.officer' AND action = 'list'"
        " ORDER BY at DESC LIMIT 3"
    )
    assert audited[0]["after"]["text_search"] is True
    assert name not in json.dumps([dict(row["after"]) for row in audited])

    case = await client.get(f"/staff/complaints/{reference}")
    assert case.status_code == 200
    assert 'id="identity-bar"' in case.text and "Acknowledge by" in case.text
    assert "working days counted from" in case.text
    assert 'data-action="acknowledge"' in case.text and 'data-action="respond"' not in case.text

    form = await client.get(f"/staff/complaints/{reference}/act/acknowledge")
    answer = await client.post(
        f"/staff/complaints/{reference}/act/acknowledge",
        data={"csrf_token": token, "seq": seq_of(form.text), "note": ""},
    )
    assert answer.status_code == 303, answer.text
    case = await client.get(answer.headers["location"])
    assert 'id="status">Acknowledged<' in case.text and 'id="done"' in case.text

    # The assign form sent empty: the command's own validation, in a GOV.UK error summary linking the field.
    form = await client.get(f"/staff/complaints/{reference}/act/assign")
    empty = await client.post(
        f"/staff/complaints/{reference}/act/assign", data={"csrf_token": token, "seq": seq_of(form.text)}
    )
    assert empty.status_code == 422
    assert 'href="#assignee"' in empty.text and "Enter assign to (staff id)" in empty.text

    # Someone else acts (through the API) after the form was opened: a clear page, nothing done.
    moved = await client.post(
        f"/api/complaints/{reference}/add-note",
        json={"text": "Called the resident."},
        headers=bearer("maya.manager", settings),
    )
    assert moved.status_code == 200
    stale = await client.post(
        f"/staff/complaints/{reference}/act/assign",
        data={"csrf_token": token, "seq": seq_of(form.text), "assignee": "ian.investigator"},
    )
    assert stale.status_code == 409 and "Someone else acted on this complaint" in stale.text
    read = await client.get(f"/api/complaints/{reference}", headers=bearer("olivia.officer", settings))
    assert read.json()["assigned_to"] is None

    # A form without the session's token (another site's page posting here) is refused, nothing done.
    forged = await client.post(
        f"/staff/complaints/{reference}/act/assign",
        data={"seq": str(read.json()["history"][-1]["seq"]), "assignee": "ian.investigator"},
    )
    assert forged.status_code == 403 and "This form has expired" in forged.text
    forged = await client.post("/staff/sign-out", data={"csrf_token": "not-the-token"})
    assert forged.status_code == 403
    read = await client.get(f"/api/complaints/{reference}", headers=bearer("olivia.officer", settings))
    assert read.json()["assigned_to"] is None


async def test_each_role_sees_exactly_the_buttons_the_api_would_allow(
    console: tuple[httpx.AsyncClient, Settings],  # noqa: F811
) -> None:
    """For every role and every action, on a complaint just received: the button is on the case page
    exactly when the API does not refuse the action for the role (403) or the status (409)."""
    client, settings = console
    reference = await open_complaint(client, settings)
    for user in DEMO_STAFF:
        client.cookies.clear()
        await sign_in(client, user.id)
        page = await client.get(f"/staff/complaints/{reference}")
        shown = buttons(page.text)
        for name in ACTIONS:
            if name in shown:
                continue
            detail = await refused_by_the_api(client, settings, reference, user.id, name)
            if detail is not None:
                # The status, or the rule the complaint's situation decides (Bexley has no early resolution).
                assert "while the complaint is received" in detail or (
                    name in ("resolve_early", "start_investigation") and "no early-resolution step" in detail
                ), (user.id, name, detail)
        for name in shown:
            # Shown: the role may take it at this stage, and the action table allows it from this status.
            assert ACTIONS[name].allows(user.role, 1), (user.id, name)
            assert "received" in {status.value for status in ACTIONS[name].allowed_from}, (user.id, name)


async def test_a_session_ends_after_its_idle_time(
    console: tuple[httpx.AsyncClient, Settings],  # noqa: F811
    pool: asyncpg.Pool,
) -> None:
    client, settings = console
    await sign_in(client, "aude.auditor")
    assert (await client.get("/staff/queues/mine")).status_code == 200
    idle = settings.staff_session_idle_minutes + 1
    await pool.execute(
        "UPDATE staff_sessions SET last_seen_at = now() - make_interval(mins => $1)"
        " WHERE staff ->> 'id' = $2",
        int(idle),
        "aude.auditor",
    )
    ended = await client.get("/staff/queues/mine")
    assert ended.status_code == 303 and ended.headers["location"] == "/staff/"


async def test_the_session_cookie_is_secure_outside_development(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """COOKIE_SECURE unset, the cookies are Secure outside development; Secure (as COOKIE_SECURE=true makes
    them in the demo users' development console), they are also HttpOnly, SameSite=Lax, under /staff."""
    assert settings_for(task_queue).staff_cookie_secure  # ENVIRONMENT=test
    assert not settings_for(task_queue).model_copy(update={"environment": "development"}).staff_cookie_secure
    async with console_app(temporal_env, pool, policies, task_queue, cookie_secure=True) as (client, _):
        await _check_secure_cookies(client)


async def _check_secure_cookies(client: httpx.AsyncClient) -> None:
    start = await client.get("/staff/")
    sign_in_cookie = start.headers["set-cookie"]
    assert "Secure" in sign_in_cookie and "HttpOnly" in sign_in_cookie
    token = form_token(start.text)
    answer = await client.post(
        "/staff/sign-in",
        data={"username": "olivia.officer", "password": PASSWORD, "csrf_token": token},
        headers={"Cookie": f"staff_sign_in={token}"},
    )
    assert answer.status_code == 303
    session = next(
        value for value in answer.headers.get_list("set-cookie") if value.startswith("staff_session=")
    )
    for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/staff"):
        assert flag in session, session


async def test_the_dashboard_counts_what_the_queues_hold(
    console: tuple[httpx.AsyncClient, Settings],  # noqa: F811
    pool: asyncpg.Pool,
) -> None:
    client, settings = console
    await open_complaint(client, settings, service_area="planning")  # one of the policy's areas (issue 29)
    await sign_in(client, "maya.manager")
    board = await client.get("/staff/dashboard")
    assert board.status_code == 200
    open_now = await pool.fetchval(
        "SELECT count(*) FROM complaints WHERE status NOT IN ('closed', 'declined', 'withdrawn',"
        " 'escalation_refused')"
    )
    assert re.search(rf'<h2 class="govuk-panel__title">{open_now:,}</h2>', board.text)
    assert 'service_area=planning"' in board.text and 'id="on-time-chart"' in board.text
    client.cookies.clear()
    await sign_in(client, "ian.investigator")
    assert (await client.get("/staff/dashboard")).status_code == 403


async def test_the_respond_form_carries_remedies_actions_and_learning(
    console: tuple[httpx.AsyncClient, Settings],  # noqa: F811
) -> None:
    """A command with nested parts, from its derived form: what was typed reaches the response."""
    client, settings = console
    reference = await open_complaint(client, settings)
    token = await sign_in(client, "maya.manager")
    form = await client.get(f"/staff/complaints/{reference}/act/acknowledge")
    await client.post(
        f"/staff/complaints/{reference}/act/acknowledge", data={"csrf_token": token, "seq": seq_of(form.text)}
    )
    form = await client.get(f"/staff/complaints/{reference}/act/respond")
    assert 'name="remedies-0-kind"' in form.text and 'name="learning-improvements-0-due_on"' in form.text
    assert "completed_by" not in form.text  # filled by the service, not typed
    fields = {
        "csrf_token": token,
        "seq": seq_of(form.text),
        "outcome": "partially_upheld",
        "findings": "The repair was booked late.",
        "sent_by": "email",
        "remedies-0-kind": "apology",
        "remedies-0-description": "We are sorry for the delay.",
        "actions-0-id": "fix-damp",
        "actions-0-description": "Treat the damp",
        "actions-0-owner": "repairs",
        "actions-0-due_on": "2027-01-15",
        "learning-root_cause": "process-not-followed",
        "learning-lessons": "Damp reports were booked as routine repairs.",
    }
    missing_owner = await client.post(
        f"/staff/complaints/{reference}/act/respond", data={**fields, "actions-0-owner": ""}
    )
    assert missing_owner.status_code == 422 and 'href="#actions-0-owner"' in missing_owner.text
    sent = await client.post(f"/staff/complaints/{reference}/act/respond", data=fields)
    assert sent.status_code == 303, sent.text
    read = (await client.get(f"/api/complaints/{reference}", headers=bearer("maya.manager", settings))).json()
    assert read["status"] == "responded" and read["outcome"] == "partially_upheld"
    assert [action["id"] for action in read["actions"]] == ["fix-damp"]
    respond = next(item for item in read["history"] if item["action"] == "respond")
    assert respond["detail"]["root_cause"] == "process-not-followed"
