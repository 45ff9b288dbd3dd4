"""Commands through HTTP: every core event type, the reads that reflect them, idempotency,
incidents and drills, and what each kind of device gets to see (contracts §3-§5)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from helpers import open_store
from konenut.config import Settings
from konenut.demo import load_site_plan
from konenut.domain.roles import Role
from konenut.server import create_app

from .conftest import HERE, SITE, Site, assert_problem, new_key

# contracts §5, plus the enrollment code that precedes device.enrolled and the export audit.
CORE_TYPES = {
    "site.configured",
    "person.added",
    "household.added",
    "device.enrolled",
    "token.revoked",
    "incident.opened",
    "incident.closed",
    "muster.called",
    "responder.status_changed",
    "position.reported",
    "sighting.reported",
    "sighting.updated",
    "household.checked_in",
    "broadcast.sent",
    "order.sent",
    "order.acknowledged",
    "enrollment.code_issued",
    "audit.access_denied",
    "audit.log_exported",
}
SECRETS = ("token_hash", "code_hash")


@pytest.fixture(autouse=True)
def _no_escalator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk checks the log's head after each command; the escalator would append beside it."""
    monkeypatch.setenv("KONENUT_ESCALATE", "false")


class Walk:
    """Sends commands and checks each answers 201 with its events at the log's head."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.seen: set[str] = set()

    def command(
        self,
        method: str,
        path: str,
        role: Role | None,
        body: dict[str, Any],
        types: list[str],
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        head = self.site.head()
        response = self.site.call(method, path, role, json=body, token=token)
        assert response.status_code == 201, response.text
        assert "idempotent-replayed" not in response.headers
        result: dict[str, Any] = response.json()
        events = result["events"]
        assert [e["type"] for e in events] == types
        assert [e["seq"] for e in events] == list(range(head + 1, head + 1 + len(events)))
        # Nothing else was appended but the follow-ups of app/policies.py: the cautions a
        # position or sighting may call for (app/caution.py), the casualty a "need a medic"
        # check-in opens (app/handlers/casualties.py).
        after = self.site.events_after(head + len(events))
        assert {e.type for e in after} <= {"caution.raised", "casualty.reported"}
        for event in events:
            assert event["site_id"] == SITE
            assert event["occurred_at"].endswith("Z") and event["recorded_at"].endswith("Z")
            assert not any(secret in event["payload"] for secret in SECRETS)
            self.seen.add(event["type"])
        return result

    def logged(self, since: int) -> list[dict[str, Any]]:
        """What an admin reads of the site log after `since`."""
        response = self.site.get(f"/api/v1/site/events?since={since}", Role.ADMIN)
        assert response.status_code == 200
        events: list[dict[str, Any]] = response.json()["events"]
        self.seen.update(e["type"] for e in events)
        return events


def _read(site: Site, path: str, role: Role | None = None, token: str | None = None) -> Any:
    response = site.get(path, role, token=token)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_core_event_type_through_its_endpoint(site: Site) -> None:
    walk = Walk(site)
    plan = load_site_plan()
    building = next(
        f["properties"]["ref"] for f in plan["features"] if f["properties"]["kind"] == "building"
    )

    # Site configuration.
    configuration = {
        "name": "Tel Kinamon",
        "names": {"en": "Tel Kinamon", "he": "תל קינמון"},
        "default_language": "he",
        "plan": plan,
    }
    walk.command("PUT", "/api/v1/site", Role.ADMIN, configuration, ["site.configured"])
    assert _read(site, "/api/v1/site", Role.RESIDENT)["names"]["he"] == "תל קינמון"
    assert "plan" not in _read(site, "/api/v1/site", Role.RESIDENT)
    assert _read(site, "/api/v1/site/plan", Role.RESPONDER) == plan
    unchanged = site.call("PUT", "/api/v1/site", Role.ADMIN, json=configuration)
    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.json()["events"] == []

    household_id = walk.command(
        "POST",
        "/api/v1/site/households",
        Role.ADMIN,
        {
            "ref": "31",
            "name": "Biton",
            "building_ref": building,
            "languages": ["he", "en"],
            "safe_room": "shared_shelter",
        },
        ["household.added"],
    )["household_id"]
    person_id = walk.command(
        "POST",
        "/api/v1/site/people",
        Role.ADMIN,
        {
            "ref": "p-31-1",
            "name": "Yael Biton",
            "roles": ["responder"],
            "callsign": "Y-1",
            "phone": "+972501234567",
            "household_id": household_id,
        },
        ["person.added"],
    )["person_id"]
    household = _read(site, f"/api/v1/site/households/{household_id}", Role.OPERATOR)
    assert (household["ref"], household["building_ref"], household["safe_room"]) == (
        "31",
        building,
        "shared_shelter",
    )
    assert [m["person_id"] for m in household["members"]] == [person_id]
    person = _read(site, f"/api/v1/site/people/{person_id}", Role.COMMANDER)
    assert (person["name"], person["callsign"], person["roles"]) == (
        "Yael Biton",
        "Y-1",
        ["responder"],
    )

    # Enrollment: a code, redeemed once on a device that then knows who it is.
    issued = walk.command(
        "POST",
        "/api/v1/site/enrollment-codes",
        Role.ADMIN,
        {"subject_id": person_id, "language": "en"},
        ["enrollment.code_issued"],
    )
    code = issued["code"]
    assert len(code) == 8 and issued["link"].endswith(f"/en/enroll#{code}")
    enrolled = walk.command(
        "POST",
        "/api/v1/enroll",
        None,
        {"code": f"{code[:4]}-{code[4:].lower()}", "device_name": "Pixel"},
        ["device.enrolled"],
    )
    yael = enrolled["token"]
    assert enrolled["subject_id"] == person_id and enrolled["household_id"] == household_id
    me = _read(site, "/api/v1/me", token=yael)
    assert (me["subject_id"], me["roles"], me["primary_role"], me["name"]) == (
        person_id,
        ["responder"],
        "responder",
        "Yael Biton",
    )
    devices = _read(site, "/api/v1/site/devices", Role.ADMIN)
    assert any(
        d["token_id"] == enrolled["token_id"] and d["device_name"] == "Pixel" for d in devices
    )
    assert not any("token_hash" in d for d in devices)

    # The incident: muster, status, position, sighting, check-in, broadcast, order.
    incident = site.incident_id
    inc = f"/api/v1/incidents/{incident}"
    walk.command(
        "POST",
        f"{inc}/muster",
        Role.COMMANDER,
        {"rally_point_ref": "R1", "text": "To the armory", "targets": [person_id]},
        ["muster.called"],
    )
    walk.command(
        "POST",
        f"{inc}/muster/status",
        None,
        {"status": "coming", "eta_secs": 120},
        ["responder.status_changed"],
        token=yael,
    )
    muster = _read(site, f"{inc}/muster", Role.OPERATOR)
    assert muster["muster"]["targets"] == [person_id]
    assert muster["counts"] == {"coming": 1}
    assert [(p["person_id"], p["state"]) for p in muster["people"]] == [(person_id, "coming")]

    walk.command(
        "POST",
        f"{inc}/positions",
        None,
        {"location": {**HERE, "accuracy_m": 8}},
        ["position.reported"],
        token=yael,
    )
    positions = _read(site, f"{inc}/positions", Role.COMMANDER)
    assert [(p["subject_id"], p["callsign"], p["location"]) for p in positions] == [
        (person_id, "Y-1", {**HERE, "accuracy_m": 8})
    ]

    sighting_id = walk.command(
        "POST",
        f"{inc}/sightings",
        None,
        {
            "location": HERE,
            "category": "hostile",
            "count": 2,
            "armed": True,
            "text": "two at the fence",
        },
        ["sighting.reported"],
        token=yael,
    )["sighting_id"]
    moved = {"lat": 30.4305, "lon": 34.9711}
    walk.command(
        "POST",
        f"{inc}/sightings/{sighting_id}",
        Role.COMMANDER,
        {"status": "confirmed", "count": 3, "location": moved},
        ["sighting.updated"],
    )
    sightings = {s["sighting_id"]: s for s in _read(site, f"{inc}/sightings", Role.MEDIC)}
    assert sightings[sighting_id]["status"] == "confirmed"
    assert sightings[sighting_id]["count"] == 3 and sightings[sighting_id]["location"] == moved
    assert sightings[sighting_id]["reporter"] == person_id

    home = site.seeded.household_id
    walk.command(
        "POST",
        f"{inc}/households/{home}/check-ins",
        Role.RESIDENT,
        {"status": "need_medic", "people_count": 4},
        ["household.checked_in"],
    )
    states = {h["household_id"]: h for h in _read(site, f"{inc}/households", Role.OPERATOR)}
    assert states[home]["checkin"]["status"] == "need_medic"
    assert states[household_id]["checkin"] is None
    assert _read(site, inc, Role.RESIDENT)["checkin"]["people_count"] == 4

    walk.command(
        "POST",
        f"{inc}/broadcasts",
        Role.OPERATOR,
        {"texts": {"he": "היכנסו לממ״ד", "en": "Go to your safe room"}},
        ["broadcast.sent"],
    )
    broadcasts = _read(site, f"{inc}/broadcasts", Role.RESIDENT)
    assert [b["texts"]["en"] for b in broadcasts] == ["Go to your safe room"]

    order_id = walk.command(
        "POST",
        f"{inc}/orders",
        Role.COMMANDER,
        {"text": "Hold gate 3", "to_person_ids": [person_id]},
        ["order.sent"],
    )["order_id"]
    walk.command(
        "POST", f"{inc}/orders/{order_id}/acknowledge", None, {}, ["order.acknowledged"], token=yael
    )
    orders = {o["order_id"]: o for o in _read(site, f"{inc}/orders", Role.COMMANDER)}
    assert list(orders[order_id]["acknowledged_by"]) == [person_id]
    again = site.post(f"{inc}/orders/{order_id}/acknowledge", token=yael, json={})
    assert again.status_code == 200 and again.json()["events"] == [], again.text

    # Audits: an export, and a denial.
    head = site.head()
    export = site.get(f"{inc}/log.jsonl", Role.ADMIN)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in export.content.splitlines()]
    assert {e["incident_id"] for e in lines} == {incident}
    assert [e["seq"] for e in lines] == sorted(e["seq"] for e in lines)
    denied = site.get("/api/v1/site/people", Role.GUEST)
    assert_problem(denied, 403, "forbidden")
    site.flush()  # the denial's audit record is written without holding up the answer
    audits = walk.logged(head)
    assert [e["type"] for e in audits] == ["audit.log_exported", "audit.access_denied"]
    assert audits[0]["payload"]["event_count"] == len(lines)
    assert audits[1]["payload"]["operation"] == "list_people"

    # Revoking the device, closing the incident, opening the next one.
    walk.command(
        "POST",
        f"/api/v1/site/devices/{enrolled['token_id']}/revoke",
        Role.ADMIN,
        {"reason": "phone lost"},
        ["token.revoked"],
    )
    assert site.get("/api/v1/me", token=yael).status_code == 401
    revoked = [
        d
        for d in _read(site, "/api/v1/site/devices", Role.COMMANDER)
        if d["token_id"] == enrolled["token_id"]
    ]
    assert revoked[0]["revoked_at"] is not None
    walk.command(
        "POST", f"{inc}/close", Role.COMMANDER, {"summary": "two neutralised"}, ["incident.closed"]
    )
    closed = _read(site, inc, Role.COMMANDER)
    assert closed["closed_at"] is not None and closed["summary"] == "two neutralised"
    next_id = walk.command(
        "POST",
        "/api/v1/incidents",
        Role.OPERATOR,
        {"title": "Fire in the field", "kind": "fire"},
        ["incident.opened"],
    )["incident_id"]
    listed = _read(site, "/api/v1/incidents", Role.RESPONDER)
    assert [i["incident_id"] for i in listed[:2]] == [next_id, incident]
    assert listed[0]["closed_at"] is None and listed[0]["drill"] is False

    assert walk.seen >= CORE_TYPES, f"not reached: {sorted(CORE_TYPES - walk.seen)}"
    # The incident's timeline is the site log filtered by it, in seq order.
    timeline = _read(site, f"{inc}/events", Role.COMMANDER)["events"]
    assert {e["incident_id"] for e in timeline} == {incident}
    assert [e["seq"] for e in timeline] == sorted(e["seq"] for e in timeline)
    assert {
        "incident.opened",
        "muster.called",
        "position.reported",
        "sighting.updated",
        "household.checked_in",
        "order.acknowledged",
        "incident.closed",
    } <= {e["type"] for e in timeline}


def _pages(site: Site, path: str, role: Role, limit: int) -> list[dict[str, Any]]:
    """Every page of a log read with next_since: each full but the last, which is final."""
    pages: list[dict[str, Any]] = []
    since: int | None = 0
    while since is not None:
        page = _read(site, f"{path}?since={since}&limit={limit}", role)
        pages.append(page)
        since = page["next_since"]
        if since is not None:
            assert len(page["events"]) == limit and since == page["events"][-1]["seq"]
            assert page["read_to_seq"] == since
    assert len(pages[-1]["events"]) <= limit and pages[-1]["read_to_seq"] == site.head()
    return pages


def test_site_events_pages_with_next_since(site: Site) -> None:
    """Pages joined equal one big read, even where the raw log holds events this role does
    not see; the big read is final and says it read the log to its head."""
    whole = _read(site, "/api/v1/site/events?limit=5000", Role.ADMIN)
    assert whole["next_since"] is None and whole["read_to_seq"] == site.head()
    pages = [
        e for page in _pages(site, "/api/v1/site/events", Role.ADMIN, 7) for e in page["events"]
    ]
    assert pages == whole["events"]
    assert [e["seq"] for e in pages][:10] == list(range(1, 11))
    # Admins run the site, they do not watch the fight: no sightings or positions for them.
    assert "sighting.reported" not in {e["type"] for e in pages}


def test_a_residents_pages_are_full_or_final(site: Site) -> None:
    """A resident sees a few events among the squad's many: its pages are filled from its own
    view, never empty with more to follow (issue 10 item 10)."""
    inc = f"/api/v1/incidents/{site.incident_id}"
    for n in range(12):  # squad traffic a resident never sees
        placed = {"location": {**HERE, "lat": HERE["lat"] + n / 100_000}}
        assert site.post(f"{inc}/positions", Role.RESPONDER, json=placed).status_code == 201
    for status in ("safe", "need_medic", "safe"):
        checked_in = site.post(
            f"{inc}/households/{site.seeded.household_id}/check-ins",
            Role.RESIDENT,
            json={"status": status},
        )
        assert checked_in.status_code == 201, checked_in.text
        site.post(f"{inc}/positions", Role.RESPONDER, json={"location": HERE})
    for path in ("/api/v1/site/events", f"{inc}/events"):
        whole = _read(site, f"{path}?limit=5000", Role.RESIDENT)
        mine = [e for e in whole["events"] if e["type"] == "household.checked_in"]
        assert [e["payload"]["status"] for e in mine] == ["safe", "need_medic", "safe"]
        assert "position.reported" not in {e["type"] for e in whole["events"]}
        pages = _pages(site, path, Role.RESIDENT, 2)
        assert all(page["events"] for page in pages[:-1]), pages
        assert [e for page in pages for e in page["events"]] == whole["events"]


# --- idempotency (contracts §3) ---------------------------------------------------------------
def test_same_key_same_body_replays_the_stored_answer(site: Site) -> None:
    path = f"/api/v1/incidents/{site.incident_id}/sightings"
    body = {"location": HERE, "category": "unknown", "text": "figure by the water tower"}
    key = new_key()
    first = site.post(path, Role.RESPONDER, json=body, key=key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    head = site.head()
    second = site.post(path, Role.RESPONDER, json=body, key=key)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert site.head() == head
    matching = [
        s for s in _read(site, path, Role.COMMANDER) if s["text"] == "figure by the water tower"
    ]
    assert [s["sighting_id"] for s in matching] == [first.json()["sighting_id"]]

    # The key survives a restart: a new store and app on the same database still replay it.
    store = open_store(site.store.url)
    try:
        with TestClient(create_app(Settings(), store)) as client:
            third = client.post(path, json=body, headers=site.headers(Role.RESPONDER, key=key))
        assert third.status_code == 201 and third.headers["idempotent-replayed"] == "true"
        assert third.json() == first.json()
        assert store.head(SITE) == head
    finally:
        store.close()


def test_the_same_fields_sent_with_other_whitespace_and_order_replay(site: Site) -> None:
    """Equal JSON is the same body: a client that re-serialises its retry gets the stored answer."""
    path = f"/api/v1/incidents/{site.incident_id}/sightings"
    compact = b'{"location":{"lat":30.4301,"lon":34.9702},"category":"unknown","text":"shed"}'
    spaced = (
        b'{\n  "text": "shed",\n  "category" : "unknown",\n'
        b'  "location": { "lon": 34.9702, "lat": 30.4301 }\n}\n'
    )
    key = new_key()
    sent = {**site.headers(Role.RESPONDER, key=key), "Content-Type": "application/json"}
    first = site.client.post(path, content=compact, headers=sent)
    assert first.status_code == 201, first.text
    head = site.head()
    again = site.client.post(path, content=spaced, headers=sent)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert site.head() == head


def test_replay_of_a_command_that_changed_nothing(site: Site) -> None:
    body = {"name": "Tel Kinamon"}
    key = new_key()
    first = site.call("PUT", "/api/v1/site", Role.ADMIN, json=body, key=key)
    assert first.status_code == 200 and first.json()["events"] == []
    second = site.call("PUT", "/api/v1/site", Role.ADMIN, json=body, key=key)
    assert second.status_code == 200 and second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()


def test_same_key_other_body_is_409(site: Site) -> None:
    path = f"/api/v1/incidents/{site.incident_id}/positions"
    key = new_key()
    first = site.post(path, Role.RESPONDER, json={"location": HERE}, key=key)
    assert first.status_code == 201
    head = site.head()
    other = site.post(path, Role.RESPONDER, json={"location": {**HERE, "lat": 30.44}}, key=key)
    assert_problem(other, 409, "idempotency-key-reused", "Idempotency-Key", "new key")
    same_body_other_path = site.post(
        f"/api/v1/incidents/{site.incident_id}/sightings",
        Role.RESPONDER,
        json={"location": HERE, "category": "hostile"},
        key=key,
    )
    assert_problem(same_body_other_path, 409, "idempotency-key-reused")
    assert site.head() == head
    positions = _read(site, path, Role.COMMANDER)
    assert [p["location"] for p in positions] == [HERE]


def test_same_key_from_another_device_is_independent(site: Site) -> None:
    path = f"/api/v1/incidents/{site.incident_id}/positions"
    key = new_key()
    by_responder = site.post(path, Role.RESPONDER, json={"location": HERE}, key=key)
    by_medic = site.post(path, Role.MEDIC, json={"location": HERE}, key=key)
    assert by_responder.status_code == by_medic.status_code == 201
    assert "idempotent-replayed" not in by_medic.headers
    first, second = by_responder.json()["events"][0], by_medic.json()["events"][0]
    assert first["id"] != second["id"] and second["seq"] > first["seq"]
    subjects = {p["subject_id"] for p in _read(site, path, Role.COMMANDER)}
    assert subjects == {site.seeded.subjects[Role.RESPONDER], site.seeded.subjects[Role.MEDIC]}


def test_a_refused_command_does_not_use_up_its_key(site: Site) -> None:
    key = new_key()
    duplicate = {"ref": "p-member", "name": "Miriam Cohen"}
    refused = site.post("/api/v1/site/people", Role.ADMIN, json=duplicate, key=key)
    assert_problem(refused, 409, "conflict", "p-member")
    retried = site.post("/api/v1/site/people", Role.ADMIN, json=duplicate, key=key)
    assert_problem(retried, 409, "conflict")
    assert "idempotent-replayed" not in retried.headers
    fixed = site.post(
        "/api/v1/site/people",
        Role.ADMIN,
        key=key,
        json={"ref": "p-member-2", "name": "Miriam Cohen"},
    )
    assert fixed.status_code == 201, fixed.text


def test_enrollment_retry_gets_the_same_token(site: Site) -> None:
    code = site.fresh_code()
    key = new_key()
    first = site.post("/api/v1/enroll", json={"code": code}, key=key)
    assert first.status_code == 201, first.text
    retry = site.post("/api/v1/enroll", json={"code": code}, key=key)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["token"] == first.json()["token"]
    assert _read(site, "/api/v1/me", token=first.json()["token"])["roles"] == ["guest"]
    other_key = site.post("/api/v1/enroll", json={"code": code})
    assert_problem(other_key, 409, "conflict", "already used")


# --- incidents and drills -----------------------------------------------------------------------
def test_one_real_incident_at_a_time_and_drills_alongside(site: Site) -> None:
    head = site.head()
    second = site.post("/api/v1/incidents", Role.COMMANDER, json={"title": "Second"})
    assert_problem(second, 409, "conflict", "Infiltration", "already open")
    assert site.head() == head

    opened = site.post(
        "/api/v1/incidents", Role.COMMANDER, json={"title": "Evening drill", "drill": True}
    )
    assert opened.status_code == 201, opened.text
    drill = opened.json()["incident_id"]
    assert opened.json()["events"][0]["drill"] is True
    inc = f"/api/v1/incidents/{drill}"
    commands = [
        (f"{inc}/muster", Role.COMMANDER, {"rally_point_ref": "R1"}),
        (f"{inc}/muster/status", Role.RESPONDER, {"status": "en_route"}),
        (f"{inc}/positions", Role.RESPONDER, {"location": HERE}),
        (
            f"{inc}/households/{site.seeded.household_id}/check-ins",
            Role.RESIDENT,
            {"status": "safe"},
        ),
        (f"{inc}/broadcasts", Role.COMMANDER, {"texts": {"en": "Drill: go to your safe room"}}),
    ]
    for path, role, body in commands:
        response = site.post(path, role, json=body)
        assert response.status_code == 201, response.text
        assert [e["drill"] for e in response.json()["events"]] == [True], path
    assert site.post(f"{inc}/close", Role.COMMANDER, json={}).json()["events"][0]["drill"]

    # The real incident is untouched and its events are not drills.
    real = _read(site, f"/api/v1/incidents/{site.incident_id}", Role.COMMANDER)
    assert real["closed_at"] is None and real["drill"] is False and real["checkins"] == {}
    timeline = _read(site, f"/api/v1/incidents/{site.incident_id}/events", Role.COMMANDER)
    assert not any(e["drill"] for e in timeline["events"])
    listed = {i["incident_id"]: i for i in _read(site, "/api/v1/incidents", Role.OPERATOR)}
    assert listed[drill]["drill"] is True and listed[drill]["closed_at"] is not None
    assert listed[site.incident_id]["drill"] is False


# --- what each device sees (contracts §4) ------------------------------------------------------
def _busy_incident(site: Site) -> dict[str, str]:
    """Fill the seeded incident with everything a resident must not see, and a little it may."""
    inc = f"/api/v1/incidents/{site.incident_id}"
    seeded = site.seeded

    def ok(path: str, role: Role, body: dict[str, Any]) -> dict[str, Any]:
        response = site.post(path, role, json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    ok(f"{inc}/muster", Role.COMMANDER, {"rally_point_ref": "R1"})
    ok(f"{inc}/muster/status", Role.RESPONDER, {"status": "coming"})
    ok(f"{inc}/positions", Role.RESPONDER, {"location": HERE})
    theirs = ok(f"{inc}/sightings", Role.RESPONDER, {"location": HERE, "category": "hostile"})
    ok(f"{inc}/sightings/{theirs['sighting_id']}", Role.COMMANDER, {"status": "confirmed"})
    mine = ok(
        f"{inc}/sightings",
        Role.RESIDENT,
        {"location": HERE, "category": "unknown", "text": "someone in the yard"},
    )
    ok(f"{inc}/households/{seeded.household_id}/check-ins", Role.RESIDENT, {"status": "safe"})
    ok(
        f"{inc}/households/{seeded.other_household_id}/check-ins",
        Role.COMMANDER,
        {"status": "intruder"},
    )
    ok(f"{inc}/broadcasts", Role.COMMANDER, {"texts": {"en": "Lock your doors"}})
    order = ok(f"{inc}/orders", Role.COMMANDER, {"text": "Hold gate 3"})
    ok(f"{inc}/orders/{order['order_id']}/acknowledge", Role.RESPONDER, {})
    assert site.get("/api/v1/site/devices", Role.GUEST).status_code == 403  # an audit record
    return {"own_sighting": mine["sighting_id"]}


NEVER_FOR_RESIDENTS = {
    "position.reported",
    "sighting.updated",
    "muster.called",
    "responder.status_changed",
    "order.sent",
    "order.acknowledged",
    "device.enrolled",
    "enrollment.code_issued",
    "token.revoked",
}


def test_resident_sees_only_its_own_household_and_public_news(site: Site) -> None:
    made = _busy_incident(site)
    seeded = site.seeded
    events = _read(site, "/api/v1/site/events?limit=5000", Role.RESIDENT)["events"]
    types = {e["type"] for e in events}
    assert not types & NEVER_FOR_RESIDENTS, types & NEVER_FOR_RESIDENTS
    assert not any(t.startswith("audit.") for t in types)
    assert {"incident.opened", "broadcast.sent", "household.checked_in"} <= types
    sightings = [e for e in events if e["type"] == "sighting.reported"]
    assert [e["payload"]["sighting_id"] for e in sightings] == [made["own_sighting"]]
    checkins = [e for e in events if e["type"] == "household.checked_in"]
    assert {e["payload"]["household_id"] for e in checkins} == {seeded.household_id}
    households = [e["payload"]["household_id"] for e in events if e["type"] == "household.added"]
    assert households == [seeded.household_id]
    people = [e["payload"]["person_id"] for e in events if e["type"] == "person.added"]
    assert people == [site.member_id]
    for event in events:
        assert not any(secret in event["payload"] for secret in SECRETS)
        if event["type"] in ("incident.opened", "broadcast.sent", "site.configured"):
            assert event["actor"] is None and event["device"] is None
        if event["type"] == "site.configured":
            assert "plan" not in event["payload"]
    timeline = _read(site, f"/api/v1/incidents/{site.incident_id}/events", Role.RESIDENT)
    assert {e["seq"] for e in timeline["events"]} == {
        e["seq"] for e in events if e["incident_id"] == site.incident_id
    }

    # Own household and its people: yes. Anyone else's: 403, and audited.
    own = _read(site, f"/api/v1/site/households/{seeded.household_id}", Role.RESIDENT)
    assert [m["person_id"] for m in own["members"]] == [site.member_id]
    assert _read(site, f"/api/v1/site/people/{site.member_id}", Role.RESIDENT)["name"] == (
        "Miriam Cohen"
    )
    head = site.head()
    other = site.get(f"/api/v1/site/households/{seeded.other_household_id}", Role.RESIDENT)
    assert_problem(other, 403, "forbidden", "own household")
    stranger = site.get(f"/api/v1/site/people/{seeded.subjects[Role.COMMANDER]}", Role.RESIDENT)
    assert_problem(stranger, 403, "forbidden", "own household")
    denials = site.events_after(head)
    assert [(e.type, e.payload["operation"]) for e in denials] == [
        ("audit.access_denied", "get_household"),
        ("audit.access_denied", "get_person"),
    ]
    assert site.get("/api/v1/site/people", Role.RESIDENT).status_code == 403

    picture = _read(site, f"/api/v1/incidents/{site.incident_id}", Role.RESIDENT)
    assert not {"positions", "sightings", "checkins", "musters", "orders", "responders"} & set(
        picture
    )
    assert picture["checkin"]["status"] == "safe"
    assert [b["texts"] for b in picture["broadcasts"]] == [{"en": "Lock your doors"}]
    assert "by" not in picture["broadcasts"][0]


def test_guest_sees_broadcasts_but_not_check_ins(site: Site) -> None:
    _busy_incident(site)
    inc = f"/api/v1/incidents/{site.incident_id}"
    assert [b["texts"] for b in _read(site, f"{inc}/broadcasts", Role.GUEST)] == [
        {"en": "Lock your doors"}
    ]
    events = _read(site, "/api/v1/site/events?limit=5000", Role.GUEST)["events"]
    types = {e["type"] for e in events}
    assert "broadcast.sent" in types and "incident.opened" in types
    assert not types & (
        NEVER_FOR_RESIDENTS
        | {"household.checked_in", "sighting.reported", "person.added", "household.added"}
    ), types
    assert not any(t.startswith("audit.") for t in types)
    picture = _read(site, inc, Role.GUEST)
    assert "checkins" not in picture and "checkin" not in picture and "positions" not in picture
    assert_problem(site.get(f"{inc}/households", Role.GUEST), 403, "forbidden")
    assert_problem(site.get(f"{inc}/positions", Role.GUEST), 403, "forbidden")


def test_liaison_sees_only_its_own_incident(site: Site) -> None:
    _busy_incident(site)
    drill = site.post(
        "/api/v1/incidents", Role.COMMANDER, json={"title": "Parallel drill", "drill": True}
    ).json()["incident_id"]
    in_drill = site.post(
        f"/api/v1/incidents/{drill}/positions", Role.RESPONDER, json={"location": HERE}
    )
    assert in_drill.status_code == 201
    own = site.incident_id

    assert [i["incident_id"] for i in _read(site, "/api/v1/incidents", Role.LIAISON)] == [own]
    assert_problem(
        site.get(f"/api/v1/incidents/{drill}", Role.LIAISON), 403, "forbidden", "another incident"
    )
    assert_problem(site.get(f"/api/v1/incidents/{drill}/events", Role.LIAISON), 403, "forbidden")
    events = _read(site, "/api/v1/site/events?limit=5000", Role.LIAISON)["events"]
    assert {e["incident_id"] for e in events} == {None, own}
    assert {"position.reported", "sighting.reported", "household.checked_in"} <= {
        e["type"] for e in events
    }
    assert not any(e["type"].startswith("audit.") or e["type"] == "device.enrolled" for e in events)
    picture = _read(site, f"/api/v1/incidents/{own}", Role.LIAISON)
    assert picture["positions"] and picture["sightings"] and picture["checkins"]
    # Read-only: the liaison reports nothing.
    assert_problem(
        site.post(f"/api/v1/incidents/{own}/positions", Role.LIAISON, json={"location": HERE}),
        403,
        "forbidden",
    )


def test_residents_and_guests_get_the_public_part_of_the_site_plan(site: Site) -> None:
    plan = load_site_plan()
    answer = site.call(
        "PUT", "/api/v1/site", Role.ADMIN, json={"name": "Tel Kinamon", "plan": plan}
    )
    assert answer.status_code in (200, 201), answer.text  # 200: the fixture's plan already
    squad_only = {"armory", "war_room", "rally_point", "camera"}

    def kinds(role: Role) -> set[str]:
        return {f["properties"]["kind"] for f in _read(site, "/api/v1/site/plan", role)["features"]}

    for role in (Role.ADMIN, Role.COMMANDER, Role.RESPONDER, Role.LIAISON):
        assert squad_only <= kinds(role), role
    for role in (Role.RESIDENT, Role.GUEST):
        seen = kinds(role)
        assert not seen & squad_only, (role, seen & squad_only)
        assert {"boundary", "building", "shelter", "gate"} <= seen, role
