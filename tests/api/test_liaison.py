"""A liaison pass for the arriving unit (issue 15 item 1), on a real server (uvicorn).

The commander makes the pass over HTTP; the unit's devices redeem its link's code or its short
radio code. A liaison device reads the whole picture of its incident and writes nothing: every
write route of the app answers 403 (the routes are read from the app, not listed here). Its
open stream is closed within 1 s of the pass's expiry (the store's clock moved past it) or of
its revocation through the API. The radio code enrols one device per redemption up to the cap.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api.conftest import assert_problem
from konenut.api.permissions_doc import app_operations
from konenut.api.throttle import MAX_FAILURES_PER_WINDOW
from konenut.app.permissions import PUBLIC_OPERATIONS
from konenut.domain.roles import Role
from stream.test_websocket import Server, serving, stream

STOPPED_WITHIN_SECS = 1.0  # the issue's bar: expiry or revocation ends the stream within 1 s
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path) as running:
        yield running


def _headers(token: str | None = None, key: str | None = None) -> dict[str, str]:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _issue(server: Server, **body: Any) -> dict[str, Any]:
    body = {"unit_name": "Paratroopers 890, company B", **body}
    answer = server.http.post(
        server.incident("liaison-passes"),
        json=body,
        headers=_headers(server.seeded.tokens[Role.COMMANDER]),
    )
    assert answer.status_code == 201, answer.text
    issued: dict[str, Any] = answer.json()
    return issued


def _redeem(server: Server, code: str, key: str | None = None) -> Any:
    return server.http.post(
        "/api/v1/passes/redeem-liaison", json={"code": code}, headers=_headers(key=key)
    )


def _liaison(server: Server, **body: Any) -> tuple[dict[str, Any], str]:
    """A pass and one device enrolled with its radio code: (the pass as issued, the token)."""
    issued = _issue(server, **body)
    answer = _redeem(server, issued["radio_code"])
    assert answer.status_code == 201, answer.text
    return issued, str(answer.json()["token"])


def test_the_commander_gets_a_link_a_qr_and_a_code_to_read_out(server: Server) -> None:
    issued = _issue(server, language="en")
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", issued["radio_code"]), issued["radio_code"]
    assert issued["link"].endswith("/en/p#" + issued["code"].replace("-", ""))
    assert issued["qr_data_url"].startswith("data:image/png;base64,")
    assert issued["unit_name"] == "Paratroopers 890, company B"
    assert issued["max_devices"] == 3
    stored = issued["events"][0]["payload"]
    assert "code_hash" not in stored and "radio_code_hash" not in stored  # shown once, never kept

    listed = server.http.get(
        server.incident("liaison-passes"),
        headers={"Authorization": f"Bearer {server.seeded.tokens[Role.COMMANDER]}"},
    ).json()
    assert [(p["unit_name"], p["redeemed"], p["expires_at"]) for p in listed] == [
        ("Paratroopers 890, company B", 0, issued["expires_at"])
    ]
    # An operator neither makes nor lists them; a responder neither.
    for role in (Role.OPERATOR, Role.RESPONDER):
        refused = server.http.post(
            server.incident("liaison-passes"),
            json={"unit_name": "x"},
            headers=_headers(server.seeded.tokens[role]),
        )
        assert_problem(refused, 403, "forbidden")


def test_the_radio_code_enrols_one_device_per_redemption_up_to_the_cap(server: Server) -> None:
    issued = _issue(server, max_devices=2)
    said_over_the_radio = issued["radio_code"].replace(" ", "-")  # as a radio operator notes it
    first_key = uuid.uuid4().hex
    first = _redeem(server, said_over_the_radio, first_key)
    assert first.status_code == 201, first.text
    # The same device retrying (its key) gets its own answer back; it is not a second device.
    again = _redeem(server, said_over_the_radio, first_key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["token"] == first.json()["token"]
    second = _redeem(server, issued["code"])  # the link's code counts against the same cap
    assert second.status_code == 201, second.text
    assert second.json()["devices"] == 2
    assert_problem(_redeem(server, issued["radio_code"]), 409, "pass-used-up")

    me = server.http.get(
        "/api/v1/liaison/me", headers={"Authorization": f"Bearer {first.json()['token']}"}
    ).json()
    assert me["unit_name"] == "Paratroopers 890, company B"
    assert me["expires_at"] == issued["expires_at"]
    enrolled = [e for e in server.store.read("site", 0) if e.type == "audit.pass_redeemed"]
    assert len(enrolled) == 2 and {e.payload["pass_id"] for e in enrolled} == {issued["pass_id"]}


def test_guessing_radio_codes_is_throttled(server: Server) -> None:
    issued = _issue(server)
    wrong = "0000 0000 0000" if issued["radio_code"] != "0000 0000 0000" else "1111 1111 1111"
    for _ in range(MAX_FAILURES_PER_WINDOW):
        assert_problem(_redeem(server, wrong), 404, "code-unknown")
    # Over the limit, even the right code waits: a guess learns nothing.
    assert_problem(_redeem(server, issued["radio_code"]), 429, "too-many-attempts")


def test_a_liaison_reads_the_whole_picture(server: Server) -> None:
    _, token = _liaison(server)
    auth = {"Authorization": f"Bearer {token}"}
    for what in (
        "",
        "events",
        "sightings",
        "positions",
        "occupancy",
        "hostage-situations",
        "cautions",
        "challenge",
        "accountability",
    ):
        answer = server.http.get(server.incident(what).rstrip("/"), headers=auth)
        assert answer.status_code == 200, (what, answer.text)
    for path in ("/api/v1/assets", "/api/v1/me"):
        assert server.http.get(path, headers=auth).status_code == 200, path
    # The gates and the plan: this seeded site has none yet, which is not a refusal.
    assert_problem(server.http.get("/api/v1/site/plan", headers=auth), 404, "not-found")
    # The registry is not the picture (contracts §4).
    assert_problem(server.http.get("/api/v1/site/people", headers=auth), 403, "forbidden")


def _write_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route of the app that writes and needs a token."""
    return sorted(
        (method, path)
        for operation, (method, path) in app_operations().items()
        if method.upper() in WRITE_METHODS and operation not in PUBLIC_OPERATIONS
    )


