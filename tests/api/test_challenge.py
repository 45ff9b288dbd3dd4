"""Challenge/password and safe word (issue 6 item 5), and orders to a team (item 6), over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from helpers import SITE
from konenut.app import commands as c
from konenut.app import handlers
from konenut.domain.roles import Role

from .conftest import Clock, Site, assert_problem

SQUAD_READS = (Role.COMMANDER, Role.OPERATOR, Role.RESPONDER, Role.MEDIC, Role.LIAISON)


def path(site: Site, tail: str = "challenge") -> str:
    return f"/api/v1/incidents/{site.incident_id}/{tail}"


def put(site: Site, tail: str, body: dict[str, Any], role: Role = Role.COMMANDER) -> Any:
    return site.call("PUT", path(site, tail), role, json=body)


def current(site: Site, role: Role = Role.RESPONDER) -> dict[str, Any]:
    got = site.get(path(site), role)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def test_the_commander_sets_the_words_and_the_squad_reads_them(site: Site) -> None:
    assert current(site)["current"] is None
    set_ = put(site, "challenge", {"challenge": "olive", "password": "river", "lang": "en"})
    assert set_.status_code == 201, set_.text
    for role in SQUAD_READS:
        pair = current(site, role)["current"]
        assert (pair["challenge"], pair["password"]) == ("olive", "river"), role


def test_residents_guests_and_admins_get_403_and_cannot_set_it(site: Site) -> None:
    put(site, "challenge", {"generate": True})
    for role in (Role.RESIDENT, Role.GUEST, Role.ADMIN):
        assert_problem(site.get(path(site), role), 403, "forbidden")
    for role in (Role.RESIDENT, Role.GUEST, Role.RESPONDER, Role.OPERATOR):
        refused = put(site, "challenge", {"generate": True}, role)
        assert_problem(refused, 403, "forbidden")


def test_generated_words_are_two_different_words_and_a_new_pair_shares_none(site: Site) -> None:
    seen: list[tuple[str, str]] = []
    for _ in range(6):
        answer = put(site, "challenge", {})
        assert answer.status_code == 201, answer.text
        pair = current(site)["current"]
        assert pair["challenge"] != pair["password"]
        assert pair["lang"] == "he"  # the site's language
        if seen:
            assert not {pair["challenge"], pair["password"]} & set(seen[-1]), (pair, seen[-1])
        seen.append((pair["challenge"], pair["password"]))


def test_rotation_keeps_the_old_pair_for_the_grace_period(timed: Site, clock: Clock) -> None:
    put(timed, "challenge", {"challenge": "olive", "password": "river", "lang": "en"})
    rotated = timed.post(path(timed, "challenge/rotate"), Role.COMMANDER, json={"grace_mins": 10})
    assert rotated.status_code == 201, rotated.text
    shown = current(timed)
    assert shown["current"]["lang"] == "en"
    assert not {shown["current"]["challenge"], shown["current"]["password"]} & {"olive", "river"}
    previous = shown["previous"]
    assert (previous["challenge"], previous["password"]) == ("olive", "river")
    until = datetime.fromisoformat(previous["until"].replace("Z", "+00:00"))
    assert until - clock.now == pytest.approx(timedelta(minutes=10), abs=timedelta(seconds=2))
    clock.now += timedelta(minutes=9)
    assert current(timed)["previous"] is not None
    clock.now += timedelta(minutes=2)
    assert current(timed)["previous"] is None, "the old pair stopped answering"


def test_a_compromised_pair_is_replaced_at_once(site: Site) -> None:
    put(site, "challenge", {"challenge": "olive", "password": "river", "lang": "en"})
    replaced = put(site, "challenge", {"challenge": "tiger", "password": "piano", "grace_mins": 0})
    assert replaced.status_code == 201, replaced.text
    assert current(site)["previous"] is None


def test_bad_input_stores_nothing(site: Site) -> None:
    head = site.head()
    for body in (
        {"challenge": "olive"},
        {"challenge": "olive", "password": "olive"},
        {"challenge": "olive", "password": "river", "generate": True},
        {"challenge": "x" * 41, "password": "river"},
        {"grace_mins": 61},
    ):
        assert_problem(put(site, "challenge", body), 422, "validation-error")
    assert_problem(put(site, "safe-word", {"word": ""}), 422, "validation-error")
    assert site.events_after(head) == []


def test_the_safe_word_is_never_a_challenge_word(site: Site) -> None:
    put(site, "challenge", {"challenge": "olive", "password": "river", "lang": "en"})
    assert_problem(put(site, "safe-word", {"word": "River"}), 409, "conflict")
    assert put(site, "safe-word", {"word": "lemon"}).status_code == 201
    clash = put(site, "challenge", {"challenge": "lemon", "password": "tiger"})
    assert_problem(clash, 409, "conflict")
    for _ in range(5):  # generated pairs avoid the safe word
        put(site, "challenge", {"lang": "en"})
        assert "lemon" not in current(site)["current"].values()


def test_residents_see_the_safe_word_guests_nothing_and_neither_the_challenge(site: Site) -> None:
    put(site, "challenge", {"challenge": "olive", "password": "river", "lang": "en"})
    assert put(site, "safe-word", {"word": "lemon"}, Role.OPERATOR).status_code == 201
    assert put(site, "safe-word", {"word": "lemon"}).status_code == 200, "the same: no change"
    for role in (Role.RESIDENT, Role.GUEST):
        incident = site.get(path(site, "")[:-1], role)
        assert incident.status_code == 200, incident.text
        text = incident.text.lower()
        assert "olive" not in text and "river" not in text
        log = site.get(path(site, "events"), role)
        assert log.status_code == 200, log.text
        assert "olive" not in log.text and "river" not in log.text
        # A household with a card hears the word; anyone who scans a poster is a guest.
        said = "lemon" in incident.text and "lemon" in log.text
        assert said is (role is Role.RESIDENT), f"{role}: {incident.text} {log.text}"
    assert site.get(path(site, "")[:-1], Role.RESIDENT).json()["safe_word"] == "lemon"


def test_the_residents_stream_never_carries_the_challenge(site: Site) -> None:
    household = site.seeded.household_id
    with site.client.websocket_connect("/api/v1/stream?since=0") as ws:
        ws.send_text(orjson.dumps({"type": "auth", "token": site.token(Role.RESIDENT)}).decode())
        assert ws.receive_json()["type"] == "hello"
        put(site, "challenge", {"challenge": "olive", "password": "river", "lang": "en"})
        site.post(path(site, "challenge/rotate"), Role.COMMANDER, json={})
        put(site, "safe-word", {"word": "lemon"})
        answer = site.post(
            path(site, f"households/{household}/check-ins"), Role.RESIDENT, json={"status": "safe"}
        )
        assert answer.status_code == 201, answer.text
        frames = []
        while not frames or frames[-1].get("type") != "household.checked_in":
            frames.append(ws.receive_json())
    assert not any(f.get("type") == "challenge.set" for f in frames), frames
    dumped = orjson.dumps(frames).decode()
    assert "olive" not in dumped and "river" not in dumped
    (safe,) = [f for f in frames if f.get("type") == "safe_word.set"]
    assert safe["payload"]["word"] == "lemon" and safe["actor"] is None


def test_a_guests_stream_never_carries_the_safe_word(site: Site) -> None:
    """Anyone can scan a poster: a guest's WebSocket gets its own check-in, never the word."""
    guest_id = site.seeded.subjects[Role.GUEST]
    with site.client.websocket_connect("/api/v1/stream?since=0") as ws:
        ws.send_text(orjson.dumps({"type": "auth", "token": site.token(Role.GUEST)}).decode())
        assert ws.receive_json()["type"] == "hello"
        put(site, "safe-word", {"word": "lemon"})
        sent = site.post(path(site, "broadcasts"), Role.COMMANDER, json={"template": "safe_word"})
        assert sent.status_code == 201, sent.text
        answer = site.post(
            path(site, f"guests/{guest_id}/check-ins"), Role.GUEST, json={"status": "safe"}
        )
        assert answer.status_code == 201, answer.text
        frames = []
        while not frames or frames[-1].get("type") != "guest.checked_in":
            frames.append(ws.receive_json())
    assert "lemon" not in orjson.dumps(frames).decode(), frames


