"""Complaining for someone else on the public channels (issue 15, point 7): the public JSON API and the
resident form name a representative, who declares the complainant's consent. Where the council takes that
declaration as consent (verbal consent, or none needed), it is on file from that day and the representative
acts: letters and access links go to them. Where the council needs written consent, it is pending: letters
go to the complainant, and the representative gets no link, until staff record it. A council that accepts no
representatives, or not this kind, refuses with a 422 naming the field.

Real stack: the real database, Temporal's test server and a worker (tests/test_residents.py's `Stack`)."""

from __future__ import annotations

import html
import logging
import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from temporalio.api.history.v1 import History
from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.temporal import workflow_id
from domain import commands as cmd
from domain.intake_rules import check_representative, with_declared_consent
from domain.models import Representative, ResidentChannel
from domain.policy import ConsentNeeded, Policy
from notifications.render import render
from tests.api_helpers import assert_problem, settings_for
from tests.factories import OFFICER, running_worker
from tests.make_journey import (
    access_code_of,
    answers,
    begin,
    make_on_pages,
    page_data,
    post_page,
    reference_of,
    send,
    walk,
)
from tests.make_journey import error_summary as summary_of
from tests.test_contact_restrictions import restriction
from tests.test_residents import Stack, complaint, latest_link, make, new_email, settled

NO_REPRESENTATIVES = "no-representatives"
NO_CONSENT_NEEDED = "no-consent-needed"
REACHABLE = "Enter your e-mail address or your phone number, so that we can contact you"


def variant(policy: Policy, policy_id: str, name: str, **complainants: Any) -> Policy:
    rules = policy.complainants.model_copy(update=complainants)
    return policy.model_copy(update={"id": policy_id, "name": name, "complainants": rules})


@pytest.fixture
async def stack(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Stack]:
    """The shipped councils, and two made-up ones: one refusing representatives, one needing no consent."""
    bexley = policies["bexley"]
    councils = policies | {
        NO_REPRESENTATIVES: variant(
            bexley, NO_REPRESENTATIVES, "Solo Borough Council", representatives_allowed=False
        ),
        NO_CONSENT_NEEDED: variant(
            bexley, NO_CONSENT_NEEDED, "Open Borough Council", representative_consent=ConsentNeeded.NONE
        ),
    }
    settings = settings_for(task_queue)
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=councils)
    async with running_worker(temporal_env, pool, councils, task_queue):
        yield Stack(app=create_app(settings, services), env=temporal_env, pool=pool)


def representative(**overrides: Any) -> dict[str, Any]:
    number = random.randrange(10**9)
    body: dict[str, Any] = {
        "name": f"Ben Helper {number}",
        "email": f"helper-{number}@example.org",
        "kind": "family",
        "relationship": "Her son",
        "consent_declared": True,
    }
    return body | overrides


async def case_row(stack: Stack, reference: str) -> dict[str, Any]:
    row = await stack.pool.fetchrow(
        "SELECT complainant, representative FROM complaints WHERE reference = $1", reference
    )
    assert row is not None
    return dict(row)


async def link_recipients(stack: Stack, reference: str) -> list[str]:
    rows = await stack.pool.fetch(
        # In the order queued: the id is text ("access:REF:99" sorts after "access:REF:100").
        "SELECT recipient FROM notifications WHERE reference = $1 AND template = 'access_link'"
        " ORDER BY created_at, length(id), id",
        reference,
    )
    return [str(row["recipient"]) for row in rows]


async def acknowledgement_recipient(stack: Stack, reference: str) -> str:
    await settled(stack, reference)
    await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    recipient: str = await stack.pool.fetchval(
        "SELECT recipient FROM notifications WHERE reference = $1 AND template = 'acknowledgement'",
        reference,
    )
    return recipient


async def consent_shown(client: Any, reference: str) -> str:
    """The representative's part of the complaint page, as the signed-in resident sees it."""
    page = await client.get(f"/complaint/{reference}")
    assert page.status_code == 200, page.text
    part = page.text.split('id="representative"')[1].split("</dl>")[0]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", part).split()))


def today_in_london() -> str:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date().isoformat()


# ------------------------------------------------------------------------------------- the public API


