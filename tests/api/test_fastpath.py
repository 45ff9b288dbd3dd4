"""The fast path answers check-ins and position reports exactly as their routes do, and leaves
everything else to them."""

from __future__ import annotations

from typing import Any

from konenut.api.fastpath import HOT_ROUTES, MAX_BODY_BYTES, FastPath
from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem, new_key
from .test_caution import HOUSE_15, at, cautions_after, converge_on, sighting

VOLATILE = ("id", "seq", "occurred_at", "recorded_at")


CHECK_IN, POSITION = "check_in_household", "report_position"


def _fast_path(site: Site) -> FastPath:
    layer: Any = site.client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, FastPath):
        layer = layer.app
    return layer


def _path(site: Site, household_id: str | None = None) -> str:
    household = household_id or site.seeded.household_id
    return f"/api/v1/incidents/{site.incident_id}/households/{household}/check-ins"


def _raw(
    site: Site,
    body: bytes,
    key: str | None = None,
    *,
    path: str | None = None,
    role: Role = Role.RESIDENT,
    **headers: str,
) -> Any:
    sent = {**site.headers(role, key=key), "Content-Type": "application/json", **headers}
    return site.client.post(path or _path(site), content=body, headers=sent)


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    events = [{k: v for k, v in e.items() if k not in VOLATILE} for e in body["events"]]
    return {**body, "events": events}


def test_a_check_in_takes_the_fast_path_and_answers_as_the_route_does(site: Site) -> None:
    fast = _fast_path(site)
    body = b'{"status": "need_medic", "people_count": 3, "injured_count": 1, "text": "\xd7\x90"}'
    # Padded past the fast path's size limit: the same check-in, answered by the route.
    padded = body + b" " * (MAX_BODY_BYTES + 1)
    served = fast.served[CHECK_IN]
    by_route = _raw(site, padded)
    assert fast.served[CHECK_IN] == served
    by_fast_path = _raw(site, body)
    assert fast.served[CHECK_IN] == served + 1
    assert by_route.status_code == by_fast_path.status_code == 201, by_fast_path.text
    assert by_fast_path.headers["content-type"] == by_route.headers["content-type"]
    assert _stable(by_fast_path.json()) == _stable(by_route.json())
    payload = by_fast_path.json()["events"][0]["payload"]
    assert payload["status"] == "need_medic" and payload["text"] == "א"
    board = site.get(f"/api/v1/incidents/{site.incident_id}/households", Role.OPERATOR).json()
    mine = next(h for h in board if h["household_id"] == site.seeded.household_id)
    assert mine["checkin"]["status"] == "need_medic"


