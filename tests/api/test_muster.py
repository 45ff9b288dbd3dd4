"""The muster over HTTP: one-tap activation, the board, seen and answers, ETA, the escalation
policy, contact points, push subscriptions, and keys (issue 4)."""

from __future__ import annotations

from typing import Any

import pytest

from konenut.demo import load_site_plan
from konenut.domain.roles import Role

from .conftest import PUSH_SERVICE_HOST, SITE, Site, assert_problem

COMMANDER = Role.COMMANDER


def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _board(site: Site, incident_id: str, role: Role = COMMANDER) -> dict[str, Any]:
    return _ok(site.get(f"/api/v1/incidents/{incident_id}/muster", role), 200)


def _row(board: dict[str, Any], person_id: str) -> dict[str, Any]:
    rows = [r for r in board["people"] if r["person_id"] == person_id]
    assert len(rows) == 1, board["people"]
    return rows[0]


def _add_responder(site: Site, ref: str, **fields: Any) -> str:
    body = {"ref": ref, "name": f"Responder {ref}", "roles": ["responder"], **fields}
    return str(_ok(site.post("/api/v1/site/people", Role.ADMIN, json=body))["person_id"])


def _rally_point() -> tuple[float, float]:
    for feature in load_site_plan()["features"]:
        props = feature["properties"]
        if props["kind"] == "rally_point" and props["ref"] == "R1":
            lon, lat = feature["geometry"]["coordinates"]
            return float(lon), float(lat)
    raise AssertionError("the demo plan has no rally point R1")


def test_one_tap_reuses_the_open_incident(site: Site) -> None:
    body = _ok(site.post("/api/v1/squad/activate", COMMANDER, json={}))
    assert body["incident_id"] == site.incident_id
    assert [e["type"] for e in body["events"]] == ["muster.called"]
    call = body["events"][0]["payload"]
    assert call["template"] == "hostile_infiltration"
    assert call["rally_point_ref"] == "R1"
    assert call["targets"] == []  # the whole squad
    board = _board(site, site.incident_id)
    assert board["muster"]["muster_id"] == body["muster_id"]


def test_one_tap_opens_an_incident_when_none_is_open(site: Site) -> None:
    _ok(site.post(f"/api/v1/incidents/{site.incident_id}/close", COMMANDER, json={}))
    body = _ok(site.post("/api/v1/squad/activate", COMMANDER, json={"template": "fire"}))
    assert [e["type"] for e in body["events"]] == ["incident.opened", "muster.called"]
    opened = body["events"][0]
    assert opened["payload"]["kind"] == "fire"
    assert opened["payload"]["title"] == "שריפה — להגיע לנקודת הכינוס עם ציוד כיבוי"
    assert opened["actor"] == site.seeded.subjects[COMMANDER]
    assert body["events"][1]["incident_id"] == body["incident_id"] != site.incident_id
    # A drill is opened beside the real incident, never instead of it.
    drill = _ok(site.post("/api/v1/squad/activate", COMMANDER, json={"drill": True}))
    assert drill["incident_id"] != body["incident_id"]
    assert drill["events"][0]["drill"] is True


def test_activation_errors_store_nothing(site: Site) -> None:
    before = site.head()
    assert_problem(
        site.post("/api/v1/squad/activate", COMMANDER, json={"template": "flood"}),
        404,
        "not-found",
        "flood",
    )
    assert_problem(
        site.post("/api/v1/squad/activate", COMMANDER, json={"team": "north"}),
        404,
        "not-found",
        "north",
    )
    assert_problem(
        site.post("/api/v1/squad/activate", COMMANDER, json={"person_ids": ["nobody"]}),
        404,
        "not-found",
        "nobody",
    )
    assert site.head() == before


def test_a_team_is_called_alone(site: Site) -> None:
    north = [_add_responder(site, f"n{i}", teams=["north"]) for i in range(2)]
    _add_responder(site, "s1", teams=["south"])
    body = _ok(site.post("/api/v1/squad/activate", COMMANDER, json={"team": "north"}))
    assert sorted(body["events"][-1]["payload"]["targets"]) == sorted(north)
    board = _board(site, site.incident_id)
    assert sorted(r["person_id"] for r in board["people"]) == sorted(north)


