"""Volunteers who join by a standing pass (issue 4 item 8, contracts §4), through HTTP over a
real SQLite store: the pass, redeeming it, waiting, the commander's decision, the board, and
the end of the incident."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from starlette.websockets import WebSocketDisconnect

from konenut.domain.ids import parse_time, utcnow
from konenut.domain.roles import Role
from konenut.store import schema

from .conftest import PUSH_SERVICE_HOST, SITE, Site, assert_problem, new_key

CODE_FORMAT = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")
JOINING = {"name": "Avi Peretz", "phone": "+972501234567", "affiliation": "police", "armed": True}


def issue_pass(site: Site, key: str | None = None, incident_id: str | None = None) -> Any:
    response = site.post(
        f"/api/v1/incidents/{incident_id or site.incident_id}/volunteer-pass",
        Role.COMMANDER,
        json={"language": "he"},
        key=key,
    )
    assert response.status_code == 201, response.text
    return response.json()


def redeem(site: Site, code: str, key: str | None = None, **fields: Any) -> Any:
    """POST /passes/redeem with no token, as a stranger's phone does."""
    return site.post("/api/v1/passes/redeem", json={**JOINING, "code": code, **fields}, key=key)


def join(site: Site, code: str, **fields: Any) -> dict[str, Any]:
    response = redeem(site, code, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def approve(site: Site, volunteer_id: str, verb: str = "approve") -> Any:
    return site.post(
        f"/api/v1/incidents/{site.incident_id}/volunteers/{volunteer_id}/{verb}",
        Role.COMMANDER,
        json={},
    )


def board_row(site: Site, volunteer_id: str, role: Role = Role.COMMANDER) -> Any:
    response = site.get(f"/api/v1/incidents/{site.incident_id}/muster", role)
    assert response.status_code == 200, response.text
    board = response.json()
    rows = [r for r in board["people"] if r["person_id"] == volunteer_id]
    return (rows[0] if rows else None), board


def test_the_commander_gets_a_code_a_link_and_a_qr(site: Site) -> None:
    before = utcnow()
    issued = issue_pass(site)
    assert CODE_FORMAT.match(issued["code"]), issued["code"]
    assert issued["link"].endswith("/he/p#" + issued["code"].replace("-", ""))
    assert issued["qr_data_url"].startswith("data:image/png;base64,")
    png = base64.b64decode(issued["qr_data_url"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    expires = parse_time(issued["expires_at"])
    assert before + timedelta(hours=11) < expires <= utcnow() + timedelta(hours=12)
    [event] = issued["events"]
    assert event["type"] == "pass.issued" and event["incident_id"] == site.incident_id
    assert event["payload"]["purpose"] == "volunteer_join" and "code_hash" not in event["payload"]
    # Responders do not hand out passes; the audit records who tried.
    refused = site.post(
        f"/api/v1/incidents/{site.incident_id}/volunteer-pass", Role.RESPONDER, json={}
    )
    assert_problem(refused, 403, "forbidden", "issue volunteer pass")


def test_a_volunteer_joins_waits_is_approved_and_is_on_the_board(site: Site) -> None:
    issued = issue_pass(site)
    # The code as read out: lower case, with spaces.
    joined = join(site, issued["code"].lower().replace("-", " "))
    assert joined["status"] == "pending" and joined["incident_id"] == site.incident_id
    assert [e["type"] for e in joined["events"]] == [
        "device.enrolled",
        "volunteer.joined",
        "audit.pass_redeemed",
    ]
    assert all("token_hash" not in e["payload"] for e in joined["events"])
    token, volunteer_id = joined["token"], joined["volunteer_id"]

    # Pending: only its own standing.
    me = site.get("/api/v1/volunteers/me", token=token)
    assert me.status_code == 200, me.text
    assert me.json() == {
        "volunteer_id": volunteer_id,
        "status": "pending",
        "incident_id": site.incident_id,
        "name": "Avi Peretz",
    }
    whoami = site.get("/api/v1/me", token=token).json()
    assert (whoami["subject_kind"], whoami["primary_role"]) == ("volunteer", "volunteer")
    assert whoami["name"] == "Avi Peretz"
    inc = f"/api/v1/incidents/{site.incident_id}"
    for path in (inc, "/api/v1/site/people", f"{inc}/muster", f"{inc}/sightings"):
        assert_problem(site.get(path, token=token), 403, "forbidden", "approval")
    status = site.post(f"{inc}/muster/status", token=token, json={"status": "coming"})
    assert_problem(status, 403, "forbidden", "approval")
    assert board_row(site, volunteer_id)[0] is None, "a pending volunteer is not on the board"

    # The commander sees who is waiting, phone included; the squad sees them without it.
    [row] = site.get(f"{inc}/volunteers", Role.COMMANDER).json()
    assert row["volunteer_id"] == volunteer_id and row["status"] == "pending"
    assert (row["name"], row["phone"], row["affiliation"], row["armed"]) == (
        "Avi Peretz",
        "+972501234567",
        "police",
        True,
    )
    assert row["decided_at"] is None and row["joined_at"]
    by_role = {
        role: [
            e
            for e in site.get(f"{inc}/events", role).json()["events"]
            if e["type"] == "volunteer.joined"
        ]
        for role in (Role.COMMANDER, Role.RESPONDER, Role.RESIDENT)
    }
    assert by_role[Role.COMMANDER][0]["payload"]["phone"] == "+972501234567"
    assert by_role[Role.RESPONDER][0]["payload"]["armed"] is True
    assert "phone" not in by_role[Role.RESPONDER][0]["payload"]
    assert by_role[Role.RESIDENT] == []

    approved = approve(site, volunteer_id)
    assert approved.status_code == 201, approved.text
    assert [e["type"] for e in approved.json()["events"]] == ["volunteer.approved"]
    again = approve(site, volunteer_id)
    assert again.status_code == 200 and again.json()["events"] == []

    # Approved: the squad picture of this incident, and a row on the board marked volunteer.
    assert site.get("/api/v1/volunteers/me", token=token).json()["status"] == "approved"
    incident = site.get(inc, token=token)
    assert incident.status_code == 200, incident.text
    assert site.sighting_id in incident.json()["sightings"]
    row, board = board_row(site, volunteer_id, role=Role.RESPONDER)
    assert row is not None and board["muster"] is not None
    assert row["volunteer"] is True and row["name"] == "Avi Peretz"
    assert (row["affiliation"], row["armed"], row["state"]) == ("police", True, "seen")
    own_view = site.get(f"{inc}/muster", token=token)
    assert own_view.status_code == 200, own_view.text
    coming = site.post(f"{inc}/muster/status", token=token, json={"status": "coming"})
    assert coming.status_code == 201, coming.text
    row, board = board_row(site, volunteer_id)
    assert row["state"] == "coming" and row["channels"] == []
    assert board["counts"]["coming"] >= 1
    # Still bound to this incident only.
    drill = site.fresh_drill()
    assert_problem(site.get(f"/api/v1/incidents/{drill}", token=token), 403, "forbidden")


def test_a_pending_volunteer_hears_nothing_on_the_stream(site: Site) -> None:
    token = join(site, issue_pass(site)["code"])["token"]
    volunteer_id = site.get("/api/v1/volunteers/me", token=token).json()["volunteer_id"]
    with site.client.websocket_connect("/api/v1/stream?since=0") as ws:
        ws.send_text(orjson.dumps({"type": "auth", "token": token}).decode())
        assert ws.receive_json()["type"] == "hello"
        inc = f"/api/v1/incidents/{site.incident_id}"
        order = site.post(f"{inc}/orders", Role.COMMANDER, json={"text": "Hold gate 3"})
        assert order.status_code == 201, order.text
        # Declining revokes the token, which closes the stream: every frame the hub meant
        # for this connection arrives before that close.
        assert approve(site, volunteer_id, "decline").status_code == 201
        frames = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                frames.append(ws.receive_json())
    assert closed.value.code == 4401
    assert [f["type"] for f in frames if "." in f["type"]] == [], frames


def test_declining_revokes_the_volunteers_device(site: Site) -> None:
    joined = join(site, issue_pass(site)["code"], phone=None)
    declined = approve(site, joined["volunteer_id"], "decline")
    assert declined.status_code == 201, declined.text
    events = declined.json()["events"]
    assert [e["type"] for e in events] == ["volunteer.declined", "token.revoked"]
    assert events[1]["payload"]["token_id"] == joined["token_id"]
    refused = site.get("/api/v1/volunteers/me", token=joined["token"])
    assert_problem(refused, 401, "token-revoked")
    [row] = site.get(f"/api/v1/incidents/{site.incident_id}/volunteers", Role.OPERATOR).json()
    assert row["status"] == "declined" and row["phone"] is None and row["decided_at"]
    assert_problem(approve(site, joined["volunteer_id"]), 409, "conflict", "declined")


def test_a_dismissed_volunteers_phone_is_pushed_no_more(site: Site) -> None:
    """Dismissing revokes the device and ends its push subscription in the same command."""
    joined = join(site, issue_pass(site)["code"])
    assert approve(site, joined["volunteer_id"]).status_code == 201
    subscription = {
        "endpoint": f"https://{PUSH_SERVICE_HOST}/send/volunteer-phone",
        "p256dh": "B" + "A" * 86,
        "auth": "A" * 22,
    }
    put = site.call("PUT", "/api/v1/push/subscription", json=subscription, token=joined["token"])
    assert put.status_code == 201, put.text
    dismissed = approve(site, joined["volunteer_id"], "decline")
    assert dismissed.status_code == 201, dismissed.text
    events = [(e["type"], e["payload"].get("token_id")) for e in dismissed.json()["events"]]
    assert events == [
        ("volunteer.declined", None),
        ("token.revoked", joined["token_id"]),
        ("push.unsubscribed", joined["token_id"]),
    ]
    assert site.store.state(SITE).push_subscriptions == {}


def test_when_the_incident_closes_the_volunteer_and_the_pass_stop(site: Site) -> None:
    issued = issue_pass(site)
    joined = join(site, issued["code"])
    assert approve(site, joined["volunteer_id"]).status_code == 201
    inc = f"/api/v1/incidents/{site.incident_id}"
    assert site.get(inc, token=joined["token"]).status_code == 200
    closed = site.post(f"{inc}/close", Role.COMMANDER, json={"summary": "over"})
    assert closed.status_code == 201, closed.text
    assert_problem(site.get(inc, token=joined["token"]), 401, "token-expired", "closed")
    assert_problem(site.get("/api/v1/volunteers/me", token=joined["token"]), 401, "token-expired")
    head = site.head()
    assert_problem(redeem(site, issued["code"]), 409, "incident-closed")
    assert site.head() == head
    # And no new pass for a closed incident.
    late = site.post(f"{inc}/volunteer-pass", Role.COMMANDER, json={})
    assert_problem(late, 409, "conflict", "closed")


def test_a_pass_expires_after_twelve_hours_and_can_be_revoked(site: Site) -> None:
    issued = issue_pass(site)
    real_clock = site.store.clock
    site.store.clock = lambda: real_clock() + timedelta(hours=12, seconds=1)
    try:
        head = site.head()
        assert_problem(redeem(site, issued["code"]), 409, "pass-expired")
        assert site.head() == head
    finally:
        site.store.clock = real_clock

    second = issue_pass(site)
    revoke = site.post(f"/api/v1/passes/{second['pass_id']}/revoke", Role.COMMANDER, json={})
    assert revoke.status_code == 201, revoke.text
    assert [e["type"] for e in revoke.json()["events"]] == ["pass.revoked"]
    head = site.head()
    assert_problem(redeem(site, second["code"]), 409, "pass-revoked")
    assert site.head() == head


@pytest.mark.parametrize(
    ("fields", "status", "slug", "where"),
    [
        ({"code": "ABCD-EFGH-JKLM-NPQR"}, 404, "code-unknown", ""),
        ({"phone": "050-123"}, 422, "validation-error", "body.phone"),
        ({"phone": "521234567"}, 422, "validation-error", "body.phone"),
        ({"affiliation": "mercenary"}, 422, "validation-error", "affiliation"),
        ({"name": "  "}, 422, "validation-error", "name"),
        ({"armed": "maybe"}, 422, "validation-error", "armed"),
        ({"role": "commander"}, 422, "validation-error", "role"),
    ],
)
def test_bad_joins_are_problems_and_store_nothing(
    site: Site, fields: dict[str, Any], status: int, slug: str, where: str
) -> None:
    code = issue_pass(site)["code"]
    head = site.head()
    body = assert_problem(redeem(site, **{"code": code, **fields}), status, slug)
    if where:
        assert any(where in e["loc"] for e in body["errors"]), body
    assert site.head() == head
    assert site.get(f"/api/v1/incidents/{site.incident_id}/volunteers", Role.COMMANDER).json() == []


def test_a_retried_join_is_one_volunteer_and_the_database_keeps_no_secret(site: Site) -> None:
    pass_key = new_key()
    issued = issue_pass(site, key=pass_key)
    replayed_pass = site.post(
        f"/api/v1/incidents/{site.incident_id}/volunteer-pass",
        Role.COMMANDER,
        json={"language": "he"},
        key=pass_key,
    )
    assert replayed_pass.headers["idempotent-replayed"] == "true"
    assert replayed_pass.json()["code"] == issued["code"]
    assert replayed_pass.json()["link"] == issued["link"]

    key = new_key()
    first = redeem(site, issued["code"], key=key)
    assert first.status_code == 201, first.text
    head = site.head()
    retry = redeem(site, issued["code"], key=key)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["token"] == first.json()["token"]
    assert retry.json()["volunteer_id"] == first.json()["volunteer_id"]
    assert site.head() == head
    changed = redeem(site, issued["code"], key=key, name="Someone Else")
    assert_problem(changed, 409, "idempotency-key-reused")
    listed = site.get(f"/api/v1/incidents/{site.incident_id}/volunteers", Role.COMMANDER)
    assert len(listed.json()) == 1

    with site.store.reader_engine.connect() as connection:
        stored = repr([tuple(row) for row in connection.execute(sa.select(schema.idempotency))])
    bare_code = issued["code"].replace("-", "")
    for secret in (first.json()["token"], issued["code"], bare_code, key, pass_key):
        assert secret not in stored, f"{secret!r} is readable in the idempotency table"
    log = repr([e.payload for e in site.store.read(SITE, 0)])
    assert first.json()["token"] not in log and bare_code not in log


def test_a_join_without_an_idempotency_key_is_refused(site: Site) -> None:
    code = issue_pass(site)["code"]
    head = site.head()
    response = site.client.post("/api/v1/passes/redeem", json={**JOINING, "code": code})
    body = assert_problem(response, 422, "validation-error")
    assert any("Idempotency-Key" in e["loc"] for e in body["errors"]), body
    assert site.head() == head


def test_guessing_codes_is_throttled(site: Site) -> None:
    for _ in range(10):
        assert_problem(redeem(site, "ABCD-EFGH-JKLM-NPQR"), 404, "code-unknown")
    throttled = redeem(site, "ABCD-EFGH-JKLM-NPQR")
    assert_problem(throttled, 429, "too-many-attempts")
    assert int(throttled.headers["retry-after"]) >= 1
