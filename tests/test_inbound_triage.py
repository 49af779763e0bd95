"""Triage: what an officer does with a message no complaint took. Open a complaint from it (intake pre-filled,
channel e-mail, received when it arrived, its files as evidence), link it to a complaint (new information),
record the request for the next stage it makes (received when it arrived), record it as a service request
(a register with a status, counted in a report) or dismiss it with a reason. Each decides it once and is
audited without the message's words or sender."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.api_helpers import assert_problem, bearer
from tests.inbound_helpers import Inbound, complaint, eventually, inbound, inbound_row, mail

__all__ = ["inbound"]  # the fixture, imported so pytest finds it here

JPEG = b"\xff\xd8\xff" + b"overflowing bins" * 10


async def _item_id(stack: Inbound, subject: str) -> str:
    answer = await stack.client.get("/api/triage", headers=bearer("olivia.officer", stack.settings))
    assert answer.status_code == 200, answer.text
    [item] = [item for item in answer.json() if item["subject"] == subject]
    return str(item["id"])


async def _audit(stack: Inbound, action: str) -> list[dict[str, Any]]:
    rows = await stack.pool.fetch("SELECT * FROM audit_log WHERE action = $1 ORDER BY id", action)
    return [
        {**dict(row), "after": json.loads(row["after"]) if isinstance(row["after"], str) else row["after"]}
        for row in rows
    ]


async def _post(stack: Inbound, path: str, body: dict[str, Any], user: str = "olivia.officer") -> Any:
    return await stack.client.post(path, json=body, headers=bearer(user, stack.settings))


async def test_open_a_complaint_from_a_message(inbound: Inbound) -> None:
    stack = inbound
    message = mail(
        sender="Bea Tenant <bea@example.net>",
        subject="Complaint about the bins",
        text="My bins have not been collected for three weeks and nobody answers the phone.",
        files=[("bins.jpg", "image/jpeg", JPEG)],
    )
    await stack.send(message)
    item_id = await _item_id(stack, "Complaint about the bins")
    arrived = (await inbound_row(stack.pool, message))["received_at"]

    detail = await stack.client.get(
        f"/api/triage/{item_id}", headers=bearer("olivia.officer", stack.settings)
    )
    assert detail.json()["intake"] == {
        "received_at": arrived.isoformat(),
        "channel": "email",
        "complainant": {"name": "Bea Tenant", "email": "bea@example.net", "preferred_contact": "email"},
        "summary": "My bins have not been collected for three weeks and nobody answers the phone.",
    }
    # An investigator may not open complaints from the queue.
    refused = await _post(stack, f"/api/triage/{item_id}/open-complaint", {}, user="ian.investigator")
    assert refused.status_code == 403
    incomplete = await _post(stack, f"/api/triage/{item_id}/open-complaint", {"policy_id": "bexley"})
    assert incomplete.status_code == 422 and "service_area" in incomplete.json()["detail"]

    opened = await _post(
        stack,
        f"/api/triage/{item_id}/open-complaint",
        {"policy_id": "bexley", "service_area": "waste", "received_at": "2020-01-01T00:00:00Z"},
    )
    assert opened.status_code == 201, opened.text
    reference = opened.json()["reference"]
    case = (
        await stack.client.get(
            f"/api/complaints/{reference}", headers=bearer("olivia.officer", stack.settings)
        )
    ).json()
    assert case["channel"] == "email" and case["service_area"] == "waste"
    assert datetime.fromisoformat(case["received_at"]) == arrived  # when it arrived, not what was typed
    assert case["complainant"]["email"] == "bea@example.net" and case["complainant"]["name"] == "Bea Tenant"
    assert case["summary"].startswith("My bins have not been collected")
    assert [item["filename"] for item in case["attachments"]] == ["bins.jpg"]
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["reference"], row["decided_by"]) == ("opened", reference, "olivia.officer")

    again = await _post(
        stack, f"/api/triage/{item_id}/open-complaint", {"policy_id": "bexley", "service_area": "waste"}
    )
    assert again.status_code == 409
    [audited] = [
        entry for entry in await _audit(stack, "triage_open_complaint") if entry["reference"] == reference
    ]
    assert audited["after"]["inbound_id"] == item_id and "bea" not in json.dumps(
        audited["after"], default=str
    )


async def test_link_a_message_from_another_address_to_its_complaint(inbound: Inbound) -> None:
    stack = inbound
    reference, _ = await complaint(stack)
    message = mail(
        sender="Carl Advocate <carl@example.net>",
        subject=f"Re: {reference}",
        text="I write for my mother: the heating is still broken.",
        files=[("heater.jpg", "image/jpeg", JPEG)],
    )
    await stack.send(message)
    item_id = await _item_id(stack, f"Re: {reference}")

    linked = await _post(stack, f"/api/triage/{item_id}/link", {"reference": reference})
    assert linked.status_code == 200, linked.text

    async def information() -> list[Any]:
        return list(
            await stack.pool.fetch(
                "SELECT detail FROM complaint_events WHERE reference = $1 AND action = 'add_information'",
                reference,
            )
        )

    [event] = await eventually(information, "the message reaches the complaint")
    detail = json.loads(event["detail"]) if isinstance(event["detail"], str) else event["detail"]
    assert detail["summary"] == "I write for my mother: the heating is still broken."
    files = await stack.client.get(
        f"/api/complaints/{reference}/attachments", headers=bearer("olivia.officer", stack.settings)
    )
    assert [(item["filename"], item["uploaded_by"]) for item in files.json()] == [
        ("heater.jpg", "olivia.officer")
    ]
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["reference"]) == ("linked", reference)
    assert [entry["reference"] for entry in await _audit(stack, "triage_link")][-1] == reference


async def test_a_request_for_the_next_stage_is_recorded_by_an_officer_as_received_when_it_arrived(
    inbound: Inbound,
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    for user, action, body in [
        ("olivia.officer", "acknowledge", {}),
        ("olivia.officer", "assign", {"assignee": "ian.investigator"}),
        ("ian.investigator", "respond", {"outcome": "not_upheld", "findings": "The repair was on time."}),
    ]:
        answer = await _post(stack, f"/api/complaints/{reference}/{action}", body, user=user)
        assert answer.status_code == 200, answer.text
    message = mail(
        sender=address,
        to=f"complaints+{reference}@council.example",
        subject="I am not happy",
        text="Please escalate my complaint to stage 2. The damp is back.",
    )
    await stack.send(message)
    row = await inbound_row(stack.pool, message)
    # Not acted on by itself: it waits for an officer, flagged.
    assert (row["status"], row["flag"], row["candidate"]) == ("triage", "next_stage_request", reference)
    case = await stack.client.get(
        f"/api/complaints/{reference}", headers=bearer("olivia.officer", stack.settings)
    )
    assert case.json()["stage"] == 1

    recorded = await _post(
        stack,
        f"/api/triage/{row['id']}/record-escalation",
        {"reference": reference, "outcome_wanted": "A survey of the flat."},
    )
    assert recorded.status_code == 200, recorded.text
    case = await stack.client.get(
        f"/api/complaints/{reference}", headers=bearer("olivia.officer", stack.settings)
    )
    assert (case.json()["status"], case.json()["stage"]) == ("escalation_requested", 2)
    detail = await stack.pool.fetchval(
        "SELECT detail FROM complaint_events WHERE reference = $1 AND action = 'request_escalation'",
        reference,
    )
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert datetime.fromisoformat(detail["received_at"]) == row["received_at"]  # the e-mail's arrival
    assert (await inbound_row(stack.pool, message))["status"] == "escalation_recorded"
    assert [entry["reference"] for entry in await _audit(stack, "triage_record_escalation")][-1] == reference


async def test_record_a_service_request_and_count_it_in_the_report(inbound: Inbound) -> None:
    stack = inbound
    message = mail(
        sender="dan@example.net", subject="Missed bin", text="Please collect my bin, it was missed."
    )
    await stack.send(message)
    item_id = await _item_id(stack, "Missed bin")

    created = await _post(
        stack, f"/api/triage/{item_id}/service-request", {"policy_id": "bexley", "service_area": "waste"}
    )
    assert created.status_code == 201, created.text
    request = created.json()
    assert (request["status"], request["service_area"], request["inbound_id"]) == ("open", "waste", item_id)
    moved = await _post(stack, f"/api/service-requests/{request['id']}/status", {"status": "passed_on"})
    assert moved.status_code == 200 and moved.json()["status"] == "passed_on"
    register = await stack.client.get(
        "/api/service-requests?status=passed_on", headers=bearer("olivia.officer", stack.settings)
    )
    assert request["id"] in [item["id"] for item in register.json()]

    today = datetime.now(UTC).date().isoformat()
    report = await stack.client.get(
        f"/api/reports/service-requests?from={today}&to={today}&policy_id=bexley",
        headers=bearer("maya.manager", stack.settings),
    )
    assert report.status_code == 200, report.text
    counted = {(row["service_area"], row["status"]): row["count"] for row in report.json()}
    assert counted[("waste", "passed_on")] >= 1
    officer = await stack.client.get(
        f"/api/reports/service-requests?from={today}&to={today}",
        headers=bearer("olivia.officer", stack.settings),
    )
    assert officer.status_code == 403
    # The period's rules (api/report_period.py): in order, at most ten years, never up to the last date.
    for period, why in [
        ("from=2026-05-01&to=2026-04-30", "to: must be on or after from"),
        ("from=2010-01-01&to=2026-04-30", "to: a report covers at most ten years"),
        ("from=9999-12-30&to=9999-12-31", "to: a report covers at most ten years"),
    ]:
        refused = await stack.client.get(
            f"/api/reports/service-requests?{period}", headers=bearer("maya.manager", stack.settings)
        )
        assert_problem(refused, 422, why)
    assert (await inbound_row(stack.pool, message))["status"] == "service_request"


async def test_dismiss_with_a_reason(inbound: Inbound) -> None:
    stack = inbound
    message = mail(sender="spam@example.net", subject="Cheap watches", text="Buy now.")
    await stack.send(message)
    item_id = await _item_id(stack, "Cheap watches")
    assert (await _post(stack, f"/api/triage/{item_id}/dismiss", {})).status_code == 422
    dismissed = await _post(stack, f"/api/triage/{item_id}/dismiss", {"reason": "Advertising"})
    assert dismissed.status_code == 200, dismissed.text
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["decision_reason"]) == ("dismissed", "Advertising")
    [entry] = [
        entry for entry in await _audit(stack, "triage_dismiss") if entry["after"]["inbound_id"] == item_id
    ]
    assert set(entry["after"]["reason"]) == {"chars", "hmac"}  # the reason's words are not in the trail
    # Decided once: a second officer is told it was dealt with.
    again = await _post(stack, f"/api/triage/{item_id}/link", {"reference": "CMP-2026-999999"})
    assert again.status_code == 404
    twice = await _post(stack, f"/api/triage/{item_id}/dismiss", {"reason": "Advertising"})
    assert twice.status_code == 409 and "already dealt with" in twice.json()["detail"]


async def test_a_link_whose_files_cannot_be_stored_leaves_the_item_in_triage_for_a_retry(
    inbound: Inbound,
) -> None:
    stack = inbound
    reference, _ = await complaint(stack)
    message = mail(
        sender="Carl Advocate <carl@example.net>",
        subject=f"Re: {reference} (disk full)",
        text="The boiler report is attached.",
        files=[("boiler.jpg", "image/jpeg", JPEG)],
    )
    await stack.send(message)
    item_id = await _item_id(stack, f"Re: {reference} (disk full)")
    # The database refuses to keep the file (a full disk), for this test only.
    await stack.pool.execute(
        "CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS"
        " $$BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END$$;"
        " CREATE TRIGGER test_disk_full BEFORE INSERT ON attachments"
        " FOR EACH ROW EXECUTE FUNCTION test_disk_full()"
    )
    try:
        failed = await _post(stack, f"/api/triage/{item_id}/link", {"reference": reference})
    finally:
        await stack.pool.execute("DROP TRIGGER test_disk_full ON attachments; DROP FUNCTION test_disk_full()")
    assert failed.status_code == 503, failed.text
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["reference"], row["decided_by"]) == ("triage", None, None)

    retried = await _post(stack, f"/api/triage/{item_id}/link", {"reference": reference})
    assert retried.status_code == 200, retried.text
    files = await stack.client.get(
        f"/api/complaints/{reference}/attachments", headers=bearer("olivia.officer", stack.settings)
    )
    assert [item["filename"] for item in files.json()] == ["boiler.jpg"]
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["reference"]) == ("linked", reference)


async def test_a_complaint_opened_from_triage_about_an_investigator_goes_to_someone_senior(
    inbound: Inbound,
) -> None:
    stack = inbound
    message = mail(sender="Dee Tenant <dee@example.net>", subject="About Ian", text="Ian was rude to me.")
    await stack.send(message)
    item_id = await _item_id(stack, "About Ian")
    opened = await _post(
        stack,
        f"/api/triage/{item_id}/open-complaint",
        {"policy_id": "bexley", "service_area": "waste", "staff_complained_about": ["ian.investigator"]},
    )
    assert opened.status_code == 201, opened.text
    reference = opened.json()["reference"]
    acknowledged = await _post(stack, f"/api/complaints/{reference}/acknowledge", {})
    assert acknowledged.status_code == 200, acknowledged.text
    # As when logged through POST /api/complaints: another investigator may not be given it.
    refused = await _post(stack, f"/api/complaints/{reference}/assign", {"assignee": "ines.investigator"})
    assert refused.status_code == 409 and "assign it to a manager" in refused.json()["detail"]