def test_templates_in_five_languages_and_the_sites_own(site: Site) -> None:
    templates = _ok(site.get("/api/v1/muster-templates", Role.RESPONDER), 200)
    by_id = {t["id"]: t for t in templates}
    assert {"hostile_infiltration", "fire", "missing_person"} <= set(by_id)
    assert set(by_id["fire"]["texts"]) == {"he", "ar", "en", "th", "ne"}
    own = {"id": "flood", "kind": "flood", "texts": {"en": "Flood — bring the pump to gate 2"}}
    _ok(
        site.call(
            "PUT",
            "/api/v1/site",
            Role.ADMIN,
            json={"name": "Tel Kinamon", "muster_templates": [own]},
        )
    )
    body = _ok(site.post("/api/v1/squad/activate", COMMANDER, json={"template": "flood"}))
    assert body["events"][-1]["payload"]["template"] == "flood"


def test_the_board_follows_each_person(site: Site) -> None:
    incident = site.incident_id
    responder = site.seeded.subjects[Role.RESPONDER]
    _ok(site.post("/api/v1/squad/activate", COMMANDER, json={}))
    assert _row(_board(site, incident), responder)["state"] in ("not_notified", "notified")

    seen = site.post(f"/api/v1/incidents/{incident}/muster/seen", Role.RESPONDER, json={})
    assert [e["type"] for e in _ok(seen)["events"]] == ["muster.seen"]
    assert _row(_board(site, incident), responder)["state"] == "seen"
    again = site.post(f"/api/v1/incidents/{incident}/muster/seen", Role.RESPONDER, json={})
    assert _ok(again, 200)["events"] == []  # seen once is enough

    path = f"/api/v1/incidents/{incident}/muster/status"
    _ok(site.post(path, Role.RESPONDER, json={"status": "cannot"}))
    assert _row(_board(site, incident), responder)["state"] == "cannot"
    # A mistaken answer is undone in one tap: the previous state is sent again.
    _ok(site.post(path, Role.RESPONDER, json={"status": "coming"}))
    board = _board(site, incident)
    assert _row(board, responder)["state"] == "coming"
    assert board["counts"]["coming"] == 1
    assert "channels" in _row(board, responder)  # commanders see what was tried

    # The squad sees who is coming, not which channels were tried on whom.
    squad_view = _board(site, incident, Role.MEDIC)
    assert _row(squad_view, responder)["state"] == "coming"
    assert "channels" not in _row(squad_view, responder)
    assert squad_view["assets"] == []


def test_answers_before_a_new_call_do_not_count(site: Site) -> None:
    incident = site.incident_id
    responder = site.seeded.subjects[Role.RESPONDER]
    path = f"/api/v1/incidents/{incident}/muster/status"
    _ok(site.post(path, Role.RESPONDER, json={"status": "coming"}))
    _ok(site.post("/api/v1/squad/activate", COMMANDER, json={"template": "fire"}))
    assert _row(_board(site, incident), responder)["state"] != "coming"


def test_eta_from_the_last_position(site: Site) -> None:
    incident = site.incident_id
    responder = site.seeded.subjects[Role.RESPONDER]
    lon, lat = _rally_point()
    _ok(site.post("/api/v1/squad/activate", COMMANDER, json={}))
    # 0.0018 degrees of latitude is 200 m: 100 s at the brisk pace the board assumes (2 m/s).
    where = {"lat": lat + 0.0018, "lon": lon, "accuracy_m": 5}
    _ok(
        site.post(
            f"/api/v1/incidents/{incident}/positions", Role.RESPONDER, json={"location": where}
        )
    )
    path = f"/api/v1/incidents/{incident}/muster/status"
    _ok(site.post(path, Role.RESPONDER, json={"status": "en_route"}))
    board = _board(site, incident)
    assert 95 <= _row(board, responder)["eta_secs"] <= 105
    assert board["eta"][0]["person_id"] == responder
    # The responder's own estimate wins over the distance.
    _ok(site.post(path, Role.RESPONDER, json={"status": "en_route", "eta_secs": 600}))
    assert 590 <= _row(_board(site, incident), responder)["eta_secs"] <= 600


