"""The hot routes (check-ins, position reports) answer on their lean twins (api/fastpath.py)
exactly as FastAPI's routes answer the same request, refusals included, and leave to them what
they do not take.

A request's twin through FastAPI is the same body sent as `application/vnd.konenut+json`:
JSON to FastAPI, not plain JSON to the lean route.
"""

from __future__ import annotations

from typing import Any

from konenut.api.fastpath import LeanRoute, LeanRoutes
from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem, new_key
from .test_caution import HOUSE_15, at, cautions_after, converge_on, sighting

VOLATILE = ("id", "seq", "occurred_at", "recorded_at")
FULL_STACK_JSON = "application/vnd.konenut+json"
CHECK_IN, POSITION = "check_in_household", "report_position"


def _lean(site: Site) -> dict[str, LeanRoute]:
    layer: Any = site.client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, LeanRoutes):
        layer = layer.app
    return {route.operation: route for route in layer.routes}


def _served(site: Site) -> dict[str, int]:
    """How many commands each lean route ran so far (its endpoint called)."""
    return {operation: route.served for operation, route in _lean(site).items()}


def _path(site: Site, household_id: str | None = None) -> str:
    household = household_id or site.seeded.household_id
    return f"/api/v1/incidents/{site.incident_id}/households/{household}/check-ins"


def _raw(
    site: Site,
    body: bytes,
    key: str | None = None,
    *,
    path: str | None = None,
    role: Role | None = Role.RESIDENT,
    media_type: str = "application/json",
    **headers: str,
) -> Any:
    sent = {**site.headers(role, key=key), "Content-Type": media_type, **headers}
    return site.client.post(path or _path(site), content=body, headers=sent)


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    events = [{k: v for k, v in e.items() if k not in VOLATILE} for e in body["events"]]
    return {**body, "events": events}


def _alike(lean: Any, full: Any) -> None:
    """The lean path's answer and the full stack's, but for what differs per command."""
    assert lean.status_code == full.status_code, (lean.text, full.text)
    assert lean.headers["content-type"] == full.headers["content-type"]
    if lean.status_code == 201:
        assert _stable(lean.json()) == _stable(full.json())
    else:
        assert lean.json() == full.json()


def test_the_lean_routes_are_on_the_paths_of_their_fastapi_routes(site: Site) -> None:
    assert set(_lean(site)) == {CHECK_IN, POSITION}
    paths = site.client.get("/api/v1/openapi.json").json()["paths"]
    posts = {op["post"]["operationId"]: path for path, op in paths.items() if "post" in op}
    for operation, route in _lean(site).items():
        assert route.path == posts[operation]


def test_a_check_in_takes_the_lean_path_and_answers_as_the_full_stack(site: Site) -> None:
    body = b'{"status": "need_medic", "people_count": 3, "injured_count": 1, "text": "\xd7\x90"}'
    served = _served(site)
    by_full_stack = _raw(site, body, media_type=FULL_STACK_JSON)
    assert _served(site) == served
    by_lean_path = _raw(site, body)
    assert _served(site) == {**served, CHECK_IN: served[CHECK_IN] + 1}
    assert by_lean_path.status_code == 201, by_lean_path.text
    _alike(by_lean_path, by_full_stack)
    payload = by_lean_path.json()["events"][0]["payload"]
    assert payload["status"] == "need_medic" and payload["text"] == "א"
    board = site.get(f"/api/v1/incidents/{site.incident_id}/households", Role.OPERATOR).json()
    mine = next(h for h in board if h["household_id"] == site.seeded.household_id)
    assert mine["checkin"]["status"] == "need_medic"


