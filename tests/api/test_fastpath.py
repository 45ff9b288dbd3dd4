"""The check-in fast path answers exactly as the route does, and leaves everything else to it."""

from __future__ import annotations

from typing import Any

from konenut.api.fastpath import MAX_BODY_BYTES, CheckInFastPath
from konenut.domain.roles import Role

from .conftest import Site, assert_problem, new_key

VOLATILE = ("id", "seq", "occurred_at", "recorded_at")


def _fast_path(site: Site) -> CheckInFastPath:
    layer: Any = site.client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, CheckInFastPath):
        layer = layer.app
    return layer


def _path(site: Site, household_id: str | None = None) -> str:
    household = household_id or site.seeded.household_id
    return f"/api/v1/incidents/{site.incident_id}/households/{household}/check-ins"


def _raw(site: Site, body: bytes, key: str | None = None, **headers: str) -> Any:
    sent = {
        **site.headers(Role.RESIDENT, key=key),
        "Content-Type": "application/json",
        **headers,
    }
    return site.client.post(_path(site), content=body, headers=sent)


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    events = [{k: v for k, v in e.items() if k not in VOLATILE} for e in body["events"]]
    return {**body, "events": events}


def test_a_check_in_takes_the_fast_path_and_answers_as_the_route_does(site: Site) -> None:
    fast = _fast_path(site)
    body = b'{"status": "need_medic", "people_count": 3, "injured_count": 1, "text": "\xd7\x90"}'
    # Padded past the fast path's size limit: the same check-in, answered by the route.
    padded = body + b" " * (MAX_BODY_BYTES + 1)
    served = fast.served
    by_route = _raw(site, padded)
    assert fast.served == served
    by_fast_path = _raw(site, body)
    assert fast.served == served + 1
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
    served = fast.served
    assert_problem(_raw(site, b'{"status": "smoke"}', key=key), 409, "idempotency-key-reused")
    assert fast.served == served + 1  # the writer's refusal, as the route's handlers render it


def test_what_the_fast_path_does_not_take_the_route_refuses(site: Site) -> None:
    fast = _fast_path(site)
    served, head = fast.served, site.head()
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