def test_escalation_policy(site: Site) -> None:
    built_in = _ok(site.get("/api/v1/escalation-policy", COMMANDER), 200)
    assert built_in["built_in"] is True
    assert [s["channel"] for s in built_in["steps"]][:2] == ["push", "sms"]
    before = site.head()
    backwards = {
        "steps": [{"channel": "sms", "after_secs": 30}, {"channel": "push", "after_secs": 0}]
    }
    body = assert_problem(
        site.call("PUT", "/api/v1/escalation-policy", COMMANDER, json=backwards),
        422,
        "validation-error",
    )
    assert "time order" in str(body["errors"])
    assert_problem(
        site.call(
            "PUT",
            "/api/v1/escalation-policy",
            COMMANDER,
            json={"steps": [{"channel": "pigeon", "after_secs": 0}]},
        ),
        422,
        "validation-error",
    )
    assert site.head() == before
    policy = {
        "steps": [{"channel": "push", "after_secs": 0}, {"channel": "voice", "after_secs": 45}]
    }
    _ok(site.call("PUT", "/api/v1/escalation-policy", COMMANDER, json=policy))
    now = _ok(site.get("/api/v1/escalation-policy", Role.OPERATOR), 200)
    assert now["built_in"] is False and now["steps"] == policy["steps"]
    assert (
        _ok(site.call("PUT", "/api/v1/escalation-policy", COMMANDER, json=policy), 200)["events"]
        == []
    )


def test_contact_points(site: Site) -> None:
    me = site.seeded.subjects[Role.RESPONDER]
    path = f"/api/v1/people/{me}/contacts"
    _ok(site.call("PUT", f"{path}/telegram", Role.RESPONDER, json={"address": "123456789"}))
    _ok(
        site.call(
            "PUT",
            f"{path}/sms",
            Role.RESPONDER,
            json={"address": "+972505550199", "quiet_from": "23:00", "quiet_until": "06:00"},
        )
    )
    listed = _ok(site.get(path, Role.RESPONDER), 200)
    assert {c["channel"]: c["address"] for c in listed["contacts"]} == {
        "telegram": "123456789",
        "sms": "+972505550199",
    }
    before = site.head()
    bad = site.call("PUT", f"{path}/sms", Role.RESPONDER, json={"address": "505550199"})
    body = assert_problem(bad, 422, "validation-error")
    assert body["errors"][0]["loc"] == "body.address"
    assert "international form" in body["errors"][0]["msg"]
    half = site.call(
        "PUT",
        f"{path}/sms",
        Role.RESPONDER,
        json={"address": "+972505550199", "quiet_from": "23:00"},
    )
    assert_problem(half, 422, "validation-error")
    assert_problem(
        site.call("PUT", f"{path}/pigeon", Role.RESPONDER, json={"address": "x"}),
        422,
        "validation-error",
    )
    assert site.head() == before
    other = site.seeded.subjects[COMMANDER]
    denied = site.call(
        "PUT",
        f"/api/v1/people/{other}/contacts/telegram",
        Role.RESPONDER,
        json={"address": "123456789"},
    )
    assert_problem(denied, 403, "forbidden")
    _ok(site.call("PUT", f"{path}/telegram", Role.RESPONDER, json={"address": None}))
    listed = _ok(site.get(path, Role.ADMIN), 200)
    assert [c["channel"] for c in listed["contacts"]] == ["sms"]


def test_push_subscription_is_kept_once_and_never_shown(site: Site) -> None:
    key = _ok(site.get("/api/v1/push/key", Role.RESPONDER), 200)["application_server_key"]
    assert len(key) == 87  # base64url of a 65-byte uncompressed P-256 point
    subscription = {
        "endpoint": "https://push.example.net/send/0123456789abcdef",
        "p256dh": "B" + "A" * 86,
        "auth": "A" * 22,
    }
    _ok(site.call("PUT", "/api/v1/push/subscription", Role.RESPONDER, json=subscription))
    again = site.call("PUT", "/api/v1/push/subscription", Role.RESPONDER, json=subscription)
    assert _ok(again, 200)["events"] == []
    state = site.store.state(SITE)
    assert [p.endpoint for p in state.push_subscriptions.values()] == [subscription["endpoint"]]
    log = _ok(site.get("/api/v1/site/events", Role.ADMIN), 200)
    pushed = [e for e in log["events"] if e["type"] == "push.subscribed"]
    assert pushed and all("endpoint" not in e["payload"] for e in pushed)
    assert all("auth" not in e["payload"] for e in pushed)


