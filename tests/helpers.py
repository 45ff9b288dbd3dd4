"""Test helpers: a store on a real database, and a site with one enrolled device per role."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from konenut import bootstrap
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code, new_token
from konenut.domain.ids import utcnow
from konenut.domain.roles import Role, SubjectKind
from konenut.store.eventstore import EventStore

SITE = "site"
T = TypeVar("T")


def open_store(url: str, clock: Callable[[], datetime] = utcnow) -> EventStore:
    """A started store on `url` (on `clock`), migrated to head, with its policies (as every
    entry point builds it: konenut/bootstrap.py). Close it when done."""
    return bootstrap.open_store(url, clock=clock)


@dataclass
class Seeded:
    """A site with a household, an open incident and a token per role."""

    tokens: dict[Role, str] = field(default_factory=dict)
    subjects: dict[Role, str] = field(default_factory=dict)
    household_id: str = ""
    other_household_id: str = ""
    incident_id: str = ""


def enrol(store: EventStore, cmd: c.IssueEnrollmentCode, site: str = SITE) -> tuple[str, str]:
    """Issue a code for the subject and redeem it: (token, subject_id)."""
    code = new_code()
    issued = store.execute(site, handlers.issue_enrollment_code(None, cmd, code))
    token = new_token()
    store.execute(site, handlers.enroll_device(c.EnrollDevice(code=code), token))
    return token, str(issued.body["subject_id"])


def seed_site(store: EventStore, site: str = SITE) -> Seeded:
    """Two households, one person per squad/admin role, an open real incident, and tokens."""
    seeded = Seeded()
    run = store.execute
    seeded.household_id = str(
        run(site, handlers.add_household(None, c.AddHousehold(ref="h-14", name="Cohen"))).body[
            "household_id"
        ]
    )
    seeded.other_household_id = str(
        run(site, handlers.add_household(None, c.AddHousehold(ref="h-15", name="Levi"))).body[
            "household_id"
        ]
    )
    for role in (Role.ADMIN, Role.COMMANDER, Role.OPERATOR, Role.RESPONDER, Role.MEDIC):
        added = run(
            site,
            handlers.add_person(
                None,
                c.AddPerson(
                    ref=f"p-{role.value}",
                    name=f"{role.value.title()} Person",
                    roles=[role],
                    callsign=f"{role.value}-1",
                ),
            ),
        )
        token, subject = enrol(
            store, c.IssueEnrollmentCode(subject_id=str(added.body["person_id"])), site
        )
        seeded.tokens[role], seeded.subjects[role] = token, subject
    seeded.incident_id = str(
        run(site, handlers.open_incident(None, c.OpenIncident(title="Infiltration"))).body[
            "incident_id"
        ]
    )
    token, subject = enrol(
        store,
        c.IssueEnrollmentCode(subject_id=seeded.household_id, subject_kind=SubjectKind.HOUSEHOLD),
        site,
    )
    seeded.tokens[Role.RESIDENT], seeded.subjects[Role.RESIDENT] = token, subject
    for role, kind in (
        (Role.GUEST, SubjectKind.GUEST),
        (Role.VOLUNTEER, SubjectKind.VOLUNTEER),
        (Role.LIAISON, SubjectKind.LIAISON),
    ):
        token, subject = enrol(
            store, c.IssueEnrollmentCode(subject_kind=kind, incident_id=seeded.incident_id), site
        )
        seeded.tokens[role], seeded.subjects[role] = token, subject
    return seeded


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in its own thread, so it works even
    while another loop runs in this thread (Playwright's sync API keeps one for the session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