# --- orders to a team ----------------------------------------------------------------------------
def _team_member(site: Site, ref: str, teams: list[str]) -> tuple[str, str]:
    """A responder in `teams` with an enrolled device: (person id, token)."""
    from helpers import enrol

    added = site.store.execute(
        SITE,
        handlers.add_person(
            None, c.AddPerson(ref=ref, name=ref.title(), roles=[Role.RESPONDER], teams=teams)
        ),
    )
    person_id = str(added.body["person_id"])
    token, _ = enrol(site.store, c.IssueEnrollmentCode(subject_id=person_id))
    return person_id, token


def test_an_order_to_a_team_reaches_exactly_its_members(site: Site) -> None:
    north_a, token_a = _team_member(site, "north-a", ["north"])
    north_b, _token_b = _team_member(site, "north-b", ["north", "south"])
    _south, token_s = _team_member(site, "south-c", ["south"])
    sent = site.post(
        path(site, "orders"),
        Role.COMMANDER,
        json={"text": "Hold the north gate", "to_teams": ["north"]},
    )
    assert sent.status_code == 201, sent.text
    (event,) = [e for e in sent.json()["events"] if e["type"] == "order.sent"]
    assert sorted(event["payload"]["to_person_ids"]) == sorted([north_a, north_b])
    assert event["payload"]["to_teams"] == ["north"]
    order_id = event["payload"]["order_id"]

    def orders_of(token: str) -> set[str]:
        listed = site.get(path(site, "orders"), token=token)
        assert listed.status_code == 200, listed.text
        incident = site.get(path(site, "")[:-1], token=token).json()
        assert set(incident["orders"]) == {o["order_id"] for o in listed.json()}
        return {o["order_id"] for o in listed.json()}

    assert order_id in orders_of(token_a)
    assert order_id not in orders_of(token_s), "the south team never sees it"
    assert order_id not in orders_of(site.token(Role.RESPONDER))
    assert order_id in orders_of(site.token(Role.OPERATOR))
    not_for_them = site.post(path(site, f"orders/{order_id}/acknowledge"), token=token_s, json={})
    assert_problem(not_for_them, 404, "not-found")
    acked = site.post(path(site, f"orders/{order_id}/acknowledge"), token=token_a, json={})
    assert acked.status_code == 201, acked.text
    # The log, as the stream filters it: the south member's view has no trace of the order.
    south_log = site.get(path(site, "events"), token=token_s).text
    assert "Hold the north gate" not in south_log
    assert "Hold the north gate" in site.get(path(site, "events"), token=token_a).text