def _subscription(endpoint: str) -> dict[str, str]:
    return {"endpoint": endpoint, "p256dh": "B" + "A" * 86, "auth": "A" * 22}


def test_a_push_endpoint_must_be_https_on_a_public_address(site: Site) -> None:
    """The server will POST to whatever a phone subscribed with: loopback (a resident's
    `http://127.0.0.1:9555/...`), private, link-local or unresolvable hosts and plain http are
    refused at subscription, naming the field, with nothing stored (issue 11, item 2)."""
    before = site.head()
    for hostile in (
        "http://127.0.0.1:9555/push/abc",
        "https://127.0.0.1:9555/push/abc",
        "https://localhost/push/abc",
        "https://10.1.2.3/push/abc",
        "https://[::1]/push/abc",
        "https://169.254.169.254/latest/meta-data",
        "https://push.invalid/push/abc",
        f"http://{PUSH_SERVICE_HOST}/push/abc",  # allow-listed for https only
    ):
        refused = site.call(
            "PUT", "/api/v1/push/subscription", Role.RESIDENT, json=_subscription(hostile)
        )
        problem = assert_problem(refused, 422, "validation-error")
        assert [e["loc"] for e in problem["errors"]] == ["body.endpoint"], hostile
    assert site.head() == before
    assert site.store.state(SITE).push_subscriptions == {}
    public = _subscription("https://1.1.1.1/push/0123456789abcdef")  # no allow-list needed
    _ok(site.call("PUT", "/api/v1/push/subscription", Role.RESIDENT, json=public))


def test_revoking_a_device_drops_its_push_subscription_in_the_same_command(site: Site) -> None:
    """Revocation and the subscription's end are one command (consecutive seqs, one commit):
    no broadcast or call can go out in between (issue 11, item 1)."""
    endpoint = f"https://{PUSH_SERVICE_HOST}/send/responder-phone"
    _ok(site.call("PUT", "/api/v1/push/subscription", Role.RESPONDER, json=_subscription(endpoint)))
    token_id = site.token_id_of(site.token(Role.RESPONDER))
    assert token_id in site.store.state(SITE).push_subscriptions

    revoked = _ok(site.post(f"/api/v1/site/devices/{token_id}/revoke", Role.ADMIN, json={}))
    events = revoked["events"]
    assert [e["type"] for e in events] == ["token.revoked", "push.unsubscribed"]
    assert events[1]["seq"] == events[0]["seq"] + 1
    assert events[1]["payload"]["token_id"] == token_id
    assert token_id not in site.store.state(SITE).push_subscriptions
    again = site.call(
        "PUT", "/api/v1/push/subscription", Role.RESPONDER, json=_subscription(endpoint)
    )
    assert_problem(again, 401, "token-revoked")
    assert token_id not in site.store.state(SITE).push_subscriptions


def test_closing_an_incident_drops_the_push_subscriptions_of_its_passes(site: Site) -> None:
    """A guest's token is bound to the incident: once it closes, the guest's phone is reached
    no more; the squad's own devices keep theirs."""
    guest = _subscription(f"https://{PUSH_SERVICE_HOST}/send/guest-phone")
    squad = _subscription(f"https://{PUSH_SERVICE_HOST}/send/squad-phone")
    _ok(site.call("PUT", "/api/v1/push/subscription", Role.GUEST, json=guest))
    _ok(site.call("PUT", "/api/v1/push/subscription", Role.RESPONDER, json=squad))
    guest_token = site.token_id_of(site.token(Role.GUEST))

    closed = _ok(site.post(f"/api/v1/incidents/{site.incident_id}/close", Role.COMMANDER, json={}))
    types = [(e["type"], e["payload"].get("token_id")) for e in closed["events"]]
    assert types == [("incident.closed", None), ("push.unsubscribed", guest_token)]
    remaining = site.store.state(SITE).push_subscriptions
    assert list(remaining) == [site.token_id_of(site.token(Role.RESPONDER))]


