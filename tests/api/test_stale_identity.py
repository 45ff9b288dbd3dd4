"""A device token stands for its person as the registry has them now (issue 11, item 11).

A responder moved out of a household no longer checks it in (and checks in the one they moved
to), one whose roles were taken loses the device, an open stream is closed so that it comes back
as the new self, and only an admin binds a device to someone already known.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest
from starlette.websockets import WebSocketDisconnect

from helpers import SITE
from konenut.bus.hub import CLOSE_IDENTITY_CHANGED
from konenut.domain.events import NewEvent
from konenut.domain.roles import Role
from konenut.domain.state import SiteState
from konenut.store.eventstore import Decision

from .conftest import Site, assert_problem
from .test_household_editor import as_edited, household, save


def _check_in(site: Site, household_id: str) -> Any:
    path = f"/api/v1/incidents/{site.incident_id}/households/{household_id}/check-ins"
    return site.post(path, Role.RESPONDER, json={"status": "safe"})


def _move_responder(site: Site, from_household: str, to_household: str) -> None:
    """The admin's household editor takes the responder out of one household; then they join
    another (a person.updated, as a registry import appends it)."""
    responder = site.seeded.subjects[Role.RESPONDER]
    left = as_edited(household(site, from_household))
    left["members"] = [m for m in left["members"] if m["person_id"] != responder]
    assert save(site, from_household, left).status_code == 201
    assert site.store.state(SITE).persons[responder].household_id is None
    _update_person(site, responder, household_id=to_household)


def _update_person(site: Site, person_id: str, **changes: Any) -> None:
    def decide(state: SiteState, now: datetime) -> Decision:
        fields = state.persons[person_id].model_dump(exclude_none=True)
        return Decision([NewEvent("person.updated", {**fields, **changes}, now)])

    site.store.execute(SITE, decide)


def test_a_person_moved_to_another_household_acts_for_the_new_one_only(site: Site) -> None:
    old, new = site.seeded.other_household_id, site.seeded.household_id
    assert _check_in(site, old).status_code == 201
    _move_responder(site, old, new)
    assert_problem(_check_in(site, old), 403, "forbidden", "own household")
    assert _check_in(site, new).status_code == 201
    me = site.get("/api/v1/me", Role.RESPONDER).json()
    assert me["household_id"] == new and me["roles"] == ["responder"]


def test_an_open_stream_is_closed_when_its_person_moves(site: Site) -> None:
    with site.client.websocket_connect("/api/v1/stream?since=0") as ws:
        ws.send_text(orjson.dumps({"type": "auth", "token": site.token(Role.RESPONDER)}).decode())
        while ws.receive_json()["type"] != "live":
            pass
        _move_responder(site, site.seeded.other_household_id, site.seeded.household_id)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
    assert closed.value.code == CLOSE_IDENTITY_CHANGED


def test_a_device_whose_person_lost_its_roles_stops_working(site: Site) -> None:
    assert site.get("/api/v1/me", Role.RESPONDER).status_code == 200
    _update_person(site, site.seeded.subjects[Role.RESPONDER], roles=[])
    assert_problem(site.get("/api/v1/me", Role.RESPONDER), 401, "token-outdated", "roles")
    assert_problem(_check_in(site, site.seeded.other_household_id), 401, "token-outdated")
    assert site.get("/api/v1/me", Role.MEDIC).status_code == 200, "nobody else's device"


def test_only_an_admin_binds_a_device_to_someone_already_known(site: Site) -> None:
    responder = site.seeded.subjects[Role.RESPONDER]
    as_responder = {"subject_kind": "volunteer", "incident_id": site.incident_id}
    bound = {**as_responder, "subject_id": responder}
    refused = site.post("/api/v1/site/enrollment-codes", Role.COMMANDER, json=bound)
    assert_problem(refused, 403, "forbidden", "only an admin")
    fresh = site.post("/api/v1/site/enrollment-codes", Role.COMMANDER, json=as_responder)
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["subject_id"] != responder
    by_admin = site.post("/api/v1/site/enrollment-codes", Role.ADMIN, json=bound)
    assert by_admin.status_code == 201 and by_admin.json()["subject_id"] == responder
