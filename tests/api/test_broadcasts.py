"""Broadcasts over the API on the demo village: templates in five languages, an area polygon
resolved into the households inside it, custom text marked not translated, read state and the
per-household status; residents outside the area see nothing of it (REST and stream)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.conftest import PUSH_SERVICE_HOST, assert_problem
from helpers import SITE, enrol, open_store
from konenut.app import commands as c
from konenut.app import handlers
from konenut.config import Settings
from konenut.demo.seed import seed
from konenut.domain.roles import Role, SubjectKind
from konenut.i18n import LANGUAGES, catalogue
from konenut.server import create_app
from konenut.store.eventstore import EventStore

# Around the workers' quarters W1-W4 by the far fence (demo/site_plan.geojson), nothing else.
WORKERS = {
    "type": "Polygon",
    "coordinates": [
        [
            [34.9725, 30.4294],
            [34.9731, 30.4294],
            [34.9731, 30.4306],
            [34.9725, 30.4306],
            [34.9725, 30.4294],
        ]
    ],
}
EMPTY_FIELD = {
    "type": "Polygon",
    "coordinates": [[[35.5, 31.5], [35.6, 31.5], [35.6, 31.6], [35.5, 31.5]]],
}


@dataclass
class Village:
    store: EventStore
    client: TestClient
    incident_id: str
    tokens: dict[str, str] = field(default_factory=dict)  # "commander", "h-W1", "h-1"
    households: dict[str, str] = field(default_factory=dict)  # ref -> id

    def call(self, method: str, path: str, who: str, json: Any = None) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.tokens[who]}",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        return self.client.request(method, path, json=json, headers=headers)

    def head(self) -> int:
        return self.store.head(SITE)

    @property
    def inc(self) -> str:
        return f"/api/v1/incidents/{self.incident_id}"


@pytest.fixture
def village(tmp_path: Path) -> Iterator[Village]:
    store = open_store(f"sqlite:///{tmp_path / 'konenut.db'}")
    try:
        assert seed(store, SITE)
        opened = store.execute(SITE, handlers.open_incident(None, c.OpenIncident(title="Attack")))
        state = store.state(SITE)
        commander = next(p for p in state.persons.values() if Role.COMMANDER.value in p.roles)
        households = {h.ref: h.household_id for h in state.households.values()}
        tokens = {
            "commander": enrol(store, c.IssueEnrollmentCode(subject_id=commander.person_id))[0]
        }
        for ref in ("h-W1", "h-1"):
            cmd = c.IssueEnrollmentCode(
                subject_id=households[ref],
                subject_kind=SubjectKind.HOUSEHOLD,
                roles=[Role.RESIDENT],
            )
            tokens[ref] = enrol(store, cmd)[0]
        settings = Settings(data_dir=tmp_path, escalate=False, push_allow_hosts=[PUSH_SERVICE_HOST])
        with TestClient(create_app(settings, store)) as client:
            yield Village(store, client, str(opened.body["incident_id"]), tokens, households)
    finally:
        store.close()


def test_templates_are_listed_in_five_languages(village: Village) -> None:
    listed = village.call("GET", "/api/v1/broadcast-templates", "commander")
    assert listed.status_code == 200, listed.text
    by_name = {t["template"]: t["texts"] for t in listed.json()}
    shelter = by_name["stay_in_shelter"]
    assert set(shelter) == set(LANGUAGES)
    assert shelter["en"] == "Do not leave the safe room when the siren stops."
    assert "safe_word" in by_name and "all_clear" in by_name
    assert village.call("GET", "/api/v1/broadcast-templates", "h-1").status_code == 403


def test_an_area_broadcast_is_for_the_households_inside_only(village: Village) -> None:
    sent = village.call(
        "POST",
        f"{village.inc}/broadcasts",
        "commander",
        json={"template": "stay_in_shelter", "area": WORKERS},
    )
    assert sent.status_code == 201, sent.text
    broadcast_id = sent.json()["broadcast_id"]
    payload = sent.json()["events"][0]["payload"]
    inside = {village.households[f"h-W{n}"] for n in range(1, 5)}
    assert set(payload["household_ids"]) == inside
    assert payload["audience"] == "area"
    assert payload["texts"]["th"] == catalogue("th")["instruction.stay_in_shelter"]
    # The worker in W1 gets it, without the area or whom else it was for.
    seen = village.call("GET", f"{village.inc}/broadcasts", "h-W1").json()
    assert [b["broadcast_id"] for b in seen] == [broadcast_id]
    assert {"household_ids", "area", "by"}.isdisjoint(seen[0])
    # A family outside the area sees nothing of it: not in the list, not in the log.
    assert village.call("GET", f"{village.inc}/broadcasts", "h-1").json() == []
    events = village.call("GET", f"{village.inc}/events", "h-1")
    assert events.status_code == 200, events.text
    assert broadcast_id not in events.text
    with village.client.websocket_connect("/api/v1/stream?since=0") as ws:
        ws.send_json({"type": "auth", "token": village.tokens["h-1"]})
        frames = _frames_until_live(ws)
    assert all(f.get("type") != "broadcast.sent" for f in frames)
    # ...nor can it mark it read.
    read = village.call("POST", f"{village.inc}/broadcasts/{broadcast_id}/read", "h-1", json={})
    assert_problem(read, 404, "not-found", "broadcast")


def _frames_until_live(ws: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = ws.receive_json()
        if frame.get("type") == "live":
            return frames
        frames.append(frame)


def test_custom_text_records_which_languages_were_translated(village: Village) -> None:
    sent = village.call(
        "POST",
        f"{village.inc}/broadcasts",
        "commander",
        json={
            "texts": {"he": "חמושים ליד הגדר", "en": "Armed men near the fence"},
            "group": "group_housing",
        },
    )
    assert sent.status_code == 201, sent.text
    payload = sent.json()["events"][0]["payload"]
    assert payload["translated"] == ["en", "he"]
    assert payload["group"] == "group_housing"
    assert set(payload["household_ids"]) == {village.households[f"h-W{n}"] for n in range(1, 5)}


@pytest.mark.parametrize(
    ("area", "says"),
    [
        (
            {
                "type": "Polygon",
                "coordinates": [[[34.97, 30.43], [34.98, 30.43], [34.98, 30.44], [34.97, 30.44]]],
            },
            "not closed",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[30.43, 34.97], [200.0, 30.43], [34.98, 30.44], [30.43, 34.97]]],
            },
            "WGS84",
        ),
        ({"type": "Polygon", "coordinates": [[[0, 0], [20, 0], [20, 20], [0, 0]]]}, "spans"),
        ({"type": "Point", "coordinates": [34.97, 30.43]}, "Polygon"),
    ],
    ids=["open-ring", "out-of-bounds", "too-wide", "not-a-polygon"],
)
def test_a_bad_polygon_is_refused_and_nothing_is_stored(
    village: Village, area: dict[str, Any], says: str
) -> None:
    before = village.head()
    sent = village.call(
        "POST",
        f"{village.inc}/broadcasts",
        "commander",
        json={"template": "all_clear", "area": area},
    )
    problem = assert_problem(sent, 422, "validation-error")
    assert says in str(problem), problem
    assert village.head() == before


def test_an_area_with_no_household_is_refused(village: Village) -> None:
    before = village.head()
    sent = village.call(
        "POST",
        f"{village.inc}/broadcasts",
        "commander",
        json={"template": "all_clear", "area": EMPTY_FIELD},
    )
    assert_problem(sent, 422, "empty-audience", "area")
    assert village.head() == before


def test_read_state_is_recorded_once_and_shown_in_the_status(village: Village) -> None:
    sent = village.call(
        "POST",
        f"{village.inc}/broadcasts",
        "commander",
        json={"template": "safe_word", "area": WORKERS},
    )
    broadcast_id = sent.json()["broadcast_id"]
    path = f"{village.inc}/broadcasts/{broadcast_id}"
    read = village.call("POST", f"{path}/read", "h-W1", json={})
    assert read.status_code == 201, read.text
    assert [e["type"] for e in read.json()["events"]] == ["broadcast.read"]
    again = village.call("POST", f"{path}/read", "h-W1", json={})
    assert again.status_code == 200
    status = village.call("GET", f"{path}/status", "commander")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["counts"]["households"] == 4
    assert body["counts"]["read"] == 1
    read_by = [h["ref"] for h in body["households"] if h["read_at"]]
    assert read_by == ["h-W1"]
    assert village.call("GET", f"{path}/status", "h-W1").status_code == 403


def test_a_residents_device_may_subscribe_to_push(village: Village) -> None:
    subscription = {
        "endpoint": "https://push.example.net/send/abc123",
        "p256dh": "B" + "A" * 86,
        "auth": "A" * 22,
    }
    put = village.call("PUT", "/api/v1/push/subscription", "h-W1", json=subscription)
    assert put.status_code == 201, put.text
    stored = list(village.store.state(SITE).push_subscriptions.values())
    assert [s.person_id for s in stored] == [village.households["h-W1"]]


def test_a_resident_phone_tells_the_language_chosen_on_it(village: Village) -> None:
    """The page sends its language with its push subscription; a new choice is stored again."""
    subscription = {
        "endpoint": "https://push.example.net/send/w1-phone-0123456789",
        "p256dh": "B" + "A" * 86,
        "auth": "A" * 22,
    }
    for lang, status in (("ne", 201), ("ne", 200), ("th", 201)):
        answer = village.call(
            "PUT", "/api/v1/push/subscription", "h-W1", json={**subscription, "lang": lang}
        )
        assert answer.status_code == status, answer.text
        (device,) = village.store.state(SITE).push_subscriptions.values()
        assert device.lang == lang
    wrong = {**subscription, "lang": "xx"}
    refused = village.call("PUT", "/api/v1/push/subscription", "h-W1", json=wrong)
    assert_problem(refused, 422, "validation-error")