def test_a_liaison_writes_nothing(server: Server) -> None:
    _, token = _liaison(server)
    head = server.head()
    routes = _write_routes()
    assert len(routes) > 30  # every command of the app, read from its routes
    for method, template in routes:
        path = template.replace("{incident_id}", server.seeded.incident_id)
        path = path.replace("{household_id}", server.seeded.household_id)
        path = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)
        answer = server.http.request(method.upper(), path, json={}, headers=_headers(token))
        assert answer.status_code == 403, (method, template, answer.text)
    denied = [e for e in server.store.read("site", head) if e.type != "audit.access_denied"]
    assert denied == []  # nothing but the denials themselves was written


def test_expiry_closes_the_open_stream_within_a_second(server: Server) -> None:
    issued, token = _liaison(server, ttl_secs=600)
    with stream(server, token) as unit:
        unit.until("live")
        real_clock = server.store.clock
        server.store.clock = lambda: real_clock() + timedelta(seconds=601)
        try:
            started = time.monotonic()
            assert unit.close_code() == 4401  # waits up to 5 s
            closed_after_secs = time.monotonic() - started
        finally:
            server.store.clock = real_clock
    assert closed_after_secs <= STOPPED_WITHIN_SECS, f"stream open {closed_after_secs:.2f} s"
    assert issued["expires_at"]


def test_revoking_the_pass_closes_every_device_of_it_within_a_second(server: Server) -> None:
    issued, token = _liaison(server)
    second = _redeem(server, issued["code"]).json()["token"]
    commander = server.seeded.tokens[Role.COMMANDER]
    with stream(server, token) as unit, stream(server, second) as other:
        unit.until("live")
        other.until("live")
        started = time.monotonic()
        revoked = server.http.post(
            f"/api/v1/passes/{issued['pass_id']}/revoke",
            json={"reason": "the unit left"},
            headers=_headers(commander),
        )
        assert revoked.status_code == 201, revoked.text
        assert unit.close_code() == 4401 and other.close_code() == 4401
        closed_after_secs = time.monotonic() - started
    assert revoked.json()["devices_revoked"] == 2
    assert closed_after_secs <= STOPPED_WITHIN_SECS, f"streams open {closed_after_secs:.2f} s"
    assert_problem(_redeem(server, issued["radio_code"]), 409, "pass-revoked")
    auth = {"Authorization": f"Bearer {token}"}
    assert_problem(server.http.get("/api/v1/me", headers=auth), 401, "token-revoked")


def test_each_look_at_the_picture_is_audited_for_the_admins(server: Server) -> None:
    issued = _issue(server)
    redeemed = _redeem(server, issued["radio_code"]).json()
    head = server.head()
    with stream(server, redeemed["token"]) as unit:
        unit.until("live")
    with stream(server, redeemed["token"]) as unit:  # a reconnect is the same look
        unit.until("live")
    _issue(server)  # answered once the writer took what the streams queued before it
    viewed = [e for e in server.store.read("site", head) if e.type == "audit.liaison_viewed"]
    assert [(e.payload, e.device, e.incident_id) for e in viewed] == [
        (
            {"token_id": redeemed["token_id"], "pass_id": issued["pass_id"]},
            redeemed["token_id"],
            server.seeded.incident_id,
        )
    ]
    for role, sees in ((Role.ADMIN, True), (Role.COMMANDER, False)):
        read = server.http.get(
            "/api/v1/site/events",
            params={"since": head},
            headers={"Authorization": f"Bearer {server.seeded.tokens[role]}"},
        ).json()["events"]
        assert ("audit.liaison_viewed" in {e["type"] for e in read}) is sees, role