def test_a_retry_is_replayed_and_a_reused_key_refused(site: Site) -> None:
    key = new_key()
    first = _raw(site, b'{"status": "safe"}', key=key)
    again = _raw(site, b'{"status": "safe"}', key=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    served = _served(site)[CHECK_IN]
    assert_problem(_raw(site, b'{"status": "smoke"}', key=key), 409, "idempotency-key-reused")
    assert (
        _served(site)[CHECK_IN] == served + 1
    )  # the writer refused: rendered by the app's handler


def test_a_retry_with_other_whitespace_and_key_order_is_replayed(site: Site) -> None:
    key = new_key()
    first = _raw(site, b'{"status":"need_medic","people_count":2}', key=key)
    again = _raw(site, b'{ "people_count" : 2,\n  "status" : "need_medic" }', key=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # The same key and body through the full stack: the same request, replayed.
    twin = _raw(site, b'{"status":"need_medic","people_count":2}', key, media_type=FULL_STACK_JSON)
    assert twin.headers["idempotent-replayed"] == "true" and twin.json() == first.json()


def test_a_refusal_the_route_decides_is_the_same_on_the_lean_path(site: Site) -> None:
    """Another household's check-in (403, one denial recorded) and an unknown incident (404)."""
    other = _path(site, site.seeded.other_household_id)
    unknown = "/api/v1/incidents/nope/households/x/check-ins"
    cases = ((other, Role.RESIDENT, 403, "own household"), (unknown, Role.OPERATOR, 404, "nope"))
    for path, role, status, told in cases:
        served, head = _served(site), site.head()
        lean = _raw(site, b'{"status": "safe"}', path=path, role=role)
        assert _served(site) == {**served, CHECK_IN: served[CHECK_IN] + 1}
        denials = [e.type for e in site.events_after(head)]
        assert denials == (["audit.access_denied"] if status == 403 else [])
        full = _raw(site, b'{"status": "safe"}', path=path, role=role, media_type=FULL_STACK_JSON)
        assert lean.status_code == status and told in lean.json()["detail"]
        _alike(lean, full)


def test_a_caller_without_a_working_token_or_role_is_refused_as_by_the_route(site: Site) -> None:
    head = site.head()
    assert_problem(_raw(site, b'{"status": "safe"}', role=None), 401, "unauthenticated")
    no_token = _raw(site, b'{"status": "safe"}', role=None, media_type=FULL_STACK_JSON)
    assert_problem(no_token, 401, "unauthenticated")
    lean = _raw(site, b'{"status": "safe"}', Authorization="Bearer nope")
    _alike(lean, _raw(site, b"{}", Authorization="Bearer nope", media_type=FULL_STACK_JSON))
    assert_problem(lean, 401, "token-unknown")
    assert site.events_after(head) == []
    denied = _raw(site, b'{"status": "safe"}', role=Role.LIAISON)
    assert_problem(denied, 403, "forbidden", "may not check in household")
    assert [e.type for e in site.events_after(head)] == ["audit.access_denied"]


def test_a_body_the_command_refuses_is_the_422_fastapi_gives(site: Site) -> None:
    served, head = _served(site), site.head()
    for body in (b'{"status": "fine"}', b'{"status": ', b'["safe"]', b'{"status": "safe", "x": 1}'):
        lean = _raw(site, body)
        assert_problem(lean, 422, "validation-error")
        _alike(lean, _raw(site, body, media_type=FULL_STACK_JSON))
    assert _raw(site, b'{"status": "fine"}').json()["errors"][0]["loc"] == "body.status"
    assert _served(site) == served  # refused before the route ran
    assert site.events_after(head) == []


def test_a_bad_key_is_left_to_fastapi(site: Site) -> None:
    served, head = _served(site), site.head()
    for key in ("a key with spaces", "k" * 129):
        bad_key = _raw(site, b'{"status": "safe"}', key=key)
        assert_problem(bad_key, 422, "validation-error")
        assert bad_key.json()["errors"][0]["loc"] == "header.Idempotency-Key"
    no_key = site.client.post(
        _path(site),
        content=b'{"status": "safe"}',
        headers={"Authorization": f"Bearer {site.token(Role.RESIDENT)}"},
    )
    assert_problem(no_key, 422, "validation-error")
    assert _served(site) == served
    assert site.events_after(head) == []


def _positions_path(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}/positions"


def _report(
    site: Site,
    body: bytes,
    role: Role = Role.RESPONDER,
    key: str | None = None,
    media_type: str = "application/json",
) -> Any:
    return _raw(site, body, key, path=_positions_path(site), role=role, media_type=media_type)


def test_a_position_report_takes_the_lean_path_and_answers_as_the_full_stack(site: Site) -> None:
    body = b'{"location": {"lat": 30.4301, "lon": 34.9702}, "callsign": "east-1"}'
    served = _served(site)
    by_full_stack = _report(site, body, media_type=FULL_STACK_JSON)
    assert _served(site) == served
    by_lean_path = _report(site, body)
    assert _served(site) == {**served, POSITION: served[POSITION] + 1}
    assert by_lean_path.status_code == 201, by_lean_path.text
    _alike(by_lean_path, by_full_stack)
    [event] = by_lean_path.json()["events"]
    assert event["type"] == "position.reported"
    responder = site.seeded.subjects[Role.RESPONDER]
    assert event["payload"] == {"subject_id": responder, "callsign": "east-1", "source": "app"}
    listed = site.get(_positions_path(site), Role.OPERATOR).json()
    mine = next(p for p in listed if p["subject_id"] == responder)
    assert (mine["location"], mine["source"], mine["callsign"]) == (HERE, "app", "east-1")
    # Naming oneself is the same report.
    own = f'{{"location": {{"lat": 30.4301, "lon": 34.9702}}, "subject_id": "{responder}"}}'
    assert _report(site, own.encode()).status_code == 201
    assert _served(site)[POSITION] == served[POSITION] + 2


def test_positions_on_the_lean_path_still_raise_cautions(site: Site) -> None:
    sighting(site, at(HOUSE_15, north_m=-80))
    served, seq = _served(site)[POSITION], site.head()
    converge_on(site, HOUSE_15)
    assert _served(site)[POSITION] == served + 2
    assert "converging" in [c["kind"] for c in cautions_after(site, seq)]


def test_a_position_off_the_site_is_refused_as_the_full_stack_refuses_it(site: Site) -> None:
    body = b'{"location": {"lat": 30.8801, "lon": 34.9702}}'  # 50 km north (20 km accepted)
    served, head = _served(site)[POSITION], site.head()
    by_full_stack = _report(site, body, media_type=FULL_STACK_JSON)
    by_lean_path = assert_problem(_report(site, body), 422, "validation-error")
    assert _served(site)[POSITION] == served + 1
    assert by_lean_path == by_full_stack.json()
    assert by_lean_path["errors"][0]["loc"] == "body.location"
    assert site.events_after(head) == []


def test_a_position_retry_is_replayed_and_a_reused_key_refused(site: Site) -> None:
    key = new_key()
    first = _report(site, b'{"location": {"lat": 30.4301, "lon": 34.9702}}', key=key)
    again = _report(site, b'{"location": {"lat": 30.4301, "lon": 34.9702}}', key=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    served = _served(site)[POSITION]
    reused = _report(site, b'{"location": {"lat": 30.4302, "lon": 34.9702}}', key=key)
    assert_problem(reused, 409, "idempotency-key-reused")
    assert _served(site)[POSITION] == served + 1


def test_a_unit_placed_by_hand_and_someone_elses_position_are_the_routes_answers(
    site: Site,
) -> None:
    """The lean path runs the route itself: an operator's placement is `manual`, a medic
    naming the commander is refused (OWN scope), as through the full stack."""
    responder = site.seeded.subjects[Role.RESPONDER]
    commander = site.seeded.subjects[Role.COMMANDER]
    placed = f'{{"location": {{"lat": 30.4301, "lon": 34.9702}}, "subject_id": "{responder}"}}'
    served = _served(site)[POSITION]
    lean = _report(site, placed.encode(), Role.OPERATOR)
    full = _report(site, placed.encode(), Role.OPERATOR, media_type=FULL_STACK_JSON)
    assert _served(site)[POSITION] == served + 1
    _alike(lean, full)
    assert lean.json()["events"][0]["payload"]["source"] == "manual"
    other = f'{{"location": {{"lat": 30.4301, "lon": 34.9702}}, "subject_id": "{commander}"}}'
    head = site.head()
    refused = assert_problem(
        _report(site, other.encode(), Role.MEDIC), 403, "forbidden", "yourself"
    )
    assert [e.type for e in site.events_after(head)] == ["audit.access_denied"]
    assert _served(site)[POSITION] == served + 2
    for role in (Role.RESIDENT, Role.GUEST, Role.ADMIN):
        denied = site.post(_positions_path(site), role, json={"location": HERE})
        assert_problem(denied, 403, "forbidden")
    assert refused["detail"] == "you may act only for yourself"