async def test_where_written_consent_is_needed_the_representative_waits_for_it(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """Bexley (written consent, the Code's expectation): the representative is on the case, consent is
    pending, the letters go to the complainant and the representative's address gets no access link."""
    helper = representative()
    email = new_email()
    caplog.set_level(logging.DEBUG)
    async with stack.client() as client:
        made = await client.post("/api/public/complaints", json=complaint(email=email, representative=helper))
        assert made.status_code == 201, made.text
        reference = made.json()["reference"]
        # Nothing opens the complaint for the representative: no access code in the answer.
        assert made.json()["access_token"] is None and made.json()["access_token_expires_at"] is None
        assert "needs the complainant's written consent" in made.json()["message"]

        row = await case_row(stack, reference)
        assert row["complainant"]["email"] == email
        assert row["representative"] | {"name": "", "email": ""} == {
            "name": "",
            "email": "",
            "phone": None,
            "kind": "family",
            "relationship": "Her son",
            "consent_recorded": False,
            "consent_kind": "written",
            "consent_recorded_on": None,
        }
        assert row["representative"]["name"] == helper["name"]

        asked = await client.post(
            f"/api/public/complaints/{reference}/access-link", json={"email": helper["email"]}
        )
        assert asked.status_code == 202
        assert await link_recipients(stack, reference) == [email]  # the one sent when it was made
        assert await acknowledgement_recipient(stack, reference) == email
        # The complainant, signed in with their e-mailed link, sees who acts for them and that the consent
        # is awaited (issue 30: "the case shows when it arrives").
        signed = await client.post("/complaint/track", data=await latest_link(stack.pool, reference))
        assert signed.status_code == 303, signed.text
        waiting = await consent_shown(client, reference)
        assert helper["name"] in waiting and "Waiting for the complainant's consent in writing" in waiting

        # Staff record the written consent when it arrives (a verbal one will not do for Bexley): from then
        # on the representative's address gets a link, and the letters.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await stack.staff(
                reference,
                "record_representative_consent",
                cmd.RecordRepresentativeConsent(
                    actor=OFFICER, consent_kind="verbal", received_on=date.today()
                ),
            )
        assert "needs written consent" in str(refused.value.cause)
        arrived = date.today() - timedelta(days=1)
        await stack.staff(
            reference,
            "record_representative_consent",
            cmd.RecordRepresentativeConsent(actor=OFFICER, consent_kind="written", received_on=arrived),
        )
        stored = (await case_row(stack, reference))["representative"]
        assert stored["consent_recorded"] is True and stored["consent_kind"] == "written"
        assert stored["consent_recorded_on"] == arrived.isoformat()
        # The complaint page shows it arrived; the representative is told, and what they can now do.
        arrived_text = f"{arrived:%A} {arrived.day} {arrived:%B %Y}"
        shown = await consent_shown(client, reference)
        assert f"Received on {arrived_text}. We write to {helper['name']} about the complaint." in shown
        told = await stack.pool.fetchrow(
            "SELECT recipient, context FROM notifications"
            " WHERE reference = $1 AND template = 'consent_recorded'",
            reference,
        )
        assert told is not None and told["recipient"] == helper["email"]
        policy = stack.app.state.services.policies["bexley"]
        letter = " ".join(render("consent_recorded", dict(told["context"]), policy).text.split())
        assert (
            f"We have received the consent of the person you made this complaint for, on {arrived_text}"
            in (letter)
        )
        assert "You can now act for them on this complaint" in letter
        assert "ask for a link on our website with the complaint reference" in letter
        await stack.staff(
            reference, "request_information", cmd.RequestInformation(actor=OFFICER, request="Photos, please.")
        )
        to = await stack.pool.fetchval(
            "SELECT recipient FROM notifications WHERE reference = $1 AND template = 'information_request'",
            reference,
        )
        assert to == helper["email"]
        asked = await client.post(
            f"/api/public/complaints/{reference}/access-link", json={"email": helper["email"]}
        )
        assert asked.status_code == 202
        assert await link_recipients(stack, reference) == [email, helper["email"]]

    # The representative's name and address: in no log line, no audit entry, no clear Temporal payload.
    personal = (helper["name"], helper["email"])
    assert not any(value in caplog.text for value in personal)
    audit = await stack.pool.fetchval(
        "SELECT after::text FROM audit_log WHERE reference = $1 AND action = 'create'", reference
    )
    assert '"kind": "family"' in audit and '"consent_recorded": false' in audit
    assert not any(value in audit for value in personal)
    plain = TemporalClient(stack.env.client.service_client, namespace=stack.env.client.namespace)
    history = await plain.get_workflow_handle(workflow_id(reference)).fetch_history()
    raw = History(events=history.events).SerializeToString()
    assert not any(value.encode() in raw for value in personal)