def test_the_team_members_stream_gets_the_order_and_the_others_do_not(site: Site) -> None:
    _north, token_n = _team_member(site, "north-a", ["north"])
    _south, token_s = _team_member(site, "south-c", ["south"])
    frames: dict[str, list[dict[str, Any]]] = {}
    for name, token in (("north", token_n), ("south", token_s)):
        with site.client.websocket_connect("/api/v1/stream?since=0") as ws:
            ws.send_text(orjson.dumps({"type": "auth", "token": token}).decode())
            assert ws.receive_json()["type"] == "hello"
            if name == "north":
                sent = site.post(
                    path(site, "orders"),
                    Role.COMMANDER,
                    json={"text": "Go to house 31", "to_teams": ["north"]},
                )
                assert sent.status_code == 201, sent.text
            marker = site.post(path(site, "orders"), Role.COMMANDER, json={"text": f"end {name}"})
            assert marker.status_code == 201
            got: list[dict[str, Any]] = []
            while not got or got[-1].get("payload", {}).get("text") != f"end {name}":
                got.append(ws.receive_json())
            frames[name] = got
    texts = {
        n: [f["payload"].get("text") for f in f_ if f.get("type") == "order.sent"]
        for n, f_ in frames.items()
    }
    assert "Go to house 31" in texts["north"]
    assert "Go to house 31" not in texts["south"]


def test_an_order_to_an_empty_or_unknown_team_is_refused(site: Site) -> None:
    head = site.head()
    refused = site.post(
        path(site, "orders"), Role.COMMANDER, json={"text": "x", "to_teams": ["west"]}
    )
    assert_problem(refused, 404, "not-found", "west")
    assert site.events_after(head) == []


def test_the_safe_word_broadcast_tells_the_word_in_every_language(site: Site) -> None:
    assert put(site, "safe-word", {"word": "marigold"}).status_code == 201
    sent = site.post(path(site, "broadcasts"), Role.COMMANDER, json={"template": "safe_word"})
    assert sent.status_code == 201, sent.text
    (event,) = [e for e in sent.json()["events"] if e["type"] == "broadcast.sent"]
    texts = event["payload"]["texts"]
    assert set(texts) == {"he", "ar", "en", "th", "ne"}
    assert all("marigold" in text for text in texts.values()), texts
    # The word first: an SMS cut to one segment keeps it.
    assert texts["en"].startswith("The squad will say: marigold. Stay in your safe room.")
    # Households read it in their incident view; a guest who scanned a poster never.
    broadcasts = {
        role: site.get(path(site, "")[:-1], role).json()["broadcasts"]
        for role in (Role.RESIDENT, Role.GUEST)
    }
    assert "marigold" in str(broadcasts[Role.RESIDENT])
    assert "marigold" not in str(broadcasts[Role.GUEST])
    # Without a safe word set, the template is sent as written.
    other = site.fresh_drill()
    plain = site.post(
        f"/api/v1/incidents/{other}/broadcasts", Role.COMMANDER, json={"template": "safe_word"}
    )
    assert plain.status_code == 201, plain.text
    (event,) = [e for e in plain.json()["events"] if e["type"] == "broadcast.sent"]
    assert "marigold" not in str(event["payload"]["texts"])


def test_a_retried_request_returns_the_same_generated_words(site: Site) -> None:
    key = "challenge-retry-1"
    first = site.call("PUT", path(site), Role.COMMANDER, json={"generate": True}, key=key)
    again = site.call("PUT", path(site), Role.COMMANDER, json={"generate": True}, key=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    other = site.call("PUT", path(site), Role.COMMANDER, json={"lang": "en"}, key=key)
    assert_problem(other, 409, "idempotency-key-reused")
