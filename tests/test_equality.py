"""Equality monitoring: optional answers from the resident (API or page) or an officer, kept apart from the
case (no reference stored with them, never on the case read), reported to managers only in aggregate with
small numbers suppressed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.resident.tokens import form_key
from core.settings import Settings
from store.equality import forget_answered
from tests.api_helpers import assert_problem, bearer, complaint_body
from tests.test_residents import Stack, auth, make, stack
from tests.test_residents_pages import signed_in

__all__ = ["stack"]  # the fixture, imported so pytest finds it here


async def test_answers_are_kept_apart_and_reported_only_in_aggregate(stack: Stack) -> None:
    app = stack.app_with()
    settings: Settings = app.state.services.settings
    today = datetime.now(UTC).date()
    # A policy of its own: the shared test database holds other tests' answers.
    async with stack.client(app=app) as client:
        report_url = "/api/reports/equality"
        params = {
            "from": (today - timedelta(days=45)).isoformat(),
            "to": (today + timedelta(days=45)).isoformat(),
        }
        manager = bearer("maya.manager", settings)
        before = (
            await client.get(report_url, params=params | {"policy": "council-004"}, headers=manager)
        ).json()

        references = []
        for _ in range(10):
            reference, token = await make(client, policy_id="council-004")
            references.append(reference)
            given = await client.post(
                f"/api/public/complaints/{reference}/equality",
                json={"age_band": "35_44", "disability": "yes" if len(references) <= 7 else "no"},
                headers=auth(token),
            )
            assert given.status_code == 201, given.text
        again = await client.post(
            f"/api/public/complaints/{references[0]}/equality", json={"sex": "female"}, headers=auth(token)
        )
        assert again.status_code in (401, 404, 409)  # the last token opens only its own complaint
        assert_problem(
            await client.post(
                f"/api/public/complaints/{reference}/equality", json={"sex": "female"}, headers=auth(token)
            ),
            409,
        )
        assert_problem(
            await client.post(
                f"/api/public/complaints/{reference}/equality", json={"sex": "x"}, headers=auth(token)
            ),
            422,
        )

        # Not on the case, and nothing stored beside the answers names the complaint.
        case = await client.get(f"/api/complaints/{reference}", headers=bearer("ian.investigator", settings))
        assert "35_44" not in case.text and "equality" not in case.text
        columns = {
            row["column_name"]
            for row in await stack.pool.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'equality_monitoring'"
            )
        }
        assert "reference" not in columns

        # Only months that have ended are counted (issue 29): the answers are moved to last month's end.
        await stack.pool.execute(
            "UPDATE equality_monitoring SET submitted_on = $1 WHERE policy_id = 'council-004'",
            today.replace(day=1) - timedelta(days=1),
        )
        # Managers only, in aggregate, small counts suppressed.
        assert_problem(
            await client.get(report_url, params=params, headers=bearer("ian.investigator", settings)), 403
        )
        report = await client.get(report_url, params=params | {"policy": "council-004"}, headers=manager)
        assert report.status_code == 200, report.text
        body = report.json()
        assert before["responses"] == 0  # no other test gives answers for this policy
        assert body["responses"] == 10
        assert body["questions"]["age_band"]["35_44"] == 10
        # "no" (3) is not named; with it, the next smallest answer, else 10 - 7 would give it away.
        assert body["questions"]["disability"] == {"suppressed": 10}
        assert body["questions"]["sex"] == {"not_answered": 10}
        assert body["from"] == params["from"]
        assert_problem(
            await client.get(
                report_url, params={"from": params["to"], "to": params["from"]}, headers=manager
            ),
            422,
        )


async def test_an_officer_records_answers_and_the_resident_page_asks_for_them(stack: Stack) -> None:
    app = stack.app_with()
    settings: Settings = app.state.services.settings
    async with stack.client(app=app) as client:
        logged = await client.post(
            "/api/complaints", json=complaint_body(), headers=bearer("olivia.officer", settings)
        )
        reference = logged.json()["reference"]
        url = f"/api/complaints/{reference}/equality"
        assert_problem(
            await client.post(url, json={"sex": "male"}, headers=bearer("ian.investigator", settings)), 403
        )
        recorded = await client.post(url, json={"sex": "male"}, headers=bearer("olivia.officer", settings))
        assert recorded.status_code == 201, recorded.text
        audit = await stack.pool.fetchrow(
            "SELECT before, after FROM audit_log WHERE reference = $1 AND action = 'record_equality'",
            reference,
        )
        assert audit is not None and audit["after"] is None and audit["before"] is None

        reference, token = await make(client)
        session = await signed_in(client, reference, token)
        page = await client.get(f"/complaint/{reference}")
        assert f'href="/complaint/{reference}/equality"' in page.text
        form = await client.get(f"/complaint/{reference}/equality")
        assert form.status_code == 200 and "Your ethnic group" in form.text and 'for="ethnicity"' in form.text
        bad = await client.post(
            f"/complaint/{reference}/equality", data={"form_key": form_key(session), "ethnicity": "martian"}
        )
        assert bad.status_code == 422 and 'href="#ethnicity"' in bad.text
        sent = await client.post(
            f"/complaint/{reference}/equality",
            data={"form_key": form_key(session), "ethnicity": "white", "religion": ""},
        )
        assert sent.status_code == 303
        thanks = await client.get(sent.headers["location"])
        assert "We have your answers" in thanks.text
        # The retention purge forgets that this complaint answered; the counts stay.
        assert await forget_answered(stack.pool, reference) == 1
        assert "We have your answers" not in (await client.get(sent.headers["location"])).text