async def test_a_retried_creation_gives_a_representative_waiting_for_consent_no_code_either(
    stack: Stack,
) -> None:
    body = complaint(representative=representative())
    headers = {"Idempotency-Key": f"retry-{random.randrange(10**9)}"}
    async with stack.client() as client:
        first = await client.post("/api/public/complaints", json=body, headers=headers)
        again = await client.post("/api/public/complaints", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["access_token"] is None


async def test_where_verbal_consent_will_do_the_declaration_is_consent_and_the_representative_acts(
    stack: Stack,
) -> None:
    """The Scottish model procedure: "A representative may act with the customer's consent, which may be
    given verbally and recorded." The declaration is recorded as consent that day; the representative gets
    the letters and may ask for an access link."""
    helper = representative(kind="advocate", relationship="")
    async with stack.client() as client:
        made = await client.post(
            "/api/public/complaints", json=complaint(policy_id="scotland-model", representative=helper)
        )
        assert made.status_code == 201, made.text
        reference = made.json()["reference"]
        assert made.json()["access_token"]  # the representative made it, and may act: it opens for them
        stored = (await case_row(stack, reference))["representative"]
        assert stored["consent_recorded"] is True
        assert stored["consent_kind"] == "declared"
        assert stored["consent_recorded_on"] == today_in_london()
        assert stored["kind"] == "advocate"

        asked = await client.post(
            f"/api/public/complaints/{reference}/access-link", json={"email": helper["email"].upper()}
        )
        assert asked.status_code == 202
        assert (await link_recipients(stack, reference))[-1] == helper["email"]


async def test_where_no_consent_is_needed_the_representative_gets_the_letters(stack: Stack) -> None:
    helper = representative()
    async with stack.client() as client:
        body = complaint(policy_id=NO_CONSENT_NEEDED, representative=helper)
        made = await client.post("/api/public/complaints", json=body)
        assert made.status_code == 201, made.text
        reference = made.json()["reference"]
        stored = (await case_row(stack, reference))["representative"]
        assert stored["consent_recorded"] is True and stored["consent_kind"] == "declared"
        assert await acknowledgement_recipient(stack, reference) == helper["email"]

        # A phone number instead of an e-mail address will do.
        by_phone = representative(email=None, phone="07700 900123", kind="other")
        body = complaint(policy_id=NO_CONSENT_NEEDED, representative=by_phone)
        made = await client.post("/api/public/complaints", json=body)
        assert made.status_code == 201, made.text
        stored = (await case_row(stack, made.json()["reference"]))["representative"]
        assert stored["phone"] == "07700 900123" and stored["email"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_declared": False}, "body.representative.consent_declared"),
        ({"email": None, "phone": None}, "body.representative"),
        ({"name": ""}, "body.representative.name"),
        ({"kind": ""}, "body.representative.kind"),
    ],
)
async def test_an_incomplete_representative_is_a_422_naming_the_field(
    stack: Stack, overrides: dict[str, Any], field: str
) -> None:
    async with stack.client() as client:
        refused = await client.post(
            "/api/public/complaints", json=complaint(representative=representative(**overrides))
        )
    assert_problem(refused, 422)
    assert [error["field"] for error in refused.json()["errors"]] == [field]


