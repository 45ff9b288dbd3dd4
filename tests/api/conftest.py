"""A seeded site served by the real app (FastAPI TestClient) over a real event store.

Every test talks HTTP to `konenut.server.create_app` backed by an `EventStore` on a SQLite
file in a temp dir. The site is `helpers.seed_site` plus what the API tests need: a person in
the resident's household, a responder and a medic who live in a household (so their OWN scope
for check-ins means something), the demo site plan, a sighting and an order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from helpers import SITE, Seeded, enrol, open_store, seed_site
from konenut.api.problems import PROBLEM_JSON
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import hash_secret, new_code
from konenut.config import Settings
from konenut.demo import load_site_plan
from konenut.domain.events import Event
from konenut.domain.ids import utcnow
from konenut.domain.roles import Role, SubjectKind
from konenut.server import create_app
from konenut.store.eventstore import Decision, EventStore

# A point inside the demo site (Tel Kinamon), WGS84.
HERE = {"lat": 30.4301, "lon": 34.9702}
# The push service the tests' subscriptions name: it does not resolve (no DNS in a test), so
# the site allow-lists it as a self-hosted push service would be (KONENUT_PUSH_ALLOW_HOSTS).
PUSH_SERVICE_HOST = "push.example.net"


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return uuid.uuid4().hex


@dataclass
class Site:
    """The app, its store and the seeded site, with helpers to call and inspect them."""

    store: EventStore
    client: TestClient
    seeded: Seeded
    member_id: str = ""  # a person of the resident's household
    sighting_id: str = ""
    order_id: str = ""
    asset_id: str = ""  # a radio held by the commander
    token_ids: dict[Role, str] = field(default_factory=dict)

    @property
    def incident_id(self) -> str:
        return self.seeded.incident_id

    def token(self, role: Role) -> str:
        return self.seeded.tokens[role]

    def token_id_of(self, token: str) -> str:
        view = self.store.state(SITE).token_by_hash(hash_secret(token))
        assert view is not None, "the token is not enrolled"
        return view.token_id

    def household_of(self, role: Role) -> str | None:
        return self.store.state(SITE).tokens[self.token_ids[role]].household_id

    def headers(
        self, role: Role | None = None, *, token: str | None = None, key: str | None = None
    ) -> dict[str, str]:
        """Authorization for the role's (or the given) token, and an Idempotency-Key."""
        headers = {"Idempotency-Key": key or new_key()}
        bearer = token if token is not None else (self.token(role) if role else None)
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def call(
        self,
        method: str,
        path: str,
        role: Role | None = None,
        *,
        json: Any = None,
        token: str | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {**self.headers(role, token=token, key=key), **(headers or {})}
        return self.client.request(method, path, json=json, headers=all_headers)

    def post(self, path: str, role: Role | None = None, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, role, **kwargs)

    def get(self, path: str, role: Role | None = None, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, role, **kwargs)

    def flush(self) -> None:
        """Wait until every command queued so far (audit records of denials) is written.

        The store has one writer that runs commands in order, so once this empty command
        has run, everything submitted before it is durable.
        """
        self.store.execute(SITE, lambda _state, _now: Decision())

    def head(self) -> int:
        """The log's last seq, a mark to compare with. Refusals still being counted are
        recorded first (api/denials.py), so that the next refusal after it is recorded at once."""
        self.client.app.state.runtime.denials.flush_all()
        self.flush()
        return self.store.head(SITE)

    def events_after(self, seq: int) -> list[Event]:
        self.flush()
        return self.store.read(SITE, seq)

    # --- things to act on ---------------------------------------------------------------------
    def fresh_code(self, kind: SubjectKind = SubjectKind.GUEST) -> str:
        """A new, unused enrollment code for a guest of the seeded incident."""
        code = new_code()
        self.store.execute(
            SITE,
            handlers.issue_enrollment_code(
                None, c.IssueEnrollmentCode(subject_kind=kind, incident_id=self.incident_id), code
            ),
        )
        return code

    def spare_token(self) -> str:
        """A newly enrolled guest device (something to revoke)."""
        token, _subject = enrol(
            self.store,
            c.IssueEnrollmentCode(subject_kind=SubjectKind.GUEST, incident_id=self.incident_id),
        )
        return token

    def fresh_drill(self) -> str:
        outcome = self.store.execute(
            SITE, handlers.open_incident(None, c.OpenIncident(title="Night drill", drill=True))
        )
        return str(outcome.body["incident_id"])


def assert_problem(
    response: httpx.Response, status: int, slug: str, *detail_has: str
) -> dict[str, Any]:
    """An RFC 9457 problem of this status and type, whose detail mentions `detail_has`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:konenut:problem:{slug}", body
    assert body["status"] == status
    assert body["title"]
    assert isinstance(body["detail"], str) and body["detail"], body
    for text in detail_has:
        assert text.lower() in body["detail"].lower(), body
    return body


def _seed_for_api(store: EventStore, client: TestClient) -> Site:
    seeded = seed_site(store)
    site = Site(store=store, client=client, seeded=seeded)
    run = store.execute
    run(
        SITE,
        handlers.configure_site(None, c.ConfigureSite(name="Tel Kinamon", plan=load_site_plan())),
    )
    site.member_id = str(
        run(
            SITE,
            handlers.add_person(
                None,
                c.AddPerson(ref="p-member", name="Miriam Cohen", household_id=seeded.household_id),
            ),
        ).body["person_id"]
    )
    # A responder and a medic who live in the other household: their device tokens carry it.
    for role in (Role.RESPONDER, Role.MEDIC):
        person_id = str(
            run(
                SITE,
                handlers.add_person(
                    None,
                    c.AddPerson(
                        ref=f"p-{role.value}-home",
                        name=f"{role.value.title()} Levi",
                        roles=[role],
                        household_id=seeded.other_household_id,
                        callsign=f"{role.value}-2",
                    ),
                ),
            ).body["person_id"]
        )
        token, subject = enrol(store, c.IssueEnrollmentCode(subject_id=person_id))
        seeded.tokens[role], seeded.subjects[role] = token, subject
    site.token_ids = {role: site.token_id_of(token) for role, token in seeded.tokens.items()}
    sighting = site.post(
        f"/api/v1/incidents/{seeded.incident_id}/sightings",
        Role.COMMANDER,
        json={"location": HERE, "category": "unknown", "count": 2},
    )
    assert sighting.status_code == 201, sighting.text
    site.sighting_id = sighting.json()["sighting_id"]
    order = site.post(
        f"/api/v1/incidents/{seeded.incident_id}/orders",
        Role.COMMANDER,
        json={"text": "Hold gate 3"},
    )
    assert order.status_code == 201, order.text
    site.order_id = order.json()["order_id"]
    call = site.post(
        f"/api/v1/incidents/{seeded.incident_id}/muster",
        Role.COMMANDER,
        json={"rally_point_ref": "R1"},
    )
    assert call.status_code == 201, call.text
    asset = site.post(
        "/api/v1/assets",
        Role.ADMIN,
        json={
            "ref": "radio-1",
            "kind": "radio",
            "name": "Squad radio 1",
            "holder_person_id": seeded.subjects[Role.COMMANDER],
        },
    )
    assert asset.status_code == 201, asset.text
    site.asset_id = asset.json()["asset_id"]
    return site


@contextmanager
def serve_site(
    data_dir: Path,
    clock: Callable[[], datetime] = utcnow,
    url: str | None = None,
    escalate: bool = False,
    **more_settings: Any,
) -> Iterator[Site]:
    """A seeded site behind the real app, on `url` (default: a SQLite file in `data_dir`);
    `more_settings` are more Settings fields (an outbound channel's Apprise URL, ...)."""
    store = open_store(url or f"sqlite:///{data_dir / 'konenut.db'}", clock)
    try:
        # No background senders by default: these tests count what each request appends, and
        # notification attempts would land in between (tests/notify drives them on a clock).
        settings = Settings(
            data_dir=data_dir,
            escalate=escalate,
            push_allow_hosts=[PUSH_SERVICE_HOST],
            **more_settings,
        )
        with TestClient(create_app(settings, store)) as client:
            yield _seed_for_api(store, client)
    finally:
        store.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A freshly seeded site for one test."""
    with serve_site(tmp_path) as seeded:
        yield seeded


class Clock:
    """The store's clock, which a test moves by setting `now`."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, clock: Clock) -> Iterator[Site]:
    """A seeded site whose store runs on `clock`."""
    with serve_site(tmp_path, clock) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One seeded site for a whole module (tests must not close its incident or revoke its
    tokens)."""
    with serve_site(tmp_path_factory.mktemp("site")) as seeded:
        yield seeded