def test_keys_coming_and_missing(site: Site) -> None:
    incident = site.incident_id
    responder = site.seeded.subjects[Role.RESPONDER]
    gate_key = {
        "ref": "key-gate-3",
        "kind": "gate_key",
        "name": "Gate 3 key",
        "opens_ref": "3",
        "holder_person_id": responder,
    }
    asset_id = _ok(site.post("/api/v1/assets", Role.ADMIN, json=gate_key))["asset_id"]
    assert_problem(site.post("/api/v1/assets", Role.ADMIN, json=gate_key), 409, "conflict")
    assert_problem(
        site.post(
            "/api/v1/assets",
            Role.ADMIN,
            json={**gate_key, "ref": "k2", "holder_person_id": "nobody"},
        ),
        404,
        "not-found",
    )
    _ok(site.post("/api/v1/squad/activate", COMMANDER, json={}))

    def key_row() -> dict[str, Any]:
        rows = [a for a in _board(site, incident)["assets"] if a["asset_id"] == asset_id]
        assert len(rows) == 1
        return rows[0]

    assert key_row()["coming"] is False  # its holder has not answered
    assert key_row()["holder_name"] == site.store.state(SITE).persons[responder].name
    _ok(
        site.post(
            f"/api/v1/incidents/{incident}/assets/{asset_id}/request",
            COMMANDER,
            json={"text": "bring it to the armory"},
        )
    )
    assert key_row()["requested_at"] is not None
    _ok(
        site.post(
            f"/api/v1/incidents/{incident}/muster/status", Role.RESPONDER, json={"status": "coming"}
        )
    )
    assert key_row()["coming"] is True
    assert _row(_board(site, incident), responder)["carrying"] == ["key-gate-3"]
    # Back in the armory: nobody to ask.
    _ok(
        site.post(
            f"/api/v1/assets/{asset_id}/holder", Role.OPERATOR, json={"holder_person_id": None}
        )
    )
    assert_problem(
        site.post(f"/api/v1/incidents/{incident}/assets/{asset_id}/request", COMMANDER, json={}),
        422,
        "domain-error",
        "nobody holds",
    )
    listed = _ok(site.get("/api/v1/assets", Role.RESPONDER), 200)
    assert {a["ref"] for a in listed} >= {"key-gate-3", "radio-1"}


def test_wounded_is_its_own_state_and_the_key_they_hold_is_missing(site: Site) -> None:
    """Wounded is counted apart from "cannot come" and heads the board; a key its holder will
    not bring is missing, whether the holder is wounded or cannot come (issue 10, item 6)."""
    incident = site.incident_id
    responder = site.seeded.subjects[Role.RESPONDER]
    medic = site.seeded.subjects[Role.MEDIC]
    keys = {}
    for ref, holder in (("key-gate-3", responder), ("key-gate-7", medic)):
        body = {"ref": ref, "kind": "gate_key", "name": ref, "holder_person_id": holder}
        keys[ref] = _ok(site.post("/api/v1/assets", Role.ADMIN, json=body))["asset_id"]
    _ok(site.post("/api/v1/squad/activate", COMMANDER, json={}))
    path = f"/api/v1/incidents/{incident}/muster/status"
    _ok(site.post(path, Role.RESPONDER, json={"status": "wounded"}))
    _ok(site.post(path, Role.MEDIC, json={"status": "cannot"}))

    board = _board(site, incident)
    assert board["counts"]["wounded"] == 1 and board["counts"]["cannot"] == 1
    assert board["people"][0]["person_id"] == responder
    assert board["people"][0]["state"] == "wounded"
    held = {a["ref"]: a for a in board["assets"] if a["asset_id"] in keys.values()}
    assert {ref: (a["holder_state"], a["coming"], a["missing"]) for ref, a in held.items()} == {
        "key-gate-3": ("wounded", False, True),
        "key-gate-7": ("cannot", False, True),
    }
    # The squad sees the count too.
    assert _board(site, incident, Role.MEDIC)["counts"]["wounded"] == 1


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GUEST])
def test_households_never_see_the_muster(site: Site, role: Role) -> None:
    response = site.get(f"/api/v1/incidents/{site.incident_id}/muster", role)
    assert_problem(response, 403, "forbidden")