async def test_a_kind_the_council_does_not_accept_is_refused(stack: Stack) -> None:
    """Barking and Dagenham, section 7: councillors and MPs are not representatives under the procedure."""
    async with stack.client() as client:
        for kind in ("councillor", "wizard"):
            body = complaint(policy_id="barking-dagenham", representative=representative(kind=kind))
            refused = await client.post("/api/public/complaints", json=body)
            assert_problem(refused, 422, "representative.kind: London Borough of Barking")
            assert f"does not accept a {kind} as a representative" in refused.json()["detail"]
            assert "(accepted: family, friend, advocate, carer, solicitor, other)" in refused.json()["detail"]


async def test_a_council_that_accepts_no_representatives_refuses_one(stack: Stack) -> None:
    async with stack.client() as client:
        body = complaint(policy_id=NO_REPRESENTATIVES, representative=representative())
        refused = await client.post("/api/public/complaints", json=body)
        assert_problem(refused, 422, "representative: this policy does not accept representatives")
        assert (
            await client.post("/api/public/complaints", json=complaint(policy_id=NO_REPRESENTATIVES))
        ).status_code == 201


# --------------------------------------------------------------------------------------------- the form


def for_someone(**overrides: Any) -> dict[str, Any]:
    """The question pages' answers of a carer making a complaint for Ada (Bexley: written consent)."""
    helper = representative()
    return (
        answers(
            on_behalf="yes",
            representative_name=helper["name"],
            representative_email=helper["email"],
            representative_phone="",
            representative_kind="carer",
            representative_relationship="Her carer",
            representative_consent="yes",
            service_area="general",
            summary=f"Street light out on Elm Road, ticket {random.randrange(10**9)}.",
        )
        | overrides
    )


def error_summary(page: str) -> list[tuple[str, str]]:
    """The error summary's links, in order: (the field it goes to, the message)."""
    return list(summary_of(page).items())


async def test_the_form_names_a_representative(stack: Stack) -> None:
    async with stack.client() as client:
        first = await client.get(await begin(client, "bexley"))
        assert first.status_code == 200 and "Who is the complaint for?" in first.text
        assert await answer_ok(client, "who-for", {"on_behalf": "yes"}) == "/complaint/make/council"
        consent = await client.get("/complaint/make/consent")
        assert "I have their consent to make this complaint and act for them" in consent.text
        assert "London Borough of Bexley needs their consent in writing" in consent.text
        # Bexley's kinds of representative, in plain words, as radios.
        about = await client.get("/complaint/make/about-you")
        assert re.findall(r'name="representative_kind" type="radio" value="([^"]+)"', about.text) == [
            "family",
            "friend",
            "advocate",
            "carer",
            "solicitor",
            "councillor",
            "mp",
            "other",
        ]
        assert "Their MP (Member of Parliament)" in about.text

        data = for_someone()
        made = await make_on_pages(client, data)
        assert made.status_code == 200, made.text
        reference = reference_of(made.text)
        # Written consent to come: no access code shown, not signed in; the complainant was e-mailed.
        assert "We need their consent in writing" in made.text
        assert access_code_of(made.text) is None and "set-cookie" not in made.headers
        assert await link_recipients(stack, reference) == [data["email"]]
        stored = await case_row(stack, reference)
        assert stored["complainant"]["name"] == "Ada Resident"
        assert stored["representative"]["name"] == data["representative_name"]
        assert stored["representative"]["kind"] == "carer"
        assert stored["representative"]["relationship"] == "Her carer"
        assert stored["representative"]["consent_recorded"] is False  # Bexley: written consent, pending

    async with stack.client() as client:
        # Barking and Dagenham's pages offer only its own kinds; a councillor sent anyway is refused.
        await begin(client, "barking-dagenham")
        await answer_ok(client, "who-for", {"on_behalf": "yes"})
        barking = await client.get("/complaint/make/about-you")
        kinds = re.findall(r'name="representative_kind" type="radio" value="([^"]+)"', barking.text)
        assert "councillor" not in kinds and "mp" not in kinds and "family" in kinds
        refused = await walk(
            client, for_someone(policy_id="barking-dagenham", representative_kind="councillor")
        )
        assert refused.status_code == 422 and "Which best describes you?" in refused.text
        assert error_summary(refused.text) == [
            (
                "representative_kind",
                "Select one of the kinds of representative London Borough of Barking and Dagenham accepts",
            )
        ]


