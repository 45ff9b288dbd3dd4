"""Every role's live stream is the audience table applied to the log, event by event.

tests/domain/test_audience.py shows `view_for` follows the reviewed decision for every event
type × role; here a real server (uvicorn, `websockets` clients) is given a log of the squad's
day — a resident's phone and special needs, positions, sightings, check-ins, broadcasts to one
household and to all, orders, the challenge and the safe word, hostages — and each of the nine
roles' device gets exactly the events, and exactly the fields, that `view_for` gives it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import SITE
from konenut.app.identity import Actor, hash_secret
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import view_for
from konenut.domain.roles import Role

from .test_websocket import HERE, Server, live, serving

PHONE, NEEDS = "+972501234567", ["oxygen"]


def _send(server: Server, method: str, path: str, role: Role, body: dict[str, Any]) -> None:
    headers = {
        "Authorization": f"Bearer {server.seeded.tokens[role]}",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    response = server.http.request(method, path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text


def _a_day_of_the_squad(server: Server) -> None:
    seeded = server.seeded
    inc = server.incident
    _send(
        server,
        "POST",
        "/api/v1/site/people",
        Role.ADMIN,
        {
            "ref": "p-yael",
            "name": "Yael Cohen",
            "household_id": seeded.household_id,
            "phone": PHONE,
            "special_needs": NEEDS,
        },
    )
    _send(server, "POST", inc("muster/status"), Role.RESPONDER, {"status": "coming"})
    _send(server, "POST", inc("positions"), Role.RESPONDER, {"location": HERE})
    _send(
        server,
        "POST",
        inc("sightings"),
        Role.COMMANDER,
        {"location": HERE, "category": "hostile", "count": 2},
    )
    _send(
        server,
        "POST",
        inc(f"households/{seeded.household_id}/check-ins"),
        Role.RESIDENT,
        {"status": "need_medic", "injured_count": 1, "severity": "serious"},
    )
    _send(
        server,
        "POST",
        inc("broadcasts"),
        Role.COMMANDER,
        {"texts": {"en": "Levi family: stay inside"}, "household_ids": [seeded.other_household_id]},
    )
    _send(server, "POST", inc("broadcasts"), Role.COMMANDER, {"texts": {"en": "Stay inside"}})
    _send(server, "POST", inc("orders"), Role.COMMANDER, {"text": "Hold gate 3"})
    _send(server, "PUT", inc("challenge"), Role.COMMANDER, {"generate": True})
    _send(server, "PUT", inc("safe-word"), Role.COMMANDER, {"word": "lemon"})
    _send(
        server,
        "POST",
        inc("hostage-situations"),
        Role.OPERATOR,
        {"building_ref": "12", "people_inside": 2},
    )


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("audience")) as server:
        _a_day_of_the_squad(server)
        yield server


def _expected(server: Server, role: Role) -> list[dict[str, Any]]:
    state = server.store.state(SITE)
    token = state.token_by_hash(hash_secret(server.seeded.tokens[role]))
    assert token is not None
    viewer = Actor.from_token(SITE, token).viewer
    shown = (view_for(e, REGISTRY[e.type], viewer) for e in server.store.read(SITE, 0))
    return [event for event in shown if event is not None]


def test_the_log_holds_what_the_roles_are_told_apart_by(day: Server) -> None:
    types = {event.type for event in day.store.read(SITE, 0)}
    assert {
        "person.added",
        "household.added",
        "device.enrolled",
        "position.reported",
        "sighting.reported",
        "household.checked_in",
        "broadcast.sent",
        "order.sent",
        "challenge.set",
        "safe_word.set",
        "hostage.reported",
        "responder.status_changed",
    } <= types


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_streams_what_the_audience_table_gives_it(day: Server, role: Role) -> None:
    with live(day, role) as client:
        streamed = client.events
    expected = _expected(day, role)
    assert [e["seq"] for e in streamed] == [e["seq"] for e in expected]
    assert streamed == expected
    people = [e["payload"] for e in streamed if e["type"] == "person.added"]
    yael = [p for p in people if p["ref"] == "p-yael"]
    if role in (Role.ADMIN, Role.COMMANDER, Role.OPERATOR):
        assert (yael[0]["phone"], yael[0]["special_needs"]) == (PHONE, NEEDS)
    elif role in (Role.RESPONDER, Role.MEDIC):
        assert yael and "phone" not in yael[0] and "special_needs" not in yael[0]
    elif role is Role.RESIDENT:  # her own household: the resident sees her as she is
        assert yael[0]["phone"] == PHONE
    else:  # guests, volunteers and liaisons see no registry at all
        assert people == []
