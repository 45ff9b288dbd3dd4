"""Bad requests are refused with a helpful RFC 9457 problem, and nothing is stored.

Each case checks the status, `content-type: application/problem+json`, the problem `type`,
a `detail` that names what is wrong, `errors[].loc` for validation errors, and that the site's
log did not grow (a 403 adds exactly its `audit.access_denied` record).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from konenut.domain.ids import format_time, new_id, utcnow
from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem, serve_site

UNKNOWN = new_id()  # an id nothing in the site has


@dataclass(frozen=True)
class Bad:
    """A bad request and the problem it must get."""

    id: str
    path: str  # formatted with {incident}, {household}, {sighting}, {order}, {unknown}
    status: int
    slug: str
    detail: str  # text the detail must contain (case-insensitive)
    loc: str | None = None  # an errors[].loc the problem must list (prefix match)
    role: Role | None = Role.COMMANDER
    method: str = "POST"
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    no_key: bool = False


INC = "/api/v1/incidents/{incident}"
POS = INC + "/positions"
SIGHT = INC + "/sightings"
CHECK_IN = INC + "/households/{household}/check-ins"
JSON = {"content-type": "application/json"}

VALIDATION = [
    Bad(
        "malformed-json",
        "/api/v1/incidents",
        422,
        "validation-error",
        "JSON",
        "body",
        content=b'{"title": "Fire at the fence", ',
        headers=JSON,
    ),
    # Bytes that are not even text: the body cannot be read at all (FastAPI answers 400).
    Bad(
        "not-utf8",
        "/api/v1/incidents",
        400,
        "bad-request",
        "parsing the body",
        content=b"\xff\xfe\x00",
        headers=JSON,
    ),
    Bad(
        "body-not-an-object",
        POS,
        422,
        "validation-error",
        "dictionary",
        "body",
        content=b"[1, 2]",
        headers=JSON,
    ),
    Bad(
        "empty-body",
        "/api/v1/incidents",
        422,
        "validation-error",
        "required",
        "body",
        content=b"",
        headers=JSON,
    ),
    Bad(
        "wrong-type-string",
        "/api/v1/incidents",
        422,
        "validation-error",
        "title",
        "body.title",
        json={"title": 5},
    ),
    Bad(
        "wrong-type-bool",
        "/api/v1/incidents",
        422,
        "validation-error",
        "drill",
        "body.drill",
        json={"title": "Drill", "drill": "perhaps"},
    ),
    Bad(
        "wrong-type-int",
        SIGHT,
        422,
        "validation-error",
        "count",
        "body.count",
        json={"location": HERE, "category": "hostile", "count": "many"},
    ),
    Bad(
        "wrong-type-time",
        POS,
        422,
        "validation-error",
        "occurred_at",
        "body.occurred_at",
        json={"location": HERE, "occurred_at": "yesterday"},
    ),
    Bad(
        "missing-title",
        "/api/v1/incidents",
        422,
        "validation-error",
        "required",
        "body.title",
        json={},
    ),
    Bad(
        "missing-location",
        SIGHT,
        422,
        "validation-error",
        "location",
        "body.location",
        json={"category": "hostile"},
    ),
    Bad("missing-status", CHECK_IN, 422, "validation-error", "status", "body.status", json={}),
    Bad(
        "unknown-field",
        "/api/v1/incidents",
        422,
        "validation-error",
        "extra",
        "body.colour",
        json={"title": "Fire", "colour": "red"},
    ),
    Bad(
        "unknown-location-field",
        POS,
        422,
        "validation-error",
        "extra",
        "body.location.alt",
        json={"location": {**HERE, "alt": 300}},
    ),
    Bad(
        "latitude-over-90",
        POS,
        422,
        "validation-error",
        "90",
        "body.location.lat",
        json={"location": {"lat": 91, "lon": 34.97}},
    ),
    Bad(
        "longitude-under-180",
        POS,
        422,
        "validation-error",
        "-180",
        "body.location.lon",
        json={"location": {"lat": 30.43, "lon": -180.5}},
    ),
    Bad(
        "negative-accuracy",
        POS,
        422,
        "validation-error",
        "0",
        "body.location.accuracy_m",
        json={"location": {**HERE, "accuracy_m": -1}},
    ),
    Bad(
        "heading-360",
        POS,
        422,
        "validation-error",
        "360",
        "body.location.heading_deg",
        json={"location": {**HERE, "heading_deg": 360}},
    ),
    Bad(
        "unknown-status",
        CHECK_IN,
        422,
        "validation-error",
        "status",
        "body.status",
        json={"status": "fine"},
    ),
    Bad(
        "people-count-over-500",
        CHECK_IN,
        422,
        "validation-error",
        "500",
        "body.people_count",
        json={"status": "safe", "people_count": 501},
    ),
    Bad(
        "bad-phone",
        "/api/v1/site/people",
        422,
        "validation-error",
        "phone",
        "body.phone",
        role=Role.ADMIN,
        json={"ref": "p-new", "name": "Noa", "phone": "501234567"},  # no 0, no +: any country
    ),
    Bad(
        "empty-broadcast",
        INC + "/broadcasts",
        422,
        "validation-error",
        "texts",
        "body.texts",
        json={"texts": {}},
    ),
    Bad(
        "unknown-language",
        INC + "/broadcasts",
        422,
        "validation-error",
        "texts",
        "body.texts",
        json={"texts": {"xx": "Stay inside"}},
    ),
    Bad(
        "short-enrollment-code",
        "/api/v1/enroll",
        422,
        "validation-error",
        "code",
        "body.code",
        role=None,
        json={"code": "ABC"},
    ),
    Bad(
        "negative-since",
        "/api/v1/site/events?since=-1",
        422,
        "validation-error",
        "since",
        "query.since",
        method="GET",
    ),
    Bad(
        "zero-limit",
        "/api/v1/site/events?limit=0",
        422,
        "validation-error",
        "limit",
        "query.limit",
        method="GET",
    ),
    Bad(
        "missing-idempotency-key",
        "/api/v1/incidents",
        422,
        "validation-error",
        "Idempotency-Key",
        "header.Idempotency-Key",
        json={"title": "Drill", "drill": True},
        no_key=True,
    ),
    Bad(
        "overlong-idempotency-key",
        "/api/v1/incidents",
        422,
        "validation-error",
        "Idempotency-Key",
        "header.Idempotency-Key",
        json={"title": "Drill", "drill": True},
        headers={"Idempotency-Key": "k" * 129},
    ),
    Bad(
        "empty-idempotency-key",
        "/api/v1/incidents",
        422,
        "validation-error",
        "Idempotency-Key",
        "header.Idempotency-Key",
        json={"title": "Drill", "drill": True},
        headers={"Idempotency-Key": ""},
    ),
    Bad(
        "idempotency-key-with-space",
        "/api/v1/incidents",
        422,
        "validation-error",
        "Idempotency-Key",
        "header.Idempotency-Key",
        json={"title": "Drill", "drill": True},
        headers={"Idempotency-Key": "two words"},
    ),
]

NOT_FOUND = [
    Bad(
        "unknown-incident",
        INC.replace("{incident}", "{unknown}"),
        404,
        "not-found",
        UNKNOWN,
        method="GET",
    ),
    Bad(
        "command-in-unknown-incident",
        POS.replace("{incident}", "{unknown}"),
        404,
        "not-found",
        UNKNOWN,
        json={"location": HERE},
    ),
    Bad(
        "check-in-unknown-household",
        CHECK_IN.replace("{household}", "{unknown}"),
        404,
        "not-found",
        "household",
        json={"status": "safe"},
    ),
    Bad(
        "unknown-household",
        "/api/v1/site/households/{unknown}",
        404,
        "not-found",
        UNKNOWN,
        method="GET",
    ),
    Bad("unknown-person", "/api/v1/site/people/{unknown}", 404, "not-found", UNKNOWN, method="GET"),
    Bad(
        "status-of-unknown-person",
        INC + "/muster/status",
        404,
        "not-found",
        "person",
        json={"status": "coming", "person_id": UNKNOWN},
    ),
    Bad(
        "muster-unknown-person",
        INC + "/muster",
        404,
        "not-found",
        "person",
        json={"targets": [UNKNOWN]},
    ),
    Bad(
        "update-unknown-sighting",
        SIGHT + "/{unknown}",
        404,
        "not-found",
        "sighting",
        json={"status": "confirmed"},
    ),
    Bad(
        "merge-into-unknown-sighting",
        SIGHT + "/{sighting}",
        404,
        "not-found",
        "merge",
        json={"status": "merged", "merged_into": UNKNOWN},
    ),
    Bad(
        "acknowledge-unknown-order",
        INC + "/orders/{unknown}/acknowledge",
        404,
        "not-found",
        "order",
        json={},
    ),
    Bad(
        "broadcast-to-unknown-household",
        INC + "/broadcasts",
        404,
        "not-found",
        "household",
        json={"texts": {"en": "Stay inside"}, "household_ids": [UNKNOWN]},
    ),
    Bad(
        "order-to-unknown-person",
        INC + "/orders",
        404,
        "not-found",
        "person",
        json={"text": "Hold", "to_person_ids": [UNKNOWN]},
    ),
    Bad(
        "revoke-unknown-device",
        "/api/v1/site/devices/{unknown}/revoke",
        404,
        "not-found",
        "device",
        json={},
    ),
    Bad(
        "person-in-unknown-household",
        "/api/v1/site/people",
        404,
        "not-found",
        "household",
        role=Role.ADMIN,
        json={"ref": "p-x", "name": "Noa", "household_id": UNKNOWN},
    ),
    Bad(
        "household-in-unknown-building",
        "/api/v1/site/households",
        404,
        "not-found",
        "building",
        role=Role.ADMIN,
        json={"ref": "h-x", "name": "Azulay", "building_ref": "no-such-building"},
    ),
    Bad(
        "unknown-enrollment-code",
        "/api/v1/enroll",
        404,
        "code-unknown",
        "unknown",
        role=None,
        json={"code": "AAAA-BBBB"},
    ),
    Bad("unknown-path", "/api/v1/nothing-here", 404, "not-found", "not found", method="GET"),
]

OTHER = [
    Bad(
        "method-not-allowed",
        "/api/v1/site",
        405,
        "method-not-allowed",
        "not allowed",
        method="DELETE",
    ),
    Bad(
        "duplicate-person-ref",
        "/api/v1/site/people",
        409,
        "conflict",
        "p-member",
        role=Role.ADMIN,
        json={"ref": "p-member", "name": "Miriam Cohen"},
    ),
    Bad(
        "second-real-incident",
        "/api/v1/incidents",
        409,
        "conflict",
        "already open",
        json={"title": "Second infiltration"},
    ),
    Bad(
        "commander-issues-person-code",
        "/api/v1/site/enrollment-codes",
        422,
        "domain-error",
        "admin",
        json={"subject_kind": "household", "subject_id": "{household}"},
    ),
    Bad(
        "no-token", "/api/v1/site/people", 401, "unauthenticated", "token", role=None, method="GET"
    ),
    Bad(
        "unknown-token",
        "/api/v1/site/people",
        401,
        "token-unknown",
        "not known",
        role=None,
        method="GET",
        headers={"Authorization": "Bearer not-a-token-of-this-site"},
    ),
    Bad(
        "not-a-bearer",
        "/api/v1/site/people",
        401,
        "unauthenticated",
        "bearer",
        role=None,
        method="GET",
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
    ),
]


def _fill(text: str, site: Site) -> str:
    return text.format(
        incident=site.incident_id,
        household=site.seeded.household_id,
        sighting=site.sighting_id,
        order=site.order_id,
        unknown=UNKNOWN,
    )


def _send(site: Site, case: Bad) -> Any:
    headers = site.headers(case.role)
    if case.no_key:
        del headers["Idempotency-Key"]
    headers.update(case.headers)
    body = case.json
    if isinstance(body, dict):
        body = {k: _fill(v, site) if isinstance(v, str) else v for k, v in body.items()}
    return site.client.request(
        case.method, _fill(case.path, site), json=body, content=case.content, headers=headers
    )


@pytest.mark.parametrize("case", VALIDATION + NOT_FOUND + OTHER, ids=lambda case: case.id)
def test_bad_request_is_refused_and_nothing_is_stored(shared_site: Site, case: Bad) -> None:
    site = shared_site
    before = site.head()
    response = _send(site, case)
    body = assert_problem(response, case.status, case.slug, _fill(case.detail, site))
    if case.loc is not None:
        errors = body["errors"]
        assert all(set(e) == {"loc", "msg"} and e["msg"] for e in errors), errors
        assert any(e["loc"].startswith(case.loc) for e in errors), errors
    assert site.head() == before, [e.type for e in site.events_after(before)]


@pytest.mark.parametrize(
    ("occurred_at", "detail"),
    [
        (lambda now: now - timedelta(hours=25), "24 hours in the past"),
        (lambda now: now + timedelta(minutes=10), "5 minutes in the future"),
        (lambda now: now.replace(tzinfo=None), "timezone"),
    ],
    ids=["25h-in-the-past", "10min-in-the-future", "no-timezone"],
)
def test_device_time_out_of_bounds_is_422(shared_site: Site, occurred_at: Any, detail: str) -> None:
    """contracts §2: occurred_at more than 24 h in the past or 5 min in the future → 422."""
    site = shared_site
    when: datetime = occurred_at(datetime.now(UTC))
    before = site.head()
    for path, body in (
        (f"/api/v1/incidents/{site.incident_id}/positions", {"location": HERE}),
        (
            f"/api/v1/incidents/{site.incident_id}/sightings",
            {"location": HERE, "category": "hostile"},
        ),
        (
            f"/api/v1/incidents/{site.incident_id}/households/{site.seeded.household_id}/check-ins",
            {"status": "safe"},
        ),
    ):
        stamp = when.isoformat() if when.tzinfo is None else format_time(when)
        response = site.post(path, Role.COMMANDER, json={**body, "occurred_at": stamp})
        problem = assert_problem(response, 422, "invalid-event", detail)
        assert [e["loc"] for e in problem["errors"]] == ["occurred_at"], problem
    assert site.head() == before


def test_device_time_within_bounds_is_kept(shared_site: Site) -> None:
    """The boundary cases that must pass: 23 h old (an offline report) and 4 min ahead."""
    site = shared_site
    now = datetime.now(UTC)
    for when in (now - timedelta(hours=23), now + timedelta(minutes=4)):
        response = site.post(
            f"/api/v1/incidents/{site.incident_id}/positions",
            Role.RESPONDER,
            json={"location": HERE, "occurred_at": format_time(when)},
        )
        assert response.status_code == 201, response.text
        assert response.json()["events"][0]["occurred_at"] == format_time(when)


def test_longest_idempotency_key_is_accepted(shared_site: Site) -> None:
    site = shared_site
    response = site.post(
        "/api/v1/incidents",
        Role.COMMANDER,
        key="k" * 128,
        json={"title": "Key drill", "drill": True},
    )
    assert response.status_code == 201, response.text


def test_forbidden_command_stores_only_its_audit_record(shared_site: Site) -> None:
    site = shared_site
    before = site.head()
    response = site.call("PUT", "/api/v1/site", Role.RESIDENT, json={"name": "Mine now"})
    assert_problem(response, 403, "forbidden", "resident", "configure site")
    events = site.events_after(before)
    assert [e.type for e in events] == ["audit.access_denied"]
    assert events[0].payload["operation"] == "configure_site"
    assert site.get("/api/v1/site", Role.ADMIN).json()["name"] == "Tel Kinamon"


def test_command_in_a_closed_incident_is_409(shared_site: Site) -> None:
    site = shared_site
    drill = site.fresh_drill()
    closed = site.post(f"/api/v1/incidents/{drill}/close", Role.COMMANDER, json={})
    assert closed.status_code == 201, closed.text
    before = site.head()
    response = site.post(
        f"/api/v1/incidents/{drill}/positions", Role.RESPONDER, json={"location": HERE}
    )
    assert_problem(response, 409, "conflict", "closed")
    again = site.post(f"/api/v1/incidents/{drill}/close", Role.COMMANDER, json={})
    assert_problem(again, 409, "conflict", "closed")
    assert site.head() == before


def test_used_enrollment_code_is_409(shared_site: Site) -> None:
    site = shared_site
    code = site.fresh_code()
    first = site.post("/api/v1/enroll", json={"code": code})
    assert first.status_code == 201, first.text
    before = site.head()
    second = site.post("/api/v1/enroll", json={"code": code.lower()})
    assert_problem(second, 409, "conflict", "already used")
    assert site.head() == before


# --- tokens that no longer work ---------------------------------------------------------------
def _refused_everywhere(site: Site, token: str, slug: str, detail: str) -> None:
    """The token gets 401 on a read and on a command, and the command stores nothing."""
    before = site.head()
    me = site.get("/api/v1/me", token=token)
    assert_problem(me, 401, slug, detail)
    assert me.headers["www-authenticate"] == "Bearer"
    command = site.post(
        f"/api/v1/incidents/{site.incident_id}/sightings",
        token=token,
        json={"location": HERE, "category": "hostile"},
    )
    assert_problem(command, 401, slug, detail)
    assert site.head() == before


@pytest.fixture
def clocked_site(tmp_path: Path) -> Iterator[tuple[Site, list[timedelta]]]:
    """A site whose store clock runs `shift[0]` away from the wall clock."""
    shift = [timedelta(hours=-2)]
    with serve_site(tmp_path, clock=lambda: utcnow() + shift[0]) as site:
        yield site, shift


def test_expired_token_is_401(clocked_site: tuple[Site, list[timedelta]]) -> None:
    """A device enrolled two hours ago with a one-minute lifetime no longer gets in."""
    site, shift = clocked_site
    issued = site.post(
        "/api/v1/site/enrollment-codes",
        Role.ADMIN,
        json={"subject_kind": "guest", "incident_id": site.incident_id, "token_ttl_secs": 60},
    )
    assert issued.status_code == 201, issued.text
    enrolled = site.post("/api/v1/enroll", json={"code": issued.json()["code"]})
    assert enrolled.status_code == 201, enrolled.text
    expires_at = enrolled.json()["expires_at"]
    assert expires_at < format_time(utcnow())
    shift[0] = timedelta(0)  # two hours later
    _refused_everywhere(site, enrolled.json()["token"], "token-expired", expires_at)


def test_revoked_token_is_401(site: Site) -> None:
    token = site.token(Role.RESPONDER)
    assert site.get("/api/v1/me", token=token).status_code == 200
    revoked = site.post(
        f"/api/v1/site/devices/{site.token_ids[Role.RESPONDER]}/revoke",
        Role.ADMIN,
        json={"reason": "phone lost"},
    )
    assert revoked.status_code == 201, revoked.text
    assert [e["type"] for e in revoked.json()["events"]] == ["token.revoked"]
    _refused_everywhere(site, token, "token-revoked", "revoked")


def test_pass_of_a_closed_incident_is_401(site: Site) -> None:
    volunteer = site.token(Role.VOLUNTEER)
    assert site.get(f"/api/v1/incidents/{site.incident_id}", token=volunteer).status_code == 200
    closed = site.post(
        f"/api/v1/incidents/{site.incident_id}/close", Role.COMMANDER, json={"summary": "all clear"}
    )
    assert closed.status_code == 201, closed.text
    _refused_everywhere(site, volunteer, "token-expired", "closed")
    # Squad devices are not bound to the incident and keep working.
    assert site.get("/api/v1/me", Role.RESPONDER).status_code == 200


# --- text the log cannot keep, on both databases -------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    url = None if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    with serve_site(tmp_path, url=url) as site:
        yield site


def test_json_no_database_can_keep_is_422(any_db_site: Site) -> None:
    """A NUL character (PostgreSQL's JSON refuses it), an unpaired surrogate (not UTF-8) or
    nesting deeper than the JSON serialisers go is refused before the writer's transaction,
    on every database, instead of a 500."""
    site = any_db_site
    sightings = f"/api/v1/incidents/{site.incident_id}/sightings"
    nul = b'{"location": {"lat": 30.43, "lon": 34.97}, "category": "hostile", "text": "a\\u0000b"}'
    plan = (
        b'{"name": "Tel Kinamon", "plan": {"type": "FeatureCollection", "features": [{'
        b'"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[34.9, 30.4],'
        b' [35.0, 30.4], [34.9, 30.5], [34.9, 30.4]]]}, "properties": {"kind": "boundary",'
        b' "ref": "b", "name_en": "\\ud800"}}]}}'
    )
    deep = (
        b'{"name": "Tel Kinamon", "plan": {"type": "FeatureCollection", "features": [{'
        b'"type": "Feature", "geometry": {"type": "Polygon", "coordinates": '
        + b"[" * 300
        + b"1"
        + b"]" * 300
        + b'}, "properties": {"kind": "boundary", '
        b'"ref": "b"}}]}}'
    )
    before = site.head()
    for method, path, role, raw, loc, detail in (
        ("POST", sightings, Role.RESPONDER, nul, "payload.text", "NUL"),
        (
            "PUT",
            "/api/v1/site",
            Role.ADMIN,
            plan,
            "payload.plan.features.0.properties.name_en",
            "surrogate",
        ),
        (
            "PUT",
            "/api/v1/site",
            Role.ADMIN,
            deep,
            "payload.plan.features.0.geometry.coordinates.0",
            "nested",
        ),
    ):
        response = site.client.request(
            method, path, content=raw, headers={**site.headers(role), **JSON}
        )
        problem = assert_problem(response, 422, "invalid-event", detail)
        assert [e["loc"][: len(loc)] for e in problem["errors"]] == [loc]
    assert site.head() == before
    # The same command with clean text goes through.
    clean = site.post(
        sightings, Role.RESPONDER, json={"location": HERE, "category": "hostile", "text": "a b"}
    )
    assert clean.status_code == 201, clean.text