async def test_the_form_shows_what_is_missing_from_a_representative(stack: Stack) -> None:
    async with stack.client() as client:
        data = for_someone(
            representative_name="",
            representative_email="",
            representative_kind="",
            representative_relationship="Her carer",
            representative_consent="",
        )
        # Every problem of a page at once, in the order of the page, each also shown at its field.
        details = await walk(client, data)
        assert details.status_code == 422 and "Your name and contact details" in details.text
        assert error_summary(details.text) == [
            ("representative_name", "Enter your name"),
            ("representative_email", REACHABLE),
        ]
        for field in ("representative_name", "representative_email"):
            assert f'id="{field}-error"' in details.text
        assert (await answer_ok(client, "your-details", for_someone())) == "/complaint/make/about-you"
        about = await post_page(client, "about-you", page_data("about-you", data))
        assert about.status_code == 422
        assert error_summary(about.text) == [("representative_kind", "Select which best describes you")]
        assert 'id="representative_kind-error"' in about.text
        # What was given is kept: the relationship typed is still there.
        assert 'value="Her carer"' in about.text
        assert (await answer_ok(client, "about-you", for_someone())) == "/complaint/make/consent"
        # The declaration unticked: refused with that message alone.
        unticked = await post_page(client, "consent", page_data("consent", data))
        assert unticked.status_code == 422
        assert error_summary(unticked.text) == [
            ("representative_consent", "Confirm that you have their consent to act for them")
        ]
        assert 'id="representative_consent-error"' in unticked.text
        # Still for someone else: the next page asks for their name, not yours.
        assert (await answer_ok(client, "consent", for_someone())) == "/complaint/make/name"
        made = await stack.pool.fetchval(
            "SELECT count(*) FROM complaints WHERE summary = $1", data["summary"]
        )
        assert made == 0


async def answer_ok(client: Any, slug: str, given: dict[str, Any]) -> str:
    """Answer one question page; accepted, where it goes next."""
    sent = await post_page(client, slug, page_data(slug, given))
    assert sent.status_code == 303, (slug, sent.text[:2000])
    return str(sent.headers["location"])


async def test_a_council_without_representatives_has_no_such_part_and_refuses_one(stack: Stack) -> None:
    async with stack.client() as client:
        # "Who is the complaint for?" is asked before the council (other councils accept representatives);
        # this council's answer is given on the page that chose it, naming it.
        refused = await walk(client, for_someone(policy_id=NO_REPRESENTATIVES))
        assert refused.status_code == 422 and "Which council is the complaint about?" in refused.text
        assert error_summary(refused.text) == [
            (
                "policy_id",
                "Solo Borough Council does not accept complaints made for someone else: the person the"
                " complaint is for must make it",
            )
        ]
        # None of the "for someone else" pages is sent for it; the complaint is the person's own.
        alone = await make_on_pages(client, for_someone(policy_id=NO_REPRESENTATIVES, on_behalf="no"))
        assert alone.status_code == 200 and "Complaint received" in alone.text
        assert (await case_row(stack, reference_of(alone.text)))["representative"] is None


# ------------------------------------------------------------------------------------ the rule, alone


def test_a_declaration_is_consent_on_file_unless_the_council_needs_it_in_writing(
    policies: dict[str, Policy],
) -> None:
    """The same check as staff intake (`check_representative`), with consent allowed to follow."""
    named = Representative(name="Ben Helper", email="ben@example.org", kind="family", consent_recorded=False)
    day = date(2026, 11, 23)
    written = with_declared_consent(policies["bexley"], named, day)
    assert (written.consent_recorded, written.consent_kind, written.consent_recorded_on) == (
        False,
        "written",
        None,
    )
    # Staff intake still needs consent on file; the public form lets it follow.
    assert "consent must be recorded" in (check_representative(policies["bexley"], written) or "")
    assert check_representative(policies["bexley"], written, consent_may_follow=True) is None
    verbal = with_declared_consent(policies["scotland-model"], named, day)
    assert (verbal.consent_recorded, verbal.consent_kind, verbal.consent_recorded_on) == (
        True,
        "declared",
        day,
    )
    assert check_representative(policies["scotland-model"], verbal) is None
    # A declared consent is not written consent, wherever it came from.
    declared = written.model_copy(update={"consent_recorded": True, "consent_kind": "declared"})
    assert "needs written consent" in (check_representative(policies["bexley"], declared) or "")


