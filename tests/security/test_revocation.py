"""Revoking a device stops everything it had, within a second (issue 11, prove the model).

A real server (uvicorn, the broadcaster sending Web Push to a local push service that verifies
the VAPID signature and decrypts each push) and two resident phones of one household, both with
the live stream and push. An admin revokes the lost phone through the API: its open WebSocket
is closed (4401) and its push subscription is gone (`push.unsubscribed`, on the admin desk's
stream) within 1 s of the request, measured here and waited for up to 5 s. The next broadcast,
which may carry the safe word, reaches the phone that was kept and never the lost one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import SITE, enrol
from konenut.app import commands as c
from konenut.app.identity import hash_secret
from konenut.domain.roles import Role, SubjectKind
from notify.receivers import LOCAL_PUSH_HOST, Browser, Delivered, PushService, push_service
from stream.test_websocket import Client, Server, live, serving, stream
from test_cli import eventually

__all__ = ["push_service"]  # the fixture, for this module's tests

REVOKED_WITHIN_SECS = 1.0  # the issue's bar: stream closed and push gone within 1 s


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path, escalate=True, push_allow_hosts=[LOCAL_PUSH_HOST]) as running:
        yield running


def _call(server: Server, method: str, path: str, token: str, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    answer = server.http.request(method, path, json=body, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def _phone_with_push(
    server: Server, token: str, push_service: PushService
) -> tuple[str, list[Delivered]]:
    """The phone subscribes to push at a push service of its own: (token id, its pushes)."""
    browser = Browser()
    endpoint, delivered = push_service(browser, 201)
    keys = browser.subscription(endpoint)
    body = {"endpoint": keys.endpoint, "p256dh": keys.p256dh, "auth": keys.auth}
    _call(server, "PUT", "/api/v1/push/subscription", token, body)
    view = server.store.state(SITE).token_by_hash(hash_secret(token))
    assert view is not None
    return view.token_id, delivered


def _until(client: Client, type_: str, **payload: Any) -> dict[str, Any]:
    """Read the client's frames until an event of this type with these payload fields."""
    while True:
        frame = client.until(type_)
        if all(frame["payload"].get(k) == v for k, v in payload.items()):
            return frame


def _until_delivered(desk: Client, broadcast_id: str) -> None:
    """Read the desk's frames until the broadcast's progress counts a household it reached (the
    desk gets a broadcast's counts, not each household's delivery bookkeeping)."""
    while not desk.until("progress", broadcast_id=broadcast_id)["counts"]["delivered"]:
        pass


def _broadcast(server: Server, text: str) -> str:
    body = {"texts": {"en": text}}
    sent = _call(
        server, "POST", server.incident("broadcasts"), server.seeded.tokens[Role.COMMANDER], body
    )
    return str(sent["broadcast_id"])


def test_a_revoked_phone_loses_its_stream_and_its_push_within_a_second(
    server: Server, push_service: PushService
) -> None:
    seeded = server.seeded
    home = seeded.household_id
    lost_token = seeded.tokens[Role.RESIDENT]
    kept_token, _ = enrol(
        server.store,
        c.IssueEnrollmentCode(subject_id=home, subject_kind=SubjectKind.HOUSEHOLD),
    )
    lost_id, lost_pushes = _phone_with_push(server, lost_token, push_service)
    _kept_id, kept_pushes = _phone_with_push(server, kept_token, push_service)
    _broadcast(server, "Stay in the safe room")
    assert eventually(lambda: len(lost_pushes) == 1 and len(kept_pushes) == 1), "no push at all"

    admin = seeded.tokens[Role.ADMIN]
    with live(server, Role.ADMIN, server.head()) as desk, stream(server, lost_token) as phone:
        phone.until("live")
        started = time.monotonic()
        revoked = _call(
            server, "POST", f"/api/v1/site/devices/{lost_id}/revoke", admin, {"reason": "lost"}
        )
        assert phone.close_code() == 4401  # waits up to 5 s
        closed_after_secs = time.monotonic() - started
        _until(desk, "push.unsubscribed", token_id=lost_id)
        dropped_after_secs = time.monotonic() - started
    assert [e["type"] for e in revoked["events"]] == ["token.revoked", "push.unsubscribed"]
    assert closed_after_secs <= REVOKED_WITHIN_SECS, f"stream open {closed_after_secs:.2f} s"
    assert dropped_after_secs <= REVOKED_WITHIN_SECS, f"push kept {dropped_after_secs:.2f} s"

    # The next broadcast reaches the kept phone; once its delivery is settled, the lost phone
    # has had nothing more.
    with live(server, Role.ADMIN, server.head()) as desk:
        second = _broadcast(server, "The safe word is lemon")
        _until_delivered(desk, second)
    assert len(kept_pushes) == 2 and len(lost_pushes) == 1
    assert "lemon" in str(kept_pushes[1].payload)