def test_a_retry_is_replayed_and_a_reused_key_refused(site: Site) -> None:
    fast, key = _fast_path(site), new_key()
    first = _raw(site, b'{"status": "safe"}', key=key)
    again = _raw(site, b'{"status": "safe"}', key=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    served = fast.served[CHECK_IN]
    assert_problem(_raw(site, b'{"status": "smoke"}', key=key), 409, "idempotency-key-reused")
    assert fast.served[CHECK_IN] == served + 1  # the writer refused: rendered as the route would


def test_a_retry_with_other_whitespace_and_key_order_is_replayed(site: Site) -> None:
    key = new_key()
    first = _raw(site, b'{"status":"need_medic","people_count":2}', key=key)
    again = _raw(site, b'{ "people_count" : 2,\n  "status" : "need_medic" }', key=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


def test_what_the_fast_path_does_not_take_the_route_refuses(site: Site) -> None:
    fast = _fast_path(site)
    served, head = dict(fast.served), site.head()
    assert_problem(
        site.client.post(
            _path(site), json={"status": "safe"}, headers={"Idempotency-Key": new_key()}
        ),
        401,
        "unauthenticated",
    )
    assert_problem(
        _raw(site, b'{"status": "safe"}', Authorization="Bearer nope"), 401, "token-unknown"
    )
    other = site.seeded.other_household_id
    denied = site.post(_path(site, other), Role.RESIDENT, json={"status": "safe"})
    assert_problem(denied, 403, "forbidden", "own household")
    assert [e.type for e in site.events_after(head)] == ["audit.access_denied"]
    refused = assert_problem(_raw(site, b'{"status": "fine"}'), 422, "validation-error")
    assert refused["errors"][0]["loc"] == "body.status"
    assert_problem(_raw(site, b'{"status": '), 422, "validation-error")
    bad_key = _raw(site, b'{"status": "safe"}', key="a key with spaces")
    assert_problem(bad_key, 422, "validation-error")
    unknown = site.post(
        "/api/v1/incidents/nope/households/x/check-ins", Role.OPERATOR, json={"status": "safe"}
    )
    assert_problem(unknown, 404, "not-found")
    assert fast.served == served
    assert [e.type for e in site.events_after(head)] == ["audit.access_denied"]


def _positions_path(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}/positions"


def _report(site: Site, body: bytes, role: Role = Role.RESPONDER, key: str | None = None) -> Any:
    return _raw(site, body, key, path=_positions_path(site), role=role)


def test_a_position_report_takes_the_fast_path_and_answers_as_the_route_does(site: Site) -> None:
    fast = _fast_path(site)
    body = b'{"location": {"lat": 30.4301, "lon": 34.9702}, "callsign": "east-1"}'
    served = dict(fast.served)
    by_route = _report(site, body + b" " * (MAX_BODY_BYTES + 1))
    assert fast.served == served
    by_fast_path = _report(site, body)
    assert fast.served == {**served, POSITION: served[POSITION] + 1}
    assert by_route.status_code == by_fast_path.status_code == 201, by_fast_path.text
    assert by_fast_path.headers["content-type"] == by_route.headers["content-type"]
    assert _stable(by_fast_path.json()) == _stable(by_route.json())
    [event] = by_fast_path.json()["events"]
    assert event["type"] == "position.reported"
    responder = site.seeded.subjects[Role.RESPONDER]
    assert event["payload"] == {"subject_id": responder, "callsign": "east-1", "source": "app"}
    listed = site.get(_positions_path(site), Role.OPERATOR).json()
    mine = next(p for p in listed if p["subject_id"] == responder)
    assert (mine["location"], mine["source"], mine["callsign"]) == (HERE, "app", "east-1")
    # Naming oneself is the same report.
    own = f'{{"location": {{"lat": 30.4301, "lon": 34.9702}}, "subject_id": "{responder}"}}'
    assert _report(site, own.encode()).status_code == 201
    assert fast.served[POSITION] == served[POSITION] + 2


def test_positions_on_the_fast_path_still_raise_cautions(site: Site) -> None:
    fast = _fast_path(site)
    sighting(site, at(HOUSE_15, north_m=-80))
    served, seq = fast.served[POSITION], site.head()
    converge_on(site, HOUSE_15)
    assert fast.served[POSITION] == served + 2
    assert "converging" in [c["kind"] for c in cautions_after(site, seq)]


def test_a_position_off_the_site_is_refused_as_the_route_refuses_it(site: Site) -> None:
    fast = _fast_path(site)
    body = b'{"location": {"lat": 30.8801, "lon": 34.9702}}'  # 50 km north (20 km accepted)
    served, head = fast.served[POSITION], site.head()
    by_route = assert_problem(
        _report(site, body + b" " * (MAX_BODY_BYTES + 1)), 422, "validation-error"
    )
    by_fast_path = assert_problem(_report(site, body), 422, "validation-error")
    assert fast.served[POSITION] == served + 1
    assert by_fast_path == by_route and by_route["errors"][0]["loc"] == "body.location"
    assert site.events_after(head) == []


def test_a_position_retry_is_replayed_and_a_reused_key_refused(site: Site) -> None:
    fast, key = _fast_path(site), new_key()
    first = _report(site, b'{"location": {"lat": 30.4301, "lon": 34.9702}}', key=key)
    again = _report(site, b'{"location": {"lat": 30.4301, "lon": 34.9702}}', key=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    served = fast.served[POSITION]
    reused = _report(site, b'{"location": {"lat": 30.4302, "lon": 34.9702}}', key=key)
    assert_problem(reused, 409, "idempotency-key-reused")
    assert fast.served[POSITION] == served + 1


def test_position_reports_the_route_treats_specially_are_left_to_it(site: Site) -> None:
    fast = _fast_path(site)
    served, head = dict(fast.served), site.head()
    path, responder = _positions_path(site), site.seeded.subjects[Role.RESPONDER]
    commander = site.seeded.subjects[Role.COMMANDER]
    placed = site.post(path, Role.OPERATOR, json={"location": HERE, "subject_id": responder})
    assert placed.status_code == 201, placed.text
    assert placed.json()["events"][0]["payload"]["source"] == "manual"
    assert fast.served == served
    head = site.head()
    other = site.post(path, Role.MEDIC, json={"location": HERE, "subject_id": commander})
    assert_problem(other, 403, "forbidden", "yourself")
    for role in (Role.RESIDENT, Role.GUEST, Role.ADMIN):
        assert_problem(site.post(path, role, json={"location": HERE}), 403, "forbidden")
    assert_problem(site.post(path, json={"location": HERE}), 401, "unauthenticated")
    refused = assert_problem(_report(site, b'{"location": {"lat": 99}}'), 422, "validation-error")
    assert refused["errors"][0]["loc"].startswith("body.location")
    assert_problem(_report(site, b'{"location": '), 422, "validation-error")
    unknown = site.post("/api/v1/incidents/nope/positions", Role.OPERATOR, json={"location": HERE})
    assert_problem(unknown, 404, "not-found")
    assert fast.served == served
    assert {e.type for e in site.events_after(head)} == {"audit.access_denied"}


def test_every_hot_route_is_the_published_route_of_its_operation(site: Site) -> None:
    paths = site.client.get("/api/v1/openapi.json").json()["paths"]
    posts = {op["post"]["operationId"]: path for path, op in paths.items() if "post" in op}
    for hot in HOT_ROUTES:
        assert hot.path.fullmatch(posts[hot.operation]), hot.operation