async def test_a_person_restricted_from_new_complaints_cannot_make_one_as_a_representative(
    stack: Stack,
) -> None:
    """Issue 16's contact restrictions follow the person: as complainant or as someone's representative."""
    restricted = new_email()
    async with stack.client() as client:
        # A restriction is one council's decision: the same council's form refuses them.
        theirs, _ = await make(client, email=restricted, policy_id="scotland-model")
        await stack.staff(theirs, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await stack.staff(
            theirs,
            "restrict_contact",
            restriction(ResidentChannel.NEW_COMPLAINTS),
        )
        # Issue 29 (11): the answer is the one anyone gets (the form tells no stranger who is restricted), but
        # no complaint is opened online: the submission waits in triage, flagged, for an officer.
        body = complaint(policy_id="scotland-model", representative=representative(email=restricted))
        held = await client.post("/api/public/complaints", json=body)
        # Someone else may still complain for the same complainant.
        body = complaint(policy_id="scotland-model", representative=representative())
        normal = await client.post("/api/public/complaints", json=body)
        assert held.status_code == normal.status_code == 201, held.text
        assert held.json().keys() == normal.json().keys()
        assert [held.json()[key] is None for key in ("access_token", "access_token_expires_at")] == [
            normal.json()[key] is None for key in ("access_token", "access_token_expires_at")
        ]
        assert held.json()["message"].replace(held.json()["reference"], "R") == normal.json()[
            "message"
        ].replace(normal.json()["reference"], "R")
        assert not await stack.pool.fetchval(
            "SELECT count(*) FROM complaints WHERE reference = $1", held.json()["reference"]
        )
        # On the question pages: the page any complaint gets, not the answers again.
        held_page = await make_on_pages(
            client, for_someone(policy_id="scotland-model", representative_email=restricted)
        )
        normal_page = await make_on_pages(client, for_someone(policy_id="scotland-model"))
        assert held_page.status_code == normal_page.status_code == 200, held_page.text
        assert "govuk-error-summary" not in held_page.text
        assert held_page.text.count("<h1") == normal_page.text.count("<h1")
        assert held_page.headers.keys() == normal_page.headers.keys()
        flagged = await stack.pool.fetchval(
            "SELECT count(*) FROM inbound_messages WHERE source = 'web' AND flag = 'contact_restricted'"
            " AND status = 'triage' AND text LIKE $1",
            "%Representative:%",
        )
        assert flagged >= 2


async def test_who_the_complaint_is_for_is_asked_first_and_must_be_answered(stack: Stack) -> None:
    """A carer who filled in their own details but missed "Who is the complaint for?" is asked, and nothing
    is made: the complaint never goes in silently as the other person's own."""
    async with stack.client() as client:
        # First: before the council, the carer's details and the complainant's.
        assert await begin(client, "bexley") == "/complaint/make/who-for"
        missed = for_someone(on_behalf="")
        refused = await walk(client, missed)
        assert refused.status_code == 422
        assert error_summary(refused.text) == [
            ("on_behalf", "Select who the complaint is for: you, or someone else you are making it for")
        ]
        # Nothing sent: the check page is not reached without it, and sending goes back to the question.
        assert (await client.get("/complaint/make/check")).headers["location"] == "/complaint/make/who-for"
        sending = await send(client)
        assert sending.status_code == 303 and sending.headers["location"] == "/complaint/make/who-for"
        async with stack.pool.acquire() as connection:
            made = await connection.fetchval(
                "SELECT count(*) FROM complaints WHERE complainant->>'email' = $1", missed["email"]
            )
        assert made == 0
    async with stack.client() as client:
        # "Me", with the carer's answers in the draft by mistake: that part is not asked, nor read.
        mine = await make_on_pages(client, for_someone(on_behalf="no"))
        assert mine.status_code == 200 and "Complaint received" in mine.text
        assert (await case_row(stack, reference_of(mine.text)))["representative"] is None