def _redeem_card(server: Server, household_id: str) -> tuple[str, str]:
    """A household card issued by the admin and one phone enrolled by it: (pass id, token)."""
    admin = server.seeded.tokens[Role.ADMIN]
    card = _call(server, "POST", f"/api/v1/site/households/{household_id}/card", admin, {})
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"code": card["code"]}
    answer = server.http.post("/api/v1/passes/redeem-card", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return str(card["pass_id"]), str(answer.json()["token"])


def _works(server: Server, token: str) -> int:
    """The status a plain read with this token gets: 200 while the device works, else 401."""
    answer = server.http.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


def test_revoking_a_household_card_revokes_the_phones_it_enrolled(
    server: Server, push_service: PushService
) -> None:
    home = server.seeded.household_id
    pass_id, card_phone = _redeem_card(server, home)
    phone_id, phone_pushes = _phone_with_push(server, card_phone, push_service)
    other_phone = server.seeded.tokens[Role.RESIDENT]  # enrolled by a personal code
    _other_id, other_pushes = _phone_with_push(server, other_phone, push_service)

    admin = server.seeded.tokens[Role.ADMIN]
    with stream(server, card_phone) as phone:
        phone.until("live")
        revoked = _call(
            server, "POST", f"/api/v1/passes/{pass_id}/revoke", admin, {"reason": "card lost"}
        )
        assert phone.close_code() == 4401
    events = revoked["events"]
    assert [e["type"] for e in events] == ["pass.revoked", "token.revoked", "push.unsubscribed"]
    assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + 3))
    assert events[1]["payload"]["token_id"] == phone_id
    assert _works(server, card_phone) == 401
    assert _works(server, other_phone) == 200

    with live(server, Role.ADMIN, server.head()) as desk:
        sent = _broadcast(server, "The safe word is lemon")
        _until_delivered(desk, sent)
    assert len(other_pushes) == 1 and not phone_pushes


def test_a_card_revoked_with_keep_devices_leaves_its_phones_working(server: Server) -> None:
    pass_id, card_phone = _redeem_card(server, server.seeded.household_id)
    admin = server.seeded.tokens[Role.ADMIN]
    body = {"reason": "card lost, phones at home", "keep_devices": True}
    revoked = _call(server, "POST", f"/api/v1/passes/{pass_id}/revoke", admin, body)
    assert [e["type"] for e in revoked["events"]] == ["pass.revoked"]
    assert _works(server, card_phone) == 200


def test_revoking_a_persons_devices_cuts_all_of_theirs_and_no_one_elses(
    server: Server, push_service: PushService
) -> None:
    seeded = server.seeded
    responder_id = seeded.subjects[Role.RESPONDER]
    first_phone = seeded.tokens[Role.RESPONDER]
    second_phone, _ = enrol(server.store, c.IssueEnrollmentCode(subject_id=responder_id))
    first_id, first_pushes = _phone_with_push(server, first_phone, push_service)
    second_id, second_pushes = _phone_with_push(server, second_phone, push_service)
    medic = seeded.tokens[Role.MEDIC]
    _medic_id, medic_pushes = _phone_with_push(server, medic, push_service)

    commander = seeded.tokens[Role.COMMANDER]
    path = f"/api/v1/site/people/{responder_id}/revoke-devices"
    with stream(server, first_phone) as one, stream(server, second_phone) as two:
        one.until("live")
        two.until("live")
        revoked = _call(server, "POST", path, commander, {"reason": "phone captured"})
        assert one.close_code() == 4401
        assert two.close_code() == 4401
    events = revoked["events"]
    assert [e["type"] for e in events] == ["token.revoked"] * 2 + ["push.unsubscribed"] * 2
    assert {e["payload"]["token_id"] for e in events} == {first_id, second_id}
    assert _works(server, first_phone) == 401 and _works(server, second_phone) == 401
    assert _works(server, medic) == 200
    again = _call(server, "POST", path, commander, {"reason": "phone captured"})
    assert again["events"] == []

    # A muster call to both reaches the medic's phone; the responder's phones get nothing.
    medic_id = seeded.subjects[Role.MEDIC]
    with live(server, Role.ADMIN, server.head()) as desk:
        body = {"targets": [responder_id, medic_id]}
        _call(server, "POST", server.incident("muster"), commander, body)
        _until(desk, "notification.delivered", person_id=medic_id)
    assert len(medic_pushes) == 1 and not first_pushes and not second_pushes
